"""Recording money paid to farmers: the service, the form, the API and the admin. A refused
payment names its field and saves nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError
from inventory.models import FarmerPayment, PaymentMethod
from inventory.reports import farmer_statement
from inventory.services import farmer_payment_record
from tests.factories import FarmerFactory, UserFactory, receive

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def owed():
    """A farmer the studio owes ¥600.00 for a lot received today."""
    farmer = FarmerFactory(name="朱大山", phone="13912345678")
    receive(farmer=farmer, kg="100", price="6.00")
    return farmer


@pytest.fixture
def manager():
    return UserFactory(username="pay-manager", roles=["manager"])


def today():
    return timezone.localdate()


def this_month(farmer):
    return farmer_statement(farmer=farmer, date_from=today().replace(day=1), date_to=today())


# --- the service -----------------------------------------------------------------------------


def test_a_payment_is_recorded_with_who_recorded_it(owed, manager):
    payment = farmer_payment_record(
        farmer=owed,
        paid_on=today(),
        amount=Decimal("250.50"),
        method=PaymentMethod.WECHAT,
        reference=" WX-88 ",
        note="先付一部分",
        acting_user=manager,
    )

    payment.refresh_from_db()
    assert (payment.amount, payment.method, payment.reference) == (
        Decimal("250.50"),
        "wechat",
        "WX-88",
    )
    assert payment.recorded_by == manager
    assert this_month(owed).closing_balance == Decimal("349.50")


def test_paying_more_than_is_owed_is_an_advance(owed, manager):
    farmer_payment_record(
        farmer=owed, paid_on=today(), amount=Decimal("700"), method="cash", acting_user=manager
    )

    statement = this_month(owed)

    assert statement.closing_balance == Decimal("-100.00")
    assert (statement.is_prepaid, statement.prepaid, statement.to_pay) == (
        True,
        Decimal("100.00"),
        Decimal("0.00"),
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": Decimal("0")}, "amount"),
        ({"amount": Decimal("-5")}, "amount"),
        ({"amount": Decimal("1.005")}, "amount"),
        ({"amount": Decimal("NaN")}, "amount"),
        ({"amount": Decimal("10000000000")}, "amount"),
        ({"paid_on": "tomorrow"}, "paid_on"),
        ({"method": "gold"}, "method"),
        ({"reference": "x" * 61}, "reference"),
        ({"note": "x" * 201}, "note"),
    ],
)
def test_a_bad_payment_names_its_field_and_saves_nothing(owed, manager, changes, field):
    arguments = {
        "farmer": owed,
        "paid_on": today(),
        "amount": Decimal("100"),
        "method": "cash",
        "acting_user": manager,
    }
    if changes.get("paid_on") == "tomorrow":
        changes = {"paid_on": today() + timedelta(days=1)}
    arguments |= changes

    with pytest.raises(DomainError) as error:
        farmer_payment_record(**arguments)

    assert error.value.field == field
    assert not FarmerPayment.objects.exists()


def test_the_same_reference_is_not_recorded_twice_for_a_farmer(owed, manager):
    other = FarmerFactory(name="王秀英")
    record = {"paid_on": today(), "amount": Decimal("100"), "method": "bank"}
    farmer_payment_record(farmer=owed, reference="TX-1", acting_user=manager, **record)

    with pytest.raises(DomainError) as error:
        farmer_payment_record(farmer=owed, reference="TX-1", acting_user=manager, **record)

    assert (error.value.field, error.value.code) == ("reference", "duplicate")
    # another farmer's transfer may carry the same number; a payment without one may repeat
    farmer_payment_record(farmer=other, reference="TX-1", acting_user=manager, **record)
    farmer_payment_record(farmer=owed, acting_user=manager, **record)
    farmer_payment_record(farmer=owed, acting_user=manager, **record)
    assert FarmerPayment.objects.count() == 4


def test_a_float_amount_is_a_programming_error(owed, manager):
    with pytest.raises(TypeError):
        farmer_payment_record(
            farmer=owed, paid_on=today(), amount=100.0, method="cash", acting_user=manager
        )


# --- the form --------------------------------------------------------------------------------


def form_data(owner, **changes):
    data = {
        "farmer": owner.pk,
        "paid_on": today().isoformat(),
        "amount": "120.00",
        "method": "bank",
        "reference": "TX-9",
        "note": "",
    }
    return data | changes


def test_the_form_records_a_payment_and_opens_the_farmers_statement(client_for, owed):
    client = client_for("manager")

    response = client.post(reverse("inventory:payment_new"), form_data(owed), **EN)

    payment = FarmerPayment.objects.get()
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("inventory:statement", args=[owed.pk]))
    assert f"month={today():%Y-%m}" in response["Location"]
    assert (payment.amount, payment.recorded_by) == (Decimal("120.00"), client.user)
    page = client.get(response["Location"], **EN).content.decode()
    assert "Payment of ¥120.00 to 朱大山 recorded." in page
    assert "¥480.00" in page  # 600.00 − 120.00


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"amount": "0"}, "amount", "The amount must be more than 0."),
        ({"amount": "-3"}, "amount", "The amount must be more than 0."),
        ({"amount": "1.234"}, "amount", "decimal places"),
        ({"amount": "abc"}, "amount", "Enter a number."),
        ({"paid_on": "2099-01-01"}, "paid_on", "The payment date cannot be in the future."),
        ({"method": "gold"}, "method", "Select a valid choice."),
        ({"farmer": "999999"}, "farmer", "Select a valid choice."),
    ],
)
def test_a_bad_form_shows_the_error_beside_its_field_and_saves_nothing(
    client_for, owed, changes, field, message
):
    client = client_for("manager")

    response = client.post(reverse("inventory:payment_new"), form_data(owed, **changes), **EN)

    assert response.status_code == 400
    assert not FarmerPayment.objects.exists()
    html = response.content.decode()
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    assert message.split(".")[0] in html


def test_a_repeated_reference_is_shown_at_the_reference(client_for, owed):
    client = client_for("manager")
    client.post(reverse("inventory:payment_new"), form_data(owed), **EN)

    again = client.post(reverse("inventory:payment_new"), form_data(owed), **EN)

    assert again.status_code == 400
    assert list(again.context["form"].errors) == ["reference"]
    assert FarmerPayment.objects.count() == 1


def test_the_form_shows_what_the_chosen_farmer_is_owed(client_for, owed):
    page = client_for("manager").get(
        reverse("inventory:payment_new") + f"?farmer={owed.pk}&amount=600.00", **EN
    )

    html = page.content.decode()
    assert "朱大山 is owed today" in html and "¥600.00" in html
    assert 'value="600.00"' in html


@pytest.mark.parametrize("role", ["creator", "packer", "intake"])
def test_only_managers_record_payments(client_for, owed, role):
    client = client_for(role)

    response = client.post(reverse("inventory:payment_new"), form_data(owed))
    api = client.post(
        "/api/farmer-payments/",
        {"farmer": owed.pk, "paid_on": today().isoformat(), "amount": "5", "method": "cash"},
        content_type="application/json",
    )

    assert (response.status_code, api.status_code) == (403, 403)
    assert not FarmerPayment.objects.exists()


# --- the API ---------------------------------------------------------------------------------


def test_the_api_records_and_lists_payments(client_for, owed):
    client = client_for("manager")
    body = {
        "farmer": owed.pk,
        "paid_on": today().isoformat(),
        "amount": "99.90",
        "method": "alipay",
        "reference": "AP-1",
    }

    created = client.post("/api/farmer-payments/", body, content_type="application/json")
    listed = client.get(f"/api/farmer-payments/?farmer={owed.pk}&method=alipay").json()

    assert created.status_code == 201
    assert created.json()["amount"] == "99.90"
    assert created.json()["recorded_by"] == client.user.username
    assert [row["reference"] for row in listed["results"]] == ["AP-1"]
    later = (today() + timedelta(days=1)).isoformat()
    assert client.get(f"/api/farmer-payments/?date_from={later}").json()["count"] == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"paid_on": "2099-12-31"}, "paid_on"),
        ({"method": "gold"}, "method"),
        ({"farmer": 999999}, "farmer"),
    ],
)
def test_the_api_answers_400_by_field_and_saves_nothing(client_for, owed, changes, field):
    client = client_for("manager")
    body = {"farmer": owed.pk, "paid_on": today().isoformat(), "amount": "10", "method": "cash"}

    response = client.post("/api/farmer-payments/", body | changes, content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not FarmerPayment.objects.exists()


def test_creators_cannot_list_payments(client_for, owed):
    assert client_for("creator").get("/api/farmer-payments/").status_code == 403


# --- the admin -------------------------------------------------------------------------------


def test_the_admin_fills_in_who_recorded_a_payment_and_keeps_the_rules(client, owed):
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(boss)
    url = reverse("admin:inventory_farmerpayment_add")
    data = {
        "farmer": owed.pk,
        "paid_on": today().isoformat(),
        "amount": "50.00",
        "method": "cash",
        "reference": "",
        "note": "",
    }

    future = client.post(url, data | {"paid_on": "2099-01-01"}, **EN)
    saved = client.post(url, data, **EN)

    assert future.status_code == 200 and "cannot be in the future" in future.content.decode()
    assert saved.status_code == 302
    payment = FarmerPayment.objects.get()
    assert payment.recorded_by == boss
    assert b"recorded_by" not in client.get(url).content.split(b"<form")[1].split(b"</form>")[0]
