"""Many threads, each with its own PostgreSQL connection, allocating orders against the same
lots at once: never more than the warehouse holds, all lines or none, and no deadlock."""

import random
import sys
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F, Sum
from django.utils import timezone

from inventory.models import Lot, Sku
from inventory.selectors import stock_mismatches
from orders.checks import reservations_match_allocations
from orders.drafts import LineDraft, OrderDraft
from orders.models import Allocation, Channel, Order, OrderLine, OrderStatus
from orders.services import order_allocate, orders_create
from tests.factories import GradeFactory, ProductFactory, SkuFactory, receive

D = Decimal
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 8


def _race(work: Callable[[int], None], monitor: Callable[[], None] | None = None) -> list:
    """Run ``work(index)`` in WORKERS threads released together (and ``monitor()`` in one
    more thread, over and over, until they are done); return what any of them raised."""
    barrier = threading.Barrier(WORKERS + (1 if monitor else 0), timeout=30)
    done = threading.Event()
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as exc:  # reported to the test, which fails on it
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    def watch() -> None:
        try:
            barrier.wait()
            # Paced, so the workers keep the database and the interpreter to themselves.
            while not done.wait(0.02):
                monitor()
            monitor()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(WORKERS)]
    watcher = threading.Thread(target=watch) if monitor else None
    # A thread that holds the lots' row locks waits for the interpreter lock after each
    # statement; a shorter switch interval hands it back sooner, so the race runs faster.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)
    try:
        for thread in [*threads, *([watcher] if watcher else [])]:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        done.set()
        if watcher:
            watcher.join(timeout=30)
    finally:
        sys.setswitchinterval(switch_interval)
    assert not any(t.is_alive() for t in [*threads, *([watcher] if watcher else [])]), "hung"
    return errors


def _channel() -> Channel:
    return Channel.objects.get_or_create(code="kuaishou", defaults={"name": "快手"})[0]


def _drafts(lines_per_order: list[list[tuple[Sku, int]]], prefix: str) -> list[OrderDraft]:
    start = timezone.now() - timedelta(hours=3)
    return [
        OrderDraft(
            external_no=f"{prefix}{index:06d}",
            recipient_name="赵六",
            phone="13612345678",
            province="广东省",
            address_detail="深圳市南山区科技园 8 栋",
            paid_at=start + timedelta(seconds=index),
            lines=[LineDraft(sku=sku, quantity=qty, unit_price=sku.price) for sku, qty in lines],
        )
        for index, lines in enumerate(lines_per_order)
    ]


def _line_allocations() -> dict[int, Decimal]:
    """Allocated kg per order line."""
    return {
        row["line_id"]: row["kg"]
        for row in Allocation.objects.values("line_id").annotate(kg=Sum("kg")).order_by()
    }


