"""Allocation in batches: ``orders_allocate`` serves a chunk of orders in one transaction, first
paid first served, each order all lines or none, with a fixed number of statements per chunk —
and gives the same answer as allocating the orders one by one."""

import random
import sys
import threading
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import DomainError
from inventory.models import Lot, Sku
from inventory.selectors import stock_mismatches
from orders.checks import reservations_match_allocations
from orders.drafts import LineDraft, OrderDraft
from orders.lifecycle import ALLOWED_TRANSITIONS, HOLDS_STOCK, TransitionError
from orders.models import Allocation, Channel, Order, OrderEvent, OrderLine, OrderStatus
from orders.services import (
    backorders_fill,
    order_allocate,
    order_cancel,
    orders_allocate,
    orders_create,
)
from shipping.models import Carrier, ParcelItem
from shipping.services import parcel_pack
from tests.factories import GradeFactory, ProductFactory, SkuFactory, UserFactory, receive

D = Decimal
pytestmark = pytest.mark.django_db


# --- helpers ---------------------------------------------------------------------------------


def _days_ago(days: int):
    return timezone.localdate() - timedelta(days=days)


def _sku(code: str = "MT-5J", **kwargs) -> Sku:
    return SkuFactory(merchant_code=code, net_kg=D("2.500"), **kwargs)


def _orders(*specs: list[tuple[Sku, int]], prefix: str = "B") -> list[Order]:
    """One order per spec (its lines), paid one minute apart in the order given."""
    channel, _created = Channel.objects.get_or_create(code="kuaishou", defaults={"name": "快手"})
    start = timezone.now() - timedelta(hours=5)
    drafts = [
        OrderDraft(
            external_no=f"{prefix}{index:05d}",
            recipient_name="李四",
            phone="13912345678",
            province="陕西省",
            address_detail="西安市雁塔区小寨东路 1 号",
            paid_at=start + timedelta(minutes=index),
            lines=[LineDraft(sku=sku, quantity=qty, unit_price=sku.price) for sku, qty in lines],
        )
        for index, lines in enumerate(specs)
    ]
    return orders_create(channel=channel, drafts=drafts)


def _allocated(order: Order) -> list[tuple[int, Decimal]]:
    return list(
        Allocation.objects.filter(line__order=order).order_by("pk").values_list("lot_id", "kg")
    )


def _status(order: Order) -> str:
    return Order.objects.get(pk=order.pk).status


def _reserved(*lots: Lot) -> list[Decimal]:
    by_pk = dict(
        Lot.objects.filter(pk__in=[lot.pk for lot in lots]).values_list("pk", "reserved_kg")
    )
    return [by_pk[lot.pk] for lot in lots]


def _assert_stock_consistent() -> None:
    assert stock_mismatches() == []
    assert reservations_match_allocations() == []
    out = StringIO()
    call_command("check_stock", stdout=out)
    assert "Stock matches the ledger" in out.getvalue()


# --- first paid, first served; all or nothing per order --------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 3, 500])
def test_stock_running_out_midway_serves_the_earlier_paid_and_backorders_the_rest(chunk_size):
    # given stock for exactly 6 units (15 kg) over two lots, and seven orders paid one after
    # another: four of 1 unit, one of 3 units (more than is left by then), one of 2, one of 1
    sku = _sku()
    first = receive(kg="6", harvest_date=_days_ago(2))
    second = receive(kg="9", harvest_date=_days_ago(0))
    orders = _orders(*[[(sku, qty)] for qty in (1, 1, 1, 1, 3, 2, 1)])

    # when they are allocated together, handed over in a scrambled order
    scrambled = orders[:]
    random.Random(7).shuffle(scrambled)
    counts = orders_allocate(orders=scrambled, chunk_size=chunk_size)

    # then the four paid first are served, the big one cannot be (5 kg left of 7.5 kg) and
    # reserves nothing, the 2-unit order after it takes the last 5 kg, and the last one waits
    assert counts == {"allocated": 5, "backordered": 2, "skipped": 0}
    assert [_status(order) for order in orders] == [
        OrderStatus.ALLOCATED,
        OrderStatus.ALLOCATED,
        OrderStatus.ALLOCATED,
        OrderStatus.ALLOCATED,
        OrderStatus.BACKORDERED,
        OrderStatus.ALLOCATED,
        OrderStatus.BACKORDERED,
    ]
    assert [order.status for order in orders] == [_status(order) for order in orders]
    assert _allocated(orders[4]) == [] and _allocated(orders[6]) == []
    assert _allocated(orders[2]) == [(first.pk, D("1.000")), (second.pk, D("1.500"))]
    assert _allocated(orders[5]) == [(second.pk, D("5.000"))]
    assert _reserved(first, second) == [D("6.000"), D("9.000")]
    # the back-order says how much it was short of
    event = OrderEvent.objects.filter(order=orders[4]).latest("id")
    assert (event.from_status, event.to_status) == (OrderStatus.NEW, OrderStatus.BACKORDERED)
    assert "2.500" in event.note
    _assert_stock_consistent()


