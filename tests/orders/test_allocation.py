"""Orders ask for kilograms, inventory picks the lots: first expiry first, all lines or none,
and ``check_stock`` proves afterwards that every lot's reservation is what orders hold."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from inventory.checks import registered_stock_checks
from inventory.models import Lot, Sku
from inventory.selectors import stock_mismatches
from orders.checks import reservations_match_allocations
from orders.drafts import LineDraft, OrderDraft
from orders.lifecycle import HOLDS_STOCK, TransitionError, order_transition
from orders.models import Allocation, Channel, Order, OrderEvent, OrderStatus
from orders.services import order_allocate, order_cancel, orders_create
from shipping.models import Carrier
from shipping.services import parcel_pack
from tests.factories import GradeFactory, ProductFactory, SkuFactory, receive

D = Decimal
pytestmark = pytest.mark.django_db


# --- helpers ---------------------------------------------------------------------------------


def _days_ago(days: int):
    return timezone.localdate() - timedelta(days=days)


def _sku(code: str = "MT-5J", **kwargs) -> Sku:
    return SkuFactory(merchant_code=code, net_kg=D("2.500"), **kwargs)


def _order(*lines: tuple[Sku, int], number: str = "1001", paid_at=None) -> Order:
    channel, _created = Channel.objects.get_or_create(code="kuaishou", defaults={"name": "快手"})
    draft = OrderDraft(
        external_no=number,
        recipient_name="李四",
        phone="13912345678",
        province="陕西省",
        address_detail="西安市雁塔区小寨东路 1 号",
        paid_at=paid_at or timezone.now(),
        lines=[LineDraft(sku=sku, quantity=qty, unit_price=sku.price) for sku, qty in lines],
    )
    (order,) = orders_create(channel=channel, drafts=[draft])
    return order


def _allocated(order: Order) -> list[tuple[int, Decimal]]:
    """(lot id, kg) of the order's allocations, in the order they were made."""
    return list(
        Allocation.objects.filter(line__order=order).order_by("pk").values_list("lot_id", "kg")
    )


def _reserved(*lots: Lot) -> list[Decimal]:
    by_pk = dict(
        Lot.objects.filter(pk__in=[lot.pk for lot in lots]).values_list("pk", "reserved_kg")
    )
    return [by_pk[lot.pk] for lot in lots]


def _assert_stock_consistent() -> None:
    """Cache = ledger, 0 ≤ reserved ≤ on-hand, and every lot's reservation is exactly what
    orders holding stock have allocated from it — computed here, and by ``check_stock``."""
    assert stock_mismatches() == []
    held: dict[int, Decimal] = defaultdict(Decimal)
    for lot_id, kg in Allocation.objects.filter(line__order__status__in=HOLDS_STOCK).values_list(
        "lot_id", "kg"
    ):
        held[lot_id] += kg
    reserved = dict(Lot.objects.values_list("pk", "reserved_kg"))
    assert reserved == {pk: held.get(pk, D("0")) for pk in reserved}
    assert reservations_match_allocations() == []
    out = StringIO()
    call_command("check_stock", stdout=out)
    assert "Stock matches the ledger" in out.getvalue()


# --- first expiry first out ------------------------------------------------------------------


def test_allocation_takes_the_lot_that_expires_first_not_the_first_received():
    # given a lot harvested today, then one harvested three days ago (it expires first)
    sku = _sku()
    fresh = receive(kg="100", harvest_date=_days_ago(0))
    older = receive(kg="100", harvest_date=_days_ago(3))
    assert older.expiry_date < fresh.expiry_date and older.pk > fresh.pk
    order = _order((sku, 2))

    # when an order for 2 × 2.5 kg is allocated
    assert order_allocate(order=order) is True

    # then all 5 kg come from the lot that expires first
    assert order.status == OrderStatus.ALLOCATED
    assert _allocated(order) == [(older.pk, D("5.000"))]
    assert _reserved(older, fresh) == [D("5.000"), D("0.000")]
    _assert_stock_consistent()