def test_eight_workers_racing_for_1000_units_allocate_exactly_1000():
    # given stock for exactly 1,000 units of a 2.5 kg SKU, spread over four lots whose sizes
    # are not whole units (so some orders split across two lots)
    sku = SkuFactory(merchant_code="MT-5J", net_kg=D("2.500"))
    today = timezone.localdate()
    lot_kg = ["701.25", "598.75", "750", "450"]
    lots = [
        receive(kg=kg, harvest_date=today - timedelta(days=days))
        for kg, days in zip(lot_kg, [3, 2, 1, 0], strict=True)
    ]
    assert sum(lot.on_hand_kg for lot in lots) == 1000 * sku.net_kg
    # and 8 workers with 250 single-unit orders each
    orders = orders_create(channel=_channel(), drafts=_drafts([[(sku, 1)]] * 2000, "R"))
    shares = [orders[index::WORKERS] for index in range(WORKERS)]
    results: list[Counter] = [Counter() for _ in range(WORKERS)]
    samples: list[int] = []
    seen_problems: list[str] = []
    lot_ids = [lot.pk for lot in lots]

    def allocate(index: int) -> None:
        for order in shares[index]:
            results[index][order_allocate(order=order)] += 1

    def watch() -> None:
        # Each sample is one statement, so it reads one committed snapshot.
        over = Lot.objects.filter(pk__in=lot_ids, reserved_kg__gt=F("on_hand_kg"))
        seen_problems.extend(
            f"{code} reserved > on-hand" for code in over.values_list("code", flat=True)
        )
        seen_problems.extend(reservations_match_allocations())
        samples.append(1)

    # when they all race
    errors = _race(allocate, watch)

    # then nothing failed, and exactly 1,000 orders got a unit while 1,000 wait
    assert errors == []
    assert sum(r[True] for r in results) == 1000
    assert sum(r[False] for r in results) == 1000
    statuses = Counter(Order.objects.values_list("status", flat=True))
    assert statuses == {OrderStatus.ALLOCATED: 1000, OrderStatus.BACKORDERED: 1000}
    # every allocated line holds exactly its 2.5 kg, no back-order holds anything
    per_line = _line_allocations()
    allocated_lines = OrderLine.objects.filter(order__status=OrderStatus.ALLOCATED)
    assert sorted(per_line) == sorted(allocated_lines.values_list("pk", flat=True))
    assert set(per_line.values()) == {D("2.500")}
    # every lot is fully reserved, never beyond its on-hand, not even while the race ran
    for lot in Lot.objects.filter(pk__in=lot_ids):
        assert lot.reserved_kg == lot.on_hand_kg
    assert samples, "the monitor never sampled"
    assert seen_problems == []
    # and the ledger and the orders' allocations agree with the lots
    assert stock_mismatches() == []
    assert reservations_match_allocations() == []


def test_multi_line_orders_in_random_sku_order_never_deadlock_and_stay_all_or_nothing():
    # given four SKUs (two products × two grades), each with two lots, some short of demand
    peach, chestnut = ProductFactory(name="蜜桃"), ProductFactory(name="板栗", shelf_life_days=90)
    top, second = GradeFactory(name="特级", rank=0), GradeFactory(name="一级", rank=1)
    today = timezone.localdate()
    skus = []
    for index, (product, grade, kg) in enumerate(
        [
            (peach, top, "150"),
            (peach, second, "400"),
            (chestnut, top, "120"),
            (chestnut, second, "60"),
        ]
    ):
        skus.append(
            SkuFactory(merchant_code=f"S{index}", product=product, grade=grade, net_kg=D("1.500"))
        )
        for days in (2, 0):
            receive(kg=kg, product=product, grade=grade, harvest_date=today - timedelta(days=days))
    # and 8 workers with 40 orders each of 2 to 4 lines, the SKUs in a random order
    rng = random.Random(20260115)
    orders = orders_create(
        channel=_channel(),
        drafts=_drafts(
            [
                [(sku, rng.randint(1, 3)) for sku in rng.sample(skus, rng.randint(2, 4))]
                for _ in range(WORKERS * 40)
            ],
            "M",
        ),
    )
    shares = [orders[index::WORKERS] for index in range(WORKERS)]
    outcomes: dict[int, bool] = {}

    def allocate(index: int) -> None:
        for order in shares[index]:
            outcomes[order.pk] = order_allocate(order=order)

    # when they all race
    errors = _race(allocate)

    # then no worker hit a deadlock or any other error, and every order was decided
    assert errors == []
    assert len(outcomes) == len(orders)
    # some orders were served and some not: the stock really ran short
    assert 0 < sum(outcomes.values()) < len(orders)
    # each order holds all its lines' kilograms, or nothing at all
    per_line = _line_allocations()
    lines_by_order: dict[int, list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.all():
        lines_by_order[line.order_id].append(line)
    status = dict(Order.objects.values_list("pk", "status"))
    for order_id, lines in lines_by_order.items():
        if outcomes[order_id]:
            assert status[order_id] == OrderStatus.ALLOCATED
            assert all(per_line.get(line.pk) == line.kg for line in lines)
        else:
            assert status[order_id] == OrderStatus.BACKORDERED
            assert all(line.pk not in per_line for line in lines)
    # and no lot holds more than it has, the ledger and the allocations agree
    assert not Lot.objects.filter(reserved_kg__gt=F("on_hand_kg")).exists()
    assert stock_mismatches() == []
    assert reservations_match_allocations() == []
