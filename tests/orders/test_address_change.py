"""An address a platform changed after the order came in: applied before packing, flagged
for a person after — also straight from a pull against the local 抖店 stand-in."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from orders.drafts import OrderDraft
from orders.models import AddressChangeStatus, Order, OrderAddressChange, OrderStatus
from orders.services import order_address_change, order_allocate, orders_create
from shipping.services import parcel_pack
from tests.orders.platform_builders import NOW, channel, connect, douyin_account
from tests.platform_fakes import FakeDouyin, douyin_order
from tests.shipping.builders import (
    allocated_order,
    carrier_with_pool,
    new_order,
    staff,
    stocked_sku,
)

pytestmark = pytest.mark.django_db


def _moved(order: Order) -> OrderDraft:
    return OrderDraft(
        external_no=order.external_no,
        recipient_name="李四",
        phone="13912345678",
        province="陕西省",
        city="汉中市",
        district="留坝县",
        address_detail="朱家坪村 2 组 18 号",
        paid_at=order.paid_at,
    )


def test_an_order_not_packed_takes_the_new_address():
    order = allocated_order()

    with translation.override("en"):
        change = order_address_change(order=order, draft=_moved(order))

    order.refresh_from_db()
    assert change.status == AddressChangeStatus.APPLIED
    assert (order.city, order.district, order.address_detail) == (
        "汉中市",
        "留坝县",
        "朱家坪村 2 组 18 号",
    )
    assert change.previous_address.startswith("陕西省西安市雁塔区")
    assert order.status == OrderStatus.ALLOCATED
    assert "changed the address" in order.events.last().note


def test_a_packed_order_is_left_alone_and_flagged():
    order = allocated_order()
    parcel_pack(
        order=order, carrier=carrier_with_pool(), weight_kg=Decimal("2.8"), acting_user=staff()
    )

    change = order_address_change(order=order, draft=_moved(order))
    again = order_address_change(order=order, draft=_moved(order))

    order.refresh_from_db()
    assert change.status == AddressChangeStatus.NEEDS_ATTENTION
    assert again is None  # the same change is flagged once
    assert order.city == "西安市"
    assert change.order_status == OrderStatus.PACKED
    assert OrderAddressChange.objects.filter(order=order).count() == 1


def test_the_same_address_changes_nothing():
    order = new_order((stocked_sku(), 1))
    same = replace(
        _moved(order), city=order.city, district=order.district, address_detail=order.address_detail
    )

    assert order_address_change(order=order, draft=same) is None
    assert not OrderAddressChange.objects.exists()


@pytest.fixture
def fake():
    server = FakeDouyin().start()
    yield server
    server.stop()


def test_a_pull_updates_an_unpacked_order_and_flags_a_packed_one(fake):
    stocked_sku("QB-MT", kg="50")
    t0 = int((NOW - timedelta(hours=2)).timestamp())
    fake.orders = [
        douyin_order("6900000000000000001", update_time=t0),
        douyin_order("6900000000000000002", update_time=t0 + 1),
    ]
    connector = connect(douyin_account(fake))
    window = {"since": NOW - timedelta(hours=3), "until": NOW}
    first = connector.pull_orders(**window).orders
    waiting, packed = orders_create(channel=channel("douyin"), drafts=[o.draft for o in first])
    order_allocate(order=packed, acting_user=staff("manager"))
    parcel_pack(
        order=packed, carrier=carrier_with_pool(), weight_kg=Decimal("2.8"), acting_user=staff()
    )

    # The buyers changed their addresses on the platform.
    fake.orders = [
        douyin_order("6900000000000000001", update_time=t0 + 10, detail="火车站 1 号"),
        douyin_order("6900000000000000002", update_time=t0 + 11, detail="火车站 2 号"),
    ]
    changes = [
        order_address_change(
            order=Order.objects.get(external_no=pulled.external_no), draft=pulled.draft
        )
        for pulled in connector.pull_orders(**window).orders
    ]

    assert [change.status for change in changes] == ["applied", "attention"]
    waiting.refresh_from_db()
    packed.refresh_from_db()
    assert waiting.address_detail == "火车站 1 号"
    assert packed.address_detail == "朱家坪村3组"
