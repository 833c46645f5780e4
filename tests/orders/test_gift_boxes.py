"""Gift boxes (组合装/礼盒): 沂蒙山礼盒 = 2 × 蜜桃 2.5 kg + 1 × 蜂蜜 0.5 kg. An import line of
the box's merchant code reserves every component first expiry first, or none of them; the
pick list and the station name the components, the label names the box, and each farmer's
statement counts the kilograms of their own lots that left in it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from core.errors import DomainError
from inventory.models import Lot, Product, Sku
from inventory.reports import farmer_statement
from inventory.selectors import box_parts
from inventory.services import sku_set_components
from orders.importers import service
from orders.lifecycle import PackItem
from orders.models import Allocation, Channel, ImportMode, Order, OrderStatus
from orders.services import backorders_fill, order_cancel
from shipping.labels import label_data, render_labels
from shipping.selectors import pick_rows
from shipping.services import parcel_pack, wave_create
from tests.factories import FarmerFactory, GradeFactory, SkuFactory, receive
from tests.pdf_tools import page_texts
from tests.shipping.builders import carrier_with_pool

pytestmark = pytest.mark.django_db
D = Decimal
HEADER = (
    "订单号,订单状态,商品名称,商家编码,商品单价,商品数量,运费,实付金额,"
    "收货人,收货人手机号,省,市,区,详细地址,买家留言,支付时间,直播间"
)


@pytest.fixture
def box():
    """The box and its two SKUs; the peaches come from 朱大山 (an older lot first) and 朱二妹,
    the honey from 王蜂农."""
    today = timezone.localdate()
    grade = GradeFactory(name="特级")
    peach = Product.objects.create(name="蜜桃", shelf_life_days=10)
    honey = Product.objects.create(name="蜂蜜", shelf_life_days=365)
    peaches = SkuFactory(
        merchant_code="MT-5J", name="蜜桃 5斤装", product=peach, grade=grade, net_kg=D("2.5")
    )
    jar = SkuFactory(
        merchant_code="FM-1P", name="土蜂蜜 1瓶", product=honey, grade=grade, net_kg=D("0.5")
    )
    gift = SkuFactory(
        merchant_code="LH-YMS",
        name="沂蒙山礼盒",
        product=peach,
        grade=grade,
        net_kg=D("1"),
        price=D("128.00"),
    )
    sku_set_components(bundle=gift, components=[(peaches, 2), (jar, 1)])
    farmers = {
        "old_peach": FarmerFactory(name="朱大山"),
        "new_peach": FarmerFactory(name="朱二妹"),
        "honey": FarmerFactory(name="王蜂农"),
    }
    lots = {
        "old_peach": receive(
            kg="6",
            product=peach,
            grade=grade,
            farmer=farmers["old_peach"],
            harvest_date=today - timedelta(days=2),
        ),
        "new_peach": receive(kg="50", product=peach, grade=grade, farmer=farmers["new_peach"]),
        "honey": receive(kg="1", product=honey, grade=grade, farmer=farmers["honey"]),
    }
    return {"gift": gift, "peaches": peaches, "jar": jar, "lots": lots, "farmers": farmers}


def import_lines(user, *rows: tuple[str, str, int]) -> list[Order]:
    """Import a 快手 export with one order per ``(number, merchant code, quantity)``."""
    body = [HEADER] + [
        f"\t{number},待发货,沂蒙山礼盒,{code},128.00,{qty},0.00,{128 * qty}.00,李梅,"
        f"13912345678,浙江省,杭州市,西湖区,文三路 88 号,,2026-06-18 20:01:04,"
        for number, code, qty in rows
    ]
    with translation.override("en"):
        batch = service.import_upload(
            channel=Channel.objects.get(code="kuaishou"),
            uploaded=SimpleUploadedFile("gift.csv", "\n".join(body).encode("utf-8")),
            acting_user=user,
        )
        batch = service.import_commit(batch=batch, mode=ImportMode.KEEP_GOOD, acting_user=user)
    assert batch.invalid_count == 0, batch.errors if hasattr(batch, "errors") else batch
    return [Order.objects.get(external_no=number) for number, _code, _qty in rows]


def held(order: Order) -> list[tuple[str, D]]:
    return sorted(Allocation.objects.filter(line__order=order).values_list("lot__code", "kg"))


def test_a_box_is_the_sum_of_its_parts(box):
    gift = Sku.objects.get(pk=box["gift"].pk)
    assert gift.is_bundle and gift.net_kg == D("5.500")
    parts = box_parts([gift.pk])[gift.pk]
    assert [(p.merchant_code, p.quantity, p.kg_per_box) for p in parts] == [
        ("MT-5J", 2, D("5.000")),
        ("FM-1P", 1, D("0.500")),
    ]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_a_box_cannot_hold_a_box_or_two_skus_of_one_product(box):
    other = SkuFactory(
        merchant_code="MT-3J",
        product=box["peaches"].product,
        grade=box["peaches"].grade,
        net_kg=D("1.5"),
    )
    with pytest.raises(DomainError, match="one per product and grade"):
        sku_set_components(
            bundle=SkuFactory(merchant_code="X-1"), components=[(box["peaches"], 1), (other, 1)]
        )
    with pytest.raises(DomainError, match="cannot hold another"):
        sku_set_components(bundle=SkuFactory(merchant_code="X-2"), components=[(box["gift"], 1)])
    with pytest.raises(DomainError, match="inside a gift box"):
        sku_set_components(bundle=box["peaches"], components=[(other, 1)])


def test_an_imported_box_reserves_every_component_first_expiry_first(box, make_user):
    (order,) = import_lines(make_user("manager"), ("2606180001", "LH-YMS", 1))

    assert order.status == OrderStatus.ALLOCATED
    lots = box["lots"]
    line = order.lines.get()
    assert (line.sku.merchant_code, line.kg) == ("LH-YMS", D("5.500"))
    # 5 kg of peaches from the older lot (6 kg), 0.5 kg of honey
    assert held(order) == sorted(
        [(lots["old_peach"].code, D("5.000")), (lots["honey"].code, D("0.500"))]
    )


def test_a_box_short_of_one_component_reserves_nothing(box, make_user):
    lots = box["lots"]
    # two boxes need 1 kg of honey: there is 1 kg. Three need 1.5 kg.
    first, second = import_lines(
        make_user("manager"), ("2606180002", "LH-YMS", 3), ("2606180003", "LH-YMS", 2)
    )

    assert first.status == OrderStatus.BACKORDERED
    assert held(first) == []
    assert second.status == OrderStatus.ALLOCATED  # the later, smaller order is served
    lot_state = {lot.code: lot.reserved_kg for lot in Lot.objects.all()}
    assert lot_state[lots["honey"].code] == D("1.000")
    assert lot_state[lots["old_peach"].code] == D("6.000")
    assert lot_state[lots["new_peach"].code] == D("4.000")

    # honey arrives: the waiting box order is filled when the honey's pair is announced
    order_cancel(order=second)
    receive(kg="5", product=box["jar"].product, grade=box["jar"].grade)
    backorders_fill(product_grade_pairs=[(box["jar"].product_id, box["jar"].grade_id)])
    first.refresh_from_db()
    assert first.status == OrderStatus.ALLOCATED


def test_pick_list_label_and_statements_follow_the_components(box, make_user, client_for):
    manager = make_user("manager")
    (order,) = import_lines(manager, ("2606180004", "LH-YMS", 2))
    lots, farmers = box["lots"], box["farmers"]
    wave = wave_create(orders=[order], acting_user=manager)

    # the pick list: one row per component lot, in the component's own units, naming the box
    rows = {(r.lot_code, r.sku_name, r.units, r.kg, r.box_name) for r in pick_rows(wave)}
    assert rows == {
        (lots["old_peach"].code, "蜜桃 5斤装", D("2.4"), D("6.000"), "沂蒙山礼盒"),
        (lots["new_peach"].code, "蜜桃 5斤装", D("1.6"), D("4.000"), "沂蒙山礼盒"),
        (lots["honey"].code, "土蜂蜜 1瓶", D("2"), D("1.000"), "沂蒙山礼盒"),
    }
    pdf = client_for("packer").get(reverse("shipping:wave_picklist", args=[wave.code]))
    text = " ".join(page_texts(pdf.content))
    assert "土蜂蜜 1瓶" in text and "沂蒙山礼盒" in text

    # the station shows the box with the product each lot serves
    station = (
        client_for("packer")
        .get(reverse("shipping:station"), {"order": order.external_no})
        .content.decode()
    )
    assert "沂蒙山礼盒" in station and "蜂蜜" in station and lots["honey"].code in station

    # packed one box at a time: each box takes its share of every component
    line = order.lines.get()
    carrier = carrier_with_pool("sf", how_many=2)
    first = parcel_pack(
        order=order,
        carrier=carrier,
        weight_kg=D("5.9"),
        acting_user=manager,
        items=[PackItem(line.pk, 1)],
    )
    assert not first.complete
    taken = {}
    for item in first.parcel.items.select_related("lot__product"):
        taken[item.lot.product.name] = taken.get(item.lot.product.name, D("0")) + item.kg
    assert taken == {"蜜桃": D("5.000"), "蜂蜜": D("0.500")}
    second = parcel_pack(order=order, carrier=carrier, weight_kg=D("5.9"), acting_user=manager)
    assert second.complete

    # the label names the box, one unit per parcel
    label = label_data(first.parcel)
    assert [(item.name, item.quantity) for item in label.items] == [("沂蒙山礼盒", 1)]
    assert "沂蒙山礼盒" in page_texts(render_labels([label]))[0]

    # each farmer is credited with what left from their own lots
    today = timezone.localdate()
    shipped = {
        key: farmer_statement(
            farmer=farmer, date_from=today - timedelta(days=5), date_to=today
        ).shipped_kg
        for key, farmer in farmers.items()
    }
    assert shipped == {"old_peach": D("6.000"), "new_peach": D("4.000"), "honey": D("1.000")}


def test_the_api_makes_a_gift_box(box, client_for):
    client = client_for("manager")
    body = {
        "merchant_code": "LH-2",
        "name": "双桃礼盒",
        "product": box["peaches"].product_id,
        "grade": box["peaches"].grade_id,
        "price": "88.00",
        "components": [
            {"component": box["peaches"].pk, "quantity": 2},
            {"component": box["jar"].pk, "quantity": 2},
        ],
    }
    response = client.post("/api/skus/", body, content_type="application/json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["is_bundle"], data["net_kg"]) == (True, "6.000")
    assert [(c["merchant_code"], c["quantity"]) for c in data["components"]] == [
        ("MT-5J", 2),
        ("FM-1P", 2),
    ]
    bad = dict(
        body, merchant_code="LH-3", components=[{"component": box["gift"].pk, "quantity": 1}]
    )
    response = client.post(
        "/api/skus/", bad, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "cannot hold another" in str(response.json())
    assert not Sku.objects.filter(merchant_code="LH-3").exists()
