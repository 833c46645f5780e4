"""Shipping's side of the platform sync and the waybill service at packing, against the local
抖店 stand-in (127.0.0.1, ports 19600–19699): a multi-parcel order pushed once it has been
handed over whole and marked reported; a number, a sorting code and a privacy label taken
at packing; the number cancelled when the pack fails or the parcel is voided."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from core.errors import DomainError
from orders.drafts import LineDraft, OrderDraft
from orders.lifecycle import PackItem
from orders.models import PlatformCall, SyncState
from orders.platforms.sync import platform_sync
from orders.services import order_allocate, orders_create
from shipping.labels import label_data, render_labels
from shipping.models import Carrier, Parcel, ShipmentReport
from shipping.services import handover_scan, parcel_pack
from shipping.shipments import shipments_export
from shipping.waybills.models import IssuedWaybill, WaybillSource
from shipping.waybills.services import waybill_void_on_commit
from tests.orders.platform_builders import NOW, channel, connect, douyin_account, kuaishou_account
from tests.pdf_tools import page_texts
from tests.platform_fakes import FakeDouyin, FakeKuaishou, douyin_order
from tests.shipping.builders import (
    ADDRESS,
    carrier,
    carrier_with_pool,
    new_order,
    staff,
    stocked_sku,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The runs' summaries are read in English here."""
    with translation.override("en"):
        yield


PORTS = range(19600, 19700)
NUMBER = "6900000000000000002"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def fake():
    server = FakeDouyin().start(ports=PORTS)
    yield server
    server.stop()


def _douyin_order(number=NUMBER, quantity=2):
    sku = stocked_sku("QB-MT", kg="50")
    draft = OrderDraft(
        external_no=number,
        paid_at=timezone.now() - timedelta(hours=1),
        lines=[LineDraft(sku=sku, quantity=quantity, unit_price=sku.price)],
        **ADDRESS,
    )
    (order,) = orders_create(channel=channel("douyin"), drafts=[draft])
    assert order_allocate(order=order, acting_user=staff("manager"))
    return order


def _pack_in_boxes(order, sf, boxes):
    line = order.lines.get()
    return [
        parcel_pack(
            order=order,
            carrier=sf,
            weight_kg=Decimal("2.8"),
            acting_user=staff(),
            items=[PackItem(line.pk, units)],
        ).parcel
        for units in boxes
    ]


def _sync(account):
    return platform_sync(account.channel, connector=connect(account), now=NOW)


def test_a_multi_parcel_order_is_pushed_once_handed_over_whole_and_marked_reported(fake):
    fake.orders = [douyin_order(NUMBER, quantity=2, update_time=int(NOW.timestamp()) + 3600)]
    account = douyin_account(fake)
    order = _douyin_order()
    first, second = _pack_in_boxes(order, carrier_with_pool(how_many=5), [1, 1])

    handover_scan(tracking_number=first.tracking_number, acting_user=staff())
    _sync(account)
    assert "order.logisticsAddMultiPack" not in fake.methods()  # one box is still here

    handover_scan(tracking_number=second.tracking_number, acting_user=staff())
    outcome = _sync(account)

    (pushed,) = fake.shipped
    assert pushed["order_id"] == NUMBER
    assert [pack["logistics_code"] for pack in pushed["packs"]] == [
        first.tracking_number,
        second.tracking_number,
    ]
    assert [pack["shipped_order_info"][0]["shipped_num"] for pack in pushed["packs"]] == [1, 1]
    order.refresh_from_db()
    assert order.shipment_reported_at is not None
    assert set(Parcel.objects.values_list("reported_at", flat=True)) != {None}
    assert ShipmentReport.objects.get().method == ShipmentReport.Method.API
    assert outcome["shipments"].startswith("1 ")
    state = SyncState.objects.get(channel=account.channel, stream="shipments")
    assert state.last_success_at is not None

    # Pushed once: neither the next run nor a ship-back file reports it again.
    _sync(account)
    assert len(fake.shipped) == 1
    with pytest.raises(DomainError):
        shipments_export(channel=account.channel, acting_user=staff("manager"))


def test_a_refused_push_is_noted_and_the_order_stays_unreported(fake):
    account = douyin_account(fake)
    order = _douyin_order(quantity=1)
    mule = Carrier.objects.create(code="mule", name="骡子快运")  # 抖店 has no code for it
    parcel = parcel_pack(
        order=order,
        carrier=mule,
        weight_kg=Decimal("2.8"),
        acting_user=staff(),
        tracking_number="MULE00000001",
    ).parcel
    handover_scan(tracking_number=parcel.tracking_number, acting_user=staff())

    outcome = _sync(account)

    assert fake.shipped == []
    order.refresh_from_db()
    assert order.shipment_reported_at is None
    assert NUMBER in outcome["shipments"]


