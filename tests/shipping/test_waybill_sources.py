"""Waybill numbers from a carrier's source: the studio's pools, or the 抖店 electronic
waybill service (a local stand-in that checks signatures)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import DomainError
from orders.drafts import LineDraft, OrderDraft
from orders.models import CircuitBreaker, PlatformCall
from orders.platforms.errors import CircuitOpen, PlatformUnavailable
from orders.services import order_allocate, orders_create
from shipping.labels.data import label_data
from shipping.models import Parcel, WaybillNumber
from shipping.services import parcel_pack
from shipping.waybills.douyin import DouyinWaybillSource
from shipping.waybills.models import IssuedWaybill, WaybillSource
from shipping.waybills.pool import PoolSource
from shipping.waybills.services import source_for, waybill_cancel, waybill_issue
from tests.orders.platform_builders import Clock, channel, douyin_account
from tests.platform_fakes import FakeDouyin
from tests.shipping.builders import (
    ADDRESS,
    allocated_order,
    carrier,
    carrier_with_pool,
    new_order,
    staff,
    stocked_sku,
)

pytestmark = pytest.mark.django_db


def test_a_carrier_without_a_source_takes_from_its_pools():
    sf = carrier_with_pool("sf", how_many=2)
    order = new_order((stocked_sku(), 1))

    issued = waybill_issue(carrier=sf, order=order)

    assert isinstance(source_for(sf), PoolSource)
    assert issued.number == "SF000000000001"
    assert (issued.sorting_code, issued.privacy, issued.kind) == ("", False, "pool")
    assert WaybillNumber.objects.get(number="SF000000000001").taken_at is not None


def test_cancelling_a_pool_number_puts_it_back():
    sf = carrier_with_pool("sf", how_many=1)
    order = new_order((stocked_sku(), 1))
    issued = waybill_issue(carrier=sf, order=order)

    waybill_cancel(carrier=sf, number=issued.number)

    assert WaybillNumber.objects.get(number=issued.number).taken_at is None
    assert IssuedWaybill.objects.get(pk=issued.pk).cancelled_at is not None
    assert waybill_issue(carrier=sf, order=order).number == issued.number


def test_a_pool_number_on_a_parcel_is_not_put_back():
    sf = carrier_with_pool("sf", how_many=2)
    order = allocated_order()
    parcel = parcel_pack(
        order=order, carrier=sf, weight_kg=Decimal("2.8"), acting_user=staff()
    ).parcel

    with pytest.raises(DomainError):
        waybill_cancel(carrier=sf, number=parcel.tracking_number)


@pytest.fixture
def fake():
    server = FakeDouyin().start()
    yield server
    server.stop()


@pytest.fixture
def zto_from_douyin(fake):
    zto = carrier("zto")
    WaybillSource.objects.create(carrier=zto, kind="douyin", account=douyin_account(fake))
    return zto


def _douyin_order(number="6900000000000000001"):
    sku = stocked_sku("QB-MT", kg="50")
    draft = OrderDraft(
        external_no=number,
        paid_at=timezone.now() - timedelta(hours=1),
        lines=[LineDraft(sku=sku, quantity=1, unit_price=sku.price)],
        **ADDRESS,
    )
    (order,) = orders_create(channel=channel("douyin"), drafts=[draft])
    return order


def test_the_service_gives_a_number_a_sorting_code_and_a_privacy_label(fake, zto_from_douyin):
    order = _douyin_order()

    issued = waybill_issue(carrier=zto_from_douyin, order=order)

    assert isinstance(source_for(zto_from_douyin), DouyinWaybillSource)
    assert issued.number == "75000000000001"
    assert issued.sorting_code == "351-W12 08"
    assert issued.short_address == "陕西汉中"
    assert issued.package_center == "西安转运中心"
    assert issued.privacy is True
    ((method, params, signed),) = fake.calls
    assert method == "logistics.newCreateOrder" and signed
    assert params["logistics_code"] == "zhongtong"
    assert params["sender_info"]["address"]["province_name"] == "山东省"  # STUDIO_ADDRESS
    assert params["order_infos"][0]["order_id"] == order.external_no
    assert PlatformCall.objects.get().purpose == "waybill zto"


def test_the_label_prints_what_the_service_returned(fake, zto_from_douyin):
    order = _douyin_order()
    order_allocate(order=order, acting_user=staff("manager"))
    issued = waybill_issue(carrier=zto_from_douyin, order=order)
    parcel = parcel_pack(
        order=order,
        carrier=zto_from_douyin,
        weight_kg=Decimal("2.8"),
        acting_user=staff(),
        tracking_number=issued.number,
        sorting_code=issued.sorting_code,
    ).parcel

    label = label_data(Parcel.objects.get(pk=parcel.pk), mask=issued.privacy)

    assert label.tracking_number == "75000000000001"
    assert label.sorting_code == "351-W12 08"
    assert label.recipient_phone == "139****5678"


def test_a_second_parcel_of_an_order_gets_its_own_pack_id(fake, zto_from_douyin):
    order = _douyin_order()

    waybill_issue(carrier=zto_from_douyin, order=order)
    second = waybill_issue(carrier=zto_from_douyin, order=order, pack_index=2)

    assert second.number == "75000000000002"
    assert fake.calls[1][1]["order_infos"][0]["pack_id"] == f"{order.external_no}_2"
    assert "pack_id" not in fake.calls[0][1]["order_infos"][0]


def test_another_platforms_order_needs_an_order_channel_code(fake, zto_from_douyin):
    kuaishou_order = new_order((stocked_sku(), 1))

    with pytest.raises(DomainError):
        waybill_issue(carrier=zto_from_douyin, order=kuaishou_order)
    assert fake.calls == []

    WaybillSource.objects.filter(carrier=zto_from_douyin).update(other_order_channel="2")
    issued = waybill_issue(carrier=zto_from_douyin, order=kuaishou_order)
    assert issued.privacy is False
    assert fake.calls[0][1]["order_channel"] == "2"


def test_a_number_is_cancelled_once_at_the_service(fake, zto_from_douyin):
    issued = waybill_issue(carrier=zto_from_douyin, order=_douyin_order())

    waybill_cancel(carrier=zto_from_douyin, number=issued.number)
    waybill_cancel(carrier=zto_from_douyin, number=issued.number)

    assert fake.cancelled == ["75000000000001"]
    assert fake.methods().count("logistics.cancelOrder") == 1
    assert IssuedWaybill.objects.get(pk=issued.pk).cancelled_at is not None


def test_a_service_that_is_down_opens_the_carriers_breaker(fake, zto_from_douyin, settings):
    settings.PLATFORM_BREAKER_THRESHOLD = 2
    fake.down_for = 10
    order = _douyin_order()
    config = WaybillSource.objects.get(carrier=zto_from_douyin)
    source = DouyinWaybillSource(zto_from_douyin, config, sleep=lambda s: None, now=Clock())

    with pytest.raises(PlatformUnavailable):
        waybill_issue(carrier=zto_from_douyin, order=order, source=source)
    with pytest.raises(CircuitOpen):
        waybill_issue(carrier=zto_from_douyin, order=order, source=source)

    assert len(fake.calls) == 2
    assert CircuitBreaker.objects.get(key="waybill:zto").state == "open"
    assert not IssuedWaybill.objects.exists()


def test_the_pack_api_asks_the_service_only_for_a_box_of_the_right_weight(
    fake, zto_from_douyin, client_for
):
    # given an allocated 抖店 order whose carrier takes its numbers from the 抖店 service
    order = _douyin_order()
    order_allocate(order=order, acting_user=staff("manager"))
    client = client_for("packer")
    body = {"order": str(order.pk), "carrier": "zto"}

    # when the scale reads a box far too light, the service is not asked for a number
    light = client.post(
        "/api/parcels/pack/", {**body, "weight_kg": "0.500"}, content_type="application/json"
    )
    assert light.status_code == 400, light.content
    assert "2.600–3.000" in str(light.json()["weight_kg"])  # the band, in either language
    assert fake.calls == [] and not IssuedWaybill.objects.exists()

    # then at the right weight the parcel carries the service's number and sorting code
    packed = client.post(
        "/api/parcels/pack/", {**body, "weight_kg": "2.800"}, content_type="application/json"
    )
    assert packed.status_code == 201, packed.content
    parcel = Parcel.objects.get()
    assert (parcel.tracking_number, parcel.sorting_code) == ("75000000000001", "351-W12 08")
    assert [method for method, _params, _signed in fake.calls] == ["logistics.newCreateOrder"]
