from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import (
    Delivery,
    Farmer,
    Location,
    Lot,
    MovementKind,
    Product,
    Sku,
    StockMovement,
)
from inventory.selectors import stock_mismatches
from inventory.services import lot_write_off
from tests.factories import (
    FarmerFactory,
    GradeFactory,
    LocationFactory,
    ProductFactory,
    SkuFactory,
    receive,
)

pytestmark = pytest.mark.django_db


def _intake_body(farmer, product, grades, /, **overrides):
    body = {
        "farmer": farmer.pk,
        "product": product.pk,
        "harvest_date": timezone.localdate().isoformat(),
        "note": "早上摘的",
        "rows": [
            {
                "grade": grades[0].pk,
                "gross_kg": "180.5",
                "crates": 6,
                "tare_per_crate_kg": "1.2",
                "price_per_kg": "6.50",
            },
            {
                "grade": grades[1].pk,
                "gross_kg": "42",
                "crates": 2,
                "tare_per_crate_kg": "1.000",
                "price_per_kg": "3.00",
            },
        ],
    }
    body.update(overrides)
    return body


def _row_counts():
    return Lot.objects.count(), StockMovement.objects.count(), Delivery.objects.count()


# --- master data -----------------------------------------------------------------------------


def test_manager_creates_updates_and_deletes_a_product(client_for):
    client = client_for("manager")

    created = client.post(
        "/api/products/",
        {"name": "板栗", "category": "干果", "shelf_life_days": 60, "storage": "ambient"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    product_id = created.json()["id"]
    assert Product.objects.get(pk=product_id).shelf_life_days == 60

    changed = client.patch(
        f"/api/products/{product_id}/", {"shelf_life_days": 90}, content_type="application/json"
    )
    assert changed.status_code == 200
    assert Product.objects.get(pk=product_id).shelf_life_days == 90

    deleted = client.delete(f"/api/products/{product_id}/")
    assert deleted.status_code == 204
    assert not Product.objects.filter(pk=product_id).exists()


def test_a_product_with_zero_shelf_life_is_refused(client_for):
    client = client_for("manager")

    response = client.post(
        "/api/products/",
        {"name": "板栗", "shelf_life_days": 0},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "shelf_life_days" in response.json()
    assert not Product.objects.filter(name="板栗").exists()


def test_manager_creates_and_updates_a_sku(client_for):
    client = client_for("manager")
    product, grade = ProductFactory(), GradeFactory()

    created = client.post(
        "/api/skus/",
        {
            "merchant_code": "MT-5J",
            "name": "蜜桃 5斤礼盒",
            "product": product.pk,
            "grade": grade.pk,
            "net_kg": "2.500",
            "price": "39.90",
            "packaging_kg": "0.300",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["product_name"] == "蜜桃"
    assert created.json()["net_kg"] == "2.500"
    sku = Sku.objects.get(merchant_code="MT-5J")
    assert sku.net_kg == Decimal("2.500")

    changed = client.patch(
        f"/api/skus/{sku.pk}/", {"price": "35.00"}, content_type="application/json"
    )
    assert changed.status_code == 200
    sku.refresh_from_db()
    assert sku.price == Decimal("35.00")


def test_a_sku_with_zero_net_weight_is_refused_not_a_server_error(client_for):
    client = client_for("manager")
    sku = SkuFactory()

    response = client.patch(
        f"/api/skus/{sku.pk}/", {"net_kg": "0"}, content_type="application/json"
    )

    assert response.status_code == 400
    sku.refresh_from_db()
    assert sku.net_kg == Decimal("2.500")


def test_sku_list_filters_by_product_grade_and_active(client_for):
    client = client_for("packer")
    peach, chestnut = ProductFactory(), ProductFactory(name="板栗")
    first, second = GradeFactory(), GradeFactory(name="一级", rank=1)
    SkuFactory(merchant_code="P1", product=peach, grade=first)
    SkuFactory(merchant_code="P2", product=peach, grade=second)
    SkuFactory(merchant_code="C1", product=chestnut, grade=first, is_active=False)

    def codes(query):
        return [row["merchant_code"] for row in client.get(f"/api/skus/?{query}").json()["results"]]

    assert codes(f"product={peach.pk}") == ["P1", "P2"]
    assert codes(f"grade={first.pk}") == ["C1", "P1"]
    assert codes("active=false") == ["C1"]
    assert codes("merchant_code=P2") == ["P2"]


def test_manager_creates_and_renames_a_location(client_for):
    client = client_for("manager")

    created = client.post(
        "/api/locations/",
        {"code": "B", "name": "常温库 B", "storage": "ambient"},
        content_type="application/json",
    )
    assert created.status_code == 201
    location = Location.objects.get(code="B")

    renamed = client.put(
        f"/api/locations/{location.pk}/",
        {"code": "B", "name": "常温库 B 区", "storage": "ambient", "is_active": True},
        content_type="application/json",
    )
    assert renamed.status_code == 200
    location.refresh_from_db()
    assert location.name == "常温库 B 区"


def test_deleting_a_location_that_holds_lots_answers_409(client_for):
    lot = receive()
    client = client_for("manager")

    response = client.delete(f"/api/locations/{lot.location_id}/")

    assert response.status_code == 409
    assert "detail" in response.json()
    assert Location.objects.filter(pk=lot.location_id).exists()


def test_deleting_a_farmer_who_delivered_answers_409_and_suggests_deactivating(client_for):
    lot = receive()
    client = client_for("manager")

    response = client.delete(f"/api/farmers/{lot.farmer_id}/")

    assert response.status_code == 409
    assert "is_active" in response.json()["detail"]
    assert Farmer.objects.filter(pk=lot.farmer_id).exists()


def test_deleting_a_grade_used_by_a_sku_answers_409(client_for):
    sku = SkuFactory()
    client = client_for("manager")

    response = client.delete(f"/api/grades/{sku.grade_id}/")

    assert response.status_code == 409


# --- farmers ---------------------------------------------------------------------------------


def test_intake_staff_register_a_farmer_through_the_service(client_for):
    client = client_for("intake")

    response = client.post(
        "/api/farmers/",
        {"name": " 朱大山 ", "village": "朱家坪村", "phone": "13800001111"},
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    farmer = Farmer.objects.get(phone="13800001111")
    assert farmer.name == "朱大山"  # the service strips it
    assert response.json()["phone"] == "13800001111"


def test_a_farmer_with_a_phone_already_taken_is_refused(client_for):
    FarmerFactory(phone="13800001111")
    client = client_for("intake")

    response = client.post(
        "/api/farmers/",
        {"name": "王秀英", "village": "朱家坪村", "phone": "13800001111"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "phone" in response.json()
    assert Farmer.objects.count() == 1


def test_manager_deactivates_a_farmer(client_for):
    farmer = FarmerFactory()
    client = client_for("manager")

    response = client.patch(
        f"/api/farmers/{farmer.pk}/", {"is_active": False}, content_type="application/json"
    )

    assert response.status_code == 200
    farmer.refresh_from_db()
    assert farmer.is_active is False


def test_farmer_list_filters_by_name_village_and_active(client_for):
    FarmerFactory(name="朱大山", village="朱家坪村")
    FarmerFactory(name="朱小红", village="火烧店村", is_active=False)
    FarmerFactory(name="王秀英", village="朱家坪村")
    client = client_for("intake")

    def names(query):
        return sorted(row["name"] for row in client.get(f"/api/farmers/?{query}").json()["results"])

    assert names("q=朱") == ["朱大山", "朱小红"]
    assert names("village=朱家坪村") == ["朱大山", "王秀英"]
    assert names("active=false") == ["朱小红"]


def test_intake_staff_see_the_full_phone_of_one_farmer_but_not_in_the_list(client_for):
    farmer = FarmerFactory(phone="13912345678")
    client = client_for("intake")

    one = client.get(f"/api/farmers/{farmer.pk}/").json()
    listed = client.get("/api/farmers/").json()["results"][0]

    assert one["phone"] == "13912345678"
    assert listed["masked_phone"] == "139****5678"
    assert "13912345678" not in str(listed)


# --- intake ----------------------------------------------------------------------------------


def test_intake_post_records_a_two_grade_delivery(client_for):
    farmer, product = FarmerFactory(), ProductFactory()
    grades = [GradeFactory(), GradeFactory(name="一级", rank=1)]
    LocationFactory()
    client = client_for("intake")

    response = client.post(
        "/api/intakes/", _intake_body(farmer, product, grades), content_type="application/json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    delivery = Delivery.objects.get(code=body["code"])
    assert delivery.farmer == farmer
    assert [lot["net_kg"] for lot in body["lots"]] == ["173.300", "40.000"]
    assert [lot["amount"] for lot in body["lots"]] == ["1126.45", "120.00"]
    assert body["lots"][0]["grade"] == grades[0].pk
    expiry = timezone.localdate() + timedelta(days=product.shelf_life_days)
    assert body["lots"][0]["expiry_date"] == expiry.isoformat()
    assert body["tags_url"] == reverse("inventory:lot_tags", args=[delivery.pk])
    assert body["slip_url"] == reverse("inventory:intake_slip", args=[delivery.pk])
    lots = list(delivery.lots.order_by("id"))
    assert [lot.on_hand_kg for lot in lots] == [Decimal("173.300"), Decimal("40.000")]
    movements = [lot.movements.get() for lot in lots]
    assert [m.kind for m in movements] == [MovementKind.INTAKE] * 2
    assert [m.kg_delta for m in movements] == [Decimal("173.300"), Decimal("40.000")]
    assert all(m.acting_user == client.user for m in movements)
    assert stock_mismatches() == []


def test_a_delivery_is_listed_with_its_lots(client_for):
    lot = receive(kg="55")
    client = client_for("creator")

    response = client.get("/api/intakes/")

    assert response.status_code == 200
    (delivery,) = response.json()["results"]
    assert [row["code"] for row in delivery["lots"]] == [lot.code]
    assert delivery["lots"][0]["net_kg"] == "55.000"


def _bad_row(**row):
    return {"gross_kg": "100", "crates": 0, "tare_per_crate_kg": "0", "price_per_kg": "5", **row}


@pytest.mark.parametrize(
    ("change", "field_path"),
    [
        ({"rows": [_bad_row(gross_kg="0")]}, ("rows", 0, "gross_kg")),
        ({"rows": [_bad_row(), _bad_row(gross_kg="-3")]}, ("rows", 1, "gross_kg")),
        ({"rows": [_bad_row(gross_kg="10.1234")]}, ("rows", 0, "gross_kg")),
        (
            {"rows": [_bad_row(tare_per_crate_kg="0.0001", crates=1)]},
            ("rows", 0, "tare_per_crate_kg"),
        ),
        (
            {"rows": [_bad_row(gross_kg="10", crates=5, tare_per_crate_kg="2")]},
            ("rows", 0, "tare_per_crate_kg"),
        ),
        ({"rows": [_bad_row(price_per_kg="1.234")]}, ("rows", 0, "price_per_kg")),
        ({"rows": [_bad_row(gross_kg="heavy")]}, ("rows", 0, "gross_kg")),
        ({"harvest_date": "tomorrow"}, ("harvest_date",)),
        ({"harvest_date": "future"}, ("harvest_date",)),
        ({"farmer": 987654}, ("farmer",)),
        ({"farmer": "inactive"}, ("farmer",)),
        ({"product": "inactive"}, ("product",)),
        ({"rows": []}, ("rows",)),
    ],
)
def test_bad_intake_input_answers_400_naming_the_field_and_saves_nothing(
    client_for, change, field_path
):
    farmer, product = FarmerFactory(), ProductFactory()
    grades = [GradeFactory(), GradeFactory(name="一级", rank=1)]
    LocationFactory()
    receive(farmer=farmer, product=product)  # something already in stock
    client = client_for("intake")
    change = {
        key: list(map(dict, value)) if key == "rows" else value for key, value in change.items()
    }
    if change.get("harvest_date") == "future":
        change["harvest_date"] = (timezone.localdate() + timedelta(days=1)).isoformat()
    if change.get("farmer") == "inactive":
        change["farmer"] = FarmerFactory(is_active=False).pk
    if change.get("product") == "inactive":
        change["product"] = ProductFactory(name="板栗", is_active=False).pk
    for row in change.get("rows", []):
        row["grade"] = grades[0].pk
    before = _row_counts()

    response = client.post(
        "/api/intakes/",
        _intake_body(farmer, product, grades, **change),
        content_type="application/json",
    )

    assert response.status_code == 400
    errors = response.json()
    for key in field_path:
        errors = errors[key]
    assert errors and isinstance(errors[0], str)
    assert _row_counts() == before


def test_packer_cannot_record_an_intake(client_for):
    farmer, product = FarmerFactory(), ProductFactory()
    grades = [GradeFactory(), GradeFactory(name="一级", rank=1)]
    client = client_for("packer")
    before = _row_counts()

    response = client.post(
        "/api/intakes/", _intake_body(farmer, product, grades), content_type="application/json"
    )

    assert response.status_code == 403
    assert "detail" in response.json()
    assert _row_counts() == before


# --- lots ------------------------------------------------------------------------------------


def test_lot_list_shows_names_and_available_kg(client_for):
    lot = receive(kg="100")
    client = client_for("packer")

    response = client.get("/api/lots/")

    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["code"] == lot.code
    assert row["available_kg"] == "100.000"
    assert row["product_name"] == "蜜桃"
    assert row["grade_name"] == "特级"
    assert row["farmer_name"] == lot.farmer.name
    assert row["location_code"] == "A"
    assert row["days_to_expiry"] == 7


def test_lot_list_filters(client_for):
    cold = LocationFactory()
    shelf = LocationFactory(code="B", name="常温库", storage="ambient")
    today = timezone.localdate()
    old = receive(kg="10", harvest_date=today - timedelta(days=6), location=cold)
    fresh = receive(kg="20", location=shelf)
    chestnut = receive(kg="30", product=ProductFactory(name="板栗", shelf_life_days=60))
    empty = receive(kg="5")
    lot_write_off(lot=empty, kg=Decimal("5"), reason="烂了", acting_user=empty.delivery.received_by)
    client = client_for("creator")

    def codes(query):
        response = client.get(f"/api/lots/?{query}")
        assert response.status_code == 200, response.json()
        return {row["code"] for row in response.json()["results"]}

    assert codes("has_stock=true") == {old.code, fresh.code, chestnut.code}
    assert codes("has_stock=false") == {empty.code}
    assert codes("expiring_within=2") == {old.code}
    assert codes(f"product={chestnut.product_id}") == {chestnut.code}
    assert codes(f"location={shelf.pk}") == {fresh.code}
    assert codes(f"farmer={fresh.farmer_id}") == {fresh.code}
    assert codes(f"code={old.code}") == {old.code}


def test_lot_list_orders_by_on_hand(client_for):
    small, large = receive(kg="10"), receive(kg="90")
    client = client_for("packer")

    rows = client.get("/api/lots/?ordering=-on_hand_kg").json()["results"]

    assert [row["code"] for row in rows] == [large.code, small.code]


def test_write_off_through_the_api_changes_the_ledger(client_for):
    lot = receive(kg="100")
    client = client_for("intake")

    response = client.post(
        f"/api/lots/{lot.code}/write-off/",
        {"kg": "12.5", "reason": "压坏"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["on_hand_kg"] == "87.500"
    movement = lot.movements.order_by("-id").first()
    assert movement.kind == MovementKind.WRITE_OFF
    assert movement.kg_delta == Decimal("-12.500")
    assert movement.note == "压坏"
    assert stock_mismatches() == []


def test_a_write_off_above_the_available_kg_answers_400_naming_kg(client_for):
    lot = receive(kg="100")
    client = client_for("manager")

    response = client.post(
        f"/api/lots/{lot.code}/write-off/",
        {"kg": "100.001", "reason": "烂了"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "kg" in response.json()
    lot.refresh_from_db()
    assert lot.on_hand_kg == Decimal("100.000")
    assert lot.movements.count() == 1


def test_count_through_the_api_records_the_difference(client_for):
    lot = receive(kg="100")
    client = client_for("intake")

    response = client.post(
        f"/api/lots/{lot.code}/count/",
        {"counted_kg": "97.4", "reason": "盘点"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["on_hand_kg"] == "97.400"
    movement = lot.movements.order_by("-id").first()
    assert movement.kind == MovementKind.ADJUSTMENT
    assert movement.kg_delta == Decimal("-2.600")
    assert stock_mismatches() == []


def test_move_through_the_api_takes_a_location_id(client_for):
    lot = receive()
    shelf = LocationFactory(code="B", name="常温库", storage="ambient")
    client = client_for("manager")

    response = client.post(
        f"/api/lots/{lot.code}/move/", {"location": shelf.pk}, content_type="application/json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["location_code"] == "B"
    lot.refresh_from_db()
    assert lot.location == shelf
    movement = lot.movements.order_by("-id").first()
    assert movement.kind == MovementKind.MOVE
    assert movement.kg_delta == 0
    assert stock_mismatches() == []


def test_moving_to_an_unknown_location_answers_400_naming_location(client_for):
    lot = receive()
    client = client_for("manager")

    response = client.post(
        f"/api/lots/{lot.code}/move/", {"location": 987654}, content_type="application/json"
    )

    assert response.status_code == 400
    assert "location" in response.json()
    assert lot.movements.count() == 1


def test_lot_movements_list_the_ledger(client_for):
    lot = receive(kg="100")
    lot_write_off(lot=lot, kg=Decimal("3"), reason="烂了", acting_user=lot.delivery.received_by)
    client = client_for("packer")

    response = client.get(f"/api/lots/{lot.code}/movements/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [row["kind"] for row in body["results"]] == ["intake", "write_off"]
    assert [row["on_hand_after"] for row in body["results"]] == ["100.000", "97.000"]


def test_lot_list_query_count_does_not_grow_with_lots(client_for, django_assert_max_num_queries):
    for _ in range(3):
        receive()
    client = client_for("packer")
    with django_assert_max_num_queries(20) as few:
        assert len(client.get("/api/lots/").json()["results"]) == 3

    for _ in range(27):
        receive()
    with django_assert_max_num_queries(len(few)) as many:
        assert len(client.get("/api/lots/").json()["results"]) == 30

    assert len(many) == len(few)


def test_intake_list_query_count_does_not_grow_with_deliveries(
    client_for, django_assert_max_num_queries
):
    for _ in range(2):
        receive()
    client = client_for("packer")
    with django_assert_max_num_queries(20) as few:
        assert len(client.get("/api/intakes/").json()["results"]) == 2

    for _ in range(10):
        receive()
    with django_assert_max_num_queries(len(few)) as many:
        assert len(client.get("/api/intakes/").json()["results"]) == 12

    assert len(many) == len(few)


def test_row_errors_have_one_shape_whether_the_type_or_the_rule_is_wrong(client_for):
    farmer, product = FarmerFactory(), ProductFactory()
    grades = [GradeFactory(), GradeFactory(name="一级", rank=1)]
    LocationFactory()
    client = client_for("intake")

    def row_errors(gross_kg):
        body = _intake_body(farmer, product, grades)
        body["rows"][1]["gross_kg"] = gross_kg
        response = client.post("/api/intakes/", body, content_type="application/json")
        assert response.status_code == 400
        return response.json()["rows"]

    not_a_number, not_positive = row_errors("heavy"), row_errors("0")

    assert not_a_number[0] == {} and list(not_a_number[1]) == ["gross_kg"]
    assert not_positive[0] == {} and list(not_positive[1]) == ["gross_kg"]
    assert Delivery.objects.count() == 0


def test_an_intake_sent_twice_with_the_same_idempotency_key_is_recorded_once(client_for):
    # given a scale's client whose first answer was lost on a bad network
    farmer, product = FarmerFactory(), ProductFactory()
    grades = [GradeFactory(), GradeFactory(name="一级", rank=1)]
    LocationFactory()
    client = client_for("intake")
    body = _intake_body(farmer, product, grades)

    def send(key, payload=body):
        return client.post(
            "/api/intakes/",
            payload,
            content_type="application/json",
            headers={"Idempotency-Key": key},
        )

    first, again = send("scale-7-0042"), send("scale-7-0042")

    # then one delivery, the same answer twice, the repeat marked as replayed
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Delivery.objects.count() == 1
    assert StockMovement.objects.count() == 2  # one intake row per lot, not four
    # a new key is a new delivery; the old key with another body is a 409
    assert send("scale-7-0043").status_code == 201
    changed = _intake_body(farmer, product, grades, note="另一车")
    assert send("scale-7-0042", changed).status_code == 409
    assert Delivery.objects.count() == 2