def test_batch_allocation_decides_exactly_as_allocating_one_by_one():
    # given two products and grades with a few lots each, and 60 orders of 1-3 lines
    peach, chestnut = ProductFactory(name="蜜桃"), ProductFactory(name="板栗", shelf_life_days=90)
    top, second = GradeFactory(name="特级", rank=0), GradeFactory(name="一级", rank=1)
    skus = []
    for index, (product, grade, kgs) in enumerate(
        [(peach, top, ["7.3", "20"]), (peach, second, ["12"]), (chestnut, top, ["4.4", "9", "3"])]
    ):
        skus.append(_sku(f"S{index}", product=product, grade=grade))
        for days, kg in enumerate(kgs):
            receive(kg=kg, product=product, grade=grade, harvest_date=_days_ago(days))
    rng = random.Random(20260115)
    specs = [
        [(sku, rng.randint(1, 2)) for sku in rng.sample(skus, rng.randint(1, 3))] for _ in range(60)
    ]
    orders = _orders(*specs)

    # when the orders are allocated one by one (paid-at order), their decisions noted,
    for order in orders:
        order_allocate(order=order)
    one_by_one = {order.pk: (_status(order), _allocated(order)) for order in orders}
    for order in orders:
        if order.status == OrderStatus.ALLOCATED:
            order_cancel(order=order)
    # and the same demand is then allocated again as one batch
    again = _orders(*specs, prefix="C")
    counts = orders_allocate(orders=again)

    # then the batch made the very same decisions, lot by lot
    batch = [(_status(order), _allocated(order)) for order in again]
    assert batch == [one_by_one[order.pk] for order in orders]
    assert 0 < counts["allocated"] < len(again)  # stock really ran short
    _assert_stock_consistent()


def test_an_order_with_one_line_that_cannot_be_served_reserves_nothing_in_a_batch(make_user):
    # given plenty of peaches but only 3 kg of the second grade
    user = make_user("manager")
    top, second = GradeFactory(name="特级", rank=0), GradeFactory(name="一级", rank=1)
    plenty = receive(kg="100", grade=top, harvest_date=_days_ago(1))
    scarce = receive(kg="3", grade=second)
    peach, second_peach = _sku("MT-A", grade=top), _sku("MT-B", grade=second)
    # and, in paid order: an order for both grades (2 + 2 units), then one for 1 unit of each
    both, small = _orders([(peach, 2), (second_peach, 2)], [(peach, 1), (second_peach, 1)])

    # when both are allocated in one batch
    counts = orders_allocate(orders=[both, small], acting_user=user)

    # then the first, short on its second line, holds nothing on either line and waits
    assert counts == {"allocated": 1, "backordered": 1, "skipped": 0}
    assert _status(both) == OrderStatus.BACKORDERED
    assert _allocated(both) == []
    # and the second got what the first would have taken from both lots
    assert _status(small) == OrderStatus.ALLOCATED
    assert _allocated(small) == [(plenty.pk, D("2.500")), (scarce.pk, D("2.500"))]
    assert _reserved(plenty, scarce) == [D("2.500"), D("2.500")]
    # each move is one event by the acting user
    events = OrderEvent.objects.filter(order__in=[both, small]).exclude(from_status="")
    assert sorted(events.values_list("order_id", "from_status", "to_status", "acting_user")) == [
        (both.pk, OrderStatus.NEW, OrderStatus.BACKORDERED, user.pk),
        (small.pk, OrderStatus.NEW, OrderStatus.ALLOCATED, user.pk),
    ]
    _assert_stock_consistent()


