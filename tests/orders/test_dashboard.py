"""The creators' sales dashboard on a small studio whose every figure was worked out by hand
(below, beside the orders). The selector, the page, the API and the CSV/XLSX downloads must
all give those figures. Times are the studio's (Asia/Shanghai, UTC+8)."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from orders.drafts import LineDraft, OrderDraft
from orders.models import Channel, LiveSession, Order, OrderEvent, OrderStatus
from orders.reports import sales_compare, sales_dashboard
from orders.rollup import rollup_orders_added, rollup_orders_removed
from orders.services import orders_create
from tests.factories import GradeFactory, ProductFactory, SkuFactory
from tests.pages import asset_urls, off_site

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
S = OrderStatus


def at(text: str) -> datetime:
    """'2025-06-18 20:00:30' in the studio's time zone."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def make_skus():
    peach = SkuFactory(
        merchant_code="MT-5J",
        name="蜜桃 5斤装",
        product=ProductFactory(name="蜜桃"),
        grade=GradeFactory(name="特级"),
        net_kg=Decimal("2.500"),
        price=Decimal("49.90"),
    )
    chestnut = SkuFactory(
        merchant_code="BL-2J",
        name="板栗 2斤装",
        product=ProductFactory(name="板栗", shelf_life_days=90),
        grade=GradeFactory(name="特级"),
        net_kg=Decimal("1.000"),
        price=Decimal("36.80"),
    )
    return peach, chestnut


def make_order(
    number: str,
    *,
    paid: str,
    province: str,
    lines: list[tuple],
    status: str = S.NEW,
    session: LiveSession | None = None,
    shipped: str | None = None,
) -> Order:
    """An order through the service, then put straight into ``status`` (the dashboard reads
    statuses and events, not how they came about), with a shipped event at ``shipped``."""
    (order,) = orders_create(
        channel=Channel.objects.get(code="kuaishou"),
        drafts=[
            OrderDraft(
                external_no=number,
                recipient_name="王秀英",
                phone="13812345678",
                province=province,
                address_detail="人民路1号",
                paid_at=at(paid),
                live_session=session,
                lines=[LineDraft(sku=sku, quantity=n, unit_price=sku.price) for sku, n in lines],
            )
        ],
    )
    rollup_orders_removed([order.pk])  # written past the writers: the roll-up follows by hand
    Order.objects.filter(pk=order.pk).update(status=status)
    if shipped:
        event = OrderEvent.objects.create(order=order, from_status=S.PACKED, to_status=S.SHIPPED)
        OrderEvent.objects.filter(pk=event.pk).update(created_at=at(shipped))
    rollup_orders_added([order.pk])
    return order


