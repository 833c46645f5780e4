"""Expiry is a rule at the door and in the warehouse: a harvest already past its shelf life
is refused at intake unless a manager confirms it, and expired stock is listed for write-off
(page and API)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError
from inventory.models import Delivery, Lot, MovementKind
from inventory.services import IntakeRow, intake_record
from tests.factories import (
    FarmerFactory,
    GradeFactory,
    LocationFactory,
    ProductFactory,
    UserFactory,
    receive,
)
from tests.inventory.test_pages import intake_post

pytestmark = pytest.mark.django_db
OLD = 30  # days: a peach (7 days) harvested a month ago


@pytest.fixture
def desk():
    LocationFactory()
    return {
        "farmer": FarmerFactory(name="朱大山"),
        "product": ProductFactory(name="蜜桃", shelf_life_days=7),
        "top": GradeFactory(name="特级", rank=0),
        "first": GradeFactory(name="一级", rank=1),
    }


def _old_intake(desk, user, **kwargs) -> Delivery:
    return intake_record(
        farmer=desk["farmer"],
        product=desk["product"],
        rows=[IntakeRow(grade=desk["top"], gross_kg=Decimal("50"), price_per_kg=Decimal("6"))],
        harvest_date=timezone.localdate() - timedelta(days=OLD),
        acting_user=user,
        **kwargs,
    )


def test_a_30_day_old_harvest_is_refused_then_accepted_when_a_manager_confirms(desk):
    clerk = UserFactory(username="clerk", roles=["intake"])
    manager = UserFactory(username="boss", roles=["manager"])

    with pytest.raises(DomainError) as refused:
        _old_intake(desk, clerk)
    assert refused.value.field == "harvest_date" and refused.value.code == "old_harvest"
    assert "30" in refused.value.message and "7" in refused.value.message
    with pytest.raises(DomainError) as not_theirs:
        _old_intake(desk, clerk, confirm_old_harvest=True)
    assert not_theirs.value.field == "confirm_old_harvest"
    assert not Lot.objects.exists()

    delivery = _old_intake(desk, manager, confirm_old_harvest=True)
    lot = delivery.lots.get()
    assert lot.is_expired and lot.days_expired == OLD - 7


def test_the_last_good_day_is_still_accepted(desk):
    clerk = UserFactory(username="clerk", roles=["intake"])
    delivery = intake_record(
        farmer=desk["farmer"],
        product=desk["product"],
        rows=[IntakeRow(grade=desk["top"], gross_kg=Decimal("5"), price_per_kg=Decimal("6"))],
        harvest_date=timezone.localdate() - timedelta(days=7),
        acting_user=clerk,
    )
    assert not delivery.lots.get().is_expired


def test_the_intake_desk_refuses_an_old_harvest_and_a_manager_confirms_it(client_for, desk):
    old = (timezone.localdate() - timedelta(days=OLD)).isoformat()
    rows = [{"grade": desk["top"].pk, "gross_kg": "50", "price_per_kg": "6"}]
    clerk = client_for("intake")
    page = clerk.post(reverse("inventory:intake"), intake_post(desk, rows, harvest_date=old))
    assert page.status_code == 200 and not Delivery.objects.exists()
    text = page.content.decode()
    assert "30" in text and 'name="confirm_old_harvest"' not in text  # not theirs to confirm

    manager = client_for("manager")
    asked = manager.post(reverse("inventory:intake"), intake_post(desk, rows, harvest_date=old))
    assert 'name="confirm_old_harvest"' in asked.content.decode()
    done = manager.post(
        reverse("inventory:intake"),
        intake_post(desk, rows, harvest_date=old, confirm_old_harvest="on"),
    )
    assert done.status_code == 302
    assert Delivery.objects.get().lots.get().is_expired


def test_the_intake_api_takes_confirm_old_harvest_from_managers_only(client_for, desk):
    body = {
        "farmer": desk["farmer"].pk,
        "product": desk["product"].pk,
        "harvest_date": (timezone.localdate() - timedelta(days=OLD)).isoformat(),
        "rows": [{"grade": desk["top"].pk, "gross_kg": "50", "price_per_kg": "6"}],
    }
    clerk = client_for("intake")
    refused = clerk.post("/api/intakes/", body, content_type="application/json")
    assert refused.status_code == 400 and "harvest_date" in refused.json()
    forbidden = clerk.post(
        "/api/intakes/", {**body, "confirm_old_harvest": True}, content_type="application/json"
    )
    assert forbidden.status_code == 400 and "confirm_old_harvest" in forbidden.json()

    manager = client_for("manager")
    made = manager.post(
        "/api/intakes/", {**body, "confirm_old_harvest": True}, content_type="application/json"
    )
    assert made.status_code == 201, made.json()
    assert made.json()["lots"][0]["expiry_date"] < timezone.localdate().isoformat()


def test_expired_stock_is_listed_for_write_off_on_the_page_and_in_the_api(client_for):
    fresh = receive(kg="10")
    expired = receive(kg="12", harvest_date=timezone.localdate() - timedelta(days=7))
    Lot.objects.filter(pk=expired.pk).update(expiry_date=timezone.localdate() - timedelta(days=2))
    manager = client_for("manager")

    listed = manager.get("/api/lots/expired/").json()["results"]
    assert [(row["code"], row["expired"]) for row in listed] == [(expired.code, True)]
    page = manager.get(reverse("inventory:expired")).content.decode()
    assert expired.code in page and fresh.code not in page

    written = manager.post(reverse("inventory:expired"), {"lot": expired.code})
    assert written.status_code == 302
    expired.refresh_from_db()
    assert expired.on_hand_kg == 0
    movement = expired.movements.order_by("pk").last()
    assert movement.kind == MovementKind.WRITE_OFF and movement.kg_delta == Decimal("-12.000")
    assert manager.get("/api/lots/expired/").json()["results"] == []


@pytest.mark.parametrize("role", ["intake", "packer", "creator"])
def test_only_managers_see_the_expired_stock_list(client_for, role):
    client = client_for(role)
    assert client.get(reverse("inventory:expired")).status_code == 403
    assert client.get("/api/lots/expired/").status_code == 403