def test_lots_that_expire_the_same_day_go_oldest_intake_first():
    # given two lots with the same harvest date, the second one received an hour earlier
    sku = _sku()
    first = receive(kg="50", harvest_date=_days_ago(1))
    earlier = receive(kg="50", harvest_date=_days_ago(1))
    Lot.objects.filter(pk=earlier.pk).update(received_at=first.received_at - timedelta(hours=1))
    order = _order((sku, 1))

    # when one unit is allocated
    order_allocate(order=order)

    # then it comes from the lot received earlier, whatever its id
    assert _allocated(order) == [(earlier.pk, D("2.500"))]
    _assert_stock_consistent()


def test_an_order_bigger_than_one_lot_is_split_across_lots_in_expiry_order():
    # given 3 kg expiring first, 4 kg expiring next and 100 kg expiring last
    sku = _sku()
    last = receive(kg="100", harvest_date=_days_ago(0))
    first = receive(kg="3", harvest_date=_days_ago(4))
    second = receive(kg="4", harvest_date=_days_ago(2))
    order = _order((sku, 4))

    # when an order for 4 × 2.5 = 10 kg is allocated
    assert order_allocate(order=order) is True

    # then it empties the first two lots and takes the rest from the last
    assert _allocated(order) == [
        (first.pk, D("3.000")),
        (second.pk, D("4.000")),
        (last.pk, D("3.000")),
    ]
    assert _reserved(first, second, last) == [D("3.000"), D("4.000"), D("3.000")]
    assert sum(kg for _lot, kg in _allocated(order)) == order.lines.get().kg == D("10.000")
    _assert_stock_consistent()


def test_a_lot_already_reserved_by_another_order_gives_only_what_is_left():
    # given a 6 kg lot expiring first, of which one order already holds 5 kg
    sku = _sku()
    short = receive(kg="6", harvest_date=_days_ago(3))
    plenty = receive(kg="100", harvest_date=_days_ago(0))
    assert order_allocate(order=_order((sku, 2), number="1001"))

    # when a second order for 2.5 kg is allocated
    second = _order((sku, 1), number="1002")
    order_allocate(order=second)

    # then it takes the 1 kg left in the first lot and 1.5 kg from the next
    assert _allocated(second) == [(short.pk, D("1.000")), (plenty.pk, D("1.500"))]
    assert _reserved(short, plenty) == [D("6.000"), D("1.500")]
    _assert_stock_consistent()


def test_allocation_uses_only_lots_of_the_skus_product_and_grade():
    # given lots that expire sooner but are of another grade, or of another product
    peach, top = ProductFactory(name="蜜桃"), GradeFactory(name="特级", rank=0)
    chestnut = ProductFactory(name="板栗", shelf_life_days=7)
    second_grade = GradeFactory(name="一级", rank=1)
    wrong_grade = receive(kg="100", product=peach, grade=second_grade, harvest_date=_days_ago(5))
    wrong_product = receive(kg="100", product=chestnut, grade=top, harvest_date=_days_ago(5))
    right = receive(kg="6", product=peach, grade=top, harvest_date=_days_ago(0))
    sku = _sku(product=peach, grade=top)

    # when an order of the peach grade-特级 SKU is allocated
    order = _order((sku, 2))
    assert order_allocate(order=order) is True

    # then only the peach 特级 lot is touched
    assert _allocated(order) == [(right.pk, D("5.000"))]
    assert _reserved(wrong_grade, wrong_product) == [D("0.000"), D("0.000")]

    # and when the right lot runs short, the others are still not used
    more = _order((sku, 1), number="1002")
    assert order_allocate(order=more) is False
    assert more.status == OrderStatus.BACKORDERED
    assert _reserved(wrong_grade, wrong_product, right) == [D("0"), D("0"), D("5.000")]
    _assert_stock_consistent()


# --- all lines or none -----------------------------------------------------------------------


