"""The intake desk, delivery, stock and lot pages through Django's test client."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inventory.models import Delivery, Farmer, Lot, StockMovement
from inventory.selectors import stock_mismatches
from tests.factories import FarmerFactory, GradeFactory, LocationFactory, ProductFactory, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk():
    """Master data the intake desk needs: a farmer, a product, two grades, a cold room."""
    LocationFactory()
    return {
        "farmer": FarmerFactory(name="朱大山"),
        "product": ProductFactory(name="蜜桃", shelf_life_days=7),
        "top": GradeFactory(name="特级", rank=0),
        "first": GradeFactory(name="一级", rank=1),
    }


def intake_post(desk, rows, **header):
    data = {
        "farmer": desk["farmer"].pk,
        "product": desk["product"].pk,
        "harvest_date": timezone.localdate().isoformat(),
        "location": "",
        "note": "",
        "new_farmer_name": "",
        "new_farmer_village": "",
        "new_farmer_phone": "",
        "rows-TOTAL_FORMS": "3",
        "rows-INITIAL_FORMS": "0",
        "rows-MIN_NUM_FORMS": "0",
        "rows-MAX_NUM_FORMS": "10",
    }
    data.update(header)
    for index in range(3):
        row = rows[index] if index < len(rows) else {}
        for field in ("grade", "gross_kg", "crates", "tare_per_crate_kg", "price_per_kg"):
            data[f"rows-{index}-{field}"] = row.get(field, "")
    return data


def counts():
    return (Delivery.objects.count(), Lot.objects.count(), StockMovement.objects.count())


def test_intake_desk_records_a_two_grade_delivery(client_for, desk):
    client = client_for("intake")
    response = client.post(
        reverse("inventory:intake"),
        intake_post(
            desk,
            [
                {
                    "grade": desk["top"].pk,
                    "gross_kg": "180.5",
                    "crates": "6",
                    "tare_per_crate_kg": "1.2",
                    "price_per_kg": "7.50",
                },
                {"grade": desk["first"].pk, "gross_kg": "90", "price_per_kg": "5"},
            ],
        ),
    )

    delivery = Delivery.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("inventory:delivery", args=[delivery.pk])
    lots = {lot.grade.name: lot for lot in delivery.lots.all()}
    assert lots["特级"].received_kg == Decimal("173.300")
    assert lots["一级"].received_kg == Decimal("90.000")
    assert lots["特级"].expiry_date == timezone.localdate() + timedelta(days=7)
    assert stock_mismatches() == []

    page = client.get(response["Location"])
    html = page.content.decode()
    for lot in lots.values():
        assert lot.code in html
    assert reverse("inventory:lot_tags", args=[delivery.pk]) in html
    assert reverse("inventory:intake_slip", args=[delivery.pk]) in html
    assert "1749.75" in html  # 173.3 × 7.50 + 90 × 5.00


def test_intake_desk_adds_a_new_farmer_with_the_delivery(client_for, desk):
    client = client_for("intake")
    data = intake_post(
        desk,
        [{"grade": desk["top"].pk, "gross_kg": "50", "price_per_kg": "6"}],
        farmer="",
        new_farmer_name="何春花",
        new_farmer_village="江口村",
        new_farmer_phone="13912345678",
    )

    response = client.post(reverse("inventory:intake"), data)

    assert response.status_code == 302
    farmer = Farmer.objects.get(name="何春花")
    assert Lot.objects.get().farmer == farmer


@pytest.mark.parametrize(
    ("row", "header", "field_text"),
    [
        ({"gross_kg": "0", "price_per_kg": "6"}, {}, "more than 0 kg"),
        ({"gross_kg": "-5", "price_per_kg": "6"}, {}, "more than 0 kg"),
        (
            {"gross_kg": "10", "crates": "5", "tare_per_crate_kg": "2", "price_per_kg": "6"},
            {},
            "not less than the gross weight",
        ),
        (
            {"gross_kg": "10", "price_per_kg": "6"},
            {"harvest_date": (timezone.localdate() + timedelta(days=1)).isoformat()},
            "cannot be in the future",
        ),
        ({"gross_kg": "10", "price_per_kg": "6"}, {"farmer": "999999"}, "valid choice"),
    ],
    ids=["zero", "negative", "tare-above-gross", "future-harvest", "unknown-farmer"],
)
def test_intake_desk_shows_bad_input_at_the_field_and_saves_nothing(
    client_for, desk, row, header, field_text
):
    client = client_for("intake")
    before = counts()
    row = {"grade": desk["top"].pk, **row}

    response = client.post(
        reverse("inventory:intake"),
        intake_post(desk, [row], **header),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert field_text in html
    assert 'class="field field-error"' in html or "field-error" in html
    assert counts() == before


def test_intake_desk_refuses_an_inactive_product(client_for, desk):
    client = client_for("intake")
    desk["product"].is_active = False
    desk["product"].save()
    before = counts()

    response = client.post(
        reverse("inventory:intake"),
        intake_post(desk, [{"grade": desk["top"].pk, "gross_kg": "10", "price_per_kg": "6"}]),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "valid choice" in response.content.decode()
    assert counts() == before


def test_errors_speak_the_users_language(client_for, desk):
    client = client_for("intake")

    response = client.post(
        reverse("inventory:intake"),
        intake_post(desk, [{"grade": desk["top"].pk, "gross_kg": "0", "price_per_kg": "6"}]),
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )

    assert "重量必须大于 0 公斤" in response.content.decode()


def test_a_new_farmer_is_not_kept_when_the_delivery_fails(client_for, desk):
    client = client_for("intake")
    data = intake_post(
        desk,
        [{"grade": desk["top"].pk, "gross_kg": "0", "price_per_kg": "6"}],
        farmer="",
        new_farmer_name="何春花",
        new_farmer_village="江口村",
    )

    client.post(reverse("inventory:intake"), data)

    assert not Farmer.objects.filter(name="何春花").exists()


def test_stock_page_sums_per_product_and_grade_and_flags_expiring_lots(client_for):
    peach = ProductFactory(name="蜜桃", shelf_life_days=7)
    old = receive(kg="100", product=peach, harvest_date=timezone.localdate() - timedelta(days=6))
    fresh = receive(kg="50", product=peach)
    client = client_for("creator")

    response = client.get(reverse("inventory:stock"))

    assert response.status_code == 200
    summary = list(response.context["summary"])
    assert summary[0]["total_on_hand_kg"] == Decimal("150.000")
    lots = list(response.context["page"])
    assert lots == [old, fresh]  # first expiry first
    html = response.content.decode()
    assert html.count('class="soon"') == 1

    expiring = client.get(reverse("inventory:stock"), {"expiring": "on"})
    assert list(expiring.context["page"]) == [old]


def test_stock_page_query_count_does_not_grow_with_lots(client_for):
    client = client_for("packer")
    receive(kg="10")
    client.get(reverse("inventory:stock"))  # warm up sessions and content types

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("inventory:stock"))
    for _ in range(20):
        receive(kg="10")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("inventory:stock"))

    assert len(many) == len(few)


def test_lot_page_shows_the_ledger_and_writes_off(client_for):
    lot = receive(kg="100")
    client = client_for("intake")

    response = client.post(
        reverse("inventory:lot_write_off", args=[lot.code]),
        {"w-kg": "2.5", "w-reason": "烂果"},
    )

    assert response.status_code == 302
    lot.refresh_from_db()
    assert lot.on_hand_kg == Decimal("97.500")
    page = client.get(reverse("inventory:lot", args=[lot.code]))
    assert "烂果" in page.content.decode()
    assert len(page.context["movements"]) == 2


def test_lot_page_write_off_above_available_is_shown_at_the_field(client_for):
    lot = receive(kg="10")
    client = client_for("manager")

    response = client.post(
        reverse("inventory:lot_write_off", args=[lot.code]),
        {"w-kg": "11", "w-reason": "烂果"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert response.context["write_off_form"].errors["kg"]
    lot.refresh_from_db()
    assert lot.on_hand_kg == Decimal("10.000")


def test_lot_page_count_and_move(client_for):
    lot = receive(kg="10")
    ambient = LocationFactory(code="B", name="常温区 B", storage="ambient")
    client = client_for("intake")

    client.post(
        reverse("inventory:lot_adjust", args=[lot.code]),
        {"c-counted_kg": "9.8", "c-reason": "盘点"},
    )
    client.post(reverse("inventory:lot_move", args=[lot.code]), {"m-location": ambient.pk})

    lot.refresh_from_db()
    assert lot.on_hand_kg == Decimal("9.800")
    assert lot.location == ambient
    assert stock_mismatches() == []


def test_pdf_pages_answer_with_pdfs(client_for):
    lot = receive(kg="10")
    client = client_for("intake")

    for url in (
        reverse("inventory:lot_tags", args=[lot.delivery_id]),
        reverse("inventory:intake_slip", args=[lot.delivery_id]),
        reverse("inventory:lot_tag", args=[lot.code]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")


def test_intake_slip_page_reads_the_lots_once(client_for, desk):
    # given a delivery of two grades
    client = client_for("intake")
    rows = [
        {"grade": desk["top"].pk, "gross_kg": "50", "price_per_kg": "9.00"},
        {"grade": desk["first"].pk, "gross_kg": "30", "price_per_kg": "7.00"},
    ]
    client.post(reverse("inventory:intake"), intake_post(desk, rows))
    delivery = Delivery.objects.get()

    # when its slip is printed
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("inventory:intake_slip", args=[delivery.pk]))

    # then the lots were read in one query, not once more for a prefetch the slip ignores
    assert response.status_code == 200
    lot_reads = [q["sql"] for q in queries if 'FROM "inventory_lot"' in q["sql"]]
    assert len(lot_reads) == 1
