"""One lock order everywhere: Order → Lot → Parcel → Wave, each kind by primary key.

The test captures the SQL that packing, returning, cancelling, handing over and making a wave
send to PostgreSQL and reads their locks in turn (``SELECT … FOR UPDATE``, and an ``UPDATE``,
which locks the rows it changes): the first lock of each kind must come in that order, every
lock must be taken in primary-key order, and a later lock of an earlier kind may only take
rows the transaction already holds (a lock one already holds is never waited for). Waybill
numbers are claimed with ``SKIP LOCKED``, which never waits, and take no place in the order
(``orders.lifecycle``, ``docs/ARCHITECTURE.md``).
"""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.lifecycle import PackItem
from orders.services import order_cancel
from shipping.models import ParcelStatus, ReturnDisposition, TrackingEvent
from shipping.services import (
    ReturnRow,
    handover_batch_start,
    handover_scan,
    parcel_pack,
    parcel_return,
    parcel_transition,
    wave_create,
)
from tests.factories import ProductFactory
from tests.shipping.builders import allocated_order, carrier_with_pool, staff, stocked_sku

D = Decimal
pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

RANK = {
    "orders_order": 0,
    "inventory_lot": 1,
    "shipping_parcel": 2,
    "shipping_wave": 3,
    "shipping_handoverbatch": 4,  # after the parcel; never held with a wave
}
FROM = re.compile(r'FROM "(\w+)"')
UPDATE = re.compile(r'UPDATE "(\w+)"')
IDS = re.compile(r'"(\w+)"\."id" (?:IN \(([^)]*)\)|= (\d+))')


def _locks(queries) -> list[tuple[str, tuple[int, ...]]]:
    """(table, ids) of every lock that may wait, in the order they were sent: each
    ``FOR UPDATE``, and each ``UPDATE`` of a table the lock order names (an update locks the
    rows it changes: a lot shipped out is locked by its update). Several rows are locked in
    a defined order (``ORDER BY``), unless the transaction holds them all already."""
    locks = []
    seen: dict[str, set[int]] = {}
    for query in queries:
        sql = query["sql"]
        if "SKIP LOCKED" in sql:
            continue
        if "FOR UPDATE" in sql:
            table = FROM.search(sql).group(1)
        elif (updated := UPDATE.search(sql)) and updated.group(1) in RANK:
            table = updated.group(1)
        else:
            continue
        ids: tuple[int, ...] = ()
        for name, listed, single in IDS.findall(sql):
            if name == table:
                text = listed or single
                ids = tuple(int(value) for value in re.findall(r"\d+", text))
        ordered = "ORDER BY" in sql or len(ids) <= 1 or set(ids) <= seen.get(table, set())
        assert ordered, f"locks {table} in no defined order: {sql}"
        seen.setdefault(table, set()).update(ids)
        locks.append((table, ids))
    return locks


def assert_lock_order(queries) -> list[str]:
    """Check the rule and return the kinds locked, in order of their first lock."""
    locks = _locks(queries)
    held: dict[str, set[int]] = {}
    first: list[str] = []
    for table, ids in locks:
        assert table in RANK, f"a lock on {table}, which the lock order does not name"
        if table not in held:
            if first:
                assert RANK[table] > RANK[first[-1]], f"{table} locked after {first}"
            first.append(table)
            held[table] = set(ids)
        elif RANK[table] < RANK[first[-1]]:
            assert set(ids) <= held[table], f"{table} {ids} locked late, after {first}"
        else:
            held[table] |= set(ids)
    return first


def _two_products():
    """Two SKUs of different products, each with its own lot: packing them locks two lots."""
    chestnut = ProductFactory(name="板栗", shelf_life_days=90)
    return stocked_sku("MT-5J"), stocked_sku("BL-2J", net_kg="1.000", product=chestnut)


def _sql(action) -> list[dict]:
    with CaptureQueriesContext(connection) as queries:
        action()
    return queries.captured_queries


def test_packing_the_last_order_of_a_wave_locks_order_then_lots_then_wave():
    sf = carrier_with_pool()
    peaches, chestnuts = _two_products()
    order = allocated_order((peaches, 1), (chestnuts, 2))
    wave_create(orders=[order], acting_user=staff(), carrier=sf)

    queries = _sql(
        lambda: parcel_pack(order=order, carrier=sf, weight_kg=D("5.2"), acting_user=staff())
    )

    assert assert_lock_order(queries) == ["orders_order", "inventory_lot", "shipping_wave"]
    assert any("SKIP LOCKED" in q["sql"] for q in queries)  # the waybill number


def test_packing_from_one_lot_locks_the_lot_by_its_update_after_the_order():
    sf = carrier_with_pool()
    order = allocated_order((stocked_sku("MT-5J"), 2))
    wave_create(orders=[order], acting_user=staff(), carrier=sf)

    queries = _sql(
        lambda: parcel_pack(order=order, carrier=sf, weight_kg=D("5.6"), acting_user=staff())
    )

    assert assert_lock_order(queries) == ["orders_order", "inventory_lot", "shipping_wave"]
    lot_id = order.lines.get().parcel_items.get().lot_id
    assert [ids for table, ids in _locks(queries) if table == "inventory_lot"] == [(lot_id,)]


