"""No list page or endpoint returns an unbounded number of rows (a 20,000-order morning is
not one 20,000-row page), the counts beside a list are right, and a page and its endpoint
filter the same way."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import resolve, reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from inventory.services import lot_write_off
from orders.models import Order
from shipping.models import ParcelStatus, TrackingEvent
from shipping.services import parcel_pack, parcel_transition, wave_create
from tests.factories import FarmerFactory, LocationFactory, ProductFactory, receive
from tests.shipping.builders import allocated_order, carrier, staff, stocked_sku

pytestmark = pytest.mark.django_db

# Lists that may answer without pages, and why.
UNPAGINATED = {
    # One row per carrier (master data, a handful): free and taken waybill numbers.
    "api:waybill-pools-list",
}
MAX_PAGE_SIZE = 100


def _api_lists() -> dict[str, str]:
    """URL name -> "paginated" or "array", for every GET operation of the API schema that
    answers a list."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = {}
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if not get:
            continue
        body = get["responses"].get("200", {}).get("content", {}).get("application/json", {})
        shape = body.get("schema", {})
        if shape.get("type") == "array":
            kind = "array"
        elif shape.get("$ref", "").split("/")[-1].startswith("Paginated"):
            kind = "paginated"
        else:
            continue
        found[resolve(re.sub(r"\{[^}]+\}", "1", path)).view_name] = kind
    return found


def _view(url_name: str, **kwargs):
    callback = resolve(reverse(url_name, kwargs=kwargs)).func
    return callback.cls(**callback.initkwargs)


def test_every_api_list_answers_a_page_at_a_time():
    lists = _api_lists()

    assert {"api:orders-list", "api:parcels-list", "api:lots-movements"} <= set(lists)
    unpaginated = {name for name, kind in lists.items() if kind == "array"}
    assert unpaginated == UNPAGINATED
    for name, kind in lists.items():
        if kind != "paginated":
            continue
        kwargs = {"code": "L1"} if name == "api:lots-movements" else {}
        kwargs |= {"pk": 1} if name == "api:imports-errors" else {}
        paginator = _view(name, **kwargs).paginator
        assert paginator is not None, name
        assert paginator.page_size <= MAX_PAGE_SIZE, name
        if getattr(paginator, "page_size_query_param", None):
            assert paginator.max_page_size <= MAX_PAGE_SIZE, name


def test_every_api_list_has_a_query_budget():
    from tests.studio.test_query_budgets import ENDPOINTS, TESTED_ELSEWHERE

    budgeted = {case.url_name for case in ENDPOINTS} | set(TESTED_ELSEWHERE)

    assert sorted(set(_api_lists()) - budgeted) == []


# --- pages that list a parent's rows ---------------------------------------------------------


def test_the_wave_page_lists_its_orders_a_page_at_a_time(client_for, monkeypatch):
    monkeypatch.setattr("shipping.wave_views.WAVE_ORDERS_PAGE_SIZE", 2)
    sku = stocked_sku()
    orders = [allocated_order((sku, 1), number=f"W-{i}") for i in range(3)]
    wave = wave_create(orders=orders, acting_user=staff())
    parcel_pack(
        order=orders[2],
        carrier=carrier("sf"),
        weight_kg=Decimal("2.8"),
        tracking_number="SF000000000777",
        acting_user=staff(),
    )
    client = client_for("packer")
    url = reverse("shipping:wave_detail", args=[wave.code])

    first = client.get(url)
    second = client.get(url, {"page": 2})

    assert [o.external_no for o in first.context["orders"]] == ["W-0", "W-1"]
    assert [o.external_no for o in second.context["orders"]] == ["W-2"]
    # the progress counts the whole wave, not the page
    assert (second.context["packed"], second.context["total"]) == (1, 3)
    assert (second.context["parcel_count"], second.context["unprinted"]) == (1, 1)
    assert "1 / 3" in first.content.decode()
    assert "page=2" in first.content.decode()
    assert "SF000000000777" in second.content.decode()