def test_orders_of_a_batch_take_several_lots_first_expiry_first():
    # given three lots: 3 kg expiring first, 4 kg next, 100 kg last (received first)
    sku = _sku()
    last = receive(kg="100", harvest_date=_days_ago(0))
    first = receive(kg="3", harvest_date=_days_ago(4))
    middle = receive(kg="4", harvest_date=_days_ago(2))
    # and four orders of 1, 1, 2 and 1 units
    orders = _orders([(sku, 1)], [(sku, 1)], [(sku, 2)], [(sku, 1)])

    # when they are allocated in one batch
    orders_allocate(orders=orders)

    # then each takes what is left of the lot expiring first, then the next
    assert [_allocated(order) for order in orders] == [
        [(first.pk, D("2.500"))],
        [(first.pk, D("0.500")), (middle.pk, D("2.000"))],
        [(middle.pk, D("2.000")), (last.pk, D("3.000"))],
        [(last.pk, D("2.500"))],
    ]
    assert _reserved(first, middle, last) == [D("3.000"), D("4.000"), D("5.500")]
    _assert_stock_consistent()


def test_a_backorder_still_short_in_a_batch_stays_without_a_new_event_then_is_filled():
    # given three back-orders, the middle one paid first
    sku = _sku()
    late, early, later = _orders([(sku, 1)], [(sku, 1)], [(sku, 1)])
    Order.objects.filter(pk=early.pk).update(paid_at=late.paid_at - timedelta(hours=1))
    assert orders_allocate(orders=[late, early, later])["backordered"] == 3
    events = OrderEvent.objects.count()

    # when they are tried again before any stock arrives, nothing changes
    assert orders_allocate(orders=[late, early, later])["backordered"] == 3
    assert OrderEvent.objects.count() == events

    # and when stock for two units arrives, the fill serves the two paid first
    lot = receive(kg="5")
    assert backorders_fill(product_grade_pairs=[(lot.product_id, lot.grade_id)]) == 2
    assert [_status(o) for o in (early, late, later)] == [
        OrderStatus.ALLOCATED,
        OrderStatus.ALLOCATED,
        OrderStatus.BACKORDERED,
    ]
    assert OrderEvent.objects.count() == events + 2
    _assert_stock_consistent()


# --- orders that moved on, and the transition table ------------------------------------------


def test_orders_no_longer_allocatable_are_skipped_and_the_rest_served():
    # given three new orders, of which the first was allocated and the second cancelled
    # after the caller read them
    sku = _sku()
    lot = receive(kg="100")
    allocated, cancelled, waiting = _orders([(sku, 1)], [(sku, 1)], [(sku, 1)])
    order_allocate(order=Order.objects.get(pk=allocated.pk))
    order_cancel(order=Order.objects.get(pk=cancelled.pk))
    assert allocated.status == cancelled.status == OrderStatus.NEW  # the caller's stale copies
    events = OrderEvent.objects.count()

    # when the three are allocated
    counts = orders_allocate(orders=[allocated, cancelled, waiting])

    # then only the third was, once; the others are as they were
    assert counts == {"allocated": 1, "backordered": 0, "skipped": 2}
    assert [_status(o) for o in (allocated, cancelled, waiting)] == [
        OrderStatus.ALLOCATED,
        OrderStatus.CANCELLED,
        OrderStatus.ALLOCATED,
    ]
    assert len(_allocated(allocated)) == 1
    assert OrderEvent.objects.count() == events + 1
    assert _reserved(lot) == [D("5.000")]
    _assert_stock_consistent()