def test_an_order_whose_second_line_cannot_be_served_reserves_nothing_and_is_backordered(
    make_user,
):
    # given plenty for the first line's SKU and only 3 of the 5 kg the second line needs
    user = make_user("manager")
    top, second_grade = GradeFactory(name="特级", rank=0), GradeFactory(name="一级", rank=1)
    plenty = receive(kg="100", grade=top)
    scarce = receive(kg="3", grade=second_grade)
    order = _order((_sku("MT-A", grade=top), 2), (_sku("MT-B", grade=second_grade), 2))

    # when the order is allocated
    assert order_allocate(order=order, acting_user=user) is False

    # then no line holds anything, no lot is reserved, and the order waits as a back-order
    assert _allocated(order) == []
    assert _reserved(plenty, scarce) == [D("0.000"), D("0.000")]
    assert order.status == OrderStatus.BACKORDERED
    assert Order.objects.get(pk=order.pk).status == OrderStatus.BACKORDERED
    event = OrderEvent.objects.filter(order=order).latest("id")
    assert (event.from_status, event.to_status, event.acting_user) == (
        OrderStatus.NEW,
        OrderStatus.BACKORDERED,
        user,
    )
    assert "2.000" in event.note  # how much was short
    _assert_stock_consistent()


def test_a_backorder_still_short_stays_backordered_without_a_new_event():
    # given a back-order
    sku = _sku()
    receive(kg="1")
    order = _order((sku, 1))
    order_allocate(order=order)
    events = OrderEvent.objects.filter(order=order).count()

    # when it is tried again before stock arrives
    assert order_allocate(order=order) is False

    # then nothing changes
    assert Order.objects.get(pk=order.pk).status == OrderStatus.BACKORDERED
    assert OrderEvent.objects.filter(order=order).count() == events
    assert _allocated(order) == []
    _assert_stock_consistent()


def test_a_backorder_is_allocated_once_stock_is_there():
    # given a back-order, then stock received
    sku = _sku()
    order = _order((sku, 2))
    assert order_allocate(order=order) is False
    lot = receive(kg="10")

    # when it is allocated again
    assert order_allocate(order=order) is True

    # then it holds its kilograms and its history shows both moves
    assert _allocated(order) == [(lot.pk, D("5.000"))]
    assert list(OrderEvent.objects.filter(order=order).values_list("from_status", "to_status")) == [
        ("", OrderStatus.NEW),
        (OrderStatus.NEW, OrderStatus.BACKORDERED),
        (OrderStatus.BACKORDERED, OrderStatus.ALLOCATED),
    ]
    _assert_stock_consistent()


@pytest.mark.parametrize(
    "path",
    [
        [],
        [OrderStatus.PICKING],
        [OrderStatus.CANCELLED],
    ],
    ids=["allocated", "picking", "cancelled"],
)
def test_allocating_an_order_that_is_past_allocation_is_refused_and_changes_nothing(path):
    # given an allocated order, moved on along the path
    sku = _sku()
    lot = receive(kg="100")
    order = _order((sku, 2))
    order_allocate(order=order)
    for status in path:
        if status == OrderStatus.CANCELLED:
            order_cancel(order=order)
        else:
            order_transition(order=order, to=status)
    reserved, allocations = _reserved(lot), _allocated(order)
    events = OrderEvent.objects.filter(order=order).count()

    # when it is allocated again, it is refused
    with pytest.raises(TransitionError):
        order_allocate(order=order)

    # and nothing changed
    assert _reserved(lot) == reserved
    assert _allocated(order) == allocations
    assert OrderEvent.objects.filter(order=order).count() == events
    _assert_stock_consistent()


# --- cancel ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "to"),
    [
        (OrderStatus.ALLOCATED, OrderStatus.CANCELLED),
        (OrderStatus.PICKING, OrderStatus.CANCELLED),
        (OrderStatus.ALLOCATED, OrderStatus.REFUNDED),
    ],
)
def test_cancelling_before_packing_releases_exactly_what_the_order_held(make_user, before, to):
    # given two orders sharing two lots: the first is split over both
    user = make_user("manager")
    sku = _sku()
    first_lot = receive(kg="4", harvest_date=_days_ago(2))
    second_lot = receive(kg="100", harvest_date=_days_ago(0))
    leaving = _order((sku, 3), number="1001")  # 4 kg + 3.5 kg
    staying = _order((sku, 2), number="1002")  # 5 kg from the second lot
    assert order_allocate(order=leaving) and order_allocate(order=staying)
    if before == OrderStatus.PICKING:
        order_transition(order=leaving, to=OrderStatus.PICKING)
    assert _allocated(leaving) == [(first_lot.pk, D("4.000")), (second_lot.pk, D("3.500"))]
    kept = _allocated(staying)

    # when the first order is cancelled
    order_cancel(order=leaving, acting_user=user, note="买家取消", to=to)

    # then its kilograms are back, the other order's reservation is untouched
    assert _reserved(first_lot, second_lot) == [D("0.000"), D("5.000")]
    assert _allocated(leaving) == []
    assert _allocated(staying) == kept
    # on-hand never moved: a reservation is not a ledger movement
    assert list(
        Lot.objects.filter(pk__in=[first_lot.pk, second_lot.pk])
        .order_by("pk")
        .values_list("on_hand_kg", flat=True)
    ) == [D("4.000"), D("100.000")]
    event = OrderEvent.objects.filter(order=leaving).latest("id")
    assert (event.from_status, event.to_status, event.acting_user, event.note) == (
        before,
        to,
        user,
        "买家取消",
    )
    assert Order.objects.get(pk=leaving.pk).status == to
    _assert_stock_consistent()


