"""What waves and packing cost the database: a wave moves its orders with a fixed number of
statements however many there are, and packing one order stays within a small budget."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import DomainError
from orders.models import Allocation, OrderEvent, OrderStatus
from shipping.models import Parcel, ParcelStatus, Wave, WaveStatus
from shipping.services import parcel_pack, wave_create
from tests.shipping.builders import allocated_order, carrier_with_pool, reload, staff, stocked_sku

D = Decimal
pytestmark = pytest.mark.django_db


def _wave_statements(orders) -> int:
    user = staff()
    with CaptureQueriesContext(connection) as queries:
        wave = wave_create(orders=orders, acting_user=user)
    assert wave.wave_orders.count() == len(orders)
    for order in orders:
        assert reload(order).status == OrderStatus.PICKING
        event = order.events.order_by("pk").last()
        assert (event.from_status, event.to_status, event.note) == (
            OrderStatus.ALLOCATED,
            OrderStatus.PICKING,
            wave.code,
        )
    return len(queries)


def test_a_wave_costs_the_same_statements_for_5_or_25_orders():
    sku = stocked_sku(kg="200")
    orders = [allocated_order((sku, 1)) for _ in range(31)]
    wave_create(orders=orders[:1], acting_user=staff())  # the month's code counter exists now
    few = _wave_statements(orders[1:6])
    many = _wave_statements(orders[6:])
    # savepoint, three for the code, lock the orders (those in no wave yet), check their
    # stock, one update of the orders, insert their events (and the daily roll-up: one insert,
    # from the locked orders), insert the wave and its orders, release
    assert few == many == 12


def _pack(order, sf):
    user = staff()
    with CaptureQueriesContext(connection) as queries:
        result = parcel_pack(order=order, carrier=sf, weight_kg=D("2.800"), acting_user=user)
    assert result.warnings == []  # 2.5 kg + 0.3 kg packaging, as expected
    assert result.parcel.status == ParcelStatus.PACKED
    assert reload(order).status == OrderStatus.PACKED
    assert not Allocation.objects.filter(line__order=order).exists()
    return len(queries)


# Taking a waybill number is one statement on PostgreSQL (UPDATE … RETURNING), two elsewhere.
def _claim() -> int:
    return 1 if connection.vendor == "postgresql" else 2


# Shipping one lot's stock out is one statement on PostgreSQL (its update locks it, and its
# ledger row is inserted from what the update returns), three elsewhere (lock, update, insert).
def _ship_out() -> int:
    return 1 if connection.vendor == "postgresql" else 3


def test_packing_an_allocated_one_line_order_costs_15_statements_on_postgresql():
    sf = carrier_with_pool()
    order = allocated_order()
    # ask whether the carrier's numbers come from a waybill service (its pools: no; what the
    # box should weigh is checked once, under the lock), savepoint, take a waybill, lock the
    # order (with its wave and channel), read its allocations (lines, SKUs, lots, farmers),
    # delete them, move it to packed (an update and an event insert, and in the dashboard's
    # daily roll-up one insert: an order's step reads nothing), list the order's earlier
    # boxes (one UNION), insert the parcel and its items, ship the stock out, insert the
    # tracking event, release
    assert _pack(order, sf) == 13 + _claim() + _ship_out()
    moves = list(order.events.order_by("pk").values_list("from_status", "to_status"))
    assert moves[-1] == (OrderStatus.ALLOCATED, OrderStatus.PACKED)  # straight from the shelf


def test_packing_the_last_order_of_a_wave_costs_18_statements_and_closes_it():
    sf = carrier_with_pool()
    order = allocated_order()
    wave = wave_create(orders=[order], acting_user=staff(), carrier=sf)
    events = OrderEvent.objects.count()
    # three more: lock the wave, look for orders left, close it
    assert _pack(order, sf) == 16 + _claim() + _ship_out()
    assert reload(wave).status == WaveStatus.DONE
    assert OrderEvent.objects.count() == events + 1  # picking → packed only


# --- the bulk moves keep order_transition's checks -------------------------------------------


def test_a_wave_refuses_an_allocated_order_that_holds_no_stock():
    sku = stocked_sku()
    held, emptied = allocated_order((sku, 1)), allocated_order((sku, 1))
    Allocation.objects.filter(line__order=emptied).delete()  # broken on purpose

    with pytest.raises(DomainError) as refused:
        wave_create(orders=[held, emptied], acting_user=staff())

    assert refused.value.code == "forbidden_transition"
    assert emptied.external_no in refused.value.message
    assert not Wave.objects.exists()
    assert reload(held).status == OrderStatus.ALLOCATED


def test_packing_refuses_a_merged_order_that_holds_no_stock():
    sf = carrier_with_pool()
    sku = stocked_sku()
    held, emptied = allocated_order((sku, 1)), allocated_order((sku, 1))
    Allocation.objects.filter(line__order=emptied).delete()  # broken on purpose

    with pytest.raises(DomainError) as refused:
        parcel_pack(
            order=held, carrier=sf, weight_kg=D("5.6"), acting_user=staff(), merge=[emptied]
        )

    assert refused.value.code == "forbidden_transition"
    assert emptied.external_no in refused.value.message
    assert not Parcel.objects.exists()
    assert reload(held).status == OrderStatus.ALLOCATED
    assert Allocation.objects.filter(line__order=held).exists()


def test_packing_merged_orders_moves_each_to_packed():
    sf = carrier_with_pool()
    sku = stocked_sku()
    waved, loose = allocated_order((sku, 1)), allocated_order((sku, 2))
    wave = wave_create(orders=[waved], acting_user=staff())

    result = parcel_pack(
        order=waved, carrier=sf, weight_kg=D("8.4"), acting_user=staff(), merge=[loose]
    )

    assert result.warnings == []  # 7.5 kg + 3 × 0.3 kg packaging
    assert result.parcel.wave == wave
    assert reload(wave).status == WaveStatus.DONE
    for order, moves in (
        (waved, [OrderStatus.PICKING, OrderStatus.PACKED]),
        (loose, [OrderStatus.ALLOCATED, OrderStatus.PACKED]),
    ):
        assert reload(order).status == OrderStatus.PACKED
        events = order.events.order_by("pk").values_list("to_status", "note")
        assert [to for to, _note in events][-2:] == moves
        assert list(events)[-1][1] == result.parcel.tracking_number
