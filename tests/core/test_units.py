"""斤 and kg: typed 斤 → stored kg → shown 斤 round trips exactly for every value the fields
take, prices per 斤 ↔ per kg too, and the studio's unit reaches the intake desk, the
delivery page, the lot tag, the statement and the label."""

from datetime import timedelta
from decimal import Decimal
from itertools import product as cartesian

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from core.models import StudioSettings
from core.units import (
    InexactConversion,
    WeightUnit,
    format_unit_price,
    format_weight,
    kg_from,
    kg_to,
    price_per_kg_from,
    price_per_kg_to,
)
from inventory.forms import IntakeRowForm
from inventory.models import Delivery, Lot
from inventory.pdf import lot_tag_data, render_lot_tags
from inventory.reports import farmer_statement
from inventory.statements import StudioInfo, render_statements
from tests.factories import FarmerFactory, GradeFactory, LocationFactory, ProductFactory
from tests.pdf_tools import page_texts

D = Decimal
JIN = WeightUnit.JIN


# --- the conversions -------------------------------------------------------------------------


def test_one_jin_is_half_a_kilogram_exactly():
    assert kg_from(D("1"), JIN) == D("0.5")
    assert kg_to(D("0.5"), JIN) == D("1")
    assert kg_from(D("12.34"), WeightUnit.KG) == D("12.34")


def test_every_weight_typed_in_jin_to_the_hundredth_round_trips_through_kilograms():
    # every 2-place 斤 value from 0.01 to 100.00, plus large ones at the field's edge
    typed = [D(n) / 100 for n in range(1, 10001)] + [D("9999999.99"), D("1234567.89")]
    for jin in typed:
        kg = kg_from(jin, JIN)
        assert -kg.as_tuple().exponent <= 3, jin  # fits DECIMAL(12, 3): stored as is
        assert kg.quantize(D("0.001")) == kg
        assert kg_to(kg.quantize(D("0.001")), JIN) == jin


def test_every_stored_kilogram_weight_shows_exactly_in_jin_and_back():
    for grams in range(1, 20001):
        kg = D(grams) / 1000
        assert kg_from(kg_to(kg, JIN), JIN) == kg
    assert format_weight(D("2.500"), JIN) == "5 斤"
    assert format_weight(D("0.001"), JIN) == "0.002 斤"
    assert format_weight(D("1234.567"), JIN) == "2,469.134 斤"


def test_a_third_place_in_jin_would_round_and_is_refused():
    with pytest.raises(InexactConversion):
        kg_from(D("1.001"), JIN)  # 0.5005 kg


def test_prices_per_jin_and_per_kg_round_trip_to_the_fen():
    for fen, tenth in cartesian(range(0, 5001), (0, 5)):
        per_jin = D(fen) / 100 + D(tenth) / 1000
        per_kg = price_per_kg_from(per_jin, JIN)
        assert per_kg.quantize(D("0.01")) == per_kg  # whole fen per kg: stored as is
        assert price_per_kg_to(per_kg, JIN) == per_jin
    for fen in range(0, 10001):
        per_kg = D(fen) / 100
        assert price_per_kg_from(price_per_kg_to(per_kg, JIN), JIN) == per_kg
    assert format_unit_price(D("7.15"), JIN) == "¥3.575/斤"
    assert format_unit_price(D("7.10"), JIN) == "¥3.55/斤"
    assert format_unit_price(D("7.10"), WeightUnit.KG) == "¥7.10/kg"


def test_a_price_per_jin_that_is_not_whole_fen_per_kg_is_refused():
    with pytest.raises(InexactConversion):
        price_per_kg_from(D("3.573"), JIN)


# --- the setting -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_setting_is_one_row_defaulting_to_kg_and_reading_writes_nothing():
    assert StudioSettings.load().unit == WeightUnit.KG
    assert not StudioSettings.objects.exists()
    StudioSettings(weight_unit=JIN).save()
    StudioSettings(weight_unit=JIN).save()  # the same row again
    assert StudioSettings.objects.count() == 1
    assert StudioSettings.load().unit == JIN


