"""Orders' addresses on the national divisions: read when an order is created (API), shown
with their area code, listed for review when they could not be read, corrected by managers
on the page and through the API; stored provinces made canonical; farmers' area codes."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils.module_loading import import_string

from orders import reports
from orders.addresses import order_address_correct
from orders.drafts import LineDraft, OrderDraft
from orders.models import Channel, Order, OrderEvent, OrderStatus
from orders.services import orders_create
from tests.factories import FarmerFactory, SkuFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
PAID = datetime(2026, 12, 3, 20, 0, tzinfo=SHANGHAI)


def make(number: str, *, detail: str, province: str = "", city: str = "", district: str = ""):
    sku = SkuFactory(merchant_code="MT-5J-TJ")
    (order,) = orders_create(
        channel=Channel.objects.get(code="kuaishou"),
        drafts=[
            OrderDraft(
                external_no=number,
                recipient_name="王秀英",
                phone="13812345678",
                province=province,
                city=city,
                district=district,
                address_detail=detail,
                paid_at=PAID,
                lines=[LineDraft(sku=sku, quantity=1, unit_price=sku.price)],
            )
        ],
    )
    return order


def test_an_order_created_with_a_one_column_address_is_read_and_keeps_the_raw_text():
    order = make("A1", detail="内蒙古呼和浩特市赛罕区大学东街1号")

    order.refresh_from_db()
    assert (order.province, order.city, order.district, order.adcode) == (
        "内蒙古自治区",
        "呼和浩特市",
        "赛罕区",
        "150105",
    )
    assert (order.address_detail, order.address_status) == ("大学东街1号", "matched")
    assert order.raw_address == "内蒙古呼和浩特市赛罕区大学东街1号"


def test_the_order_api_shows_province_city_district_and_adcode(client_for):
    order = make("A1", province="浙江", city="杭州", district="西湖", detail="文三路1号")
    client = client_for("creator")

    body = client.get(f"/api/orders/{order.pk}/").json()
    listed = client.get("/api/orders/").json()["results"][0]

    for shown in (body, listed):
        assert (shown["province"], shown["city"], shown["district"], shown["adcode"]) == (
            "浙江省",
            "杭州市",
            "西湖区",
            "330106",
        )
        assert shown["address_status"] == "matched"
    assert "address_detail" not in body  # creators get the district only


def test_addresses_to_review_are_listed_for_managers(client_for):
    make("OK1", detail="浙江省杭州市西湖区文三路1号")
    make("P1", detail="江苏鼓楼区中山北路1号")
    make("U1", detail="朝阳区建国路88号")
    client = client_for("manager")

    def numbers(query):
        return sorted(
            row["external_no"] for row in client.get(f"/api/orders/{query}").json()["results"]
        )

    assert numbers("?address_review=true") == ["P1", "U1"]
    assert numbers("?address_review=false") == ["OK1"]
    assert numbers("?address_status=unmatched") == ["U1"]
    assert numbers("?province=江苏") == ["P1"]
    page = client.get(reverse("orders:list"), {"address": "review"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "P1" in text and "U1" in text and "OK1" not in text
    assert "Address to review" in text or "地址待核对" in text


def test_a_manager_confirms_an_address_through_the_api(client_for):
    order = make("U1", detail="朝阳区建国路88号")
    client = client_for("manager")

    response = client.post(
        f"/api/orders/{order.pk}/address/",
        {"province": "北京", "district": "朝阳区", "address_detail": "建国路88号"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["province"], body["city"], body["district"], body["adcode"]) == (
        "北京市",
        "北京市",
        "朝阳区",
        "110105",
    )
    assert body["address_status"] == "confirmed"
    assert "address_detail" not in body  # the API never gives the street (README)
    order.refresh_from_db()
    assert order.address_detail == "建国路88号"
    event = OrderEvent.objects.filter(order=order).last()
    assert (event.from_status, event.to_status, event.acting_user) == (
        OrderStatus.NEW,
        OrderStatus.NEW,
        client.user,
    )
    assert "北京市朝阳区" in event.note


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"province": "火星", "address_detail": "1号"}, "province"),
        ({"province": "浙江", "district": "鼓楼区", "address_detail": "1号"}, "district"),
        ({"province": "浙江", "city": "南京", "address_detail": "1号"}, "city"),
        ({"province": "浙江", "address_detail": "  "}, "address_detail"),
    ],
)
def test_a_correction_that_names_no_real_place_is_refused(client_for, body, field):
    order = make("U1", detail="朝阳区建国路88号")
    client = client_for("manager")

    response = client.post(
        f"/api/orders/{order.pk}/address/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert field in response.json(), response.json()
    order.refresh_from_db()
    assert order.address_status == "unmatched"


@pytest.mark.parametrize("role", ["creator", "packer"])
def test_only_managers_correct_addresses(client_for, role):
    order = make("U1", detail="朝阳区建国路88号")
    client = client_for(role)

    api = client.post(
        f"/api/orders/{order.pk}/address/",
        {"province": "北京", "district": "朝阳区", "address_detail": "建国路88号"},
        content_type="application/json",
    )
    page = client.post(
        reverse("orders:address", args=[order.pk]),
        {"province": "北京", "district": "朝阳区", "address_detail": "建国路88号"},
    )
    detail = client.get(reverse("orders:detail", args=[order.pk]))

    assert (api.status_code, page.status_code) == (403, 403)
    assert 'action="/orders/' not in detail.content.decode().split("address-form")[0][-300:]
    assert "建国路88号" not in detail.content.decode()  # the street stays masked
    order.refresh_from_db()
    assert order.address_status == "unmatched"


def test_a_shipped_order_keeps_its_address(client_for):
    order = make("U1", detail="朝阳区建国路88号")
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.SHIPPED)
    client = client_for("manager")

    response = client.post(
        f"/api/orders/{order.pk}/address/",
        {"province": "北京", "district": "朝阳区", "address_detail": "建国路88号"},
        content_type="application/json",
    )

    assert response.status_code == 409


def test_the_order_page_lets_a_manager_confirm_an_address(client_for):
    order = make("P1", detail="江苏鼓楼区中山北路1号")
    client = client_for("manager")

    shown = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    bad = client.post(
        reverse("orders:address", args=[order.pk]),
        {"province": "江苏", "city": "杭州", "address_detail": "中山北路1号"},
    )
    good = client.post(
        reverse("orders:address", args=[order.pk]),
        {"province": "江苏", "city": "南京", "district": "鼓楼", "address_detail": "中山北路1号"},
    )

    assert "江苏鼓楼区中山北路1号" in shown  # the text as received, for the manager
    assert 'id="address"' in shown and "open" in shown.split('id="address"')[0][-40:]
    assert bad.status_code == 400
    assert good.status_code == 302
    order.refresh_from_db()
    assert (order.city, order.district, order.adcode, order.address_status) == (
        "南京市",
        "鼓楼区",
        "320106",
        "confirmed",
    )
    order_address_correct(
        order=order,
        province="江苏省",
        city="徐州市",
        district="鼓楼区",
        detail="1号",
        acting_user=None,
    )
    assert order.adcode == "320302"


def test_stored_provinces_become_canonical_and_the_dashboard_counts_one_province():
    """Migration 0006 on rows stored as received: 浙江 and 浙江省 were two bars."""
    make("A1", detail="浙江省杭州市西湖区文三路1号")
    make("A2", detail="浙江省杭州市西湖区文三路2号")
    make("A3", detail="浙江省宁波市鄞州区1号")
    Order.objects.filter(external_no="A1").update(
        province="浙江", city="杭州", district="西湖区", adcode="", address_status="unmatched"
    )
    Order.objects.filter(external_no="A3").update(
        province="浙江", city="宁波市", district="", address_detail="鄞州区1号", adcode=""
    )
    migration = import_string(
        "orders.migrations.0007_orders_addresses_on_national_divisions.read_addresses"
    )

    migration(apps, None)

    rows = dict(
        (number, (province, city, district, adcode, status, detail))
        for number, province, city, district, adcode, status, detail in Order.objects.values_list(
            "external_no",
            "province",
            "city",
            "district",
            "adcode",
            "address_status",
            "address_detail",
        )
    )
    assert rows["A1"] == ("浙江省", "杭州市", "西湖区", "330106", "matched", "文三路1号")
    assert rows["A3"] == ("浙江省", "宁波市", "鄞州区", "330212", "matched", "1号")
    sales = reports.sales_dashboard(date_from=PAID.date(), date_to=PAID.date())
    assert [(row.province, row.orders) for row in sales.provinces] == [("浙江省", 3)]


def test_farmers_area_codes_are_checked_against_the_national_divisions(client_for):
    farmer = FarmerFactory(county="")
    client = client_for("manager")

    unknown = client.patch(
        f"/api/farmers/{farmer.pk}/", {"adcode": "371399"}, content_type="application/json"
    )
    known = client.patch(
        f"/api/farmers/{farmer.pk}/", {"adcode": "371321"}, content_type="application/json"
    )

    assert unknown.status_code == 400 and "adcode" in unknown.json()
    assert known.status_code == 200, known.json()
    assert known.json()["area_name"] == "山东省临沂市沂南县"
    farmer.refresh_from_db()
    assert farmer.adcode == "371321"