@pytest.fixture
def studio():
    """Two live sessions and ten orders. Prices: peach 49.90 (2.5 kg), chestnut 36.80 (1 kg).

    S1 蜜桃专场 2025-06-18 20:00–22:00
      o1 20:00:30 浙江省 2 peach   99.80 delivered  shipped 06-19 08:00:30 (720 min)
      o2 20:00:50 浙江省 2 chest.  73.60 shipped    shipped 06-19 02:00:50 (360 min)
      o3 20:02:10 广东省 1+1       86.70 packed
      o4 20:05:00 广东省 1 peach   49.90 allocated
      o5 20:05:40 陕西省 3 chest. 110.40 cancelled
      o6 21:30:00 陕西省 1 peach   49.90 new
      o7 20:10:00 浙江省 1 peach   49.90 refunded   shipped 06-18 23:10:00 (180 min)
    S2 板栗专场 2025-06-19 20:00–21:00
      o8 20:00:10 浙江省 1 peach   49.90 delivered  shipped 06-20 20:00:10 (1440 min)
      o9 20:01:00 北京市 1 chest.  36.80 new
    No session
      o10 2025-06-18 10:15 四川省 1 chest. 36.80 new
    """
    peach, chestnut = make_skus()
    channel = Channel.objects.get(code="kuaishou")
    s1 = LiveSession.objects.create(
        channel=channel,
        title="蜜桃专场",
        host="阿秀",
        starts_at=at("2025-06-18 20:00"),
        ends_at=at("2025-06-18 22:00"),
    )
    s2 = LiveSession.objects.create(
        channel=channel,
        title="板栗专场",
        host="阿秀",
        starts_at=at("2025-06-19 20:00"),
        ends_at=at("2025-06-19 21:00"),
    )
    make_order("o1", paid="2025-06-18 20:00:30", province="浙江省", lines=[(peach, 2)],
               status=S.DELIVERED, session=s1, shipped="2025-06-19 08:00:30")  # fmt: skip
    make_order("o2", paid="2025-06-18 20:00:50", province="浙江省", lines=[(chestnut, 2)],
               status=S.SHIPPED, session=s1, shipped="2025-06-19 02:00:50")  # fmt: skip
    make_order("o3", paid="2025-06-18 20:02:10", province="广东省",
               lines=[(peach, 1), (chestnut, 1)], status=S.PACKED, session=s1)  # fmt: skip
    make_order("o4", paid="2025-06-18 20:05:00", province="广东省", lines=[(peach, 1)],
               status=S.ALLOCATED, session=s1)  # fmt: skip
    make_order("o5", paid="2025-06-18 20:05:40", province="陕西省", lines=[(chestnut, 3)],
               status=S.CANCELLED, session=s1)  # fmt: skip
    make_order("o6", paid="2025-06-18 21:30:00", province="陕西省", lines=[(peach, 1)],
               session=s1)  # fmt: skip
    make_order("o7", paid="2025-06-18 20:10:00", province="浙江省", lines=[(peach, 1)],
               status=S.REFUNDED, session=s1, shipped="2025-06-18 23:10:00")  # fmt: skip
    make_order("o8", paid="2025-06-19 20:00:10", province="浙江省", lines=[(peach, 1)],
               status=S.DELIVERED, session=s2, shipped="2025-06-20 20:00:10")  # fmt: skip
    make_order("o9", paid="2025-06-19 20:01:00", province="北京市", lines=[(chestnut, 1)],
               session=s2)  # fmt: skip
    make_order("o10", paid="2025-06-18 10:15:00", province="四川省", lines=[(chestnut, 1)])
    return s1, s2


# Session 1, worked out by hand. Sold: o1 o2 o3 o4 o6; cancelled or refunded: o5 o7.
S1_SUMMARY = {
    "orders": 5,
    "cancelled": 2,
    "cancel_percent": Decimal("28.6"),  # 2 of 7
    "units": 8,  # peach 2+1+1+1, chestnut 2+1
    "kg": Decimal("15.500"),  # 5 × 2.5 + 3 × 1
    "gross_sales": Decimal("359.90"),  # 99.80 + 73.60 + 86.70 + 49.90 + 49.90
    "average_order_value": Decimal("71.98"),  # 359.90 / 5
    "backlog": 3,  # o3 packed, o4 allocated, o6 new
    "median_hours_to_ship": Decimal("6.0"),  # of 180, 360, 720 minutes (o7, o2, o1)
    "shipped_measured": 3,
    "refunded_amount": Decimal("49.90"),  # o7, refunded in full
    "refund_percent": Decimal("12.2"),  # 49.90 of 409.80 (the sold orders and o7)
}
S1_SKUS = [
    # code, name, units, kg, amount, % of amount
    ("MT-5J", "蜜桃 5斤装", 5, Decimal("12.500"), Decimal("249.50"), Decimal("69.3")),
    ("BL-2J", "板栗 2斤装", 3, Decimal("3.000"), Decimal("110.40"), Decimal("30.7")),
]
S1_PROVINCES = [
    ("浙江省", 2, Decimal("173.40"), Decimal("48.2")),
    ("广东省", 2, Decimal("136.60"), Decimal("38.0")),
    ("陕西省", 1, Decimal("49.90"), Decimal("13.9")),
]
S1_FUNNEL = [
    ("paid", 5, Decimal("100.0")),
    ("allocated", 4, Decimal("80.0")),  # o1 o2 o3 o4
    ("packed", 3, Decimal("60.0")),  # o1 o2 o3
    ("shipped", 2, Decimal("40.0")),  # o1 o2
    ("delivered", 1, Decimal("20.0")),  # o1
]
# Minutes with sales (every other minute from 0 to 119 is zero).
S1_MINUTES = {
    0: (2, Decimal("173.40")),
    2: (1, Decimal("86.70")),
    5: (1, Decimal("49.90")),
    90: (1, Decimal("49.90")),
}


