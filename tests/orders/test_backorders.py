"""Orders that could not be served wait as back-orders; intake of their product queues a task,
and the task worker allocates them, oldest payment first.

These tests commit for real (``transaction=True``): the intake's on-commit signal fires when
its transaction commits, and the real worker (``db_worker``) closes any connection it finds
inside a transaction, as a test transaction would be on PostgreSQL."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from inventory.models import Grade, Lot, Product, Sku
from inventory.selectors import stock_mismatches
from inventory.services import IntakeRow, intake_record
from orders.checks import reservations_match_allocations
from orders.drafts import LineDraft, OrderDraft
from orders.models import Allocation, Channel, Order, OrderEvent, OrderStatus
from orders.services import orders_allocate, orders_create
from tests.factories import (
    FarmerFactory,
    GradeFactory,
    LocationFactory,
    ProductFactory,
    SkuFactory,
    UserFactory,
    receive,
)

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)

FILL_TASK = "orders.tasks.fill_backorders"


def _order(*lines: tuple[Sku, int], number: str, paid_hours_ago: int) -> Order:
    channel, _created = Channel.objects.get_or_create(code="kuaishou", defaults={"name": "快手"})
    draft = OrderDraft(
        external_no=number,
        recipient_name="王五",
        phone="13712345678",
        province="四川省",
        address_detail="成都市武侯区人民南路 4 段 9 号",
        paid_at=timezone.now() - timedelta(hours=paid_hours_ago),
        lines=[LineDraft(sku=sku, quantity=qty, unit_price=sku.price) for sku, qty in lines],
    )
    (order,) = orders_create(channel=channel, drafts=[draft])
    return order


def _intake(product: Product, grade: Grade, kg: str) -> Lot:
    """Receive a lot through the intake service (its ``stock_received`` signal is sent when
    the intake commits)."""
    delivery = intake_record(
        farmer=FarmerFactory(),
        product=product,
        rows=[IntakeRow(grade=grade, gross_kg=D(kg), price_per_kg=D("6.00"))],
        harvest_date=timezone.localdate(),
        location=LocationFactory(),
        acting_user=UserFactory(username="intake-clerk", roles=["intake"]),
    )
    return delivery.lots.get()


def _status(order: Order) -> str:
    return Order.objects.get(pk=order.pk).status


def _run_worker() -> None:
    call_command("db_worker", batch=True, stdout=StringIO(), stderr=StringIO())


def _assert_stock_consistent() -> None:
    assert stock_mismatches() == []
    assert reservations_match_allocations() == []


@pytest.fixture
def peach():
    product, grade = ProductFactory(name="蜜桃"), GradeFactory(name="特级", rank=0)
    return product, grade, SkuFactory(merchant_code="MT-5J", product=product, grade=grade)


@pytest.fixture
def chestnut():
    product = ProductFactory(name="板栗", shelf_life_days=90)
    grade = GradeFactory(name="特级", rank=0)
    sku = SkuFactory(merchant_code="BL-2J", name="板栗 2斤", product=product, grade=grade)
    return product, grade, sku


def test_intake_queues_the_fill_and_the_worker_serves_the_oldest_payment_first(peach, chestnut):
    # given three back-orders: two for peaches (the one paid first was created last) and an
    # even older one for chestnuts
    product, grade, sku = peach
    paid_later = _order((sku, 1), number="3001", paid_hours_ago=1)
    paid_first = _order((sku, 1), number="3002", paid_hours_ago=2)
    other = _order((chestnut[2], 1), number="3003", paid_hours_ago=3)
    counts = orders_allocate(orders=[paid_later, paid_first, other])
    assert counts == {"allocated": 0, "backordered": 3, "skipped": 0}
    other_events = OrderEvent.objects.filter(order=other).count()

    # when intake brings peaches for exactly one order (2.5 kg), and its transaction commits
    lot = _intake(product, grade, "2.5")

    # then one fill task waits in the queue, for peaches only, and nothing is allocated yet
    queued = DBTaskResult.objects.filter(task_path=FILL_TASK)
    assert [task.args_kwargs for task in queued] == [
        {"args": [[[product.pk, grade.pk]]], "kwargs": {}}
    ]
    assert {_status(paid_later), _status(paid_first)} == {OrderStatus.BACKORDERED}

    # when the task worker runs
    _run_worker()

    # then the order paid first got the stock, the other peach order still waits
    task = DBTaskResult.objects.get(task_path=FILL_TASK)
    assert (task.status, task.return_value) == ("SUCCESSFUL", 1)
    assert _status(paid_first) == OrderStatus.ALLOCATED
    assert _status(paid_later) == OrderStatus.BACKORDERED
    assert list(Allocation.objects.filter(line__order=paid_first).values_list("lot_id", "kg")) == [
        (lot.pk, D("2.500"))
    ]
    assert not Allocation.objects.filter(line__order=paid_later).exists()
    # the system made the move, so the event has no user
    event = OrderEvent.objects.filter(order=paid_first).latest("id")
    assert (event.from_status, event.to_status, event.acting_user) == (
        OrderStatus.BACKORDERED,
        OrderStatus.ALLOCATED,
        None,
    )
    # and the chestnut back-order was not touched
    assert _status(other) == OrderStatus.BACKORDERED
    assert OrderEvent.objects.filter(order=other).count() == other_events
    _assert_stock_consistent()


def test_intake_of_another_product_leaves_these_backorders_waiting(peach, chestnut):
    # given a peach back-order and a chestnut back-order, and peaches on the shelf whose fill
    # task was dropped from the queue (so the peach order is still waiting)
    peach_order = _order((peach[2], 1), number="3101", paid_hours_ago=5)
    chestnut_order = _order((chestnut[2], 2), number="3102", paid_hours_ago=1)
    orders_allocate(orders=[peach_order, chestnut_order])
    peach_lot = _intake(peach[0], peach[1], "50")
    assert DBTaskResult.objects.filter(task_path=FILL_TASK).count() == 1
    DBTaskResult.objects.all().delete()

    # when chestnuts arrive and the worker runs the task they queued
    chestnut_lot = _intake(chestnut[0], chestnut[1], "10")
    assert [t.args_kwargs["args"] for t in DBTaskResult.objects.filter(task_path=FILL_TASK)] == [
        [[[chestnut[0].pk, chestnut[1].pk]]]
    ]
    _run_worker()

    # then only the chestnut order was allocated
    assert _status(chestnut_order) == OrderStatus.ALLOCATED
    assert Lot.objects.get(pk=chestnut_lot.pk).reserved_kg == D("5.000")
    assert _status(peach_order) == OrderStatus.BACKORDERED
    assert Lot.objects.get(pk=peach_lot.pk).reserved_kg == D("0.000")
    _assert_stock_consistent()


def test_a_backorder_of_two_products_is_filled_when_the_missing_one_arrives(peach, chestnut):
    # given an order for peaches and chestnuts, with peaches on the shelf but no chestnuts
    peach_lot = receive(kg="20", product=peach[0], grade=peach[1])
    order = _order((peach[2], 2), (chestnut[2], 1), number="3201", paid_hours_ago=1)
    orders_allocate(orders=[order])
    assert _status(order) == OrderStatus.BACKORDERED
    assert Lot.objects.get(pk=peach_lot.pk).reserved_kg == 0

    # when chestnuts arrive and the worker runs
    chestnut_lot = _intake(chestnut[0], chestnut[1], "3")
    _run_worker()

    # then both lines hold their kilograms
    assert _status(order) == OrderStatus.ALLOCATED
    assert sorted(
        Allocation.objects.filter(line__order=order).values_list("lot_id", "kg")
    ) == sorted([(peach_lot.pk, D("5.000")), (chestnut_lot.pk, D("2.500"))])
    _assert_stock_consistent()


def test_an_intake_that_rolls_back_queues_nothing(peach):
    # given a back-order
    order = _order((peach[2], 1), number="3301", paid_hours_ago=1)
    orders_allocate(orders=[order])

    # when an intake is recorded inside a transaction that then fails
    with pytest.raises(RuntimeError), transaction.atomic():
        _intake(peach[0], peach[1], "10")
        raise RuntimeError("the scale was wrong")

    # then no lot exists, no task was queued, and the order still waits
    assert not Lot.objects.exists()
    assert not DBTaskResult.objects.exists()
    _run_worker()
    assert _status(order) == OrderStatus.BACKORDERED


@pytest.mark.django_db(transaction=False)
def test_intake_queues_one_fill_task_per_commit_for_the_products_and_grades_it_received(
    peach, chestnut, django_capture_on_commit_callbacks
):
    # given a delivery of two grades of peaches (the chestnut SKU exists, no chestnuts come)
    second = GradeFactory(name="一级", rank=1)
    assert not DBTaskResult.objects.exists()

    # when it is recorded and its transaction's on-commit callbacks run
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        intake_record(
            farmer=FarmerFactory(),
            product=peach[0],
            rows=[
                IntakeRow(grade=peach[1], gross_kg=D("30"), price_per_kg=D("8.00")),
                IntakeRow(grade=second, gross_kg=D("20"), price_per_kg=D("5.00")),
            ],
            harvest_date=timezone.localdate(),
            location=LocationFactory(),
            acting_user=UserFactory(username="intake-clerk", roles=["intake"]),
        )

    # then one callback ran and queued one fill task naming both peach grades, sorted
    assert len(callbacks) == 1
    (task,) = DBTaskResult.objects.filter(task_path=FILL_TASK)
    assert task.args_kwargs == {
        "args": [sorted([[peach[0].pk, peach[1].pk], [peach[0].pk, second.pk]])],
        "kwargs": {},
    }
    assert task.status == "READY"
