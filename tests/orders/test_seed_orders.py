"""seed_demo's livestream orders: believable, in several states, created once, same every time."""

import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum

from inventory.models import Lot
from inventory.selectors import stock_mismatches
from orders.models import Allocation, LiveSession, Order, OrderEvent, OrderLine, OrderStatus

pytestmark = pytest.mark.django_db

PHONE = re.compile(r"^1[3-9]\d{9}$")
MASKED_PHONE = re.compile(r"^1[3-9]\d\*{4}\d{4}$")


class Rollback(Exception):
    pass


def orders_of_a_seed_rolled_back() -> list[tuple[str, str]]:
    """Seed inside a transaction that is then undone; what orders did it make?"""
    try:
        with transaction.atomic():
            call_command("seed_demo", verbosity=0)
            made = sorted(Order.objects.values_list("external_no", "status"))
            raise Rollback
    except Rollback:
        return made


def order_counts() -> dict[str, int]:
    models = (LiveSession, Order, OrderLine, OrderEvent, Allocation)
    return {model.__name__: model.objects.count() for model in models}


def test_seed_demo_orders_are_the_same_every_time_and_made_once():
    # given what one seed makes, undone again
    first = orders_of_a_seed_rolled_back()
    assert not Order.objects.exists()

    # when the demo is loaded twice
    call_command("seed_demo", verbosity=0)
    counts = order_counts()
    call_command("seed_demo", verbosity=0)

    # then the same orders came back in the same states, and the second run added nothing
    assert sorted(Order.objects.values_list("external_no", "status")) == first
    assert order_counts() == counts


def test_seed_demo_orders_reach_several_states_and_stock_stays_exact():
    call_command("seed_demo", verbosity=0)

    statuses = {
        status: Order.objects.filter(status=status).count() for status in OrderStatus.values
    }
    total = sum(statuses.values())
    assert 200 <= total <= 500
    assert statuses[OrderStatus.ALLOCATED] > total * 0.8
    assert 5 <= statuses[OrderStatus.BACKORDERED] <= total * 0.1
    assert 3 <= statuses[OrderStatus.CANCELLED] <= 10
    assert 2 <= statuses[OrderStatus.REFUNDED] <= 3
    assert stock_mismatches() == []
    # what the lots hold reserved is exactly what the live orders were given, line by line
    reserved = Lot.objects.aggregate(kg=Sum("reserved_kg"))["kg"]
    allocated = Allocation.objects.aggregate(kg=Sum("kg"))["kg"]
    assert Decimal(reserved).quantize(Decimal("0.001")) == Decimal(allocated).quantize(
        Decimal("0.001")
    )
    holding = set(Allocation.objects.values_list("line__order__status", flat=True))
    assert holding <= {OrderStatus.ALLOCATED, OrderStatus.PICKING}  # picking: in a wave
    for line in OrderLine.objects.filter(order__status=OrderStatus.ALLOCATED).annotate(
        allocated=Sum("allocations__kg")
    ):
        assert Decimal(line.allocated).quantize(Decimal("0.001")) == line.kg
    # some SKU ran out on purpose: its back-orders wait while other SKUs still have stock
    waiting = OrderLine.objects.filter(order__status=OrderStatus.BACKORDERED)
    assert waiting.filter(sku__merchant_code__in=["MT-10J-CG", "XM-5J-YJ"]).exists()
    cancelled = Order.objects.filter(status=OrderStatus.CANCELLED, events__note__startswith="买家")
    assert cancelled.exists()


def test_seed_demo_orders_look_like_two_real_livestreams():
    call_command("seed_demo", verbosity=0)

    sessions = {session.title: session for session in LiveSession.objects.all()}
    peach = sessions["朱家坪蜜桃开园直播"]
    millet = sessions["板栗小米助农专场"]
    assert (peach.channel.code, peach.host, peach.room) == ("kuaishou", "阿秀", "直播间 1")
    assert (millet.channel.code, millet.host, millet.room) == ("douyin", "王德贵", "直播间 2")
    for session in sessions.values():
        orders = Order.objects.filter(live_session=session)
        assert orders.count() >= 100
        assert not orders.exclude(channel=session.channel).exists()
        outside = orders.exclude(paid_at__gte=session.starts_at, paid_at__lte=session.ends_at)
        assert not outside.exists()
    orders = list(Order.objects.prefetch_related("lines"))
    assert len({order.province for order in orders}) >= 20
    assert all(order.city and order.district and order.address_detail for order in orders)
    masked = [order for order in orders if order.phone_masked_by_platform]
    assert 0.05 * len(orders) < len(masked) < 0.5 * len(orders)
    assert all(MASKED_PHONE.match(order.phone) for order in masked)
    assert all(PHONE.match(order.phone) for order in orders if not order.phone_masked_by_platform)
    notes = {order.buyer_note for order in orders if order.buyer_note}
    assert {"请发顺丰", "不要放快递柜"} <= notes
    assert {len(order.lines.all()) for order in orders} == {1, 2, 3}
    assert len({order.recipient_name for order in orders}) > len(orders) * 0.7
    assert all(len(order.external_no) == 19 for order in orders)