def test_a_live_session_has_the_figures_worked_out_by_hand(studio):
    s1, _s2 = studio

    sales = sales_dashboard(live_session=s1)

    assert vars(sales.summary) == S1_SUMMARY
    assert [tuple(vars(row).values()) for row in sales.skus] == S1_SKUS
    assert [tuple(vars(row).values()) for row in sales.provinces] == S1_PROVINCES
    assert [(s.stage, s.orders, s.percent) for s in sales.funnel] == S1_FUNNEL
    assert (sales.scope, sales.step, sales.is_live, sales.refresh_seconds) == (
        "live_session",
        "minute",
        False,
        None,
    )
    assert len(sales.timeline) == 120  # 20:00 to 21:59, empty minutes as zeros
    assert sales.timeline[0].at == at("2025-06-18 20:00")
    assert sales.timeline[-1].at == at("2025-06-18 21:59")
    assert [p.minute for p in sales.timeline] == list(range(120))
    assert {p.minute: (p.orders, p.gross_sales) for p in sales.timeline if p.orders} == S1_MINUTES
    assert sum(p.orders for p in sales.timeline) == 5


def test_a_day_counts_every_order_paid_that_day_by_hour(studio):
    sales = sales_dashboard(date_from=date(2025, 6, 18), date_to=date(2025, 6, 18))

    # S1's orders and o10 (no session).
    assert vars(sales.summary) == {
        "orders": 6,
        "cancelled": 2,
        "cancel_percent": Decimal("25.0"),  # 2 of 8
        "units": 9,
        "kg": Decimal("16.500"),
        "gross_sales": Decimal("396.70"),
        "average_order_value": Decimal("66.12"),  # 396.70 / 6 = 66.1166…
        "backlog": 4,
        "median_hours_to_ship": Decimal("6.0"),
        "shipped_measured": 3,
        "refunded_amount": Decimal("49.90"),
        "refund_percent": Decimal("11.2"),  # 49.90 of 446.60
    }
    assert (sales.scope, sales.step) == ("day", "hour")
    assert len(sales.timeline) == 24
    assert {p.at.hour: (p.orders, p.gross_sales) for p in sales.timeline if p.orders} == {
        10: (1, Decimal("36.80")),
        20: (4, Decimal("310.00")),
        21: (1, Decimal("49.90")),
    }
    assert [p.province for p in sales.provinces] == ["浙江省", "广东省", "陕西省", "四川省"]


def test_the_refund_rate_counts_the_money_of_a_partial_refund(studio):
    # given o1 (delivered, 99.80) refunded ¥10.00 of one line
    from orders.aftersales import after_sale_record
    from orders.models import Order
    from tests.shipping.builders import staff

    o1 = Order.objects.get(external_no="o1")
    after_sale_record(
        order=o1,
        line=o1.lines.get(),
        kind="仅退款",
        kg=Decimal("0.500"),
        amount=Decimal("10.00"),
        reason="坏了一个",
        acting_user=staff("manager"),
    )
    s1 = o1.live_session

    summary = sales_dashboard(live_session=s1).summary

    # then o1 still sells, and the money refunded is o7's 49.90 and o1's 10.00 of 409.80
    assert o1.status == S.PARTIALLY_REFUNDED
    assert summary.orders == 5
    assert summary.refunded_amount == Decimal("59.90")
    assert summary.refund_percent == Decimal("14.6")


