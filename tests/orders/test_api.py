"""The orders API: filters, masking of recipients' data, creating orders (with allocation),
the cancel and allocate commands, live sessions, channels, roles and query counts."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import Lot, Sku
from inventory.selectors import stock_mismatches
from orders.drafts import LineDraft, OrderDraft
from orders.models import Allocation, Channel, LiveSession, Order, OrderEvent, OrderStatus
from orders.services import order_allocate, order_cancel, orders_create
from tests.factories import FarmerFactory, GradeFactory, SkuFactory, receive

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONE = "13912345678"
MASKED = "139****5678"
STREET = "小寨东路 1 号 3 单元"
pytestmark = pytest.mark.django_db


# --- helpers ---------------------------------------------------------------------------------


def _channel(code: str = "kuaishou") -> Channel:
    names = {"kuaishou": "快手", "douyin": "抖音", "wechat": "微信/电话"}
    channel, _created = Channel.objects.get_or_create(code=code, defaults={"name": names[code]})
    return channel


def _sku(code: str = "MT-5J-TJ", **kwargs) -> Sku:
    return SkuFactory(merchant_code=code, net_kg=D("2.500"), price=D("39.90"), **kwargs)


def _order(
    number: str,
    *lines: tuple[Sku, int],
    channel: str = "kuaishou",
    paid_at: datetime | None = None,
    province: str = "陕西省",
    recipient: str = "李四",
    phone: str = PHONE,
    live_session: LiveSession | None = None,
) -> Order:
    draft = OrderDraft(
        external_no=number,
        recipient_name=recipient,
        phone=phone,
        province=province,
        city="西安市",
        district="雁塔区",
        address_detail=STREET,
        paid_at=paid_at or timezone.now(),
        live_session=live_session,
        lines=[LineDraft(sku=sku, quantity=qty, unit_price=sku.price) for sku, qty in lines],
    )
    (order,) = orders_create(channel=_channel(channel), drafts=[draft])
    return order


def _session(
    title: str = "专场",
    *,
    starts_at: datetime | None = None,
    hours: int = 2,
    channel: str = "kuaishou",
) -> LiveSession:
    starts_at = starts_at or timezone.now() - timedelta(hours=1)
    return LiveSession.objects.create(
        channel=_channel(channel),
        title=title,
        host="朱小妹",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
    )


def _days_ago(days: int):
    return timezone.localdate() - timedelta(days=days)


def _body(**overrides) -> dict:
    body = {
        "channel": "kuaishou",
        "external_no": "2611210000000012345",
        "recipient_name": "王小明",
        "phone": PHONE,
        "province": "陕西省",
        "city": "西安市",
        "district": "雁塔区",
        "address_detail": STREET,
        "buyer_note": "请尽快发货",
        "paid_at": "2026-03-01T20:15:00+08:00",
        "shipping_fee": "0.00",
        "lines": [{"sku": "MT-5J-TJ", "quantity": 2, "unit_price": "39.90"}],
    }
    body.update(overrides)
    return body


def _post(client, url: str, body: dict | None = None, headers: dict | None = None):
    return client.post(url, body or {}, content_type="application/json", headers=headers)


ENGLISH = {"Accept-Language": "en"}


def _numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["external_no"] for row in response.json()["results"])


# --- list and filters ------------------------------------------------------------------------


@pytest.fixture
def orders_to_filter():
    """Five orders that differ in one respect each."""
    peach, chestnut = _sku("MT-5J-TJ"), _sku("BL-1J", name="板栗 1斤")
    # a window that holds no payment: only A1, which names it, belongs to it
    session = _session("蜜桃专场", starts_at=datetime(2026, 2, 20, 19, tzinfo=SHANGHAI))
    paid = datetime(2026, 3, 1, 20, tzinfo=SHANGHAI)
    _order("A1", (peach, 1), paid_at=paid, live_session=session, recipient="李四")
    _order("A2", (chestnut, 2), paid_at=paid, province="四川省", recipient="张三")
    _order("A3", (peach, 1), (chestnut, 1), channel="douyin", paid_at=paid, recipient="李明")
    order_cancel(order=_order("A4", (peach, 3), paid_at=paid - timedelta(days=3), recipient="赵六"))
    no_stock = _order("A5", (chestnut, 1), paid_at=paid, recipient="钱七")
    order_allocate(order=no_stock)  # nothing in stock: back-ordered
    return session


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["A1", "A2", "A3", "A4", "A5"]),
        ("?status=cancelled", ["A4"]),
        ("?status=cancelled&status=backordered", ["A4", "A5"]),
        ("?channel=douyin", ["A3"]),
        ("?province=四川省", ["A2"]),
        ("?sku=MT-5J-TJ", ["A1", "A3", "A4"]),
        ("?sku=BL-1J&channel=kuaishou", ["A2", "A5"]),
        ("?q=A3", ["A3"]),
        ("?q=李", ["A1", "A3"]),
        ("?q=张三", ["A2"]),
        ("?paid_before=2026-02-28", ["A4"]),
        ("?paid_after=2026-03-01&paid_before=2026-03-01", ["A1", "A2", "A3", "A5"]),
    ],
)
def test_orders_filter(client_for, orders_to_filter, query, expected):
    client = client_for("creator")

    assert _numbers(client.get(f"/api/orders/{query}")) == expected


def test_orders_filter_by_live_session(client_for, orders_to_filter):
    client = client_for("packer")

    assert _numbers(client.get(f"/api/orders/?live_session={orders_to_filter.pk}")) == ["A1"]
    assert _numbers(client.get(f"/api/orders/?live_session={orders_to_filter.pk + 99}")) == []


def test_paid_dates_are_whole_days_in_shanghai_not_utc(client_for):
    # given one order paid at 23:30 and one at 00:30 the next day, Shanghai time (both on
    # 1 March in UTC)
    sku = _sku()
    _order("LATE", (sku, 1), paid_at=datetime(2026, 3, 1, 23, 30, tzinfo=SHANGHAI))
    _order("EARLY", (sku, 1), paid_at=datetime(2026, 3, 2, 0, 30, tzinfo=SHANGHAI))
    client = client_for("manager")

    # then each falls on its Shanghai day, both ends included
    assert _numbers(client.get("/api/orders/?paid_before=2026-03-01")) == ["LATE"]
    assert _numbers(client.get("/api/orders/?paid_after=2026-03-02")) == ["EARLY"]
    both = "/api/orders/?paid_after=2026-03-01&paid_before=2026-03-02"
    assert _numbers(client.get(both)) == ["EARLY", "LATE"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?status=lost", "status"),
        ("?paid_after=yesterday", "paid_after"),
        ("?live_session=1.5", "live_session"),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_it(client_for, query, field):
    _order("A1", (_sku(), 1))
    client = client_for("manager")

    response = client.get(f"/api/orders/{query}")

    assert response.status_code == 400
    assert field in response.json()


def test_orders_cannot_be_sorted_by_phone(client_for):
    sku = _sku()
    now = timezone.now()
    _order("OLD", (sku, 1), phone="13000000000", paid_at=now - timedelta(hours=1))
    _order("NEW", (sku, 1), phone="19999999999", paid_at=now)
    client = client_for("manager")

    by_phone = client.get("/api/orders/?ordering=-phone").json()["results"]
    by_payment = client.get("/api/orders/?ordering=paid_at").json()["results"]

    assert [row["external_no"] for row in by_phone] == ["NEW", "OLD"]  # the default order
    assert [row["external_no"] for row in by_payment] == ["OLD", "NEW"]


def test_list_rows_summarise_lines_newest_payment_first(client_for):
    peach, chestnut = _sku("MT-5J-TJ"), _sku("BL-1J", name="板栗 1斤")
    now = timezone.now()
    _order("OLD", (peach, 1), paid_at=now - timedelta(hours=2))
    _order("NEW", (peach, 2), (chestnut, 3), paid_at=now)
    client = client_for("creator")

    rows = client.get("/api/orders/").json()["results"]

    assert [row["external_no"] for row in rows] == ["NEW", "OLD"]
    assert rows[0]["lines"] == [
        {"sku": "MT-5J-TJ", "sku_name": "蜜桃 5斤礼盒", "quantity": 2},
        {"sku": "BL-1J", "sku_name": "板栗 1斤", "quantity": 3},
    ]
    assert rows[0]["units"] == 5
    assert rows[0]["total_kg"] == "12.500"
    assert rows[0]["goods_total"] == "199.50"
    assert rows[0]["channel"] == "kuaishou"
    assert rows[0]["status"] == "new"


# --- masking ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["packer", "creator", "manager"])
def test_lists_never_show_a_full_phone_or_the_street(client_for, role):
    _order("A1", (_sku(), 1), phone=PHONE)
    client = client_for(role)

    response = client.get("/api/orders/")

    assert response.status_code == 200
    content = response.content.decode()
    assert PHONE not in content
    assert STREET not in content
    row = response.json()["results"][0]
    assert row["masked_phone"] == MASKED
    assert (row["province"], row["city"], row["district"]) == ("陕西省", "西安市", "雁塔区")
    assert not {"phone", "address_detail", "raw_address"} & set(row)


@pytest.mark.parametrize("role", ["packer", "creator", "manager"])
def test_one_order_shows_phone_and_street_hidden_to_every_role(client_for, role):
    # The full phone and address are for the packing station page and the label only.
    order = _order("A1", (_sku(), 1), phone=PHONE)
    client = client_for(role)

    response = client.get(f"/api/orders/{order.pk}/")

    assert response.status_code == 200
    assert PHONE not in response.content.decode()
    assert STREET not in response.content.decode()
    assert response.json()["masked_phone"] == MASKED


def test_a_packer_sees_no_order_money_a_creator_does(client_for):
    order = _order("A1", (_sku(), 1), phone=PHONE)

    packer = client_for("packer").get(f"/api/orders/{order.pk}/").json()
    assert not {"goods_total", "shipping_fee"} & set(packer)
    assert not {"unit_price", "amount"} & set(packer["lines"][0])
    creator = client_for("creator").get(f"/api/orders/{order.pk}/").json()
    assert {"goods_total", "shipping_fee"} <= set(creator)
    assert {"unit_price", "amount"} <= set(creator["lines"][0])


def test_one_order_shows_lines_allocations_with_lot_and_farmer_and_the_events(client_for):
    # given an order of 3 × 2.5 kg split across two lots of different farmers
    sku = _sku()
    first = receive(kg="5", farmer=FarmerFactory(name="朱大山"), harvest_date=_days_ago(2))
    second = receive(kg="50", farmer=FarmerFactory(name="王秀英"))
    order = _order("A1", (sku, 3))
    order_allocate(order=order)
    client = client_for("manager")

    # when a manager opens it
    body = client.get(f"/api/orders/{order.pk}/").json()

    # then the line carries its kilograms and where they come from, and the events are in order
    [line] = body["lines"]
    assert (line["sku"], line["quantity"], line["unit_price"], line["kg"]) == (
        "MT-5J-TJ",
        3,
        "39.90",
        "7.500",
    )
    assert line["amount"] == "119.70"
    assert [(a["lot_code"], a["kg"], a["farmer_name"]) for a in line["allocations"]] == [
        (first.code, "5.000", "朱大山"),
        (second.code, "2.500", "王秀英"),
    ]
    assert [(e["from_status"], e["to_status"]) for e in body["events"]] == [
        ("", "new"),
        ("new", "allocated"),
    ]
    assert body["status"] == "allocated"


# --- create ----------------------------------------------------------------------------------


def test_a_manager_creates_an_order_and_it_is_allocated(client_for):
    # given a SKU of 2.5 kg and a lot of 100 kg
    sku = _sku()
    lot = receive(kg="100", product=sku.product, grade=sku.grade)
    client = client_for("manager")

    # when a manager posts an order of 2 units
    response = _post(client, "/api/orders/", _body())

    # then it is saved, allocated from the lot, and answered in full
    assert response.status_code == 201, response.json()
    body = response.json()
    order = Order.objects.get()
    assert body["id"] == order.pk
    assert body["status"] == order.status == OrderStatus.ALLOCATED
    assert body["external_no"] == "2611210000000012345"
    assert body["goods_total"] == "79.80"
    assert body["masked_phone"] == MASKED and body["phone_masked_by_platform"] is False
    assert "phone" not in body and PHONE not in response.content.decode()
    assert body["lines"][0]["allocations"] == [
        {
            "lot_code": lot.code,
            "kg": "5.000",
            "farmer_name": lot.farmer.name,
            "expiry_date": lot.expiry_date.isoformat(),
        }
    ]
    assert [e["acting_user"] for e in body["events"]] == [client.user.username] * 2
    lot.refresh_from_db()
    assert lot.reserved_kg == D("5.000")
    assert stock_mismatches() == []


def test_an_order_created_when_stock_is_short_is_back_ordered(client_for):
    sku = _sku()
    lot = receive(kg="4", product=sku.product, grade=sku.grade)  # 2 × 2.5 kg needs 5
    client = client_for("manager")

    response = _post(client, "/api/orders/", _body())

    assert response.status_code == 201
    assert response.json()["status"] == OrderStatus.BACKORDERED
    assert Order.objects.get().status == OrderStatus.BACKORDERED
    assert not Allocation.objects.exists()
    lot.refresh_from_db()
    assert lot.reserved_kg == 0
    assert stock_mismatches() == []


def test_an_order_created_with_allocate_false_stays_new(client_for):
    sku = _sku()
    lot = receive(kg="100", product=sku.product, grade=sku.grade)
    client = client_for("manager")

    response = _post(client, "/api/orders/", _body(allocate=False))

    assert response.status_code == 201
    assert response.json()["status"] == OrderStatus.NEW
    lot.refresh_from_db()
    assert lot.reserved_kg == 0


def test_a_platform_masked_phone_is_accepted_and_marked(client_for):
    _sku()
    client = client_for("manager")

    response = _post(client, "/api/orders/", _body(phone="138****1234", allocate=False))

    assert response.status_code == 201, response.json()
    order = Order.objects.get()
    assert (order.phone, order.phone_masked_by_platform) == ("138****1234", True)
    assert response.json()["masked_phone"] == "138****1234"


def test_a_phone_with_spaces_and_country_code_is_stored_as_11_digits(client_for):
    _sku()
    client = client_for("manager")

    response = _post(client, "/api/orders/", _body(phone="+86 139-1234-5678", allocate=False))

    assert response.status_code == 201, response.json()
    order = Order.objects.get()
    assert (order.phone, order.phone_masked_by_platform) == (PHONE, False)


def test_an_order_without_a_session_joins_the_one_live_when_it_was_paid(client_for):
    _sku()
    session = _session("蜜桃专场", starts_at=datetime(2026, 3, 1, 19, tzinfo=SHANGHAI), hours=4)
    client = client_for("manager")

    response = _post(client, "/api/orders/", _body(allocate=False))

    assert response.status_code == 201
    assert response.json()["live_session"] == session.pk
    assert Order.objects.get().live_session == session


def _line(**overrides) -> dict:
    return {"sku": "MT-5J-TJ", "quantity": 1, "unit_price": "39.90", **overrides}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"channel": "taobao"}, "channel"),
        ({"channel": None}, "channel"),
        ({"external_no": ""}, "external_no"),
        ({"external_no": "2.61121E+15"}, "external_no"),
        ({"external_no": "1" * 41}, "external_no"),
        ({"recipient_name": ""}, "recipient_name"),
        ({"phone": "12345678901"}, "phone"),
        ({"phone": "1391234567"}, "phone"),
        ({"phone": "139-1234-567x"}, "phone"),
        ({"phone": "13*****5678"}, "phone"),
        ({"province": "浙" * 21}, "province"),
        ({"address_detail": ""}, "address_detail"),
        ({"address_detail": None}, "address_detail"),
        ({"paid_at": "昨天晚上"}, "paid_at"),
        ({"paid_at": None}, "paid_at"),
        ({"shipping_fee": "八块"}, "shipping_fee"),
        ({"shipping_fee": "-1"}, "shipping_fee"),
        ({"shipping_fee": "1.005"}, "shipping_fee"),
        ({"live_session": 999999}, "live_session"),
        ({"lines": []}, "lines"),
        ({"lines": "MT-5J-TJ"}, "lines"),
        ({"allocate": "maybe"}, "allocate"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_saves_nothing(client_for, overrides, field):
    _sku()
    client = client_for("manager")

    response = _post(client, "/api/orders/", _body(**overrides))

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("bad_line", "field"),
    [
        ({"sku": "NO-SUCH-SKU"}, "sku"),
        ({"sku": ""}, "sku"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": -2}, "quantity"),
        ({"quantity": "1.5"}, "quantity"),
        ({"quantity": "两箱"}, "quantity"),
        ({"unit_price": "abc"}, "unit_price"),
        ({"unit_price": "-0.01"}, "unit_price"),
    ],
)
def test_a_bad_line_is_a_400_naming_the_line_and_field(client_for, bad_line, field):
    _sku()
    client = client_for("manager")

    response = _post(client, "/api/orders/", _body(lines=[_line(), _line(**bad_line)]))

    assert response.status_code == 400
    errors = response.json()["lines"]
    assert errors[0] == {}
    assert field in errors[1], errors
    assert not Order.objects.exists()


def test_a_sku_no_longer_sold_is_a_400_on_its_line(client_for):
    _sku()
    _sku("OLD-1", is_active=False)
    client = client_for("manager")

    response = _post(client, "/api/orders/", _body(lines=[_line(), _line(sku="OLD-1")]))

    assert response.status_code == 400
    errors = response.json()["lines"]
    assert errors[0] == {}
    assert "OLD-1" in errors[1]["sku"][0]
    assert not Order.objects.exists()


def test_a_live_session_of_another_channel_is_refused(client_for):
    _sku()
    session = _session("抖音专场", channel="douyin")
    client = client_for("manager")

    response = _post(client, "/api/orders/", _body(live_session=session.pk))

    assert response.status_code == 400
    assert "live_session" in response.json()
    assert not Order.objects.exists()


def test_a_duplicate_order_number_in_the_channel_is_a_409_naming_it(client_for):
    sku = _sku()
    receive(kg="100", product=sku.product, grade=sku.grade)
    client = client_for("manager")
    assert _post(client, "/api/orders/", _body()).status_code == 201

    response = _post(client, "/api/orders/", _body(recipient_name="别人"))

    assert response.status_code == 409
    assert "2611210000000012345" in response.json()["detail"]
    assert response.json()["field"] == "external_no"
    assert Order.objects.count() == 1
    assert Lot.objects.get().reserved_kg == D("5.000")


def test_the_same_order_number_in_another_channel_is_another_order(client_for):
    _sku()
    client = client_for("manager")
    assert _post(client, "/api/orders/", _body(allocate=False)).status_code == 201

    response = _post(client, "/api/orders/", _body(channel="douyin", allocate=False))

    assert response.status_code == 201
    assert Order.objects.count() == 2


# --- cancel and allocate ---------------------------------------------------------------------


def test_cancel_gives_the_reserved_kilograms_back(client_for):
    sku = _sku()
    lot = receive(kg="100", product=sku.product, grade=sku.grade)
    order = _order("A1", (sku, 4))
    order_allocate(order=order)
    assert Lot.objects.get(pk=lot.pk).reserved_kg == D("10.000")
    client = client_for("manager")

    response = _post(client, f"/api/orders/{order.pk}/cancel/", {"note": "买家不要了"})

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == OrderStatus.CANCELLED
    assert response.json()["events"][-1]["note"] == "买家不要了"
    assert Lot.objects.get(pk=lot.pk).reserved_kg == 0
    assert not Allocation.objects.exists()
    assert stock_mismatches() == []


def test_cancelling_a_cancelled_order_is_a_409_naming_both_states(client_for):
    order = _order("A1", (_sku(), 1))
    order_cancel(order=order)
    client = client_for("manager")

    response = _post(client, f"/api/orders/{order.pk}/cancel/", headers=ENGLISH)

    assert response.status_code == 409
    assert response.json()["code"] == "forbidden_transition"
    assert "from Cancelled to Cancelled" in response.json()["detail"]
    assert OrderEvent.objects.filter(order=order).count() == 2


def test_allocating_a_cancelled_order_is_a_409_naming_both_states(client_for):
    order = _order("A1", (_sku(), 1))
    order_cancel(order=order)
    client = client_for("manager")

    response = _post(client, f"/api/orders/{order.pk}/allocate/", headers=ENGLISH)

    assert response.status_code == 409
    assert "from Cancelled to Allocated" in response.json()["detail"]
    assert Order.objects.get().status == OrderStatus.CANCELLED


def test_allocate_answers_backordered_then_allocated_once_stock_arrives(client_for):
    sku = _sku()
    order = _order("A1", (sku, 2))
    client = client_for("manager")

    short = _post(client, f"/api/orders/{order.pk}/allocate/")
    assert short.status_code == 200
    assert short.json()["result"] == "backordered"
    assert short.json()["order"]["status"] == OrderStatus.BACKORDERED

    lot = receive(kg="10", product=sku.product, grade=sku.grade)
    served = _post(client, f"/api/orders/{order.pk}/allocate/")
    assert served.status_code == 200
    assert served.json()["result"] == "allocated"
    assert served.json()["order"]["lines"][0]["allocations"][0]["lot_code"] == lot.code
    assert Lot.objects.get(pk=lot.pk).reserved_kg == D("5.000")
    assert stock_mismatches() == []


def test_an_unknown_order_is_a_404(client_for):
    client = client_for("manager")

    assert client.get("/api/orders/999999/").status_code == 404
    assert _post(client, "/api/orders/999999/cancel/").status_code == 404


# --- roles -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["packer", "creator", "intake"])
def test_packers_creators_and_intake_cannot_create_cancel_or_allocate(client_for, role):
    sku = _sku()
    lot = receive(kg="100", product=sku.product, grade=sku.grade)
    order = _order("A1", (sku, 1))
    client = client_for(role)

    created = _post(client, "/api/orders/", _body(external_no="B2"))
    allocated = _post(client, f"/api/orders/{order.pk}/allocate/")
    cancelled = _post(client, f"/api/orders/{order.pk}/cancel/")

    assert (created.status_code, allocated.status_code, cancelled.status_code) == (403, 403, 403)
    assert list(Order.objects.values_list("external_no", "status")) == [("A1", "new")]
    assert Lot.objects.get(pk=lot.pk).reserved_kg == 0


def test_intake_staff_cannot_read_orders(client_for):
    _order("A1", (_sku(), 1))
    client = client_for("intake")

    assert client.get("/api/orders/").status_code == 403
    assert client.get("/api/live-sessions/").status_code == 403


@pytest.mark.parametrize("url", ["/api/orders/", "/api/live-sessions/", "/api/channels/"])
def test_anonymous_users_get_401(client, url):
    assert client.get(url).status_code == 401


def _session_body(**overrides) -> dict:
    body = {
        "channel": "kuaishou",
        "title": "秦岭蜜桃专场",
        "host": "朱小妹",
        "room": "朱家坪 1 号直播间",
        "starts_at": "2026-03-01T19:00:00+08:00",
        "ends_at": "2026-03-01T23:00:00+08:00",
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize("role", ["creator", "manager"])
def test_creators_and_managers_plan_live_sessions(client_for, role):
    client = client_for(role)

    response = _post(client, "/api/live-sessions/", _session_body())

    assert response.status_code == 201, response.json()
    session = LiveSession.objects.get()
    assert response.json()["id"] == session.pk
    assert (session.channel.code, session.host) == ("kuaishou", "朱小妹")
    assert (response.json()["order_count"], response.json()["gross_sales"]) == (0, "0.00")


def test_a_packer_cannot_plan_change_or_delete_a_live_session(client_for):
    session = _session()
    client = client_for("packer")

    assert _post(client, "/api/live-sessions/", _session_body()).status_code == 403
    patched = client.patch(
        f"/api/live-sessions/{session.pk}/", {"title": "改"}, content_type="application/json"
    )
    assert patched.status_code == 403
    assert client.delete(f"/api/live-sessions/{session.pk}/").status_code == 403
    assert list(LiveSession.objects.values_list("title", flat=True)) == ["专场"]
    assert client.get(f"/api/live-sessions/{session.pk}/").status_code == 200


# --- live sessions ---------------------------------------------------------------------------


def test_live_sessions_carry_order_count_and_gross_sales(client_for):
    sku = _sku()
    now = timezone.now()
    session = _session(starts_at=now)
    empty = _session("空场", starts_at=now - timedelta(days=1))
    _order("A1", (sku, 2), live_session=session)  # 79.80
    _order("A2", (sku, 1), live_session=session)  # 39.90
    order_cancel(order=_order("A3", (sku, 5), live_session=session))  # not a sale
    client = client_for("creator")

    rows = client.get("/api/live-sessions/").json()["results"]

    assert [(r["id"], r["order_count"], r["gross_sales"]) for r in rows] == [
        (session.pk, 3, "119.70"),
        (empty.pk, 0, "0.00"),
    ]
    one = client.get(f"/api/live-sessions/{session.pk}/").json()
    assert (one["order_count"], one["gross_sales"], one["channel"]) == (3, "119.70", "kuaishou")


def test_a_live_session_must_end_after_it_starts(client_for):
    client = client_for("creator")

    same = _post(client, "/api/live-sessions/", _session_body(ends_at="2026-03-01T19:00:00+08:00"))
    backwards = _post(
        client, "/api/live-sessions/", _session_body(ends_at="2026-03-01T18:00:00+08:00")
    )

    assert (same.status_code, backwards.status_code) == (400, 400)
    assert "ends_at" in same.json() and "ends_at" in backwards.json()
    assert not LiveSession.objects.exists()


def test_changing_a_live_session_keeps_end_after_start(client_for):
    client = client_for("creator")
    session_id = _post(client, "/api/live-sessions/", _session_body()).json()["id"]
    url = f"/api/live-sessions/{session_id}/"

    bad = client.patch(url, {"starts_at": "2026-03-02T00:00:00+08:00"}, "application/json")
    good = client.patch(url, {"title": "改名了", "room": ""}, "application/json")

    assert bad.status_code == 400 and "ends_at" in bad.json()
    assert good.status_code == 200 and good.json()["title"] == "改名了"
    assert good.json()["order_count"] == 0
    assert LiveSession.objects.get().starts_at == datetime(2026, 3, 1, 19, tzinfo=SHANGHAI)


def test_a_live_session_with_orders_cannot_move_channel(client_for):
    client = client_for("manager")
    session_id = _post(client, "/api/live-sessions/", _session_body()).json()["id"]
    _order("A1", (_sku(), 1), live_session=LiveSession.objects.get(pk=session_id))

    response = client.patch(
        f"/api/live-sessions/{session_id}/", {"channel": "douyin"}, "application/json"
    )

    assert response.status_code == 400
    assert "channel" in response.json()
    assert LiveSession.objects.get().channel.code == "kuaishou"


def test_a_live_session_with_orders_cannot_be_deleted(client_for):
    client = client_for("creator")
    used_id = _post(client, "/api/live-sessions/", _session_body()).json()["id"]
    unused_id = _post(client, "/api/live-sessions/", _session_body(title="没开播")).json()["id"]
    order = _order("A1", (_sku(), 1), live_session=LiveSession.objects.get(pk=used_id))

    refused = client.delete(f"/api/live-sessions/{used_id}/", headers=ENGLISH)
    deleted = client.delete(f"/api/live-sessions/{unused_id}/")

    assert refused.status_code == 409
    assert "has 1 order" in refused.json()["detail"]
    assert deleted.status_code == 204
    assert list(LiveSession.objects.values_list("pk", flat=True)) == [used_id]
    assert Order.objects.get(pk=order.pk).live_session_id == used_id


def test_live_sessions_filter_by_channel(client_for):
    client = client_for("manager")
    _post(client, "/api/live-sessions/", _session_body())
    _post(client, "/api/live-sessions/", _session_body(channel="douyin", title="抖音场"))

    rows = client.get("/api/live-sessions/?channel=douyin").json()["results"]

    assert [row["title"] for row in rows] == ["抖音场"]


def test_channels_are_listed_for_order_readers(client_for):
    _channel("kuaishou")
    _channel("douyin")
    client = client_for("packer")

    response = client.get("/api/channels/")

    assert response.status_code == 200
    codes = [row["code"] for row in response.json()["results"]]
    assert {"kuaishou", "douyin"} <= set(codes)
    assert codes == sorted(codes)
    assert _post(client_for("manager"), "/api/channels/", {"code": "x"}).status_code == 405


# --- query counts ----------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _served_order(number: str, skus: list[Sku], session: LiveSession) -> Order:
    order = _order(number, *[(sku, 1) for sku in skus], live_session=session)
    order_allocate(order=order)
    return order


def test_the_order_list_costs_the_same_queries_for_few_or_many_orders(client_for):
    # given stock, a live session, and orders of two lines each, all allocated
    grade = GradeFactory()
    skus = [_sku("MT-5J-TJ", grade=grade), _sku("BL-1J", name="板栗", grade=grade)]
    receive(kg="1000", product=skus[0].product, grade=grade)
    session = _session()
    client = client_for("manager")
    for number in range(2):
        _served_order(f"A{number}", skus, session)
    few = _queries(client, "/api/orders/")

    # when there are eight times as many
    for number in range(2, 16):
        _served_order(f"A{number}", skus, session)
    many = _queries(client, "/api/orders/")

    # then the list costs the same number of queries
    assert client.get("/api/orders/").json()["count"] == 16
    assert many == few


def test_one_order_costs_the_same_queries_for_one_line_or_many(client_for):
    # given five lots of 3 kg, one order of one 2.5 kg line, and one of four lines that the
    # 3 kg lots can only serve split, each line from two lots
    grade = GradeFactory()
    skus = [_sku(f"S{n}", grade=grade) for n in range(5)]
    for _lot in range(5):
        receive(kg="3", product=skus[0].product, grade=grade)
    session = _session()
    small = _served_order("SMALL", skus[:1], session)
    big = _served_order("BIG", skus[1:], session)
    client = client_for("packer")

    # then opening either costs the same queries
    assert big.status == OrderStatus.ALLOCATED
    assert Allocation.objects.filter(line__order=big).count() == 8
    assert _queries(client, f"/api/orders/{big.pk}/") == _queries(
        client, f"/api/orders/{small.pk}/"
    )


def test_the_live_session_list_costs_the_same_queries_for_few_or_many(client_for):
    sku = _sku()
    client = client_for("creator")

    def add_sessions(count: int) -> None:
        for n in range(count):
            session = _session(f"场{n}")
            _order(f"{session.pk}-1", (sku, 1), live_session=session)

    add_sessions(1)
    few = _queries(client, "/api/live-sessions/")
    add_sessions(6)
    many = _queries(client, "/api/live-sessions/")

    assert many == few
