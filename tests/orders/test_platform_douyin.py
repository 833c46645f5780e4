"""The 抖店 connector against a local stand-in for the platform that checks signatures."""

from datetime import timedelta
from decimal import Decimal

import pytest

from orders.models import Order, PlatformCall
from orders.platforms.base import PulledStatus, Shipment, ShipmentParcel
from orders.platforms.douyin import douyin_sign, param_json
from orders.platforms.errors import AuthRevoked, PlatformRejected, SignatureRejected
from orders.platforms.models import PlatformAccount
from orders.services import orders_create
from tests.orders.platform_builders import NOW, connect, douyin_account
from tests.platform_fakes import FakeDouyin, douyin_order
from tests.shipping.builders import stocked_sku

pytestmark = pytest.mark.django_db

T0 = int((NOW - timedelta(hours=2)).timestamp())


@pytest.fixture
def fake():
    server = FakeDouyin().start()
    yield server
    server.stop()


@pytest.fixture
def peach():
    return stocked_sku("QB-MT", kg="0")


def test_the_signature_matches_vectors_computed_with_openssl():
    # The string to sign as the platform documents it; the expected values were computed
    # with `openssl dgst -sha256 -hmac` and `openssl dgst -md5` from that string.
    params = {
        "update_time_start": 1781168400,
        "update_time_end": 1781254800,
        "page": 0,
        "size": 100,
        "order_by": "update_time",
        "order_asc": True,
    }
    body = param_json(params)
    assert body == (
        '{"order_asc":true,"order_by":"update_time","page":0,"size":100,'
        '"update_time_end":1781254800,"update_time_start":1781168400}'
    )
    common = {
        "app_key": "7123456789012345678",
        "app_secret": "shanhuo-test-secret",
        "method": "order.searchList",
        "param_json": body,
        "timestamp": "1781254800",
    }

    assert douyin_sign(**common, sign_method="hmac-sha256") == (
        "3f25a653571306144f90c6ac517914c378bf5427b7ff83cbf13b84ea4529550e"
    )
    assert douyin_sign(**common, sign_method="md5") == "8e1234cc7cf5a16542e288cf29dfaeab"


def test_param_json_sorts_nested_keys_and_keeps_chinese_as_it_is():
    assert param_json({"b": {"z": 1, "a": "陕西"}, "a": [{"y": 2, "x": 1}]}) == (
        '{"a":[{"x":1,"y":2}],"b":{"a":"陕西","z":1}}'
    )


@pytest.mark.parametrize("sign_method", ["hmac-sha256", "md5"])
def test_orders_are_pulled_page_by_page_as_drafts(fake, peach, sign_method):
    fake.orders = [douyin_order(f"69{n:016d}", update_time=T0 + n) for n in range(5)]
    connector = connect(douyin_account(fake, sign_method=sign_method))
    connector.page_size = 2

    pulled = list(connector.iter_orders(since=NOW - timedelta(hours=3), until=NOW))

    assert [order.external_no for order in pulled] == [f"69{n:016d}" for n in range(5)]
    assert fake.methods() == ["order.searchList"] * 3
    assert all(signed for _m, _p, signed in fake.calls)
    assert all(params["_canonical"] for _m, params, _s in fake.calls)
    assert [params["page"] for _m, params, _s in fake.calls] == [0, 1, 2]
    draft = pulled[0].draft
    assert pulled[0].status == PulledStatus.OPEN
    assert draft.recipient_name == "王小明"
    assert (draft.province, draft.city, draft.district) == ("陕西省", "汉中市", "留坝县")
    assert draft.address_detail == "朱家坪村3组"
    assert draft.lines[0].sku == peach
    assert draft.lines[0].unit_price == Decimal("39.90")
    assert draft.goods_total == Decimal("39.90")
    # The drafts go through the same path into orders as an imported file's.
    created = orders_create(channel=connector.channel, drafts=[o.draft for o in pulled])
    assert Order.objects.filter(pk__in=[o.pk for o in created]).count() == 5


def test_an_order_that_cannot_become_a_draft_says_why(fake, peach):
    fake.orders = [
        douyin_order("6900000000000000001", code="NOPE", update_time=T0),
        douyin_order("6900000000000000002", tel="12345", update_time=T0 + 1),
        douyin_order("6900000000000000003", status=4, update_time=T0 + 2),
        douyin_order("6900000000000000004", status=1, update_time=T0 + 3),
    ]
    connector = connect(douyin_account(fake))

    unknown, bad_phone, cancelled, unpaid = connector.pull_orders(
        since=NOW - timedelta(hours=3), until=NOW
    ).orders

    assert unknown.draft is None and "NOPE" in unknown.problems[0]
    assert bad_phone.draft is None and "12345" in bad_phone.problems[0]
    assert cancelled.status == PulledStatus.CLOSED and cancelled.draft is None
    assert unpaid.status == PulledStatus.UNPAID


def test_a_masked_phone_from_the_platform_is_kept_masked(fake, peach):
    row = douyin_order("6900000000000000009", update_time=T0, tel="")
    row["mask_post_tel"] = "138****1234"
    fake.orders = [row]

    (order,) = (
        connect(douyin_account(fake)).pull_orders(since=NOW - timedelta(hours=3), until=NOW).orders
    )

    assert order.draft.phone == "138****1234"
    assert order.draft.phone_masked_by_platform is True