def test_a_move_the_transition_table_forbids_refuses_the_whole_chunk(monkeypatch):
    # given a table in which a new order may not become back-ordered, a servable order and,
    # paid after it, one that cannot be served
    monkeypatch.setitem(
        ALLOWED_TRANSITIONS,
        OrderStatus.NEW,
        ALLOWED_TRANSITIONS[OrderStatus.NEW] - {OrderStatus.BACKORDERED},
    )
    sku = _sku()
    lot = receive(kg="5")
    served, short = _orders([(sku, 2)], [(sku, 1)])

    # when both are allocated in one chunk, it is refused naming the move
    with pytest.raises(TransitionError) as refused:
        orders_allocate(orders=[served, short])
    assert short.external_no in refused.value.message

    # and nothing of the chunk was written, not even the servable order's reservation
    assert [_status(served), _status(short)] == [OrderStatus.NEW, OrderStatus.NEW]
    assert _allocated(served) == []
    assert _reserved(lot) == [D("0.000")]
    assert not OrderEvent.objects.exclude(from_status="").exists()


def test_a_new_order_that_already_holds_stock_refuses_the_chunk():
    # given an order made "new" behind the services' back while it holds its allocation
    sku = _sku()
    receive(kg="100")
    odd, fine = _orders([(sku, 1)], [(sku, 1)])
    order_allocate(order=odd)
    Order.objects.filter(pk=odd.pk).update(status=OrderStatus.NEW)

    # when it is allocated with another order, the chunk is refused naming it
    with pytest.raises(DomainError) as refused:
        orders_allocate(orders=[odd, fine])
    assert odd.external_no in refused.value.message
    assert refused.value.code == "forbidden_transition"
    assert _status(fine) == OrderStatus.NEW and _allocated(fine) == []


# --- cost ------------------------------------------------------------------------------------


def _allocation_queries(count: int, prefix: str) -> int:
    """Statements one chunk of ``count`` two-line orders sends, with stock for about half."""
    peach = _sku(f"{prefix}-P", product=ProductFactory(name=f"{prefix}蜜桃"))
    chestnut = _sku(f"{prefix}-C", product=ProductFactory(name=f"{prefix}板栗"))
    for sku, kg in ((peach, count * D("1.5")), (chestnut, count * D("2.5"))):
        for days, share in enumerate([D("0.3"), D("0.3"), D("0.4")]):
            receive(
                kg=kg * share, product=sku.product, grade=sku.grade, harvest_date=_days_ago(days)
            )
    orders = _orders(*[[(peach, 1), (chestnut, 1)]] * count, prefix=prefix)
    with CaptureQueriesContext(connection) as queries:
        counts = orders_allocate(orders=orders)
    assert counts["allocated"] and counts["backordered"]  # both kinds of write happened
    return len(queries)


def test_a_chunk_costs_the_same_statements_for_10_or_50_orders():
    few = _allocation_queries(10, "F")
    many = _allocation_queries(50, "M")
    assert few == many
    # + the transit table, + what back-orders wait for, + the daily roll-up (one read, two
    # inserts: orders.rollup)
    assert many <= 17


def test_allocating_one_order_costs_a_few_statements():
    sku = _sku()
    receive(kg="10")
    (order,) = _orders([(sku, 1)])
    with CaptureQueriesContext(connection) as queries:
        assert order_allocate(order=order) is True
    # lock the order, read its lines, lock its lots, one lot update, insert the allocations,
    # update the order, insert its event; and two savepoints with their releases
    assert len(queries) <= 15  # + the transit table, + the daily roll-up's three


# --- racing on PostgreSQL --------------------------------------------------------------------


