"""The 快手 connector against a local stand-in for the platform that checks signatures."""

from datetime import timedelta
from decimal import Decimal

import pytest

from orders.models import PlatformAccount
from orders.platforms.base import PulledStatus, Shipment, ShipmentParcel
from orders.platforms.errors import AuthRevoked, SignatureRejected
from orders.platforms.kuaishou import kuaishou_sign
from tests.orders.platform_builders import NOW, connect, kuaishou_account
from tests.platform_fakes import FakeKuaishou, kuaishou_order
from tests.shipping.builders import stocked_sku

pytestmark = pytest.mark.django_db

T0 = int((NOW - timedelta(hours=2)).timestamp() * 1000)


@pytest.fixture
def fake():
    server = FakeKuaishou().start()
    yield server
    server.stop()


@pytest.fixture
def peach():
    return stocked_sku("QB-MT", kg="0")


def test_the_signature_matches_vectors_computed_with_openssl():
    # Sorted key=value pairs joined by "&", then "&signSecret=…" (API调用说明 §4); the
    # expected values were computed with `openssl dgst -sha256 -hmac … -binary | base64`
    # and `openssl dgst -md5` from that text.
    params = {
        "access_token": "tok-1",
        "appkey": "ks7000000000000001",
        "method": "open.order.cursor.list",
        "param": '{"beginTime":1781168400000,"cursor":"","endTime":1781254800000}',
        "signMethod": "HMAC_SHA256",
        "timestamp": "1781254800000",
        "version": "1",
    }
    assert kuaishou_sign(params, sign_secret="ks-sign-secret", sign_method="HMAC_SHA256") == (
        "6h6EEgp36gFiMMRlkBx0S1Ev9j11jUnEmeVSngCEcXs="
    )
    params["signMethod"] = "MD5"
    assert kuaishou_sign(params, sign_secret="ks-sign-secret", sign_method="MD5") == (
        "a478cb21a7f832c8e4cb2d00c66077c6"
    )


@pytest.mark.parametrize("sign_method", ["hmac-sha256", "md5"])
def test_orders_are_pulled_cursor_by_cursor_as_drafts(fake, peach, sign_method):
    fake.orders = [kuaishou_order(2400000000 + n, num=2, update_ms=T0 + n) for n in range(5)]
    fake.orders.append(kuaishou_order(2400000099, status=80, update_ms=T0 + 9))
    connector = connect(kuaishou_account(fake, sign_method=sign_method))
    connector.page_size = 2

    pulled = list(connector.iter_orders(since=NOW - timedelta(hours=3), until=NOW))

    assert len(pulled) == 6
    assert fake.methods() == ["open.order.cursor.list"] * 3
    assert all(signed for _m, _p, signed in fake.calls)
    assert [params["cursor"] for _m, params, _s in fake.calls] == ["", "2", "4"]
    first = pulled[0].draft
    assert pulled[0].external_no == "2400000000"
    assert first.recipient_name == "李四" and first.phone == "13900005678"
    assert first.address_detail == "火烧店镇朱家坪村5组"
    assert first.lines[0].quantity == 2 and first.lines[0].sku == peach
    assert first.goods_total == Decimal("79.80")
    assert first.buyer_note == "轻拿轻放"
    assert pulled[-1].status == PulledStatus.CLOSED


def test_a_week_at_most_is_asked_in_one_query(fake, peach):
    connector = connect(kuaishou_account(fake))

    list(connector.iter_orders(since=NOW - timedelta(days=10), until=NOW))

    spans = [params["endTime"] - params["beginTime"] for _m, params, _s in fake.calls]
    assert len(spans) == 2
    assert max(spans) <= 7 * 86400 * 1000


def test_a_multi_parcel_shipment_delivers_then_appends(fake):
    receipt = connect(kuaishou_account(fake)).push_shipment(
        Shipment(
            "2400000001",
            [
                ShipmentParcel("zto", "75300000000001"),
                ShipmentParcel("zto", "75300000000002"),
                ShipmentParcel("sf", "SF000000000003"),
            ],
        )
    )

    assert receipt.parcels == 3
    assert fake.methods() == [
        "open.seller.order.goods.deliver",
        "open.seller.order.goods.logistics.append",
        "open.seller.order.goods.logistics.append",
    ]
    assert fake.delivered == [
        {"orderId": 2400000001, "expressNo": "75300000000001", "expressCode": 9},
        {"orderId": 2400000001, "expressNo": "75300000000002", "expressCode": 9},
        {"orderId": 2400000001, "expressNo": "SF000000000003", "expressCode": 4},
    ]


def test_an_expired_token_is_refreshed_and_the_new_refresh_token_kept(fake, peach):
    fake.orders = [kuaishou_order(2400000001, update_ms=T0)]
    account = kuaishou_account(fake)
    fake.script = ["expired"]

    page = connect(account).pull_orders(since=NOW - timedelta(hours=3), until=NOW)

    assert len(page.orders) == 1
    assert fake.methods() == [
        "open.order.cursor.list",
        "oauth2.refresh_token",
        "open.order.cursor.list",
    ]
    account = PlatformAccount.objects.get(pk=account.pk)
    assert account.access_token == "ks-token-2"
    # A refresh token is good once: the new one must be the one kept.
    assert account.refresh_token == "ks-refresh-1x"


def test_a_discarded_refresh_token_asks_for_authorisation_again(fake):
    account = kuaishou_account(fake)
    fake.refresh_token = "used-elsewhere"
    fake.script = ["expired"]

    with pytest.raises(AuthRevoked):
        connect(account).pull_orders(since=NOW - timedelta(hours=3), until=NOW)


def test_a_wrong_sign_secret_is_a_signature_error(fake):
    account = kuaishou_account(fake, sign_secret="wrong")

    with pytest.raises(SignatureRejected):
        connect(account).pull_orders(since=NOW - timedelta(hours=3), until=NOW)


def test_refunds_are_pulled_page_by_page(fake):
    def refund(number, handling, refund_type, status):
        return {
            "refundId": 880 + number,
            "oid": 2400000000 + number,
            "handlingWay": handling,
            "refundType": refund_type,
            "status": status,
            "refundFee": 3990,
            "skuNick": "QB-MT",
            "updateTime": T0 + number,
        }

    fake.refunds = [refund(n, 10, 1, 60) for n in range(150)] + [refund(200, 1, 2, 40)]
    connector = connect(kuaishou_account(fake))

    found = list(connector.iter_after_sales(since=NOW - timedelta(hours=3), until=NOW))

    assert len(found) == 151
    assert fake.methods() == ["open.seller.order.refund.pcursor.list"] * 2
    first, last = found[0], found[-1]
    assert first.kind == "refund_only" and not first.shipped and first.succeeded
    assert first.refund_amount == Decimal("39.90")
    assert last.kind == "return_and_refund" and last.shipped and not last.succeeded
