"""Batch label printing: up to ``IN_REQUEST_LIMIT`` labels render while the request waits;
larger batches run in the task worker (``manage.py db_worker``), which saves the PDF to
``default_storage`` under ``labels/`` and returns its path and count as the task's result.
The page polls the task by its id; no other record of the batch is kept.

A batch whose worker died is queued again by the sweep of a live worker
(``core.leases.requeue_orphaned_tasks``) and drawn again from the start, under the same task
id; one whose worker died ``LEASE_MAX_ATTEMPTS`` times is failed, and ``label_batch_resume``
queues its parcels as a new batch."""

from collections.abc import Sequence

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.tasks import TaskResultStatus, task
from django.utils.translation import gettext as _

from core.errors import DomainError
from shipping.labels import labels_data, render_labels
from shipping.models import Parcel
from shipping.services import parcel_labels_printed

IN_REQUEST_LIMIT = 200
STORAGE_PREFIX = "labels/"


def labels_pdf(parcel_ids: Sequence[int]) -> bytes:
    """One PDF, one label per page, in the order of ``parcel_ids``; the parcels are marked
    printed once the PDF exists."""
    # ``labels_data`` reads only the primary keys of a sequence and fetches the rest itself.
    labels = labels_data([Parcel(pk=pk) for pk in parcel_ids])
    pdf = render_labels(labels)
    parcel_labels_printed(parcel_ids=list(parcel_ids))
    return pdf


@task(takes_context=True)
def print_label_batch(context, parcel_ids: list[int]) -> dict:
    """Render a large label batch and store it; the result says where."""
    pdf = labels_pdf(parcel_ids)
    name = default_storage.save(
        f"{STORAGE_PREFIX}{context.task_result.id}.pdf", ContentFile(pdf, name="labels.pdf")
    )
    return {"path": name, "count": len(parcel_ids)}


def label_batch_enqueue(parcel_ids: Sequence[int]) -> str:
    """Queue a large batch and return the task's id, by which the page follows it. Called
    outside any transaction (``on_commit`` then runs at once), so the worker never picks up
    a batch whose request rolled back and the id is known here."""
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("label_batch_enqueue needs to know the task id: call it outside atomic")
    queued: dict[str, str] = {}

    def enqueue() -> None:
        queued["id"] = str(print_label_batch.enqueue(list(parcel_ids)).id)

    transaction.on_commit(enqueue)
    return queued["id"]


def label_batch_resume(task_id: str) -> str:
    """Queue the parcels of a failed batch again; returns the new task's id. A batch that has
    not failed is refused (``DomainError``)."""
    result = print_label_batch.get_result(task_id)
    if result.status != TaskResultStatus.FAILED:
        raise DomainError(
            _("Only a batch that failed can be drawn again."), field="status", code="wrong_state"
        )
    return label_batch_enqueue(result.args[0])
