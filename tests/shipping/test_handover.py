"""Handover to the carrier's pickup (scan → shipped, and the manifest) and tracking updates
from a carrier's file."""

import io
from decimal import Decimal
from itertools import count

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from orders.models import OrderStatus
from shipping.models import Parcel, ParcelStatus, TrackingEvent
from shipping.services import handover_scan, parcel_pack
from tests.pdf_tools import page_texts
from tests.shipping.builders import (
    allocated_order,
    carrier,
    reload,
    staff,
    stocked_sku,
)

pytestmark = pytest.mark.django_db
D = Decimal


_next_number = count(1)


def packed_parcels(how_many: int, code: str = "sf", numbers: list[str] | None = None):
    """Packed parcels with scanned tracking numbers (顺丰-shaped unless given)."""
    sku = stocked_sku(kg=str(3 * how_many))
    numbers = numbers or [f"SF{next(_next_number):012d}" for _ in range(how_many)]
    return [
        parcel_pack(
            order=allocated_order((sku, 1)),
            carrier=carrier(code),
            weight_kg=D("2.8"),
            acting_user=staff(),
            tracking_number=number,
        ).parcel
        for number in numbers
    ]


def start(client, code: str = "sf"):
    return client.post(reverse("shipping:handover"), {"carrier": carrier(code).pk})


def scan(client, number: str):
    return client.post(
        reverse("shipping:handover_scan"),
        {"tracking_number": number},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )


# --- handover --------------------------------------------------------------------------------


def test_first_the_carrier_is_chosen(client_for):
    html = client_for("packer").get(reverse("shipping:handover")).content.decode()

    assert 'name="carrier"' in html
    assert 'name="tracking_number"' not in html


def test_scanning_ships_the_parcel_and_its_order(client_for):
    (parcel,) = packed_parcels(1)
    client = client_for("packer")
    start(client)

    response = scan(client, f"  {parcel.tracking_number} ")

    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.SHIPPED
    assert reload(parcel.order).status == OrderStatus.SHIPPED
    event = parcel.events.get(status=ParcelStatus.SHIPPED)
    assert (event.source, event.acting_user) == (TrackingEvent.Source.SCAN, client.user)
    html = response.content.decode()
    assert f"{parcel.tracking_number} shipped (1 in this handover)" in html
    assert "autofocus" in html and 'value="' + parcel.tracking_number not in html


def test_the_running_list_counts_this_handovers_scans(client_for):
    parcels = packed_parcels(3)
    client = client_for("packer")
    start(client)

    for parcel in parcels[:2]:
        response = scan(client, parcel.tracking_number)

    html = response.content.decode()
    assert '<span class="scan-count">2</span>' in html
    assert parcels[0].tracking_number in html and parcels[1].tracking_number in html
    assert parcels[2].tracking_number not in html


def test_an_unknown_number_is_an_error_and_changes_nothing(client_for):
    (parcel,) = packed_parcels(1)
    client = client_for("packer")
    start(client)

    response = scan(client, "SF999999999999")

    assert "No parcel has tracking number SF999999999999" in response.content.decode()
    assert reload(parcel).status == ParcelStatus.PACKED
    assert '<span class="scan-count">0</span>' in response.content.decode()


def test_another_carriers_parcel_is_refused_by_name(client_for):
    (parcel,) = packed_parcels(1, "zto", numbers=["750000000000001"])
    client = client_for("packer")
    start(client, "sf")

    response = scan(client, parcel.tracking_number)

    assert "is a 中通 parcel, not 顺丰" in response.content.decode()
    assert reload(parcel).status == ParcelStatus.PACKED


def test_a_second_scan_of_the_same_parcel_only_warns(client_for):
    (parcel,) = packed_parcels(1)
    client = client_for("packer")
    start(client)
    scan(client, parcel.tracking_number)

    response = scan(client, parcel.tracking_number)

    assert "already in this handover" in response.content.decode()
    assert parcel.events.filter(status=ParcelStatus.SHIPPED).count() == 1


def test_a_parcel_shipped_in_an_earlier_handover_is_an_error(client_for):
    (parcel,) = packed_parcels(1)
    handover_scan(tracking_number=parcel.tracking_number, acting_user=staff())
    client = client_for("packer")
    start(client)

    response = scan(client, parcel.tracking_number)

    assert "cannot go from Shipped to Shipped" in response.content.decode()


