"""Ship-back (回传): the platforms' bulk-shipping files made from the handed-over parcels, one
parcel or several per order, marked reported on the parcels and their orders; re-exports;
the page, the API and the command."""

import csv
import io
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook

from core.errors import DomainError
from orders.lifecycle import PackItem
from orders.models import Channel, Order
from orders.platforms.models import PlatformAccount
from shipping.models import Parcel, ShipmentReport
from shipping.services import handover_scan, parcel_pack
from shipping.shipments import shipments_export
from tests.shipping.builders import (
    allocated_order,
    carrier_with_pool,
    reload,
    staff,
    stocked_sku,
)

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _shipped(order, *, boxes=(None,), hand_over=True) -> list[Parcel]:
    """Pack an order in one box (``boxes=(None,)``) or in several (units per box of its first
    line), hand the parcels over."""
    sf = carrier_with_pool(how_many=20) if not Parcel.objects.exists() else reload_carrier()
    line = order.lines.get()
    parcels = []
    for units in boxes:
        items = None if units is None else [PackItem(line.pk, units)]
        parcels.append(
            parcel_pack(
                order=order,
                carrier=sf,
                weight_kg=D("3"),
                acting_user=staff(),
                items=items,
                weight_reason="any weight",
            ).parcel
        )
    if hand_over:
        for parcel in parcels:
            handover_scan(tracking_number=parcel.tracking_number, acting_user=staff())
    return parcels


def reload_carrier():
    return Parcel.objects.first().carrier


