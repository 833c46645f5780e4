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
from shipping.models import HandoverBatch, Parcel, ParcelStatus, TrackingEvent
from shipping.services import handover_batch_start, handover_scan, parcel_pack
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


def start(client, code: str = "sf", courier: str = ""):
    """Start a handover batch; the client remembers its code (``client.handover``)."""
    response = client.post(
        reverse("shipping:handover"), {"carrier": carrier(code).pk, "courier_name": courier}
    )
    assert response.status_code == 302, response.content[:300]
    client.handover = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    return response


def scan(client, number: str):
    return client.post(
        reverse("shipping:handover_scan", args=[client.handover]),
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
    assert f"{parcel.tracking_number} shipped: 1 in batch {client.handover}." in html
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


def test_a_second_scan_says_plainly_which_batch_holds_the_parcel(client_for):
    (parcel,) = packed_parcels(1)
    client = client_for("packer")
    start(client)
    scan(client, parcel.tracking_number)

    response = scan(client, parcel.tracking_number)

    html = response.content.decode()
    assert f"{parcel.tracking_number} already handed over: batch {client.handover} (顺丰" in html
    assert "Shipped to Shipped" not in html
    assert parcel.events.filter(status=ParcelStatus.SHIPPED).count() == 1
    assert '<span class="scan-count">1</span>' in html


def test_a_second_scan_in_chinese_names_the_batch(client_for):
    (parcel,) = packed_parcels(1)
    client = client_for("packer")
    start(client)
    scan(client, parcel.tracking_number)

    response = client.post(
        reverse("shipping:handover_scan", args=[client.handover]),
        {"tracking_number": parcel.tracking_number},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert f"已交接：批次 {client.handover}" in response.content.decode()


def test_a_parcel_shipped_outside_any_batch_says_where_it_is(client_for):
    (parcel,) = packed_parcels(1)
    handover_scan(tracking_number=parcel.tracking_number, acting_user=staff())
    client = client_for("packer")
    start(client)

    response = scan(client, parcel.tracking_number)

    assert "has already left the studio: it is Shipped." in response.content.decode()


def test_a_batch_started_by_one_packer_is_carried_on_by_another(client, make_user):
    parcels = packed_parcels(3)
    first = make_user("packer", username="xiaoli", first_name="小李")
    second = make_user("packer", username="xiaowang", first_name="小王")
    client.force_login(first)
    start(client, courier="刘师傅")
    code = client.handover
    scan(client, parcels[0].tracking_number)
    client.logout()

    client.force_login(second)
    listing = client.get(reverse("shipping:handover"), HTTP_ACCEPT_LANGUAGE="en")
    assert reverse("shipping:handover_batch", args=[code]) in listing.content.decode()
    client.handover = code
    for parcel in parcels[1:]:
        scan(client, parcel.tracking_number)
    client.post(reverse("shipping:handover_finish", args=[code]))

    batch = HandoverBatch.objects.get(code=code)
    assert batch.started_by == first and batch.closed_by == second
    assert batch.courier_name == "刘师傅"
    scanned_by = list(batch.scans.order_by("id").values_list("scanned_by", flat=True))
    assert scanned_by == [first.pk, second.pk, second.pk]
    text = "\n".join(
        page_texts(client.get(reverse("shipping:handover_manifest", args=[code])).content)
    )
    assert all(parcel.tracking_number in text for parcel in parcels)
    assert code in text and "刘师傅" in text
    # a closed batch takes no more scans
    (late,) = packed_parcels(1)
    response = scan(client, late.tracking_number)
    assert f"Handover {code} is closed" in response.content.decode() or (
        'name="tracking_number"' not in response.content.decode()
    )
    assert reload(late).status == ParcelStatus.PACKED


def test_the_carrier_defaults_to_one_with_parcels_waiting(client_for):
    carrier("sf")
    packed_parcels(2, "zto", numbers=["750000000000101", "750000000000102"])

    response = client_for("packer").get(reverse("shipping:handover"))

    form = response.context["carrier_form"]
    assert form["carrier"].value() == carrier("zto").pk
    assert "中通 · 2" in response.content.decode()


def test_the_manifest_lists_every_parcel_of_this_handover(client_for):
    parcels = packed_parcels(4)
    client = client_for("manager")
    start(client)
    for parcel in parcels[:3]:
        scan(client, parcel.tracking_number)

    response = client.get(reverse("shipping:handover_manifest", args=[client.handover]))

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

    texts = page_texts(
        client.get(reverse("shipping:handover_manifest", args=[client.handover])).content
    )

    assert len(texts) >= 2
    joined = "\n".join(texts)
    assert all(parcel.tracking_number in joined for parcel in parcels)


def test_without_scans_there_is_no_manifest(client_for):
    client = client_for("packer")
    start(client)

    response = client.get(reverse("shipping:handover_manifest", args=[client.handover]))

    assert response.status_code == 302


def test_a_closed_handover_takes_no_scans_and_parcels_stay_shipped(client_for):
    (parcel,) = packed_parcels(1)
    client = client_for("packer")
    start(client)
    scan(client, parcel.tracking_number)

    client.post(reverse("shipping:handover_finish", args=[client.handover]))

    html = client.get(reverse("shipping:handover_batch", args=[client.handover])).content.decode()
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
        batch = handover_batch_start(carrier=carrier("sf"), acting_user=staff())
        for name in ("shipping:handover_batch", "shipping:handover_manifest"):
            assert client.get(reverse(name, args=[batch.code])).status_code == 403
        started = client.post(reverse("shipping:handover"), {"carrier": carrier("sf").pk})
        assert started.status_code == 403
        assert (
            client.post(reverse("shipping:handover_finish", args=[batch.code])).status_code == 403
        )
        response = client.post(
            reverse("shipping:handover_scan", args=[batch.code]),
            {"tracking_number": parcel.tracking_number},
        )
        assert response.status_code == 403
        assert reload(parcel).status == ParcelStatus.PACKED


# --- handover batches over the API -----------------------------------------------------------


def test_the_api_starts_scans_closes_and_prints_a_batch(client_for):
    parcels = packed_parcels(2)
    client = client_for("packer")

    started = client.post(
        "/api/handovers/",
        {"carrier": "sf", "courier_name": "刘师傅"},
        content_type="application/json",
    )
    code = started.json()["code"]
    scanned = client.post(
        f"/api/handovers/{code}/scan/",
        {"tracking_numbers": [p.tracking_number for p in parcels] + [parcels[0].tracking_number]},
        content_type="application/json",
    )
    listed = client.get("/api/handovers/", {"open": "true"}).json()["results"]
    closed = client.post(f"/api/handovers/{code}/close/")
    manifest = client.get(f"/api/handovers/{code}/manifest/")
    late = client.post(
        f"/api/handovers/{code}/scan/",
        {"tracking_numbers": [packed_parcels(1)[0].tracking_number]},
        content_type="application/json",
    )

    assert started.status_code == 201 and code.startswith("H")
    results = scanned.json()["results"]
    assert [r["result"] for r in results] == ["shipped", "shipped", "refused"]
    assert results[2]["code"] == "already_handed_over" and code in results[2]["detail"]
    assert [(b["code"], b["parcel_count"]) for b in listed] == [(code, 2)]
    assert closed.json()["is_open"] is False
    assert manifest["Content-Type"] == "application/pdf"
    assert all(p.tracking_number in "\n".join(page_texts(manifest.content)) for p in parcels)
    assert late.json()["results"][0]["code"] == "closed"


def test_creators_cannot_use_the_handover_api(client_for):
    client = client_for("creator")
    assert client.get("/api/handovers/").status_code == 403
    assert client.post("/api/handovers/", {"carrier": "sf"}).status_code == 403
