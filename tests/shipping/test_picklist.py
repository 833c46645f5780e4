"""The pick list: rows grouped by location, lot and SKU with units and kg (checked against
sums worked out by hand), totals, and a PDF whose text names the lots and SKUs and whose
order barcodes scan."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import Product, Storage
from shipping.picklist import pick_list_data, render_pick_list
from shipping.selectors import pick_rows, pick_totals
from shipping.services import parcel_pack, wave_create
from tests.factories import FarmerFactory, GradeFactory, LocationFactory, SkuFactory, receive
from tests.pdf_tools import decode_barcodes, page_texts, render_page
from tests.shipping.builders import allocated_order, carrier_with_pool, staff

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def stock():
    """蜜桃 (2.5 kg boxes): 10 kg in A-01 (expires first) and 50 kg in B-02.
    猕猴桃 (1.5 kg boxes): 50 kg in A-01."""
    today = timezone.localdate()
    grade = GradeFactory()
    peach = Product.objects.create(name="蜜桃", shelf_life_days=7, storage=Storage.COLD)
    kiwi = Product.objects.create(name="猕猴桃", shelf_life_days=20)
    cold_a = LocationFactory(code="A-01", name="冷库 A")
    shelf_b = LocationFactory(code="B-02", name="常温 B")
    lots = {
        "peach_a": receive(
            kg="10", product=peach, grade=grade, location=cold_a,
            farmer=FarmerFactory(name="朱大山"), harvest_date=today - timedelta(days=3),
        ),
        "peach_b": receive(
            kg="50", product=peach, grade=grade, location=shelf_b,
            farmer=FarmerFactory(name="王秀英"), harvest_date=today,
        ),
        "kiwi_a": receive(
            kg="50", product=kiwi, grade=grade, location=cold_a,
            farmer=FarmerFactory(name="李建国"), harvest_date=today,
        ),
    }  # fmt: skip
    skus = {
        "peach": SkuFactory(
            merchant_code="MT-5J", name="蜜桃 5斤礼盒", product=peach, grade=grade, net_kg=D("2.5")
        ),
        "kiwi": SkuFactory(
            merchant_code="MHT-3J", name="猕猴桃 3斤装", product=kiwi, grade=grade, net_kg=D("1.5")
        ),
    }
    return lots, skus


@pytest.fixture
def wave(stock):
    _lots, skus = stock
    peach, kiwi = skus["peach"], skus["kiwi"]
    orders = [
        allocated_order((peach, 2), (kiwi, 1)),  # 5 kg from peach_a, 1.5 kg kiwi
        allocated_order((peach, 2)),  # the other 5 kg of peach_a
        allocated_order((peach, 1), (kiwi, 2)),  # peach_a is used up: 2.5 kg from peach_b; 3 kg
    ]
    return wave_create(orders=orders, acting_user=staff(), carrier=carrier_with_pool("sf"))


def test_rows_are_grouped_by_location_then_lot_then_sku_with_hand_computed_sums(stock, wave):
    lots, _skus = stock

    rows = pick_rows(wave)

    assert [(r.location_code, r.lot_code, r.merchant_code, r.units, r.kg) for r in rows] == [
        ("A-01", lots["peach_a"].code, "MT-5J", D("4"), D("10.000")),
        ("A-01", lots["kiwi_a"].code, "MHT-3J", D("3"), D("4.500")),
        ("B-02", lots["peach_b"].code, "MT-5J", D("1"), D("2.500")),
    ]
    assert [r.farmer_name for r in rows] == ["朱大山", "李建国", "王秀英"]
    assert [r.sku_name for r in rows] == ["蜜桃 5斤礼盒", "猕猴桃 3斤装", "蜜桃 5斤礼盒"]
    totals = pick_totals(rows)
    assert (totals.rows, totals.units, totals.kg) == (3, D("8"), D("17.000"))


def test_the_rows_come_from_one_grouped_query(wave, django_assert_num_queries):
    with django_assert_num_queries(1):
        pick_rows(wave)


def test_a_unit_split_between_two_lots_shows_its_share_of_units():
    grade = GradeFactory()
    product = Product.objects.create(name="土蜂蜜", shelf_life_days=365)
    first = receive(kg="4", product=product, grade=grade, harvest_date=timezone.localdate())
    receive(kg="20", product=product, grade=grade)
    sku = SkuFactory(merchant_code="FM-1", product=product, grade=grade, net_kg=D("2.5"))
    wave = wave_create(orders=[allocated_order((sku, 2))], acting_user=staff())

    rows = pick_rows(wave)

    assert [(r.lot_code == first.code, r.units, r.kg, r.whole_units) for r in rows] == [
        (True, D("1.60"), D("4.000"), False),
        (False, D("0.40"), D("1.000"), False),
    ]


def test_packed_orders_leave_the_list(stock, wave):
    first = wave.wave_orders.get(position=1).order

    parcel_pack(
        order=first, carrier=wave.carrier, weight_kg=D("7.2"), acting_user=staff()
    )  # 5 kg peach_a + 1.5 kg kiwi

    rows = pick_rows(wave)
    assert [(r.merchant_code, r.kg) for r in rows] == [
        ("MT-5J", D("5.000")),
        ("MHT-3J", D("3.000")),
        ("MT-5J", D("2.500")),
    ]
    assert pick_list_data(wave).packed_count == 1


def test_the_pdf_names_lots_skus_and_totals_and_its_order_barcodes_scan(stock, wave):
    lots, _skus = stock
    data = pick_list_data(wave)

    pdf = render_pick_list(data)

    text = "\n".join(page_texts(pdf))
    for lot in lots.values():
        assert lot.code in text
    assert "蜜桃 5斤礼盒" in text and "猕猴桃 3斤装" in text
    assert "MT-5J" in text and "MHT-3J" in text
    assert wave.code in text and "顺丰" in text
    assert "17" in text  # the total kg
    numbers = [order.order_number for order in data.orders]
    found = decode_barcodes(render_page(pdf, 1, dpi=300))
    for number in numbers:
        assert ("Code128", number) in found


def test_a_long_wave_flows_onto_more_pages():
    grade = GradeFactory()
    product = Product.objects.create(name="核桃", shelf_life_days=180)
    sku = SkuFactory(merchant_code="HT-1", product=product, grade=grade, net_kg=D("1"))
    for _ in range(45):  # 45 lots of 1 kg: each order takes its own lot
        receive(kg="1", product=product, grade=grade)
    orders = [allocated_order((sku, 1)) for _ in range(45)]
    wave = wave_create(orders=orders, acting_user=staff())

    pdf = render_pick_list(pick_list_data(wave))

    texts = page_texts(pdf)
    assert len(texts) >= 3
    assert all(wave.code in page for page in texts)  # the running header
    text = "\n".join(texts)
    assert all(order.external_no in text for order in orders)


def test_the_endpoint_returns_the_pdf(client_for, wave):
    response = client_for("creator").get(reverse("shipping:wave_picklist", args=[wave.code]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert wave.code in "\n".join(page_texts(response.content))


def test_an_unknown_wave_is_404(client_for):
    assert client_for("packer").get("/shipping/waves/W0000-9999/picklist.pdf").status_code == 404


def test_each_row_carries_its_skus_barcode_and_each_lot_its_code_as_code_128(stock, wave):
    lots, skus = stock
    skus["kiwi"].gtin = "6901234567892"
    skus["kiwi"].save(update_fields=["gtin"])

    data = pick_list_data(wave)
    pdf = render_pick_list(data)

    found = decode_barcodes(render_page(pdf, 1, dpi=300))
    # peach has no GTIN: its merchant code; kiwi's GTIN as an EAN-13
    assert ("Code128", "MT-5J") in found
    assert ("EAN13", "6901234567892") in found
    assert ("Code128", "MHT-3J") not in found
    for lot in lots.values():
        assert ("Code128", lot.code) in found
    # one SKU barcode per row, one lot barcode where each lot begins
    assert sum(1 for kind, _v in found if kind == "EAN13") == 1
    sku_rows = [row.barcode_value for row in data.rows]
    assert sorted(v for k, v in found if v in {"MT-5J", "6901234567892"}) == sorted(sku_rows)