def test_the_handover_page_lists_the_latest_scans_and_counts_them_all(client_for, monkeypatch):
    monkeypatch.setattr("shipping.handover_views.HANDOVER_SHOWN", 2)
    sku = stocked_sku()
    client = client_for("packer")
    started = client.post(reverse("shipping:handover"), {"carrier": carrier("sf").pk})
    code = started["Location"].rstrip("/").rsplit("/", 1)[-1]
    numbers = []
    for index in range(3):
        number = f"SF{index + 1:012d}"
        parcel_pack(
            order=allocated_order((sku, 1)),
            carrier=carrier("sf"),
            weight_kg=Decimal("2.8"),
            tracking_number=number,
            acting_user=staff(),
        )
        client.post(
            reverse("shipping:handover_scan", args=[code]), {"tracking_number": number}, follow=True
        )
        numbers.append(number)

    response = client.get(
        reverse("shipping:handover_batch", args=[code]), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert [p.tracking_number for p in response.context["parcels"]] == numbers[:0:-1]
    assert (response.context["count"], response.context["earlier"]) == (3, 1)
    html = response.content.decode()
    assert '<span class="scan-count">3</span>' in html
    assert numbers[0] not in html
    assert "and 1 earlier scan, in the manifest" in html
    # the manifest still lists every parcel of the handover
    assert client.get(reverse("shipping:handover_manifest", args=[code])).status_code == 200


def test_a_long_tracking_file_lists_its_errors_only(client_for, monkeypatch):
    monkeypatch.setattr("shipping.handover_views.TRACKING_ROWS_SHOWN", 2)
    sku = stocked_sku()
    parcels = []
    for index in range(2):
        parcel = parcel_pack(
            order=allocated_order((sku, 1)),
            carrier=carrier("sf"),
            weight_kg=Decimal("2.8"),
            tracking_number=f"SF{index + 1:012d}",
            acting_user=staff(),
        ).parcel
        parcels.append(
            parcel_transition(
                parcel=parcel, to=ParcelStatus.SHIPPED, source=TrackingEvent.Source.SCAN
            )
        )
    rows = [
        f"{parcels[0].tracking_number},已签收,2026-11-20 14:30",
        "SF000000009999,已签收,2026-11-20 14:30",
        f"{parcels[1].tracking_number},已签收,2026-11-20 14:30",
    ]
    data = "\n".join(["运单号,状态,时间", *rows]).encode("gb18030")

    response = client_for("packer").post(
        reverse("shipping:tracking_upload"),
        {"file": SimpleUploadedFile("track.csv", data, "text/csv")},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert [(r.row, r.outcome) for r in response.context["results"]] == [(3, "error")]
    assert response.context["counts"] == {"updated": 2, "unchanged": 0, "error": 1}
    html = response.content.decode()
    assert "2 rows are counted above but not listed" in html
    assert parcels[0].tracking_number not in html


def test_the_lot_page_shows_the_latest_page_of_its_ledger(client_for, monkeypatch):
    monkeypatch.setattr("inventory.views.LEDGER_PAGE_SIZE", 2)
    lot = receive(kg="100")
    for kg in ("1", "2"):
        lot_write_off(lot=lot, kg=Decimal(kg), reason="烂了", acting_user=staff("intake"))
    client = client_for("creator")
    url = reverse("inventory:lot", args=[lot.code])

    latest = client.get(url)
    oldest = client.get(url, {"page": 1})

    assert [m.on_hand_after for m in latest.context["movements"]] == [Decimal("97.000")]
    assert [m.on_hand_after for m in oldest.context["movements"]] == [
        Decimal("100.000"),
        Decimal("99.000"),
    ]
    assert "?page=1" in latest.content.decode()


# --- counts beside a list --------------------------------------------------------------------


def test_the_wave_list_counts_orders_and_parcels_once_each(client_for):
    """Counting a wave's orders and its parcels in one join multiplied them: a wave of three
    packed orders said nine orders."""
    sku = stocked_sku()
    orders = [allocated_order((sku, 1)) for _ in range(3)]
    wave_create(orders=orders, acting_user=staff())
    for index, order in enumerate(orders):
        parcel_pack(
            order=order,
            carrier=carrier("sf"),
            weight_kg=Decimal("2.8"),
            tracking_number=f"SF{index + 1:012d}",
            acting_user=staff(),
        )
    client = client_for("creator")

    listed = client.get("/api/waves/").json()["results"]
    page = client.get(reverse("shipping:wave_list")).context["page"]

    assert [(w["order_count"], w["parcel_count"]) for w in listed] == [(3, 3)]
    assert [(w.order_count, w.packed_count) for w in page] == [(3, 3)]


# --- a page and its endpoint filter alike ----------------------------------------------------


def test_the_stock_page_and_the_lots_api_filter_alike(client_for):
    shelf = LocationFactory(code="B", name="常温库", storage="ambient")
    chestnut = ProductFactory(name="板栗", shelf_life_days=60)
    old = timezone.localdate() - timedelta(days=6)
    lots = [
        receive(kg="10", harvest_date=old),
        receive(kg="20", location=shelf),
        receive(kg="30", product=chestnut, location=shelf),
        receive(kg="5", farmer=FarmerFactory(name="何春花")),
    ]
    lot_write_off(lot=lots[3], kg=Decimal("5"), reason="烂了", acting_user=staff("intake"))
    client = client_for("creator")

    def page(**query):
        return {lot.code for lot in client.get(reverse("inventory:stock"), query).context["page"]}

    def api(query: str):
        return {row["code"] for row in client.get(f"/api/lots/?{query}").json()["results"]}

    assert page() == api("has_stock=true") == {lot.code for lot in lots[:3]}
    assert page(empty="on") == api("") == {lot.code for lot in lots}
    assert page(expiring="on") == api("expiring_within=2") == {lots[0].code}
    assert page(location=shelf.pk) == api(f"has_stock=true&location={shelf.pk}")
    assert page(location=shelf.pk, product=chestnut.pk) == {lots[2].code}
    assert page(q="何春", empty="on") == {lots[3].code}


def test_the_orders_page_and_api_search_alike(client_for):
    sku = stocked_sku()
    named = [
        allocated_order((sku, 1), number="DY-2001", recipient_name="李四"),
        allocated_order((sku, 1), number="DY-2002", recipient_name="张3丰"),
        allocated_order((sku, 1), number="DY-2003", recipient_name="李小龙"),
    ]
    client = client_for("packer")

    def page(q: str):
        response = client.get(reverse("orders:list"), {"q": q})
        return {order.external_no for order in response.context["page"]}

    def api(q: str):
        return {
            row["external_no"] for row in client.get("/api/orders/", {"q": q}).json()["results"]
        }

    assert Order.objects.count() == len(named)
    for q, expected in [
        ("DY-2002", {"DY-2002"}),  # an order number, whole
        ("DY-200", set()),  # not the start of a number
        ("李", {"DY-2001", "DY-2003"}),  # the start of a name
        ("张3", set()),  # with a digit: an order number, not a name
    ]:
        assert page(q) == api(q) == expected, q