@pytest.mark.django_db
def test_only_managers_change_the_unit(client_for):
    url = reverse("core:studio_settings")
    for role in ("intake", "packer", "creator"):
        assert client_for(role).post(url, {"weight_unit": "jin"}).status_code == 403
    assert StudioSettings.load().unit == WeightUnit.KG
    response = client_for("manager").post(url, {"weight_unit": "jin"})
    assert response.status_code == 302
    assert StudioSettings.load().unit == JIN


# --- the intake desk in 斤 -------------------------------------------------------------------


def test_the_row_form_turns_jin_into_kilograms():
    form = IntakeRowForm(
        data={
            "grade": "",
            "gross_kg": "61.25",
            "tare_per_crate_kg": "1.5",
            "price_per_kg": "3.575",
        },
        unit=JIN,
    )
    form.fields["grade"].queryset = form.fields["grade"].queryset.none()
    form.is_valid()
    assert form.cleaned_data["gross_kg"] == D("30.625")
    assert form.cleaned_data["tare_per_crate_kg"] == D("0.75")
    assert form.cleaned_data["price_per_kg"] == D("7.15")


@pytest.mark.django_db
def test_the_row_form_refuses_what_kilograms_cannot_hold():
    form = IntakeRowForm(
        data={"grade": "", "gross_kg": "10.125", "price_per_kg": "3.573"}, unit=JIN
    )
    with translation.override("en"):
        assert not form.is_valid()
        assert "gross_kg" in form.errors
        assert "whole fen per kg" in str(form.errors["price_per_kg"])


@pytest.mark.django_db
def test_a_delivery_weighed_in_jin_is_stored_in_kg_and_shown_in_jin(client_for):
    StudioSettings(weight_unit=JIN).save()
    farmer, product, grade = (
        FarmerFactory(name="朱大山"),
        ProductFactory(name="蜜桃"),
        GradeFactory(),
    )
    LocationFactory()
    client = client_for("intake")
    desk = client.get(reverse("inventory:intake")).content.decode()
    assert "毛重（斤）" in desk or "Gross 斤" in desk
    response = client.post(
        reverse("inventory:intake"),
        {
            "farmer": farmer.pk,
            "product": product.pk,
            "harvest_date": timezone.localdate().isoformat(),
            "rows-TOTAL_FORMS": "1",
            "rows-INITIAL_FORMS": "0",
            "rows-0-grade": grade.pk,
            "rows-0-gross_kg": "361.25",
            "rows-0-crates": "10",
            "rows-0-tare_per_crate_kg": "1.5",
            "rows-0-price_per_kg": "3.55",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    lot = Lot.objects.get()
    # 361.25 − 10 × 1.5 = 346.25 斤 = 173.125 kg, at ¥7.10/kg
    assert (lot.gross_kg, lot.received_kg, lot.price_per_kg) == (
        D("180.625"),
        D("173.125"),
        D("7.10"),
    )
    page = client.get(reverse("inventory:delivery", args=[Delivery.objects.get().pk]))
    text = page.content.decode()
    assert "346.25" in text and "3.55" in text
    assert "173.125" not in text  # not in kilograms
    tag = page_texts(render_lot_tags([lot_tag_data(lot, unit=JIN)]))[0]
    assert "346.25 斤" in tag

    statement = farmer_statement(
        farmer=farmer,
        date_from=timezone.localdate() - timedelta(days=1),
        date_to=timezone.localdate(),
    )
    pdf = " ".join(page_texts(render_statements([statement], studio=StudioInfo.from_settings())))
    assert "346.25" in pdf and "¥3.55" in pdf
    assert lot.amount == D("1229.19")  # 173.125 kg × 7.10, half up: the same in either unit
