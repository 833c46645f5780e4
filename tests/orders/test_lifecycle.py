"""An order moves only along ``ALLOWED_TRANSITIONS``, and every move leaves one event."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone, translation

from core.errors import DomainError
from orders.drafts import LineDraft, OrderDraft
from orders.lifecycle import (
    ALLOWED_TRANSITIONS,
    HOLDS_STOCK,
    PackItem,
    TransitionError,
    order_transition,
    orders_pack,
)
from orders.models import Allocation, Channel, Order, OrderEvent, OrderStatus
from orders.services import orders_create
from tests.factories import SkuFactory, receive
from tests.shipping.builders import allocated_order, stocked_sku

pytestmark = pytest.mark.django_db
D = Decimal

STATES = list(OrderStatus)
ALLOWED = [(a, b) for a in STATES for b in STATES if b in ALLOWED_TRANSITIONS[a]]
FORBIDDEN = [(a, b) for a in STATES for b in STATES if b not in ALLOWED_TRANSITIONS[a]]


def _ids(pairs):
    return [f"{a.value}->{b.value}" for a, b in pairs]


def _order_in(status: str, *, holding: bool = False) -> Order:
    """A saved order, put straight into ``status``; with ``holding``, its line has an
    Allocation row (the lot's own figures are not what these tests are about)."""
    channel, _created = Channel.objects.get_or_create(code="kuaishou", defaults={"name": "快手"})
    sku = SkuFactory()
    draft = OrderDraft(
        external_no="2611150000000001",
        recipient_name="张三",
        phone="13812345678",
        province="陕西省",
        address_detail="汉中市留坝县朱家坪村 3 组",
        paid_at=timezone.now(),
        lines=[LineDraft(sku=sku, quantity=1, unit_price=Decimal("39.90"))],
    )
    (order,) = orders_create(channel=channel, drafts=[draft])
    Order.objects.filter(pk=order.pk).update(status=status)
    if holding:
        lot = receive(kg="10", product=sku.product, grade=sku.grade)
        Allocation.objects.create(line=order.lines.get(), lot=lot, kg=Decimal("2.500"))
    order.refresh_from_db()
    return order


def test_the_matrix_covers_every_state_and_names_only_real_states():
    # the table has a row for every state, and every target is a state
    assert set(ALLOWED_TRANSITIONS) == set(STATES)
    assert all(set(targets) <= set(STATES) for targets in ALLOWED_TRANSITIONS.values())
    # and the parametrized tests below see all 100 pairs, split between allowed and forbidden
    assert len(ALLOWED) + len(FORBIDDEN) == len(STATES) ** 2
    # 19, and a partial refund after packing (packed, shipped, delivered → partially
    # refunded → refunded; packed → refunded)
    assert len(ALLOWED) == 24


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED, ids=_ids(ALLOWED))
def test_an_allowed_transition_moves_the_order_and_writes_one_event(
    make_user, from_status, to_status
):
    # given an order in the first state, holding stock exactly when the target state does
    order = _order_in(from_status, holding=to_status in HOLDS_STOCK)
    user = make_user("manager")
    events_before = set(OrderEvent.objects.values_list("pk", flat=True))

    # when it is moved to the second
    moved = order_transition(order=order, to=to_status, acting_user=user, note="主播确认")

    # then the order is there, in the database and in the caller's object
    assert moved.status == to_status
    assert order.status == to_status
    assert Order.objects.get(pk=order.pk).status == to_status
    # and exactly one event records the move, who made it and why
    new_events = OrderEvent.objects.exclude(pk__in=events_before)
    assert [
        (e.order_id, e.from_status, e.to_status, e.acting_user_id, e.note) for e in new_events
    ] == [(order.pk, from_status, to_status, user.pk, "主播确认")]