def test_a_range_counts_both_days_by_day(studio):
    sales = sales_dashboard(date_from=date(2025, 6, 18), date_to=date(2025, 6, 19))

    assert vars(sales.summary) == {
        "orders": 8,
        "cancelled": 2,
        "cancel_percent": Decimal("20.0"),
        "units": 11,
        "kg": Decimal("20.000"),
        "gross_sales": Decimal("483.40"),
        "average_order_value": Decimal("60.43"),  # 60.425, half up
        "backlog": 5,
        "median_hours_to_ship": Decimal("9.0"),  # (360 + 720) / 2 minutes
        "shipped_measured": 4,
        "refunded_amount": Decimal("49.90"),
        "refund_percent": Decimal("9.4"),  # 49.90 of 533.30
    }
    assert (sales.scope, sales.step) == ("range", "day")
    assert [(p.at, p.minute, p.orders, p.gross_sales) for p in sales.timeline] == [
        (at("2025-06-18 00:00"), 0, 6, Decimal("396.70")),
        (at("2025-06-19 00:00"), 1440, 2, Decimal("86.70")),
    ]


def test_two_sessions_side_by_side_are_aligned_by_minutes_since_their_start(studio):
    s1, s2 = studio

    comparison = sales_compare(s1, s2)

    assert comparison.a.summary.gross_sales == Decimal("359.90")
    assert comparison.b.summary.gross_sales == Decimal("86.70")
    assert comparison.b.summary.median_hours_to_ship == Decimal("24.0")
    minutes = {point.minute: point for point in comparison.minutes}
    assert len(comparison.minutes) == 120
    assert vars(minutes[0]) == {
        "minute": 0,
        "a_orders": 2,
        "a_gross_sales": Decimal("173.40"),
        "b_orders": 1,
        "b_gross_sales": Decimal("49.90"),
    }
    assert (minutes[1].a_orders, minutes[1].b_orders, minutes[1].b_gross_sales) == (
        0,
        1,
        Decimal("36.80"),
    )
    # S2 lasted an hour: after it, its side is empty, not zero.
    assert (minutes[59].b_orders, minutes[60].b_orders, minutes[60].a_orders) == (0, None, 0)
    assert (minutes[90].a_orders, minutes[90].b_gross_sales) == (1, None)


# --- the API, the page and the downloads agree -----------------------------------------------


def test_the_api_gives_the_same_figures(client_for, studio):
    s1, _s2 = studio

    body = client_for("creator").get(reverse("api:dashboard"), {"live_session": s1.pk}).json()

    assert body["scope"] == "live_session"
    assert body["live_session"]["title"] == "蜜桃专场"
    assert body["summary"] == {
        "orders": 5,
        "cancelled": 2,
        "cancel_percent": "28.6",
        "units": 8,
        "kg": "15.500",
        "gross_sales": "359.90",
        "average_order_value": "71.98",
        "backlog": 3,
        "median_hours_to_ship": "6.0",
        "shipped_measured": 3,
        "refunded_amount": "49.90",
        "refund_percent": "12.2",
    }
    assert body["skus"] == [
        {"merchant_code": code, "name": name, "units": units, "kg": str(kg),
         "amount": str(amount), "percent": str(percent)}
        for code, name, units, kg, amount, percent in S1_SKUS
    ]  # fmt: skip
    assert body["provinces"] == [
        {"province": p, "orders": n, "gross_sales": str(g), "percent": str(s)}
        for p, n, g, s in S1_PROVINCES
    ]
    assert [(s["stage"], s["orders"], s["percent"]) for s in body["funnel"]] == [
        (stage, n, str(share)) for stage, n, share in S1_FUNNEL
    ]
    assert len(body["timeline"]) == 120
    assert body["timeline"][0] == {
        "at": "2025-06-18T20:00:00+08:00",
        "minute": 0,
        "orders": 2,
        "gross_sales": "173.40",
    }
    assert {
        p["minute"]: (p["orders"], p["gross_sales"]) for p in body["timeline"] if p["orders"]
    } == {minute: (n, str(g)) for minute, (n, g) in S1_MINUTES.items()}
    assert (body["is_live"], body["refresh_seconds"]) == (False, None)


