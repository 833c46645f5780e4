"""Stock health on a warehouse whose every figure is worked out by hand. "Today" is
2026-06-20, noon; every event happens through the services at its own time.

lot  received  product      farmer  kg   ¥/kg  expiry        events
A    T−15      板栗 特级     朱大山   100  12.00 T+75          T−10 ship 10 (outside the 7-day
                                                             window), T−3 write off 1.25,
                                                             T−2 ship 7 → 81.75 on hand
B    T−8       蜜桃 特级     王秀英   80   6.00  T−1 expired   T−3 ship 20, T−2 2 come back,
                                                             T−2 write off 6, T−1 8 reserved
                                                             → 56 on hand, 48 available
C    T−4       蜜桃 特级     朱大山   50   7.00  T+2 (picked   T−1 write off 2.5 → 47.5
                                           a day before)
D    T−1       蜜桃 一级     王秀英   40   5.00  T+6           –
E    T         蜜桃 特级     朱大山   30   7.50  T+7           –
F    T−40      板栗 一级     朱大山   20   10.00 T+50          T−35 write off 5 (outside the
                                                             30 days) → 15
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inventory.reports import stock_health
from inventory.services import (
    ReserveRequest,
    lot_write_off,
    stock_reserve,
    stock_return,
    stock_ship_out,
)
from tests.clock import clock_at
from tests.factories import (
    FarmerFactory,
    GradeFactory,
    LocationFactory,
    ProductFactory,
    SkuFactory,
    UserFactory,
    receive,
)

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = date(2026, 6, 20)
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def at(days_before: int, hour: int = 9):
    return clock_at(
        timezone.make_aware(datetime.combine(TODAY - timedelta(days=days_before), time(hour)))
    )


NOW = 0  # days before today: today, at noon
today_noon = timezone.make_aware(datetime.combine(TODAY, time(12)))


@pytest.fixture
def warehouse():
    user = UserFactory(username="health-manager", roles=["manager"])
    LocationFactory()
    peach = ProductFactory(name="蜜桃", shelf_life_days=7)
    chestnut = ProductFactory(name="板栗", shelf_life_days=90, storage="ambient")
    top, first = GradeFactory(name="特级", rank=0), GradeFactory(name="一级", rank=1)
    zhu = FarmerFactory(name="朱大山", village="朱家坪村")
    wang = FarmerFactory(name="王秀英", village="火烧店村")
    SkuFactory(merchant_code="MT-TJ", name="蜜桃 特级 5斤", product=peach, grade=top)
    SkuFactory(merchant_code="MT-YJ", name="蜜桃 一级 5斤", product=peach, grade=first)
    SkuFactory(
        merchant_code="BL-TJ", name="板栗 特级 2斤", product=chestnut, grade=top, net_kg=D("1")
    )

    def lot(days_before, product, grade, farmer, kg, price, picked_before=0):
        with at(days_before, 8):
            return receive(
                farmer=farmer,
                product=product,
                grade=grade,
                kg=kg,
                price=price,
                harvest_date=TODAY - timedelta(days=days_before + picked_before),
            )

    def ship(days_before, product, grade, kg, hour=10):
        with at(days_before, hour):
            (taken,) = stock_reserve(
                requests=[ReserveRequest(product.pk, grade.pk, D(kg))], reference="order:x"
            )
            stock_ship_out(items=taken, reference="parcel:x", acting_user=user)
            return taken

    def spoil(days_before, lot, kg):
        with at(days_before, 18):
            lot_write_off(lot=lot, kg=D(kg), reason="烂果", acting_user=user)

    f = lot(40, chestnut, first, zhu, "20", "10.00")
    spoil(35, f, "5")
    a = lot(15, chestnut, top, zhu, "100", "12.00")
    ship(10, chestnut, top, "10")
    b = lot(8, peach, top, wang, "80", "6.00")
    c = lot(4, peach, top, zhu, "50", "7.00", picked_before=1)
    spoil(3, a, "1.25")
    shipped = ship(3, peach, top, "20")
    assert [r.lot_id for r in shipped] == [b.pk]  # first expiry first: the expired lot B
    with at(2, 11):
        stock_return(lot_id=b.pk, kg=D("2"), reference="parcel:x", acting_user=user)
    spoil(2, b, "6")
    ship(2, chestnut, top, "7", hour=14)
    d = lot(1, peach, first, wang, "40", "5.00")
    spoil(1, c, "2.5")
    with at(1, 20):
        stock_reserve(requests=[ReserveRequest(peach.pk, top.pk, D("8"))], reference="order:y")
    e = lot(0, peach, top, zhu, "30", "7.50")
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f, "zhu": zhu, "wang": wang}


def health_now(**kwargs):
    with clock_at(today_noon):
        return stock_health(**kwargs)


def test_stock_by_age_and_by_days_to_expiry(warehouse):
    health = health_now()

    assert health.today == TODAY
    assert (health.lots_in_stock, health.kg_in_stock) == (6, D("270.250"))
    assert [(b.key, b.lots, b.kg) for b in health.age] == [
        ("0-2", 2, D("70.000")),  # D, E
        ("3-5", 1, D("47.500")),  # C
        ("6-10", 1, D("56.000")),  # B
        ("11+", 2, D("96.750")),  # A, F
    ]
    assert [(b.key, b.lots, b.kg) for b in health.expiry] == [
        ("expired", 1, D("56.000")),
        ("0-2", 1, D("47.500")),
        ("3-7", 2, D("70.000")),
        ("8-30", 0, D("0.000")),
        ("31+", 2, D("96.750")),
    ]
    by_product = {row["product"]: row for row in health.age_by_product}
    assert by_product["蜜桃"]["total"] == D("173.500")
    assert (by_product["蜜桃"]["0-2"], by_product["蜜桃"]["11+"]) == (D("70.000"), D("0.000"))
    assert by_product["板栗"]["11+"] == D("96.750")


def test_the_kilograms_at_risk_in_the_next_two_days(warehouse):
    health = health_now()

    assert [
        (lot.lot_code, lot.days_to_expiry, lot.available_kg, lot.reserved_kg, lot.farmer)
        for lot in health.at_risk
    ] == [
        (warehouse["B"].code, -1, D("48.000"), D("8.000"), "王秀英"),
        (warehouse["C"].code, 2, D("47.500"), D("0.000"), "朱大山"),
    ]
    assert health.at_risk_kg == D("95.500")
    assert {lot.location for lot in health.at_risk} == {"冷库 A"}


def test_spoilage_by_product_and_by_farmer_in_the_last_30_days(warehouse):
    health = health_now()

    assert health.spoilage_period.date_from == date(2026, 5, 22)
    assert [
        (row.name, row.write_offs, row.kg, row.value, row.received_kg, row.rate)
        for row in health.spoilage_by_product
    ] == [
        ("蜜桃", 2, D("8.500"), D("53.50"), D("200.000"), D("4.3")),
        ("板栗", 1, D("1.250"), D("15.00"), D("100.000"), D("1.3")),
    ]
    assert [
        (row.name, row.detail, row.write_offs, row.kg, row.value, row.rate)
        for row in health.spoilage_by_farmer
    ] == [
        ("王秀英", "火烧店村", 1, D("6.000"), D("36.00"), D("5.0")),
        ("朱大山", "朱家坪村", 2, D("3.750"), D("32.50"), D("2.1")),
    ]
    assert (health.spoiled_kg, health.spoiled_value) == (D("9.750"), D("68.50"))


def test_spoilage_of_another_period(warehouse):
    health = health_now(spoilage_from=date(2026, 5, 10), spoilage_to=date(2026, 5, 20))

    # only F: received May 11 (20 kg), 5 kg written off May 16
    assert [(row.name, row.kg, row.value, row.rate) for row in health.spoilage_by_product] == [
        ("板栗", D("5.000"), D("50.00"), D("25.0"))
    ]
    later = health_now(spoilage_from=date(2026, 5, 15), spoilage_to=date(2026, 5, 20))
    assert [row.rate for row in later.spoilage_by_farmer] == [None]  # nothing came in


def test_days_of_cover_per_sku(warehouse):
    health = health_now()

    assert [
        (row.merchant_code, row.available_kg, row.sold_kg, row.daily_kg, row.days)
        for row in health.cover
    ] == [
        # 48 + 47.5 + 30 available; sold 20 − 2 returned + 8 reserved = 26 in 7 days
        ("MT-TJ", D("125.500"), D("26.000"), D("3.714"), D("33.8")),
        # 81.75 available; 7 shipped in the window (the 10 of T−10 are older)
        ("BL-TJ", D("81.750"), D("7.000"), D("1.000"), D("81.8")),
        ("MT-YJ", D("40.000"), D("0.000"), D("0.000"), None),  # nothing sold
    ]
    assert [row.units_available for row in health.cover] == [50, 81, 16]


def test_the_page_the_download_and_the_api_show_the_same_figures(client_for, warehouse):
    client = client_for("manager")

    with clock_at(today_noon):
        page = client.get(reverse("inventory:health"), **EN)
        api = client.get("/api/stock-health/").json()
        download = client.get(reverse("inventory:health") + "?format=csv&table=at_risk", **EN)
        farmers = client.get(
            reverse("inventory:health") + "?format=csv&table=spoilage_farmer", **EN
        )
        bad = client.get(reverse("inventory:health") + "?format=csv&table=nope", **EN)

    html = page.content.decode()
    for text in (warehouse["B"].code, warehouse["C"].code, "95.500", "33.8", "81.8", "53.50"):
        assert text in html, text
    assert api["at_risk_kg"] == "95.500"
    assert [row["lot_code"] for row in api["at_risk"]] == [
        warehouse["B"].code,
        warehouse["C"].code,
    ]
    assert [(row["name"], row["kg"], row["rate"]) for row in api["spoilage_by_farmer"]] == [
        ("王秀英", "6.000", "5.0"),
        ("朱大山", "3.750", "2.1"),
    ]
    assert [row["days"] for row in api["cover"]] == ["33.8", "81.8", None]
    lines = download.content.decode("utf-8-sig").splitlines()
    assert lines[1].startswith(
        f"{warehouse['B'].code},蜜桃,特级,王秀英,火烧店村,冷库 A,2026-06-19,-1,48.000"
    )
    assert "王秀英,火烧店村,1,6.000,36.00,120.000,5.0" in farmers.content.decode("utf-8-sig")
    assert bad.status_code == 400


@pytest.mark.parametrize("role", ["creator", "packer", "intake"])
def test_stock_health_is_the_managers(client_for, role):
    client = client_for(role)

    assert client.get(reverse("inventory:health")).status_code == 403
    assert client.get(reverse("inventory:health") + "?format=csv&table=cover").status_code == 403
    assert client.get("/api/stock-health/").status_code == 403


def test_stock_health_takes_as_many_queries_for_few_or_many_lots(warehouse):
    def count():
        with CaptureQueriesContext(connection) as queries:
            health_now()
        return len(queries.captured_queries)

    few = count()
    for _lot in range(10):
        with at(1):
            receive(farmer=warehouse["zhu"], kg="5", price="3.00")
    assert count() == few <= 8
