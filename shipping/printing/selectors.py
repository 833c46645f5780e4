"""Reads of printing that the print queue page and its endpoint share."""

from django.db.models import QuerySet

from shipping.models import PrintJob


def print_job_list() -> QuerySet[PrintJob]:
    """Print jobs, newest first, with their printer, wave and who asked: one query a page."""
    return PrintJob.objects.select_related("printer", "wave", "created_by").order_by(
        "-created_at", "-id"
    )
