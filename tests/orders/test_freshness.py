"""Fresh on arrival: allocation takes the earliest-expiring lot that still arrives fresh at
the order's province (transit days from the studio's province, the product's days of life on
arrival), a back-order says what it waits for, and expired lots are refused by the pick list,
the wave page, the station and packing. The transit table is the managers'."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from inventory.models import Lot
from orders.lifecycle import ExpiredLot, orders_pack
from orders.models import Allocation, Order, OrderEvent, OrderStatus, TransitTime
from orders.services import order_allocate, order_reallocate, orders_allocate
from orders.transit import TransitTable, default_days
from shipping.picklist import pick_list_data, render_pick_list
from shipping.services import parcel_pack, wave_create
from tests.factories import ProductFactory, receive
from tests.pdf_tools import page_texts
from tests.shipping.builders import carrier_with_pool, new_order, staff, stocked_sku

D = Decimal
KASHGAR = {
    "province": "新疆维吾尔自治区",
    "city": "喀什地区",
    "district": "喀什市",
    "address_detail": "人民东路 17 号",
}
HANGZHOU = {
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "address_detail": "文三路 1 号",
}


def _one_day_peaches(kg: str = "10"):
    """A peach SKU whose only lot has one day of life left (harvested 6 days ago, keeps 7)."""
    sku = stocked_sku("MT-5J", kg="0", product=ProductFactory(name="蜜桃", shelf_life_days=7))
    lot = receive(
        kg=kg,
        product=sku.product,
        grade=sku.grade,
        harvest_date=timezone.localdate() - timedelta(days=6),
    )
    assert lot.days_to_expiry == 1
    return sku, lot


# --- the transit table -----------------------------------------------------------------------


def test_defaults_start_from_the_studios_province(settings):
    settings.STUDIO_PROVINCE = "山东省"
    assert default_days("山东省") == 1
    assert default_days("浙江省") == 1  # 济南 → 杭州, next day
    assert default_days("广东省") == 2
    assert default_days("新疆") == 4  # the distance's 3, and a day more to 新疆
    settings.STUDIO_PROVINCE = "新疆维吾尔自治区"
    assert default_days("新疆维吾尔自治区") == 1
    assert default_days("浙江省") == 4


@pytest.mark.django_db
def test_a_row_for_the_carrier_wins_then_the_provinces_row_then_the_default(settings):
    settings.STUDIO_PROVINCE = "山东省"
    TransitTime.objects.create(province="新疆维吾尔自治区", carrier_code="", days=6)
    TransitTime.objects.create(province="新疆维吾尔自治区", carrier_code="sf", days=3)
    table = TransitTable.load()
    assert table.days("新疆", "sf") == 3
    assert table.days("新疆维吾尔自治区", "zto") == 6
    assert table.days("浙江省", "sf") == 1
    # an address whose province could not be read travels as far as the farthest province
    assert table.days("", "") == max(table.days(name) for name in ("西藏自治区", "新疆"))


# --- allocation: fresh on arrival ------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_one_day_peach_lot_goes_to_hangzhou_and_kashgar_waits_with_its_reason(settings):
    settings.STUDIO_PROVINCE = "山东省"
    sku, lot = _one_day_peaches()
    now = timezone.now()
    kashgar = new_order((sku, 1), number="KS-1", paid_at=now - timedelta(hours=2), **KASHGAR)
    hangzhou = new_order((sku, 1), number="HZ-1", paid_at=now - timedelta(hours=1), **HANGZHOU)

    # when both are allocated, 喀什 paid first
    counts = orders_allocate(orders=[kashgar, hangzhou])

    # then 杭州 (one day away) gets the lot and 喀什 (four days) waits, saying why
    assert counts == {"allocated": 1, "backordered": 1, "skipped": 0}
    kashgar.refresh_from_db()
    hangzhou.refresh_from_db()
    assert hangzhou.status == OrderStatus.ALLOCATED
    assert list(
        Allocation.objects.filter(line__order=hangzhou).values_list("lot_id", flat=True)
    ) == [lot.pk]
    assert kashgar.status == OrderStatus.BACKORDERED
    assert "新疆" in kashgar.backorder_reason and "4" in kashgar.backorder_reason
    assert kashgar.backorder_reason in kashgar.events.last().note
    assert not Allocation.objects.filter(line__order=kashgar).exists()
    assert Lot.objects.get(pk=lot.pk).reserved_kg == D("2.500")


@pytest.mark.django_db
def test_the_reason_is_in_plain_chinese_and_in_the_order_api(client_for, settings):
    settings.STUDIO_PROVINCE = "山东省"
    sku, _lot = _one_day_peaches()
    order = new_order((sku, 1), **KASHGAR)
    client = client_for("manager")
    client.cookies["django_language"] = "zh-hans"

    answer = client.post(f"/api/orders/{order.pk}/allocate/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert answer.json()["result"] == "backordered"
    reason = answer.json()["order"]["backorder_reason"]
    assert reason == "没有能新鲜送达新疆的蜜桃（特级）批次：需 4 天"
    listed = client.get("/api/orders/?status=backordered").json()["results"]
    assert [row["backorder_reason"] for row in listed] == [reason]


@pytest.mark.django_db
def test_days_of_life_on_arrival_count_with_transit(settings):
    settings.STUDIO_PROVINCE = "山东省"
    sku, _lot = _one_day_peaches()
    sku.product.min_days_on_arrival = 1
    sku.product.save()
    order = new_order((sku, 1), **HANGZHOU)  # one day away, one more of life: two needed

    assert order_allocate(order=order) is False
    order.refresh_from_db()
    assert "需 2 天" in order.backorder_reason or "2 days" in order.backorder_reason


@pytest.mark.django_db
def test_the_earliest_lot_that_arrives_fresh_is_taken_not_the_freshest():
    sku, short = _one_day_peaches()
    later = receive(
        kg="10",
        product=sku.product,
        grade=sku.grade,
        harvest_date=timezone.localdate() - timedelta(days=2),
    )
    newest = receive(kg="10", product=sku.product, grade=sku.grade)
    order = new_order((sku, 1), **KASHGAR)  # four days: the one-day lot is too short

    assert order_allocate(order=order) is True
    assert list(Allocation.objects.filter(line__order=order).values_list("lot_id", flat=True)) == [
        later.pk
    ]
    assert newest.pk != later.pk and short.pk != later.pk


@pytest.mark.django_db
def test_an_expired_lot_is_never_allocated_even_next_door():
    sku, lot = _one_day_peaches()
    Lot.objects.filter(pk=lot.pk).update(expiry_date=timezone.localdate() - timedelta(days=1))
    order = new_order((sku, 1), province="山东省", city="济南市", district="历下区")

    assert order_allocate(order=order) is False
    order.refresh_from_db()
    assert "2.5" in order.backorder_reason  # plain shortage: nothing fresh is in stock


@pytest.mark.django_db
def test_a_back_order_filled_later_forgets_its_reason():
    sku, _lot = _one_day_peaches()
    order = new_order((sku, 1), **KASHGAR)
    order_allocate(order=order)
    receive(kg="10", product=sku.product, grade=sku.grade)  # fresh peaches arrive

    order.refresh_from_db()
    assert order.status == OrderStatus.BACKORDERED
    assert order_allocate(order=order) is True
    order.refresh_from_db()
    assert order.backorder_reason == ""


# --- expired lots at the pick list, the wave page, the station and packing -------------------


def _allocated_then_expired():
    sku = stocked_sku("MT-5J", kg="20")
    order = new_order((sku, 1), **HANGZHOU)
    assert order_allocate(order=order)
    lot = Lot.objects.get(product=sku.product)
    Lot.objects.filter(pk=lot.pk).update(expiry_date=timezone.localdate() - timedelta(days=1))
    return order, Lot.objects.get(pk=lot.pk)


@pytest.mark.django_db
def test_packing_refuses_an_expired_lot_with_a_clear_message():
    order, lot = _allocated_then_expired()
    with pytest.raises(ExpiredLot) as refused, transaction.atomic():
        orders_pack(order=order, acting_user=staff("packer"))
    assert lot.code in refused.value.message
    assert refused.value.code == "expired_lot"
    with pytest.raises(ExpiredLot), transaction.atomic():
        parcel_pack(
            order=order,
            carrier=carrier_with_pool(),
            weight_kg=D("2.8"),
            acting_user=staff("packer"),
        )
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED


@pytest.mark.django_db
def test_the_station_refuses_an_expired_lot_at_the_scan(client_for):
    order, lot = _allocated_then_expired()
    client = client_for("packer")

    page = client.get("/shipping/station/", {"order": order.external_no}).content.decode()

    assert lot.code in page
    assert "scan-refused" in page


@pytest.mark.django_db
def test_the_pick_list_and_the_wave_page_refuse_an_expired_lot(client_for):
    order, lot = _allocated_then_expired()
    wave = wave_create(orders=[order], acting_user=staff("packer"))

    data = pick_list_data(wave)
    assert [row.expired for row in data.rows] == [True]
    assert lot.code in data.expired_refusal
    text = "\n".join(page_texts(render_pick_list(data)))
    assert lot.code in text and data.expired_refusal[:6] in text
    page = client_for("packer").get(f"/shipping/waves/{wave.code}/").content.decode()
    assert data.expired_refusal in page


@pytest.mark.django_db
def test_a_manager_allocates_the_order_again_from_fresh_stock(client_for):
    order, old = _allocated_then_expired()
    fresh = receive(kg="10", product=old.product, grade=old.grade)
    client = client_for("manager")
    assert order.external_no in client.get("/orders/waiting/").content.decode()

    answer = client.post(f"/api/orders/{order.pk}/reallocate/")

    assert answer.status_code == 200, answer.content
    assert [a["lot_code"] for line in answer.json()["lines"] for a in line["allocations"]] == [
        fresh.code
    ]
    old.refresh_from_db()
    assert old.reserved_kg == 0
    assert answer.json()["status"] == OrderStatus.ALLOCATED
    assert OrderEvent.objects.filter(order=order, note__contains=old.code).exists()


@pytest.mark.django_db
def test_allocating_again_without_fresh_stock_changes_nothing():
    order, old = _allocated_then_expired()
    with pytest.raises(Exception) as refused:
        order_reallocate(order=order)
    assert getattr(refused.value, "code", "") == "insufficient_stock"
    old.refresh_from_db()
    assert old.reserved_kg == D("2.500")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ALLOCATED


# --- the transit table is the managers' ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["intake", "packer", "creator"])
def test_only_managers_change_the_transit_table(client_for, role):
    client = client_for(role)
    body = {"province": "新疆", "carrier_code": "", "days": 6}
    assert client.post("/api/transit-times/", body).status_code == 403
    assert client.get("/orders/transit/").status_code == 403
    assert client.post("/orders/transit/", {"action": "add"}).status_code == 403
    assert not TransitTime.objects.exists()


@pytest.mark.django_db
def test_a_manager_edits_the_transit_table_by_api_and_page(client_for, settings):
    settings.STUDIO_PROVINCE = "山东省"
    client = client_for("manager")

    made = client.post("/api/transit-times/", {"province": "新疆", "days": 6})
    assert made.status_code == 201, made.content
    assert made.json()["province"] == "新疆维吾尔自治区"
    bad = client.post("/api/transit-times/", {"province": "火星", "days": 2})
    assert bad.status_code == 400 and "province" in bad.json()
    effective = client.get("/api/transit-times/effective/").json()
    by_name = {row["province"]: row for row in effective["provinces"]}
    assert effective["origin"] == "山东省" and len(by_name) == 34
    assert by_name["新疆维吾尔自治区"]["days"] == 6 and by_name["新疆维吾尔自治区"]["from_table"]
    assert by_name["浙江省"] == {**by_name["浙江省"], "days": 1, "from_table": False}

    # the page: 浙江 takes two days now; 新疆 back to its default removes its row
    form = {f"days-{name}": row["days"] for name, row in by_name.items()}
    form |= {"action": "save", "days-浙江省": 2, "days-新疆维吾尔自治区": 4}
    assert client.post("/orders/transit/", form).status_code == 302
    assert dict(TransitTime.objects.values_list("province", "days")) == {"浙江省": 2}
    page = client.get("/orders/transit/").content.decode()
    assert "浙江省" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"province": "新疆", "days": -1},
        {"province": "新疆", "days": 31},
        {"province": "新疆", "days": "三"},
        {"province": "", "days": 2},
        {"province": "新疆" * 20, "days": 2},
        {"province": "新疆", "carrier_code": "x" * 40, "days": 2},
        {"days": 2},
    ],
)
def test_bad_transit_input_is_a_400_naming_the_field(client_for, body):
    answer = client_for("manager").post(
        "/api/transit-times/", body, content_type="application/json"
    )
    assert answer.status_code == 400, answer.content
    assert set(answer.json()) & {"province", "days", "carrier_code"}


@pytest.mark.django_db
def test_the_order_page_says_why_and_allocates_again(client_for):
    order, old = _allocated_then_expired()
    receive(kg="10", product=old.product, grade=old.grade)
    client = client_for("manager")
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert old.code in page and f"/orders/{order.pk}/reallocate/" in page

    answer = client.post(f"/orders/{order.pk}/reallocate/", {"next": f"/orders/{order.pk}/"})

    assert answer.status_code == 302 and answer["Location"] == f"/orders/{order.pk}/"
    assert old.code not in client.get(f"/orders/{order.pk}/").content.decode().split("<table")[0]
    old.refresh_from_db()
    assert old.reserved_kg == 0