@pytest.fixture
def zto_from_douyin(fake):
    zto = carrier("zto")
    WaybillSource.objects.create(carrier=zto, kind="douyin", account=douyin_account(fake))
    return zto


def test_packing_takes_the_number_sorting_code_and_privacy_label_from_the_service(
    fake, zto_from_douyin
):
    order = _douyin_order(quantity=1)

    parcel = parcel_pack(
        order=order, carrier=zto_from_douyin, weight_kg=Decimal("2.8"), acting_user=staff()
    ).parcel

    parcel = Parcel.objects.select_related("order", "carrier").get(pk=parcel.pk)
    assert parcel.tracking_number == "75000000000001"
    assert parcel.sorting_code == "351-W12 08"
    assert fake.methods() == ["logistics.newCreateOrder"]
    label = label_data(parcel)
    assert label.masked is True  # the service's privacy label
    assert label.recipient_phone == "139****5678"
    (text,) = page_texts(render_labels([label]))
    assert "75000000000001" in text and "351-W12 08" in text
    assert "13912345678" not in text
    assert PlatformCall.objects.get().purpose == "waybill zto"


def test_the_second_box_of_an_order_asks_for_its_own_pack(fake, zto_from_douyin):
    order = _douyin_order(quantity=2)
    line = order.lines.get()

    for _box in (1, 2):
        parcel_pack(
            order=order,
            carrier=zto_from_douyin,
            weight_kg=Decimal("2.8"),
            acting_user=staff(),
            items=[PackItem(line.pk, 1)],
        )

    first, second = (params["order_infos"][0] for _m, params, _s in fake.calls)
    assert "pack_id" not in first and second["pack_id"] == f"{NUMBER}_2"


def test_a_pack_that_fails_cancels_the_number_it_took(fake, zto_from_douyin):
    order = _douyin_order(quantity=1)
    parcel_pack(order=order, carrier=zto_from_douyin, weight_kg=Decimal("2.8"), acting_user=staff())

    with pytest.raises(DomainError):
        parcel_pack(
            order=order, carrier=zto_from_douyin, weight_kg=Decimal("2.8"), acting_user=staff()
        )

    assert fake.cancelled == ["75000000000002"]
    assert Parcel.objects.count() == 1


def test_a_voided_parcels_number_is_cancelled_after_commit(
    fake, zto_from_douyin, django_capture_on_commit_callbacks
):
    order = _douyin_order(quantity=1)
    parcel = parcel_pack(
        order=order, carrier=zto_from_douyin, weight_kg=Decimal("2.8"), acting_user=staff()
    ).parcel

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        waybill_void_on_commit(carrier=zto_from_douyin, number=parcel.tracking_number)
        assert fake.cancelled == []  # nothing is sent while the transaction is open

    assert len(callbacks) == 1
    assert fake.cancelled == [parcel.tracking_number]
    assert IssuedWaybill.objects.get(number=parcel.tracking_number).cancelled_at is not None


def test_a_pool_number_is_not_cancelled_when_voided(django_capture_on_commit_callbacks):
    sf = carrier_with_pool(how_many=2)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        waybill_void_on_commit(carrier=sf, number="SF000000000001")

    assert callbacks == []


def test_a_kuaishou_order_in_two_parcels_is_delivered_then_appended():
    fake = FakeKuaishou().start(ports=PORTS)
    try:
        account = kuaishou_account(fake)
        order = new_order((stocked_sku("QB-MT", kg="50"), 2), number="2400000000000000077")
        assert order_allocate(order=order, acting_user=staff("manager"))
        parcels = _pack_in_boxes(order, carrier_with_pool(how_many=5), [1, 1])
        for parcel in parcels:
            handover_scan(tracking_number=parcel.tracking_number, acting_user=staff())

        _sync(account)

        assert fake.methods().count("open.seller.order.goods.deliver") == 1
        assert fake.methods().count("open.seller.order.goods.logistics.append") == 1
        assert [d["expressNo"] for d in fake.delivered] == [p.tracking_number for p in parcels]
        assert {d["expressCode"] for d in fake.delivered} == {4}  # 顺丰's expressCode
        order.refresh_from_db()
        assert order.shipment_reported_at is not None
    finally:
        fake.stop()
