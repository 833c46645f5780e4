"""Orders are created one way: every new order — an imported row, an API body — meets the same
rules (``orders.drafts``), and a rule broken says the same thing on each path."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from orders.drafts import LineDraft, OrderDraft, check_draft, draft_errors
from orders.importers.service import import_upload
from orders.models import Channel, Order
from tests.factories import SkuFactory, UserFactory

pytestmark = pytest.mark.django_db
D = Decimal

HEADER = "订单号,收货人,手机号,省,市,区,详细地址,商品编码,数量,单价,支付时间\r\n"


def _draft(**overrides) -> OrderDraft:
    sku = overrides.pop("sku", None) or SkuFactory(merchant_code="MT-5J")
    values = {
        "external_no": "2611210001",
        "recipient_name": "王五",
        "phone": "13712345678",
        "province": "四川省",
        "address_detail": "成都市武侯区人民南路 4 段 9 号",
        "paid_at": timezone.now() - timedelta(hours=1),
        "lines": [LineDraft(sku=sku, quantity=overrides.pop("quantity", 1), unit_price=D("39.90"))],
    }
    return OrderDraft(**{**values, **overrides})


def _fields(draft: OrderDraft) -> list[tuple[str, int | None]]:
    return [(error.field, error.row) for error in draft_errors(draft)]


def test_a_good_draft_has_no_errors_and_virtual_numbers_with_an_extension_pass():
    assert draft_errors(_draft()) == []
    assert draft_errors(_draft(phone="17012345678-1234")) == []
    assert draft_errors(_draft(phone="138****5678", phone_masked_by_platform=True)) == []
    check_draft(_draft())


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"external_no": ""}, [("external_no", None)]),
        ({"external_no": "12 34"}, [("external_no", None)]),
        ({"recipient_name": ""}, [("recipient_name", None)]),
        ({"phone": "0916-5551234"}, [("phone", None)]),
        ({"phone": ""}, [("phone", None)]),
        ({"address_detail": "", "province": ""}, [("address_detail", None)]),
        ({"buyer_note": "好" * 501}, [("buyer_note", None)]),
        ({"shipping_fee": D("-1")}, [("shipping_fee", None)]),
        ({"quantity": 0}, [("quantity", 0)]),
        ({"lines": []}, [("lines", None)]),
    ],
)
def test_each_rule_names_its_field(overrides, expected):
    assert _fields(_draft(**overrides)) == expected


def test_an_address_that_names_no_province_waits_for_review_instead_of_being_refused():
    draft = _draft(province="", address_detail="建国路 88 号")
    assert draft_errors(draft) == []
    assert draft.address_status in {"unmatched", "partial"}


def test_every_broken_rule_is_listed_not_only_the_first():
    draft = _draft(recipient_name="", phone="12345", quantity=0)
    assert _fields(draft) == [("recipient_name", None), ("phone", None), ("quantity", 0)]


def test_a_sku_no_longer_sold_is_refused_on_its_line():
    draft = _draft(sku=SkuFactory(merchant_code="OLD-1", is_active=False))
    assert _fields(draft) == [("sku", 0)]


def _imported_reason(phone: str) -> tuple[str, str]:
    sku = SkuFactory(merchant_code="MT-5J")
    channel, _ = Channel.objects.get_or_create(code="kuaishou", defaults={"name": "快手"})
    text = HEADER + (
        f"2611210001,王五,{phone},四川省,成都市,武侯区,人民南路 4 段 9 号,{sku.merchant_code},"
        "1,39.90,2026-11-21 20:05:09\r\n"
    )
    user = UserFactory(username="importer", roles=["manager"])
    batch = import_upload(
        channel=channel,
        uploaded=SimpleUploadedFile("orders.csv", text.encode("utf-8-sig")),
        acting_user=user,
    )
    (error,) = batch.errors.all()
    return error.column, error.reason


def test_the_importer_and_the_api_refuse_a_bad_phone_with_the_same_words(client_for):
    with translation.override("zh-hans"):
        column, imported = _imported_reason("0916-5551234")
    client = client_for("manager")
    body = {
        "channel": "kuaishou",
        "external_no": "2611210002",
        "recipient_name": "王五",
        "phone": "0916-5551234",
        "province": "四川省",
        "address_detail": "成都市武侯区人民南路 4 段 9 号",
        "paid_at": "2026-11-21T20:05:09+08:00",
        "lines": [{"sku": "MT-5J", "quantity": 1, "unit_price": "39.90"}],
    }
    response = client.post(
        "/api/orders/",
        json.dumps(body),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    assert column == "手机号"
    assert response.json()["phone"] == [imported]
    assert "09165551234" in imported
    assert not Order.objects.exists()


def test_a_bad_value_on_a_later_row_of_an_order_is_reported_on_that_row():
    # given an order of two lines whose second row gives a phone cut short (as a spreadsheet
    # edit leaves it), while the first row's is good
    sku = SkuFactory(merchant_code="MT-5J")
    channel, _ = Channel.objects.get_or_create(code="kuaishou", defaults={"name": "快手"})
    first = (
        "2611210009,王五,13712345678,四川省,成都市,武侯区,人民南路 4 段 9 号,MT-5J,1,39.90,"
        "2026-11-21 20:05:09\r\n"
    )
    second = first.replace("13712345678", "1371234").replace(",1,39.90", ",2,39.90")
    batch = import_upload(
        channel=channel,
        uploaded=SimpleUploadedFile("orders.csv", (HEADER + first + second).encode("utf-8-sig")),
        acting_user=UserFactory(username="importer", roles=["manager"]),
    )

    # then row 3 is reported for its phone, row 2 as its mate, and nothing is created
    reported = {(error.row_number, error.column) for error in batch.errors.all()}
    assert (3, "手机号") in reported
    assert {row for row, _column in reported} == {2, 3}
    assert batch.invalid_count == 2 and not Order.objects.exists()
    assert sku.is_active