def test_an_expired_token_is_refreshed_once_and_the_call_made_again(fake, peach):
    fake.orders = [douyin_order("6900000000000000001", update_time=T0)]
    account = douyin_account(fake)
    fake.script = ["expired"]

    page = connect(account).pull_orders(since=NOW - timedelta(hours=3), until=NOW)

    assert len(page.orders) == 1
    assert fake.methods() == ["order.searchList", "token.refresh", "order.searchList"]
    account = PlatformAccount.objects.get(pk=account.pk)
    assert account.access_token == "dy-token-2"
    assert account.refresh_token == "dy-refresh-1x"
    assert account.token_expires_at is not None
    outcomes = list(PlatformCall.objects.order_by("id").values_list("method", "outcome"))
    assert outcomes == [
        ("order.searchList", "token_expired"),
        ("token.refresh", "ok"),
        ("order.searchList", "ok"),
    ]


def test_a_spent_refresh_token_asks_for_authorisation_again(fake):
    account = douyin_account(fake)
    fake.refresh_token = "another"
    fake.access_token = "rotated-elsewhere"

    with pytest.raises(AuthRevoked):
        connect(account).pull_orders(since=NOW - timedelta(hours=3), until=NOW)


def test_a_wrong_app_secret_is_a_signature_error(fake):
    account = douyin_account(fake, app_secret="not-the-secret")

    with pytest.raises(SignatureRejected) as error:
        connect(account).pull_orders(since=NOW - timedelta(hours=3), until=NOW)

    assert error.value.platform_code == "40003:isv.signature-invalid"


def test_one_parcel_is_shipped_with_logistics_add(fake, peach):
    fake.orders = [douyin_order("6900000000000000001", update_time=T0)]

    receipt = connect(douyin_account(fake)).push_shipment(
        Shipment("6900000000000000001", [ShipmentParcel("zto", "75312345678901")])
    )

    assert receipt.parcels == 1
    assert fake.shipped == [
        {
            "order_id": "6900000000000000001",
            "packs": [{"company_code": "zhongtong", "logistics_code": "75312345678901"}],
        }
    ]


def test_a_multi_parcel_shipment_says_which_lines_are_in_which_parcel(fake, peach):
    fake.orders = [
        douyin_order("6900000000000000002", quantity=2, update_time=T0, more_lines=[("QB-BL", 1)])
    ]
    shipment = Shipment(
        "6900000000000000002",
        [
            ShipmentParcel("zto", "75300000000001", [("QB-MT", 2)]),
            ShipmentParcel("sf", "SF000000000002", [("QB-BL", 1)]),
        ],
    )

    receipt = connect(douyin_account(fake)).push_shipment(shipment)

    assert fake.methods() == ["order.orderDetail", "order.logisticsAddMultiPack"]
    (pushed,) = fake.shipped
    assert pushed["packs"] == [
        {
            "shipped_order_info": [{"shipped_order_id": "6900000000000000002-1", "shipped_num": 2}],
            "logistics_code": "75300000000001",
            "company_code": "zhongtong",
        },
        {
            "shipped_order_info": [{"shipped_order_id": "6900000000000000002-2", "shipped_num": 1}],
            "logistics_code": "SF000000000002",
            "company_code": "shunfeng",
        },
    ]
    assert len(pushed["request_id"]) == 32  # the platform's idempotency key
    assert receipt.platform_ids == ["P1", "P2"]


def test_a_parcel_holding_more_than_the_order_is_refused_before_anything_is_shipped(fake, peach):
    fake.orders = [douyin_order("6900000000000000002", update_time=T0)]
    shipment = Shipment(
        "6900000000000000002",
        [
            ShipmentParcel("zto", "75300000000001", [("QB-MT", 1)]),
            ShipmentParcel("zto", "75300000000002", [("QB-MT", 1)]),
        ],
    )

    with pytest.raises(PlatformRejected):
        connect(douyin_account(fake)).push_shipment(shipment)

    assert fake.shipped == []


def test_a_carrier_without_a_platform_code_is_refused(fake):
    account = douyin_account(fake)
    connector = connect(account)
    assert connector.platform_carrier("jitu") == "jtexpress"
    with pytest.raises(PlatformRejected):
        connector.platform_carrier("mule")
    account.carrier_codes = {"mule": "luozi"}
    assert connector.platform_carrier("mule") == "luozi"


def test_after_sales_are_pulled_page_by_page(fake):
    def after_sale(number, kind, status):
        return {
            "aftersale_info": {
                "aftersale_id": f"AS{number}",
                "aftersale_type": kind,
                "aftersale_status": status,
                "refund_amount": 1995,
                "aftersale_num": 1,
                "update_time": T0 + number,
            },
            "order_info": {
                "shop_order_id": f"690000000000000000{number}",
                "related_order_info": [
                    {"sku_order_id": "x", "shop_sku_code": "QB-MT", "order_status": 2}
                ],
            },
        }

    fake.after_sales = [after_sale(1, 2, 12), after_sale(2, 0, 7), after_sale(3, 1, 28)]
    connector = connect(douyin_account(fake))
    connector.page_size = 2

    found = list(connector.iter_after_sales(since=NOW - timedelta(hours=3), until=NOW))

    assert [a.after_sale_id for a in found] == ["AS1", "AS2", "AS3"]
    assert fake.methods() == ["afterSale.List", "afterSale.List"]
    before_shipping, return_asked, failed = found
    assert before_shipping.kind == "refund_only" and not before_shipping.shipped
    assert before_shipping.succeeded and before_shipping.refund_amount == Decimal("19.95")
    assert return_asked.kind == "return_and_refund" and return_asked.shipped
    assert failed.closed


def test_the_carrier_list_comes_from_the_platform(fake):
    codes = connect(douyin_account(fake)).company_list()

    assert {"zhongtong", "shunfeng"} == {company["code"] for company in codes}