def test_the_page_shows_the_same_figures_and_draws_the_api_json(client_for, studio):
    s1, _s2 = studio
    client = client_for("creator")

    page = client.get(
        reverse("orders:dashboard"), {"live_session": s1.pk}, HTTP_ACCEPT_LANGUAGE="en"
    )
    api = client.get(
        reverse("api:dashboard"), {"live_session": s1.pk}, HTTP_ACCEPT_LANGUAGE="en"
    ).json()

    assert page.status_code == 200
    assert page.context["figures"] == {
        "orders": "5",
        "units": "8",
        "kg": "15.5",
        "gross_sales": "¥359.90",
        "average_order_value": "¥71.98",
        "cancelled": "2",
        "cancel_percent": "28.6%",
        "refunded_amount": "¥49.90",
        "refund_percent": "12.2%",
        "backlog": "3",
        "median_hours_to_ship": "6.0 h",
        "shipped_measured": "3",
    }
    html = page.content.decode()
    for shown in ("¥359.90", "¥71.98", "28.6%", "蜜桃 5斤装", "¥249.50", "69.3%", "¥173.40"):
        assert shown in html, shown
    skus = page.context["tables"]["skus"]["rows"]
    assert [[cell["text"] for cell in row] for row in skus] == [
        ["蜜桃 5斤装", "5", "12.5", "¥249.50", "69.3%"],
        ["板栗 2斤装", "3", "3", "¥110.40", "30.7%"],
    ]
    # The charts draw exactly what the API gives.
    assert dict(page.context["data"]) | {"generated_at": None} == api | {"generated_at": None}
    assert 'id="dashboard-data"' in html
    assert "/static/vendor/echarts/echarts.common.min.js" in asset_urls(html)
    # Everything from this site: a word search for "cdn" also met the page's random CSRF token.
    assert off_site(html) == []


