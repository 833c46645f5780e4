"""The return intake: a returned parcel's items are restocked into their lot or written off,
both in the ledger, never more than went out."""

from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import Lot, MovementKind, StockMovement
from inventory.selectors import stock_mismatches
from orders.models import OrderStatus
from shipping.models import ParcelStatus, ReturnDisposition, ReturnLine
from tests.shipping.builders_api import packed_parcel, shipped_parcel

pytestmark = pytest.mark.django_db


def _form(parcel, *rows):
    """POST data of the return form: one (kg, disposition, reason) per item, in item order."""
    items = list(parcel.items.order_by("id"))
    data = {
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": str(len(items)),
    }
    for index, (item, (kg, disposition, reason)) in enumerate(zip(items, rows, strict=True)):
        data |= {
            f"items-{index}-item": str(item.pk),
            f"items-{index}-kg": kg,
            f"items-{index}-disposition": disposition,
            f"items-{index}-reason": reason,
        }
    return data


def _url(parcel):
    return reverse("shipping:return_parcel", args=[parcel.pk])


def test_scanning_a_tracking_number_opens_the_parcels_return(client_for):
    parcel = shipped_parcel()

    response = client_for("intake").get(
        reverse("shipping:return_find"), {"tracking_number": f" {parcel.tracking_number} "}
    )

    assert response.status_code == 302
    assert response["Location"] == _url(parcel)


def test_an_unknown_tracking_number_says_so(client_for):
    response = client_for("intake").get(
        reverse("shipping:return_find"),
        {"tracking_number": "SF000000000000"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "No parcel has tracking number SF000000000000" in response.content.decode()


def test_the_return_page_lists_items_with_lot_and_kg_shipped(client_for):
    parcel = shipped_parcel(quantity=2)
    item = parcel.items.get()

    html = client_for("packer").get(_url(parcel)).content.decode()

    assert item.line.sku.merchant_code in html
    assert item.lot.code in html
    assert "5 kg" in html
    assert parcel.order.recipient_name not in html
    assert parcel.order.phone not in html


def test_restocking_puts_the_kg_back_into_the_original_lot(client_for):
    parcel = shipped_parcel(quantity=2)
    item = parcel.items.get()
    on_hand_before = Lot.objects.get(pk=item.lot_id).on_hand_kg
    client = client_for("intake")

    response = client.post(_url(parcel), _form(parcel, ("5", ReturnDisposition.RESTOCK, "")))

    assert response.status_code == 302
    lot = Lot.objects.get(pk=item.lot_id)
    assert lot.on_hand_kg == on_hand_before + Decimal("5")
    movement = StockMovement.objects.get(kind=MovementKind.RETURN)
    assert (movement.lot_id, movement.kg_delta) == (lot.pk, Decimal("5.000"))
    assert movement.reference == f"parcel:{parcel.pk}"
    assert not StockMovement.objects.filter(kind=MovementKind.WRITE_OFF).exists()
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.RETURNED
    parcel.order.refresh_from_db()
    assert parcel.order.status == OrderStatus.REFUNDED
    assert stock_mismatches() == []
    # and the page afterwards shows what the ledger recorded
    html = client.get(_url(parcel)).content.decode()
    assert lot.code in html
    assert "+5" in html


def test_writing_off_records_the_return_and_the_write_off(client_for):
    parcel = shipped_parcel(quantity=2)
    item = parcel.items.get()
    on_hand_before = Lot.objects.get(pk=item.lot_id).on_hand_kg

    response = client_for("packer").post(
        _url(parcel), _form(parcel, ("2.5", ReturnDisposition.WRITE_OFF, "压烂了"))
    )

    assert response.status_code == 302
    kinds = list(
        StockMovement.objects.filter(reference=f"parcel:{parcel.pk}")
        .exclude(kind=MovementKind.SHIP_OUT)
        .order_by("id")
        .values_list("kind", "kg_delta", "lot_id")
    )
    assert kinds == [
        (MovementKind.RETURN, Decimal("2.500"), item.lot_id),
        (MovementKind.WRITE_OFF, Decimal("-2.500"), item.lot_id),
    ]
    assert Lot.objects.get(pk=item.lot_id).on_hand_kg == on_hand_before
    line = ReturnLine.objects.get()
    assert (line.kg, line.disposition, line.reason) == (
        Decimal("2.500"),
        ReturnDisposition.WRITE_OFF,
        "压烂了",
    )
    assert stock_mismatches() == []


def test_a_write_off_without_a_reason_is_refused(client_for):
    parcel = shipped_parcel()

    response = client_for("intake").post(
        _url(parcel),
        _form(parcel, ("1", ReturnDisposition.WRITE_OFF, "")),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert "Say why it is written off" in response.content.decode()
    assert not ReturnLine.objects.exists()


def test_more_than_was_shipped_cannot_come_back(client_for):
    parcel = shipped_parcel()  # 2.5 kg
    client = client_for("intake")
    assert (
        client.post(_url(parcel), _form(parcel, ("2", ReturnDisposition.RESTOCK, ""))).status_code
        == 302
    )

    response = client.post(
        _url(parcel), _form(parcel, ("1", ReturnDisposition.RESTOCK, "")), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert "At most 0.5" in response.content.decode()
    assert StockMovement.objects.filter(kind=MovementKind.RETURN).count() == 1
    assert stock_mismatches() == []


def test_a_parcel_never_shipped_cannot_be_returned(client_for):
    parcel = packed_parcel()

    response = client_for("intake").post(
        _url(parcel), _form(parcel, ("1", ReturnDisposition.RESTOCK, ""))
    )

    assert response.status_code == 400
    assert not StockMovement.objects.filter(kind=MovementKind.RETURN).exists()
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.PACKED


def test_nothing_filled_in_is_refused(client_for):
    parcel = shipped_parcel()

    response = client_for("intake").post(_url(parcel), _form(parcel, ("", "restock", "")))

    assert response.status_code == 400
    assert not ReturnLine.objects.exists()


def test_a_form_for_another_parcels_item_is_refused(client_for):
    parcel, other = shipped_parcel(), shipped_parcel()
    data = _form(parcel, ("1", ReturnDisposition.RESTOCK, ""))
    data["items-0-item"] = str(other.items.get().pk)

    response = client_for("intake").post(_url(parcel), data)

    assert response.status_code == 302
    assert not ReturnLine.objects.exists()


@pytest.mark.parametrize("role", ["creator"])
def test_creators_do_not_take_returns(client_for, role):
    parcel = shipped_parcel()
    client = client_for(role)

    assert client.get(reverse("shipping:return_find")).status_code == 403
    assert client.get(_url(parcel)).status_code == 403
    response = client.post(_url(parcel), _form(parcel, ("1", ReturnDisposition.RESTOCK, "")))
    assert response.status_code == 403
    assert not ReturnLine.objects.exists()


@pytest.mark.parametrize("role", ["intake", "packer", "manager"])
def test_return_workers_open_the_return_pages(client_for, role):
    parcel = shipped_parcel()
    client = client_for(role)

    assert client.get(reverse("shipping:return_find")).status_code == 200
    assert client.get(_url(parcel)).status_code == 200


def test_anonymous_users_go_to_the_login_page(client):
    parcel = shipped_parcel()

    for url in (reverse("shipping:return_find"), _url(parcel)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