def _race(work, workers: int) -> list[BaseException]:
    barrier = threading.Barrier(workers, timeout=30)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as exc:  # reported to the test, which fails on it
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(index,)) for index in range(workers)]
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
    finally:
        sys.setswitchinterval(switch_interval)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_overlapping_batches_racing_cancels_and_packing_never_oversell():
    # given stock for 300 units of a 2.5 kg SKU over three lots whose sizes are not whole units
    # and a second SKU of 1.5 kg with stock for 100 units
    peach = _sku("MT-5J")
    chestnut = SkuFactory(
        merchant_code="BL-3J",
        product=ProductFactory(name="板栗", shelf_life_days=90),
        net_kg=D("1.500"),
    )
    for kg, days in (("201.25", 3), ("298.75", 2), ("250", 1)):
        receive(kg=kg, product=peach.product, grade=peach.grade, harvest_date=_days_ago(days))
    receive(kg="150", product=chestnut.product, grade=chestnut.grade)
    # 100 orders allocated before the race (half to be cancelled, half to be packed), and 500
    # more of one or two lines
    rng = random.Random(42)
    held = _orders(*[[(peach, 1)]] * 100, prefix="H")
    assert orders_allocate(orders=held)["allocated"] == 100
    racing = _orders(
        *[
            [(peach, rng.randint(1, 2))] + ([(chestnut, 1)] if rng.random() < 0.3 else [])
            for _ in range(500)
        ],
        prefix="R",
    )
    cancel_too = racing[200:240]  # cancelled while the batches may be allocating them
    carrier = Carrier.objects.create(code="test-carrier", name="测试快递")
    packer = UserFactory(username="packer", roles=["packer"])
    results: list[Counter] = [Counter(), Counter()]

    def work(index: int) -> None:
        if index in (0, 1):
            # Two batches over overlapping sets (all orders; every other one), in chunks that
            # overlap while both run, each handed its orders in a scrambled order.
            mine = racing[:] if index == 0 else racing[::2]
            random.Random(index).shuffle(mine)
            results[index].update(orders_allocate(orders=mine, chunk_size=40))
        elif index == 2:
            for order in held[:50] + cancel_too:
                order_cancel(order=Order.objects.get(pk=order.pk))
        else:
            for number, order in enumerate(held[50:]):
                parcel_pack(
                    order=Order.objects.get(pk=order.pk),
                    carrier=carrier,
                    weight_kg=D("2.800"),
                    tracking_number=f"TEST{number:08d}",
                    acting_user=packer,
                )

    # when they all run at once
    errors = _race(work, 4)

    # then nothing failed (no deadlock), and every racing order was decided exactly once
    assert errors == []
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert {statuses[o.pk] for o in held[:50]} == {OrderStatus.CANCELLED}
    assert {statuses[o.pk] for o in held[50:]} == {OrderStatus.PACKED}
    allocated_events = Counter(
        OrderEvent.objects.filter(to_status=OrderStatus.ALLOCATED).values_list(
            "order_id", flat=True
        )
    )
    assert set(allocated_events.values()) == {1}
    assert sum(r["allocated"] for r in results) == len(allocated_events) - 100
    assert [sum(r.values()) for r in results] == [500, 250]
    assert {statuses[o.pk] for o in cancel_too} == {OrderStatus.CANCELLED}
    decided = Counter(statuses[o.pk] for o in racing if o not in cancel_too)
    assert set(decided) == {OrderStatus.ALLOCATED, OrderStatus.BACKORDERED}  # stock ran short
    for order in racing:
        if statuses[order.pk] == OrderStatus.ALLOCATED:
            assert order.pk in allocated_events
    # each order holds all its lines' kilograms or nothing
    per_line = dict(
        Allocation.objects.values("line_id").annotate(kg=Sum("kg")).values_list("line_id", "kg")
    )
    for line in OrderLine.objects.filter(order__in=racing):
        if statuses[line.order_id] in HOLDS_STOCK:
            assert per_line.get(line.pk) == line.kg
        else:
            assert line.pk not in per_line
    # no lot holds more than it has; what is reserved plus what left in parcels is at most
    # what came in
    assert not Lot.objects.filter(reserved_kg__gt=F("on_hand_kg")).exists()
    shipped = ParcelItem.objects.aggregate(kg=Sum("kg"))["kg"]
    assert shipped == 50 * D("2.500")
    by_product = defaultdict(Decimal)
    for lot in Lot.objects.all():
        by_product[lot.product_id] += lot.received_kg - lot.on_hand_kg
    assert by_product[peach.product_id] == shipped
    _assert_stock_consistent()