def _xlsx_rows(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # a BOM: Excel opens the Chinese right
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_a_kuaishou_file_has_one_row_per_order_and_lists_the_other_parcels():
    sku = stocked_sku(kg="100")
    single = allocated_order((sku, 1))
    family = allocated_order((sku, 4))
    (one,) = _shipped(single)
    first, second = _shipped(family, boxes=(3, 1))
    kuaishou = Channel.objects.get(code="kuaishou")

    export = shipments_export(channel=kuaishou, acting_user=staff())

    rows = _xlsx_rows(export.content)
    assert rows[0] == ["订单编号", "快递公司", "快递单号"]
    assert sorted(rows[1:]) == sorted(
        [
            [single.external_no, "顺丰速运", one.tracking_number],
            [family.external_no, "顺丰速运", first.tracking_number],
        ]
    )
    assert [(r.order_no, r.tracking_number, r.parcel, r.parcels) for r in export.left_out] == [
        (family.external_no, second.tracking_number, 2, 2)
    ]
    assert export.report.parcels_count == 3 and export.report.orders_count == 2
    for parcel in (one, first, second):
        assert reload(parcel).reported_at is not None
        assert parcel.report == export.report
    assert reload(single).shipment_reported_at is not None
    assert reload(family).shipment_reported_at is not None


def test_a_douyin_file_has_a_row_per_parcel_and_a_csv_on_request():
    sku = stocked_sku(kg="100")
    order = allocated_order((sku, 4), channel="douyin")
    first, second = _shipped(order, boxes=(2, 2))

    export = shipments_export(
        channel=Channel.objects.get(code="douyin"), acting_user=staff(), fmt="csv"
    )

    assert _csv_rows(export.content) == [
        ["订单号", "快递公司", "快递单号"],
        [order.external_no, "顺丰速运", first.tracking_number],
        [order.external_no, "顺丰速运", second.tracking_number],
    ]
    assert export.left_out == []
    assert export.file_name.endswith(".csv")


def test_another_channel_gets_the_documented_csv():
    sku = stocked_sku(kg="100")
    order = allocated_order((sku, 1), channel="wechat")
    (parcel,) = _shipped(order)

    export = shipments_export(channel=Channel.objects.get(code="wechat"), acting_user=staff())

    header, row = _csv_rows(export.content)
    assert header == [
        "order_no",
        "channel",
        "carrier_code",
        "carrier_name",
        "tracking_number",
        "parcel",
        "parcels",
        "handed_over_at",
    ]
    assert row[:7] == [order.external_no, "wechat", "sf", "顺丰", parcel.tracking_number, "1", "1"]
    assert row[7].startswith(timezone.localdate().isoformat())


def test_only_orders_whose_every_parcel_left_are_reported():
    sku = stocked_sku(kg="100")
    waiting = allocated_order((sku, 2))
    first, _second = _shipped(waiting, boxes=(1, 1), hand_over=False)
    handover_scan(tracking_number=first.tracking_number, acting_user=staff())
    packed_only = allocated_order((sku, 1))
    _shipped(packed_only, hand_over=False)

    with pytest.raises(DomainError) as refused:
        shipments_export(channel=Channel.objects.get(code="kuaishou"), acting_user=staff())

    assert refused.value.code == "nothing_to_report"
    assert not ShipmentReport.objects.exists()
    assert reload(waiting).shipment_reported_at is None


def test_a_second_export_finds_nothing_new_and_a_re_export_takes_them_again():
    sku = stocked_sku(kg="100")
    order = allocated_order((sku, 1))
    (parcel,) = _shipped(order)
    kuaishou = Channel.objects.get(code="kuaishou")
    first = shipments_export(channel=kuaishou, acting_user=staff())
    reported_at = reload(order).shipment_reported_at

    with pytest.raises(DomainError):
        shipments_export(channel=kuaishou, acting_user=staff())
    again = shipments_export(channel=kuaishou, acting_user=staff(), again=True)

    assert _xlsx_rows(again.content)[1:] == _xlsx_rows(first.content)[1:]
    assert again.report.again and reload(parcel).report == again.report
    assert reload(order).shipment_reported_at == reported_at  # the first time is kept


def test_since_takes_the_parcels_handed_over_from_that_day():
    sku = stocked_sku(kg="100")
    order = allocated_order((sku, 1))
    _shipped(order)
    kuaishou = Channel.objects.get(code="kuaishou")

    with pytest.raises(DomainError):
        shipments_export(
            channel=kuaishou, acting_user=staff(), since=timezone.now() + timedelta(days=1)
        )
    export = shipments_export(
        channel=kuaishou, acting_user=staff(), since=timezone.now() - timedelta(days=1)
    )
    assert export.report.parcels_count == 1


def test_a_channels_own_carrier_name_is_used_and_can_never_run_as_a_formula():
    sku = stocked_sku(kg="100")
    order = allocated_order((sku, 1))
    _shipped(order)
    kuaishou = Channel.objects.get(code="kuaishou")
    PlatformAccount.objects.create(
        channel=kuaishou, platform="kuaishou", carrier_codes={"file:sf": '=HYPERLINK("x")'}
    )

    export = shipments_export(channel=kuaishou, acting_user=staff(), fmt="csv")

    assert _csv_rows(export.content)[1][1] == '\'=HYPERLINK("x")'


def test_the_page_exports_and_downloads_for_packers_only(client_for, make_user):
    sku = stocked_sku(kg="100")
    order = allocated_order((sku, 2))
    _first, second = _shipped(order, boxes=(1, 1))
    client = client_for("packer")
    kuaishou = Channel.objects.get(code="kuaishou")

    page = client.get("/shipping/shipments/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Waiting to be reported" in page.content.decode()
    response = client.post(
        "/shipping/shipments/", {"channel": kuaishou.pk}, HTTP_ACCEPT_LANGUAGE="en", follow=True
    )
    html = response.content.decode()
    assert "2 parcels of 1 orders are in the file" in html
    assert second.tracking_number in html  # not in a 快手 file: listed to add by hand
    report = ShipmentReport.objects.get()
    download = client.get(f"/shipping/shipments/{report.pk}/file")
    assert download.status_code == 200
    assert _xlsx_rows(b"".join(download.streaming_content))[1][0] == order.external_no
    for role in ("creator", "intake"):
        other = make_user(role)
        client.force_login(other)
        assert client.get("/shipping/shipments/").status_code == 403
        assert client.get(f"/shipping/shipments/{report.pk}/file").status_code == 403


def test_the_api_exports_lists_and_refuses_when_nothing_waits(client_for):
    sku = stocked_sku(kg="100")
    order = allocated_order((sku, 1), channel="douyin")
    _shipped(order)
    client = client_for("manager")

    made = client.post(
        "/api/shipment-reports/", {"channel": "douyin"}, content_type="application/json"
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["report"]["parcels_count"] == 1 and body["left_out"] == []
    download = client.get(body["report"]["file_url"])
    assert download.status_code == 200
    assert _xlsx_rows(b"".join(download.streaming_content))[1][0] == order.external_no
    again = client.post(
        "/api/shipment-reports/", {"channel": "douyin"}, content_type="application/json"
    )
    assert again.status_code == 409
    listed = client.get("/api/shipment-reports/").json()
    assert [row["channel"] for row in listed["results"]] == ["douyin"]
    assert client.get(f"/api/orders/{order.pk}/").json()["shipment_reported_at"]


def test_the_command_writes_the_file(tmp_path):
    sku = stocked_sku(kg="100")
    order = allocated_order((sku, 1))
    _shipped(order)
    out = StringIO()

    call_command(
        "export_shipments", "--channel", "kuaishou", "--out", tmp_path / "ks.xlsx", stdout=out
    )

    assert _xlsx_rows((tmp_path / "ks.xlsx").read_bytes())[1][0] == order.external_no
    assert "1 parcels of 1 orders" in out.getvalue()
    assert Order.objects.get(pk=order.pk).shipment_reported_at is not None