def test_the_manifest_lists_every_parcel_of_this_handover(client_for):
    parcels = packed_parcels(4)
    client = client_for("manager")
    start(client)
    for parcel in parcels[:3]:
        scan(client, parcel.tracking_number)

    response = client.get(reverse("shipping:handover_manifest"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(page_texts(response.content))
    for parcel in parcels[:3]:
        assert parcel.tracking_number in text
        assert parcel.order.external_no in text
    assert parcels[3].tracking_number not in text
    assert "顺丰" in text


def test_a_long_manifest_flows_onto_more_pages(client_for):
    parcels = packed_parcels(50)
    client = client_for("packer")
    start(client)
    for parcel in parcels:
        scan(client, parcel.tracking_number)

    texts = page_texts(client.get(reverse("shipping:handover_manifest")).content)

    assert len(texts) >= 2
    joined = "\n".join(texts)
    assert all(parcel.tracking_number in joined for parcel in parcels)


def test_without_scans_there_is_no_manifest(client_for):
    client = client_for("packer")
    start(client)

    response = client.get(reverse("shipping:handover_manifest"))

    assert response.status_code == 302


def test_a_new_handover_starts_empty_and_parcels_stay_shipped(client_for):
    (parcel,) = packed_parcels(1)
    client = client_for("packer")
    start(client)
    scan(client, parcel.tracking_number)

    client.post(reverse("shipping:handover_finish"))

    html = client.get(reverse("shipping:handover")).content.decode()
    assert 'name="tracking_number"' not in html
    assert reload(parcel).status == ParcelStatus.SHIPPED


# --- tracking file ---------------------------------------------------------------------------


def csv_file(rows: list[list[str]], header=("运单号", "状态", "时间")) -> SimpleUploadedFile:
    lines = [",".join(header), *(",".join(row) for row in rows)]
    return SimpleUploadedFile("track.csv", "\n".join(lines).encode("gb18030"), "text/csv")


def upload(client, file, **fields):
    return client.post(
        reverse("shipping:tracking_upload"), {"file": file, **fields}, HTTP_ACCEPT_LANGUAGE="en"
    )


def shipped_parcels(how_many: int) -> list[Parcel]:
    parcels = packed_parcels(how_many)
    for parcel in parcels:
        handover_scan(tracking_number=parcel.tracking_number, acting_user=staff())
    return [reload(parcel) for parcel in parcels]


def test_a_tracking_file_delivers_and_flags_parcels_with_per_row_errors(client_for):
    delivered, troubled, unsent = shipped_parcels(2) + packed_parcels(1)
    rows = [
        [delivered.tracking_number, "已签收", "2026-11-20 14:30"],
        [troubled.tracking_number, "异常", "2026/11/20 09:05:00"],
        ["SF000000009999", "delivered", "2026-11-20 10:00"],
        [unsent.tracking_number, "delivered", "2026-11-20 10:00"],
        [delivered.tracking_number, "lost in space", "2026-11-20 10:00"],
        [delivered.tracking_number, "delivered", "yesterday"],
    ]

    response = upload(client_for("packer"), csv_file(rows))

    html = response.content.decode()
    assert response.status_code == 200
    assert reload(delivered).status == ParcelStatus.DELIVERED
    assert reload(delivered.order).status == OrderStatus.DELIVERED
    assert reload(troubled).status == ParcelStatus.EXCEPTION
    assert reload(unsent).status == ParcelStatus.PACKED
    results = response.context["results"]
    assert [(r.row, r.outcome) for r in results] == [
        (2, "updated"),
        (3, "updated"),
        (4, "error"),
        (5, "error"),
        (6, "error"),
        (7, "error"),
    ]
    assert "No parcel has tracking number SF000000009999" in results[2].message
    assert "cannot go from Packed to Delivered" in results[3].message
    assert "Unknown status" in results[4].message
    assert "is not a date and time" in results[5].message
    assert "2 updated" in html and "4 errors" in html
    event = delivered.events.get(status=ParcelStatus.DELIVERED)
    assert event.source == TrackingEvent.Source.FILE
    assert event.occurred_at.isoformat() == "2026-11-20T06:30:00+00:00"  # Asia/Shanghai


def test_the_same_file_twice_changes_nothing(client_for):
    (parcel,) = shipped_parcels(1)
    rows = [[parcel.tracking_number, "运输中", "2026-11-20 08:00"],
            [parcel.tracking_number, "delivered", "2026-11-21 08:00"]]  # fmt: skip
    client = client_for("manager")
    upload(client, csv_file(rows))
    events = parcel.events.count()

    again = upload(client, csv_file(rows))

    assert [r.outcome for r in again.context["results"]] == ["unchanged", "unchanged"]
    assert parcel.events.count() == events
    assert reload(parcel).status == ParcelStatus.DELIVERED


def test_an_xlsx_file_with_english_headers_and_real_dates(client_for):
    from datetime import datetime

    (parcel,) = shipped_parcels(1)
    book = Workbook()
    sheet = book.active
    sheet.append(["Tracking number", "Status", "Time", "Description"])
    sheet.append([parcel.tracking_number, "Exception", datetime(2026, 11, 20, 9, 0), "地址不详"])
    buffer = io.BytesIO()
    book.save(buffer)
    file = SimpleUploadedFile("track.xlsx", buffer.getvalue())

    response = upload(client_for("packer"), file)

    assert [r.outcome for r in response.context["results"]] == ["updated"]
    event = reload(parcel).events.get(status=ParcelStatus.EXCEPTION)
    assert event.description == "地址不详"


def test_a_file_without_the_needed_columns_is_refused(client_for):
    response = upload(client_for("packer"), csv_file([["x", "y"]], header=("单号", "备注")))

    assert response.status_code == 400
    assert "missing: status, time" in response.content.decode()


# --- roles -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "allowed"), [("packer", True), ("manager", True),
                                               ("creator", False), ("intake", False)])  # fmt: skip
def test_handover_and_tracking_pages_are_for_packers_and_managers(client_for, role, allowed):
    (parcel,) = packed_parcels(1)
    client = client_for(role)
    expected = 200 if allowed else 403

    for name in ("shipping:handover", "shipping:tracking_upload"):
        assert client.get(reverse(name)).status_code == expected, name
    if not allowed:
        assert client.get(reverse("shipping:handover_manifest")).status_code == 403
        assert start(client).status_code == 403
        assert client.post(reverse("shipping:handover_finish")).status_code == 403
        response = client.post(
            reverse("shipping:handover_scan"), {"tracking_number": parcel.tracking_number}
        )
        assert response.status_code == 403
        assert reload(parcel).status == ParcelStatus.PACKED