def test_the_last_box_of_an_order_locks_order_lots_earlier_boxes_then_wave():
    sf = carrier_with_pool()
    order = allocated_order((stocked_sku(kg="40"), 9))
    wave_create(orders=[order], acting_user=staff(), carrier=sf)
    line = order.lines.get()
    for _ in range(2):  # two boxes of 3, planned as two: the third makes it three
        parcel_pack(
            order=order, carrier=sf, weight_kg=D("8.4"), acting_user=staff(),
            items=[PackItem(line.pk, 3)], parcel_count=2,
        )  # fmt: skip

    queries = _sql(
        lambda: parcel_pack(order=order, carrier=sf, weight_kg=D("8.4"), acting_user=staff())
    )

    assert assert_lock_order(queries) == [
        "orders_order",
        "inventory_lot",
        "shipping_parcel",
        "shipping_wave",
    ]


def test_packing_merged_orders_locks_both_orders_first_by_primary_key():
    sf = carrier_with_pool()
    sku = stocked_sku()
    first, second = allocated_order((sku, 1)), allocated_order((sku, 1))

    queries = _sql(
        lambda: parcel_pack(
            order=second, merge=[first], carrier=sf, weight_kg=D("5.6"), acting_user=staff()
        )
    )

    assert assert_lock_order(queries) == ["orders_order", "inventory_lot"]
    assert _locks(queries)[0] == ("orders_order", (first.pk, second.pk))


def test_a_return_locks_its_orders_then_the_lots_then_the_parcel():
    sf = carrier_with_pool()
    peaches, chestnuts = _two_products()
    order = allocated_order((peaches, 1), (chestnuts, 1))
    parcel = parcel_pack(order=order, carrier=sf, weight_kg=D("4.1"), acting_user=staff()).parcel
    for to in (ParcelStatus.SHIPPED, ParcelStatus.DELIVERED):
        parcel_transition(parcel=parcel, to=to, source=TrackingEvent.Source.SCAN)
    rows = [
        ReturnRow(item=item, kg=item.kg, disposition=ReturnDisposition.RESTOCK)
        for item in parcel.items.all()
    ]

    queries = _sql(lambda: parcel_return(parcel=parcel, rows=rows, acting_user=staff()))

    assert assert_lock_order(queries) == ["orders_order", "inventory_lot", "shipping_parcel"]
    lots = [ids for table, ids in _locks(queries) if table == "inventory_lot"]
    assert sorted({lot for ids in lots for lot in ids}) == sorted(
        {item.lot_id for item in parcel.items.all()}
    )
    assert len({item.lot_id for item in parcel.items.all()}) == 2


def test_a_cancel_locks_the_order_then_its_lots():
    peaches, chestnuts = _two_products()
    order = allocated_order((peaches, 1), (chestnuts, 3))

    queries = _sql(lambda: order_cancel(order=order, acting_user=staff("manager")))

    assert assert_lock_order(queries) == ["orders_order", "inventory_lot"]
    # The first lock takes both lots, in id order (their update then changes rows it holds).
    lots = next(ids for table, ids in _locks(queries) if table == "inventory_lot")
    assert len(lots) == 2 and list(lots) == sorted(lots)


def test_a_handover_scan_locks_the_order_then_the_parcel():
    sf = carrier_with_pool()
    order = allocated_order()
    parcel = parcel_pack(order=order, carrier=sf, weight_kg=D("2.8"), acting_user=staff()).parcel

    queries = _sql(
        lambda: handover_scan(tracking_number=parcel.tracking_number, acting_user=staff())
    )

    assert assert_lock_order(queries) == ["orders_order", "shipping_parcel"]


def test_a_scan_into_a_handover_batch_locks_the_order_the_parcel_then_the_batch():
    sf = carrier_with_pool()
    order = allocated_order()
    parcel = parcel_pack(order=order, carrier=sf, weight_kg=D("2.8"), acting_user=staff()).parcel
    batch = handover_batch_start(carrier=sf, acting_user=staff())

    queries = _sql(
        lambda: handover_scan(
            tracking_number=parcel.tracking_number, batch=batch, acting_user=staff()
        )
    )

    assert assert_lock_order(queries) == [
        "orders_order",
        "shipping_parcel",
        "shipping_handoverbatch",
    ]


def test_the_checker_catches_the_old_order_of_a_return():
    """Parcel → Lot → Order, as returns used to lock, is refused by the check above."""
    old = [
        {"sql": 'SELECT 1 FROM "shipping_parcel" WHERE "shipping_parcel"."id" = 7 FOR UPDATE'},
        {
            "sql": 'SELECT 1 FROM "inventory_lot" WHERE "inventory_lot"."id" IN (3) ORDER BY 1 '
            "FOR UPDATE"
        },
        {"sql": 'SELECT 1 FROM "orders_order" WHERE "orders_order"."id" = 5 FOR UPDATE'},
    ]
    with pytest.raises(AssertionError):
        assert_lock_order(old)
