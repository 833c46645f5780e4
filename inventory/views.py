"""Inventory pages (being built)."""

from django.http import HttpResponse

from studio.roles import STOCK_READERS, STOCK_WRITERS, role_required


def _todo(request, *args, **kwargs):
    return HttpResponse("")


intake_desk = role_required(*STOCK_WRITERS)(_todo)
delivery_detail = delivery_lot_tags = delivery_slip = farmer_search = intake_desk
stock = lot_detail = lot_tag = role_required(*STOCK_READERS)(_todo)
lot_write_off_view = lot_adjust_view = lot_move_view = intake_desk
