"""The weight-variance list: what the scale said against what each box should weigh, by SKU and
by packer, for managers only (page and API)."""

from decimal import Decimal

import pytest

from shipping.services import parcel_pack
from tests.factories import UserFactory
from tests.shipping.builders import allocated_order, carrier_with_pool, stocked_sku

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def weighed():
    """Three boxes of peaches (2.8 kg expected, 2.6–3.0): 小陈 packs one right and one at
    3.4 kg with ice packs; 小李 packs one at 2.7 kg. One box of sweet potatoes, right."""
    sf = carrier_with_pool(how_many=10)
    peach = stocked_sku("MT-5J", kg="30")
    potato = stocked_sku("HS-5J", kg="30")
    chen = UserFactory(username="xiaochen", first_name="小陈", roles=["packer"])
    li = UserFactory(username="xiaoli", first_name="小李", roles=["packer"])
    for sku, packer, weight, reason in (
        (peach, chen, "2.8", ""),
        (peach, chen, "3.4", "加了冰袋"),
        (peach, li, "2.7", ""),
        (potato, li, "2.8", ""),
    ):
        parcel_pack(
            order=allocated_order((sku, 1)),
            carrier=sf,
            weight_kg=D(weight),
            weight_reason=reason,
            acting_user=packer,
        )


def test_the_api_gives_variance_by_sku_by_packer_and_the_boxes_outside(client_for, weighed):
    response = client_for("manager").get("/api/weight-variance/", {"days": "7"})

    assert response.status_code == 200
    body = response.json()
    assert body["days"] == 7
    sku = {row["merchant_code"]: row for row in body["by_sku"]}
    assert (sku["MT-5J"]["parcels"], sku["MT-5J"]["outside"]) == (3, 1)
    assert sku["MT-5J"]["mean_kg"] == "0.167"  # (0 + 0.6 − 0.1) / 3
    assert sku["MT-5J"]["largest_kg"] == "0.600"
    assert (sku["HS-5J"]["parcels"], sku["HS-5J"]["outside"]) == (1, 0)
    assert body["by_sku"][0]["merchant_code"] == "MT-5J"  # the flagged first
    packers = {row["packer"]: row for row in body["by_packer"]}
    assert (packers["xiaochen"]["parcels"], packers["xiaochen"]["outside"]) == (2, 1)
    assert packers["xiaochen"]["mean_abs_kg"] == "0.300"
    assert (packers["xiaoli"]["parcels"], packers["xiaoli"]["outside"]) == (2, 0)
    (outside,) = body["outside"]
    assert outside["weight_reason"] == "加了冰袋"
    assert (outside["weight_kg"], outside["expected_kg"], outside["variance_kg"]) == (
        "3.400",
        "2.800",
        "0.600",
    )


def test_the_page_is_for_managers_and_a_bad_number_of_days_is_400(client_for, weighed):
    page = client_for("manager").get("/shipping/weights/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.content.decode()
    assert "加了冰袋" in text and "小陈" in text and "MT-5J" in text
    bad = client_for("manager").get("/shipping/weights/", {"days": "x"})
    assert bad.status_code == 400
    assert client_for("manager").get("/api/weight-variance/", {"days": "0"}).status_code == 400
    assert client_for("packer").get("/shipping/weights/").status_code == 403
    assert client_for("packer").get("/api/weight-variance/").status_code == 403
