""" "Stock is available again" is one hook for every cause: an intake, a stock count that finds
more, a return put back into its lot, a cancel that releases a reservation. Inventory sends
``stock_available`` once the transaction commits; orders' one receiver queues the back-order
fill; the real task worker allocates the waiting order.

These tests commit for real (``transaction=True``) and run ``db_worker`` as production does."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from inventory.selectors import stock_mismatches
from inventory.services import lot_adjust, lot_write_off
from orders.checks import reservations_match_allocations
from orders.models import Order, OrderStatus
from orders.services import order_allocate, order_cancel
from shipping.models import ParcelStatus, ReturnDisposition, TrackingEvent
from shipping.services import ReturnRow, parcel_pack, parcel_return, parcel_transition
from tests.factories import receive
from tests.shipping.builders import (
    allocated_order,
    carrier_with_pool,
    new_order,
    staff,
    stocked_sku,
)

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)
FILL_TASK = "orders.tasks.fill_backorders"


def _waiting(sku) -> Order:
    """A back-order for one 2.5 kg box of ``sku``, whose stock is all taken."""
    order = new_order((sku, 1))
    assert order_allocate(order=order, acting_user=staff("manager")) is False
    assert order.status == OrderStatus.BACKORDERED
    return order


def _fill_queued() -> int:
    return DBTaskResult.objects.filter(task_path=FILL_TASK).count()


def _run_worker() -> None:
    call_command("db_worker", batch=True, stdout=StringIO(), stderr=StringIO())


def _status(order: Order) -> str:
    return Order.objects.values_list("status", flat=True).get(pk=order.pk)


def _then_the_back_order_is_filled(order: Order) -> None:
    assert _fill_queued() >= 1
    _run_worker()
    assert _status(order) == OrderStatus.ALLOCATED
    assert stock_mismatches() == []
    assert reservations_match_allocations() == []


@pytest.fixture
def sold_out():
    """A peach SKU whose only lot (2.5 kg) is held by an allocated order, and a back-order."""
    sku = stocked_sku(kg="2.5")
    holder = allocated_order((sku, 1))
    waiting = _waiting(sku)
    DBTaskResult.objects.all().delete()
    return sku, holder, waiting


def test_an_intake_fills_the_waiting_back_order(sold_out):
    sku, _holder, waiting = sold_out
    receive(kg="2.5", product=sku.product, grade=sku.grade)
    _then_the_back_order_is_filled(waiting)


def test_a_stock_count_that_finds_more_fills_the_waiting_back_order(sold_out):
    sku, holder, waiting = sold_out
    lot = holder.lines.get().allocations.get().lot
    lot_adjust(lot=lot, counted_kg=D("5.0"), reason="盘点多出一筐", acting_user=staff("manager"))
    _then_the_back_order_is_filled(waiting)


def test_a_stock_count_that_finds_less_queues_nothing(sold_out):
    sku, holder, _waiting_order = sold_out
    lot = receive(kg="1", product=sku.product, grade=sku.grade)
    DBTaskResult.objects.all().delete()
    lot_adjust(lot=lot, counted_kg=D("0.5"), reason="失水", acting_user=staff("manager"))
    assert _fill_queued() == 0


def test_a_cancel_that_releases_fills_the_waiting_back_order(sold_out):
    _sku, holder, waiting = sold_out
    order_cancel(order=holder, acting_user=staff("manager"), note="买家取消")
    _then_the_back_order_is_filled(waiting)


def _delivered_parcel(order):
    carrier = carrier_with_pool()
    parcel = parcel_pack(
        order=order, carrier=carrier, weight_kg=D("2.8"), acting_user=staff()
    ).parcel
    for to in (ParcelStatus.SHIPPED, ParcelStatus.DELIVERED):
        parcel_transition(parcel=parcel, to=to, source=TrackingEvent.Source.SCAN)
    return parcel


def test_a_return_put_back_into_its_lot_fills_the_waiting_back_order(sold_out):
    _sku, holder, waiting = sold_out
    parcel = _delivered_parcel(holder)
    DBTaskResult.objects.all().delete()
    item = parcel.items.get()
    parcel_return(
        parcel=parcel,
        rows=[ReturnRow(item=item, kg=D("2.5"), disposition=ReturnDisposition.RESTOCK)],
        acting_user=staff(),
    )
    _then_the_back_order_is_filled(waiting)


def test_a_return_written_off_queues_nothing(sold_out):
    _sku, holder, waiting = sold_out
    parcel = _delivered_parcel(holder)
    DBTaskResult.objects.all().delete()
    parcel_return(
        parcel=parcel,
        rows=[
            ReturnRow(
                item=parcel.items.get(),
                kg=D("2.5"),
                disposition=ReturnDisposition.WRITE_OFF,
                reason="压烂",
            )
        ],
        acting_user=staff(),
    )
    assert _fill_queued() == 0
    assert _status(waiting) == OrderStatus.BACKORDERED
    assert stock_mismatches() == []


def test_nothing_is_announced_for_a_transaction_that_rolls_back(sold_out):
    sku, _holder, waiting = sold_out
    with pytest.raises(RuntimeError), transaction.atomic():
        receive(kg="2.5", product=sku.product, grade=sku.grade)
        raise RuntimeError("the intake desk lost power")
    assert _fill_queued() == 0
    assert _status(waiting) == OrderStatus.BACKORDERED


def test_a_write_off_announces_nothing(sold_out):
    sku, _holder, _waiting_order = sold_out
    lot = receive(kg="3", product=sku.product, grade=sku.grade)
    _run_worker()  # the intake's fill
    DBTaskResult.objects.all().delete()
    lot_write_off(lot=lot, kg=D("0.5"), reason="坏果", acting_user=staff("manager"))
    assert _fill_queued() == 0