def test_cancelling_a_backorder_releases_nothing():
    # given a back-order beside an allocated order
    sku = _sku()
    lot = receive(kg="5")
    held = _order((sku, 2), number="1001")
    waiting = _order((sku, 1), number="1002")
    order_allocate(order=held)
    assert order_allocate(order=waiting) is False

    # when the back-order is cancelled
    order_cancel(order=waiting)

    # then it is cancelled and the other order keeps its stock
    assert Order.objects.get(pk=waiting.pk).status == OrderStatus.CANCELLED
    assert _reserved(lot) == [D("5.000")]
    _assert_stock_consistent()


def test_a_packed_order_cannot_be_cancelled(make_user):
    # given an order packed into a parcel (its stock has left the shelf)
    sku = _sku()
    lot = receive(kg="10")
    order = _order((sku, 2))
    order_allocate(order=order)
    carrier = Carrier.objects.create(code="test-carrier", name="测试快递")
    parcel_pack(
        order=order,
        carrier=carrier,
        weight_kg=D("5.800"),
        tracking_number="TEST00000001",
        acting_user=make_user("packer"),
    )

    # when it is cancelled, it is refused and nothing comes back to the lot
    with pytest.raises(TransitionError):
        order_cancel(order=order)
    lot.refresh_from_db()
    assert (lot.on_hand_kg, lot.reserved_kg) == (D("5.000"), D("0.000"))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PACKED


# --- check_stock knows about orders ----------------------------------------------------------


def test_orders_registers_its_reservation_check_with_check_stock():
    assert reservations_match_allocations in registered_stock_checks()


def _tamper_reserved(order: Order, lot: Lot) -> None:
    Lot.objects.filter(pk=lot.pk).update(reserved_kg=F("reserved_kg") + D("1.000"))


def _tamper_allocation(order: Order, lot: Lot) -> None:
    Allocation.objects.filter(line__order=order).delete()


def _tamper_status(order: Order, lot: Lot) -> None:
    # Cancelled behind the service's back: the reservation was never released.
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELLED)


@pytest.mark.parametrize(
    "tamper",
    [_tamper_reserved, _tamper_allocation, _tamper_status],
    ids=["lot-reserved-changed", "allocation-deleted", "status-changed"],
)
def test_check_stock_fails_naming_a_lot_whose_reservation_orders_do_not_hold(tamper):
    # given two lots, each held by an allocated order, and one of them tampered with
    top, second_grade = GradeFactory(name="特级", rank=0), GradeFactory(name="一级", rank=1)
    tampered = receive(kg="10", grade=top)
    clean = receive(kg="10", grade=second_grade)
    first = _order((_sku("MT-A", grade=top), 2), number="1001")
    second = _order((_sku("MT-B", grade=second_grade), 2), number="1002")
    assert order_allocate(order=first) and order_allocate(order=second)
    _assert_stock_consistent()
    tamper(first, tampered)
    assert stock_mismatches() == []  # the ledger check alone cannot see it
    out = StringIO()

    # when check_stock runs, it fails
    with pytest.raises(CommandError, match="1 problem"):
        call_command("check_stock", stdout=out)

    # and names the tampered lot, and only that one
    output = out.getvalue()
    assert tampered.code in output
    assert clean.code not in output
    assert "Stock matches the ledger" not in output
