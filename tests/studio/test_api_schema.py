"""The OpenAPI schema says what the API answers: the findings of schema fuzzing, one by one
(tests/studio/test_api_schema_fuzz.py fuzzes the whole API against a live server)."""

from urllib.parse import urlsplit

import pytest
import yaml

from orders.models import Order
from tests.shipping.builders_api import packed_parcel

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client_for):
    response = client_for("manager").get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)["components"]["schemas"]


def test_the_first_order_event_from_no_status_is_in_the_schema(schema, client_for):
    parcel = packed_parcel()
    body = client_for("manager").get(f"/api/orders/{parcel.order_id}/").json()

    assert body["events"][0]["from_status"] == ""
    allowed = schema["OrderEvent"]["properties"]["from_status"]["oneOf"]
    refs = {item["$ref"].rsplit("/", 1)[1] for item in allowed}
    assert refs == {"OrderStatusEnum", "BlankEnum"}
    assert schema["BlankEnum"]["enum"] == [""]


@pytest.mark.parametrize("component", ["OrderEvent", "StockMovement", "TrackingEvent"])
def test_an_event_without_a_user_is_declared_nullable(schema, component):
    assert schema[component]["properties"]["acting_user"]["nullable"] is True


def test_parcel_urls_declared_uri_are_absolute(schema, client_for):
    parcel = packed_parcel()
    body = client_for("packer").get(f"/api/parcels/{parcel.pk}/").json()

    for name in ("label_url", "trace_url"):
        assert schema["ParcelDetail"]["properties"][name]["format"] == "uri"
        parts = urlsplit(body[name])
        assert parts.scheme in {"http", "https"} and parts.netloc, body[name]


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("Lot", "price_per_kg"),
        ("DeliveryLot", "amount"),
        ("Order", "goods_total"),
        ("OrderDetail", "shipping_fee"),
        ("OrderLine", "unit_price"),
        ("LiveSession", "gross_sales"),
        ("Sku", "price"),
        ("FarmerDetail", "phone"),
    ],
)
def test_a_field_some_roles_do_not_get_is_optional(schema, component, field):
    assert field in schema[component]["properties"]
    assert field not in schema[component].get("required", [])


def test_no_order_or_parcel_answer_declares_a_full_phone_or_street(schema):
    for name, component in schema.items():
        if name.startswith(
            ("Order", "Parcel", "PackResult", "AllocateResult")
        ) and not name.endswith("Request"):
            assert not {"phone", "address_detail", "raw_address"} & set(
                component.get("properties", {})
            ), name
    assert Order._meta.get_field("phone")  # the data is there, only never answered


def test_an_address_the_api_does_not_have_answers_json(client_for):
    response = client_for("packer").get("/api/carriers/0.5/")

    assert response.status_code == 404
    assert "detail" in response.json()