@pytest.mark.parametrize(("from_status", "to_status"), FORBIDDEN, ids=_ids(FORBIDDEN))
def test_a_forbidden_transition_is_refused_naming_both_states_and_changes_nothing(
    make_user, from_status, to_status
):
    # given an order in the first state
    order = _order_in(from_status)
    user = make_user("manager")
    events_before = OrderEvent.objects.count()
    updated_at = Order.objects.get(pk=order.pk).updated_at

    # when it is asked to move to a state the table does not allow, it is refused
    with translation.override("en"), pytest.raises(TransitionError) as refused:
        order_transition(order=order, to=to_status, acting_user=user, note="试试")

    # with a domain error whose message names both states
    error = refused.value
    assert isinstance(error, DomainError)
    assert error.code == "forbidden_transition"
    with translation.override("en"):
        from_label, to_label = OrderStatus(from_status).label, OrderStatus(to_status).label
        assert f"from {from_label} to {to_label}" in error.message
    assert order.external_no in error.message
    # and nothing was written
    assert OrderEvent.objects.count() == events_before
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.updated_at) == (from_status, updated_at)
    assert order.status == from_status


def test_an_order_cannot_be_marked_allocated_without_reserved_stock(make_user):
    order = _order_in(OrderStatus.NEW)

    with pytest.raises(DomainError) as refused:
        order_transition(order=order, to=OrderStatus.ALLOCATED, acting_user=make_user("manager"))

    assert refused.value.code == "forbidden_transition"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.NEW


def test_an_order_cannot_leave_a_stock_holding_state_while_it_holds_stock(make_user):
    order = _order_in(OrderStatus.ALLOCATED, holding=True)

    with pytest.raises(DomainError):
        order_transition(order=order, to=OrderStatus.CANCELLED, acting_user=make_user("manager"))

    assert Order.objects.get(pk=order.pk).status == OrderStatus.ALLOCATED
    assert Allocation.objects.filter(line__order=order).count() == 1


# --- packing through orders: all of an order, or some units of its lines ---------------------


def _split_order():
    """An order for 3 boxes of peaches (7.5 kg) served from two lots: 5 kg of the lot received
    first, then 2.5 kg of the next one."""
    sku = stocked_sku(kg="5")
    later = receive(kg="10", product=sku.product, grade=sku.grade)  # same expiry, received later
    order = allocated_order((sku, 3))
    return order, sku, later


def test_orders_pack_takes_some_units_first_expiry_first_and_keeps_the_rest_held(make_user):
    order, _sku, later = _split_order()
    line = order.lines.get()
    first_lot = line.allocations.order_by("pk").first().lot_id

    box1 = orders_pack(order=order, items=[PackItem(line.pk, 2)], acting_user=make_user("packer"))

    assert [(item.lot_id, item.kg) for item in box1.items] == [(first_lot, D("5.000"))]
    assert box1.packed == set() and not box1.complete
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PICKING
    assert list(line.allocations.values_list("lot_id", "kg")) == [(later.pk, D("2.500"))]

    box2 = orders_pack(order=order, items=[PackItem(line.pk, 1)], acting_user=make_user("packer"))

    assert [(item.lot_id, item.kg) for item in box2.items] == [(later.pk, D("2.500"))]
    assert box2.complete
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PACKED
    assert not line.allocations.exists()


def test_orders_pack_refuses_more_units_than_are_left_and_changes_nothing(make_user):
    order, _sku, _later = _split_order()
    line = order.lines.get()
    before = list(line.allocations.values_list("lot_id", "kg"))

    with pytest.raises(DomainError) as refused, transaction.atomic():
        orders_pack(order=order, items=[PackItem(line.pk, 4)], acting_user=make_user("packer"))

    assert "3" in refused.value.message and refused.value.field == "units"
    assert list(line.allocations.values_list("lot_id", "kg")) == before
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ALLOCATED


def test_orders_pack_refuses_a_line_of_another_order(make_user):
    order, sku, _later = _split_order()
    other = allocated_order((sku, 1))
    with pytest.raises(DomainError) as refused, transaction.atomic():
        orders_pack(
            order=order,
            items=[PackItem(other.lines.get().pk, 1)],
            acting_user=make_user("packer"),
        )
    assert refused.value.field == "items"