def read_csv(response) -> list[list[str]]:
    body = response.content
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def read_xlsx(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def download(client, session, table: str, fmt: str):
    response = client.get(
        reverse("orders:dashboard"),
        {"live_session": session.pk, "format": fmt, "table": table},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200, response.content
    assert f"sales_live{session.pk}_{table}.{fmt}" in response["Content-Disposition"]
    return read_csv(response) if fmt == "csv" else read_xlsx(response)


def as_expected(rows: list[list], fmt: str) -> list[list]:
    """Rows as a download carries them: CSV cells are text, XLSX cells numbers (read back as
    int or float; compared as Decimal)."""
    if fmt == "csv":
        return [["" if v is None else str(v) for v in row] for row in rows]
    return [[Decimal(str(v)) if isinstance(v, float) else v for v in row] for row in rows]


S1_SUMMARY_ROWS = [
    ["Orders", 5],
    ["Units", 8],
    ["Kilograms", Decimal("15.500")],
    ["Gross sales (¥)", Decimal("359.90")],
    ["Average order value (¥)", Decimal("71.98")],
    ["Cancelled or refunded", 2],
    ["Cancel/refund rate (%)", Decimal("28.6")],
    ["Refunded (¥)", Decimal("49.90")],
    ["Refund rate by money (%)", Decimal("12.2")],
    ["Backlog (paid, not shipped)", 3],
    ["Median hours from payment to shipping", Decimal("6.0")],
    ["Shipped orders measured", 3],
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_table_downloads_with_the_same_figures(client_for, studio, fmt):
    s1, _s2 = studio
    client = client_for("manager")

    skus = download(client, s1, "skus", fmt)
    provinces = download(client, s1, "provinces", fmt)
    funnel = download(client, s1, "funnel", fmt)
    summary = download(client, s1, "summary", fmt)
    minutes = download(client, s1, "minutes", fmt)

    assert skus[0] == ["Merchant code", "SKU", "Units", "Kg", "Amount (¥)", "Share of amount (%)"]
    assert as_expected(skus[1:], fmt) == as_expected([list(row) for row in S1_SKUS], fmt)
    assert provinces[0] == ["Province", "Orders", "Gross sales (¥)", "Share of sales (%)"]
    assert as_expected(provinces[1:], fmt) == as_expected([list(r) for r in S1_PROVINCES], fmt)
    assert funnel[0] == ["Stage", "Orders", "Share of paid orders (%)"]
    assert as_expected(funnel[1:], fmt) == as_expected(
        [[label, n, share] for label, (_stage, n, share) in
         zip(["Paid", "Allocated", "Packed", "Shipped", "Delivered"], S1_FUNNEL, strict=True)],
        fmt,
    )  # fmt: skip
    assert summary[0] == ["Figure", "Value"]
    assert as_expected(summary[1:], fmt) == as_expected(S1_SUMMARY_ROWS, fmt)
    assert minutes[0] == ["Time", "Minutes since start", "Orders", "Gross sales (¥)"]
    assert len(minutes) == 1 + 120
    first = [at("2025-06-18 20:00").replace(tzinfo=None), 0, 2, Decimal("173.40")]
    if fmt == "csv":
        first[0] = "2025-06-18 20:00"
    assert as_expected(minutes[1:2], fmt) == as_expected([first], fmt)
    assert {int(row[1]): int(row[2]) for row in minutes[1:] if int(row[2])} == {
        minute: n for minute, (n, _g) in S1_MINUTES.items()
    }


def test_formulas_in_names_and_provinces_are_neutralised(client_for):
    (sku, _chestnut) = make_skus()
    sku.name = '=HYPERLINK("http://x")'
    sku.save()
    order = make_order("f1", paid="2025-06-18 12:00", province="浙江省", lines=[(sku, 1)])
    # Addresses are read onto the national divisions now; older rows may hold anything.
    Order.objects.filter(pk=order.pk).update(province="=1+2")
    client = client_for("creator")
    query = {"date": "2025-06-18"}

    for fmt in ("csv", "xlsx"):
        skus = client.get(reverse("orders:dashboard"), query | {"format": fmt, "table": "skus"})
        provinces = client.get(
            reverse("orders:dashboard"), query | {"format": fmt, "table": "provinces"}
        )
        if fmt == "csv":
            assert read_csv(skus)[1][1] == '\'=HYPERLINK("http://x")'
            assert read_csv(provinces)[1][0] == "'=1+2"
        else:
            sheet = load_workbook(io.BytesIO(provinces.content)).active
            assert sheet["A2"].value == "'=1+2"
            assert sheet["A2"].data_type == "s"
            assert read_xlsx(skus)[1][1] == '\'=HYPERLINK("http://x")'


# --- time zones, live sessions on air, defaults ----------------------------------------------


def test_days_and_minutes_are_the_studios_not_utc(make_user):
    peach, _chestnut = make_skus()
    # 23:59:59 on the 18th and 00:00:00 on the 19th in Shanghai: 15:59:59 and 16:00 UTC.
    make_order("late", paid="2025-06-18 23:59:59", province="浙江省", lines=[(peach, 1)])
    make_order("early", paid="2025-06-19 00:00:00", province="浙江省", lines=[(peach, 2)])

    day18 = sales_dashboard(date_from=date(2025, 6, 18), date_to=date(2025, 6, 18))
    day19 = sales_dashboard(date_from=date(2025, 6, 19), date_to=date(2025, 6, 19))
    both = sales_dashboard(date_from=date(2025, 6, 18), date_to=date(2025, 6, 19))

    assert (day18.summary.units, day19.summary.units) == (1, 2)
    assert [(p.at.hour, p.orders) for p in day18.timeline if p.orders] == [(23, 1)]
    assert [(p.at.hour, p.orders) for p in day19.timeline if p.orders] == [(0, 1)]
    assert [(p.at.day, p.orders) for p in both.timeline] == [(18, 1), (19, 1)]


def test_a_session_on_air_refreshes_and_its_timeline_stops_at_now(studio):
    s1, _s2 = studio

    during = sales_dashboard(live_session=s1, now=at("2025-06-18 21:45:20"))
    after = sales_dashboard(live_session=s1, now=at("2025-06-18 22:00:00"))

    assert (during.is_live, during.refresh_seconds) == (True, 30)
    assert len(during.timeline) == 106  # 20:00 … 21:45: no empty minutes still to come
    assert during.timeline[-1].at == at("2025-06-18 21:45")
    assert during.summary.gross_sales == Decimal("359.90")
    assert (after.is_live, after.refresh_seconds, len(after.timeline)) == (False, None, 120)


def test_the_default_is_the_session_that_started_last_and_then_today(client_for, studio):
    s1, s2 = studio
    LiveSession.objects.create(
        channel=s1.channel,
        title="下周的直播",
        host="阿秀",
        starts_at=at("2099-01-01 20:00"),
        ends_at=at("2099-01-01 22:00"),
    )
    client = client_for("creator")

    body = client.get(reverse("api:dashboard")).json()
    assert body["live_session"]["id"] == s2.pk
    page = client.get(reverse("orders:dashboard"))
    assert page.context["sales"].live_session == s2
    # Downloads name what is shown, not "the default".
    assert f"live_session={s2.pk}&amp;format=csv&amp;table=skus" in page.content.decode()

    LiveSession.objects.update(starts_at=at("2099-01-01 20:00"), ends_at=at("2099-01-01 22:00"))
    body = client.get(reverse("api:dashboard")).json()
    assert (body["scope"], body["live_session"]) == ("day", None)


def test_compare_page_and_api(client_for, studio):
    s1, s2 = studio
    client = client_for("creator")

    api = client.get(reverse("api:dashboard_compare"), {"a": s1.pk, "b": s2.pk}).json()
    page = client.get(reverse("orders:dashboard_compare"), {"a": s1.pk, "b": s2.pk})
    rows = read_csv(
        client.get(
            reverse("orders:dashboard_compare"),
            {"a": s1.pk, "b": s2.pk, "format": "csv", "table": "summary"},
        )
    )

    assert api["a"]["summary"]["gross_sales"] == "359.90"
    assert api["b"]["summary"]["gross_sales"] == "86.70"
    assert api["minutes"][0] == {
        "minute": 0,
        "a_orders": 2,
        "a_gross_sales": "173.40",
        "b_orders": 1,
        "b_gross_sales": "49.90",
    }
    assert api["minutes"][60]["b_orders"] is None
    assert page.status_code == 200
    assert dict(page.context["data"])["minutes"] == api["minutes"]
    assert rows[0][1:] == ["蜜桃专场", "板栗专场"]
    assert ["359.90", "86.70"] in [row[1:] for row in rows]
    minutes = read_xlsx(
        client.get(
            reverse("orders:dashboard_compare"),
            {"a": s1.pk, "b": s2.pk, "format": "xlsx", "table": "minutes"},
        )
    )
    assert as_expected(minutes[1:2], "xlsx") == [[0, 2, Decimal("173.40"), 1, Decimal("49.90")]]
    assert minutes[61][3:] == [None, None]  # S2 ended after an hour: empty, not zero
