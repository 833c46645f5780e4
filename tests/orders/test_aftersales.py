"""After-sales by line: partial refunds, refunds without a return, returns, reshipments, and
what the order's status becomes."""

from decimal import Decimal

import pytest
from django.db.models import Q

from inventory.models import Lot, MovementKind, StockMovement
from inventory.selectors import stock_mismatches
from orders.aftersales import after_sale_apply, after_sale_record, refunded_money
from orders.models import AfterSale, AfterSaleKind, AfterSaleState, OrderStatus, ReturnState
from orders.services import order_allocate
from shipping.models import ParcelItem, ReturnDisposition
from shipping.services import ReturnRow, parcel_reship, parcel_return
from tests.shipping.builders import (
    allocated_order,
    carrier_with_pool,
    lot_figures,
    new_order,
    reload,
    staff,
    stocked_sku,
)
from tests.shipping.builders_api import packed_parcel, shipped_parcel

pytestmark = pytest.mark.django_db


def test_a_partial_refund_after_shipping_makes_the_order_partially_refunded():
    # given a shipped order of 2 peach boxes (5 kg, 2 × ¥39.90)
    parcel = shipped_parcel(quantity=2)
    order, line = parcel.order, parcel.order.lines.get()
    stock_before = lot_figures(parcel.items.get().lot)

    # when a manager refunds 1 kg of it, ¥8.00, without a return (仅退款: spoiled fruit)
    applied = after_sale_record(
        order=order,
        line=line,
        kind=AfterSaleKind.REFUND_ONLY,
        kg=Decimal("1.000"),
        amount=Decimal("8.00"),
        reason="压坏了",
        acting_user=staff("manager"),
    )

    # then the order is partially refunded, nothing came back to stock, and the refund
    # counts its money
    assert reload(order).status == OrderStatus.PARTIALLY_REFUNDED
    assert applied.after_sale.return_state == ReturnState.NONE
    assert lot_figures(parcel.items.get().lot) == stock_before
    assert refunded_money(Q(pk=order.pk)) == Decimal("8.00")


def test_refunding_every_line_in_full_makes_the_order_refunded():
    parcel = shipped_parcel(quantity=2)
    order, line = parcel.order, parcel.order.lines.get()
    manager = staff("manager")
    after_sale_record(
        order=order, line=line, kind="仅退款", units=1, reason="坏果", acting_user=manager
    )
    assert reload(order).status == OrderStatus.PARTIALLY_REFUNDED

    after_sale_record(
        order=order, line=line, kind="仅退款", units=1, reason="坏果", acting_user=manager
    )

    assert reload(order).status == OrderStatus.REFUNDED
    assert refunded_money(Q(pk=order.pk)) == order.goods_total


def test_no_more_than_the_line_can_be_refunded():
    parcel = shipped_parcel(quantity=1)
    order, line = parcel.order, parcel.order.lines.get()
    with pytest.raises(Exception) as refused:
        after_sale_record(
            order=order,
            line=line,
            kind="仅退款",
            kg=Decimal("3.000"),
            reason="x",
            acting_user=staff("manager"),
        )
    assert refused.value.field == "kg"
    assert not AfterSale.objects.exists()


def test_a_small_return_refunds_only_its_kilograms():
    # the bug of the issue: 0.1 kg back of a 5 kg parcel made the whole order refunded
    parcel = shipped_parcel(quantity=2)
    item = parcel.items.get()

    parcel_return(
        parcel=parcel,
        rows=[ReturnRow(item=item, kg=Decimal("0.1"), disposition=ReturnDisposition.RESTOCK)],
        acting_user=staff("intake"),
    )

    order = reload(parcel.order)
    assert order.status == OrderStatus.PARTIALLY_REFUNDED
    (sale,) = AfterSale.objects.filter(order=order)
    assert (sale.kind, sale.kg, sale.return_state) == (
        AfterSaleKind.RETURN_AND_REFUND,
        Decimal("0.100"),
        ReturnState.RECEIVED,
    )
    assert sale.amount == Decimal("1.60")  # 79.80 × 0.1 / 5
    assert stock_mismatches() == []


def test_a_return_fills_the_after_sale_that_expects_it_and_adds_no_money():
    parcel = shipped_parcel(quantity=2)
    order, line, item = parcel.order, parcel.order.lines.get(), parcel.items.get()
    applied = after_sale_apply(
        channel=order.channel.code,
        order_no=order.external_no,
        kind="退货退款",
        units=1,
        amount=Decimal("39.90"),
        platform_refund_id="RF-1",
        platform_state="退款成功",
    )
    assert applied.after_sale.return_state == ReturnState.EXPECTED

    parcel_return(
        parcel=parcel,
        rows=[
            ReturnRow(
                item=item, kg=Decimal("2.5"), disposition=ReturnDisposition.WRITE_OFF, reason="烂"
            )
        ],
        acting_user=staff("intake"),
    )

    sale = reload(applied.after_sale)
    assert (sale.return_state, sale.returned_kg) == (ReturnState.RECEIVED, Decimal("2.500"))
    assert AfterSale.objects.filter(order=order).count() == 1
    assert refunded_money(Q(pk=order.pk)) == Decimal("39.90")
    assert reload(order).status == OrderStatus.PARTIALLY_REFUNDED
    assert line.pk == sale.line_id


def test_a_refund_before_packing_cancels_units_and_releases_their_stock():
    # given an allocated order of 3 boxes (7.5 kg reserved)
    sku = stocked_sku()
    order = allocated_order((sku, 3))
    lot = Lot.objects.get(product=sku.product)
    assert lot_figures(lot)[1] == Decimal("7.500")

    # when the platform refunds 1 box before it was shipped
    applied = after_sale_apply(
        channel="kuaishou",
        order_no=order.external_no,
        line_code=sku.merchant_code.lower(),
        kind="仅退款",
        units=1,
        platform_refund_id="RF-2",
        platform_state="退款成功",
    )

    # then 2.5 kg are released, the order still goes out with 2 boxes
    assert applied.after_sale.before_shipping
    assert lot_figures(lot)[1] == Decimal("5.000")
    assert reload(order).status == OrderStatus.ALLOCATED
    assert stock_mismatches() == []


def test_a_cancelled_unit_is_not_reserved_again():
    sku = stocked_sku()
    order = new_order((sku, 2))
    after_sale_apply(
        channel="kuaishou",
        order_no=order.external_no,
        kind="refund_only",
        units=1,
        platform_refund_id="RF-3",
        platform_state="退款成功",
    )
    assert order_allocate(order=order, acting_user=staff("manager"))
    lot = Lot.objects.get(product=sku.product)
    assert lot_figures(lot)[1] == Decimal("2.500")


def test_refunding_every_unit_before_packing_refunds_the_order():
    sku = stocked_sku()
    order = allocated_order((sku, 2))
    for number in ("A", "B"):
        after_sale_apply(
            channel="kuaishou",
            order_no=order.external_no,
            kind="仅退款",
            units=1,
            platform_refund_id=number,
            platform_state="退款成功",
        )
    assert reload(order).status == OrderStatus.REFUNDED
    assert lot_figures(Lot.objects.get(product=sku.product))[1] == Decimal("0.000")


def test_applying_the_same_after_sale_again_changes_nothing():
    parcel = shipped_parcel(quantity=2)
    order = parcel.order
    values = {
        "channel": "kuaishou",
        "order_no": order.external_no,
        "kind": "仅退款",
        "units": 1,
        "amount": Decimal("20.00"),
        "platform_refund_id": "RF-9",
        "platform_state": "退款成功",
    }
    first = after_sale_apply(**values)
    events = order.events.count()

    again = after_sale_apply(**values)

    assert (first.outcome, again.outcome) == ("created", "unchanged")
    assert AfterSale.objects.count() == 1
    assert order.events.count() == events


def test_a_requested_after_sale_takes_effect_when_the_platform_refunds_it():
    parcel = shipped_parcel(quantity=2)
    order = parcel.order
    values = {
        "channel": "kuaishou",
        "order_no": order.external_no,
        "kind": "退货退款",
        "units": 1,
        "platform_refund_id": "RF-5",
    }
    first = after_sale_apply(**values, platform_state="待商家处理")
    assert first.after_sale.state == AfterSaleState.REQUESTED
    assert reload(order).status == OrderStatus.SHIPPED

    later = after_sale_apply(**values, platform_state="退款成功")

    assert later.outcome == "updated"
    assert reload(later.after_sale).state == AfterSaleState.REFUNDED
    assert reload(order).status == OrderStatus.PARTIALLY_REFUNDED


def test_a_reshipment_is_a_new_parcel_of_the_same_order():
    # given a delivered-ish (shipped) order of 2 boxes, and stock left
    parcel = shipped_parcel(quantity=2)
    order, line = parcel.order, parcel.order.lines.get()
    carrier = carrier_with_pool()
    shipped_before = StockMovement.objects.filter(kind=MovementKind.SHIP_OUT).count()

    # when 1 box is sent again
    again = parcel_reship(
        order=order,
        line=line,
        units=1,
        carrier=carrier,
        weight_kg=Decimal("2.8"),
        reason="运输压坏，补发",
        acting_user=staff("packer"),
    )

    # then a second parcel of the same order holds 2.5 kg, shipped out of the ledger
    assert again.order_id == order.pk and again.pk != parcel.pk
    assert ParcelItem.objects.get(parcel=again).kg == Decimal("2.500")
    assert StockMovement.objects.filter(kind=MovementKind.SHIP_OUT).count() == shipped_before + 1
    sale = AfterSale.objects.get(order=order)
    assert (sale.kind, sale.state, sale.parcel_reference) == (
        AfterSaleKind.RESHIP,
        AfterSaleState.RESHIPPED,
        f"parcel:{again.pk}",
    )
    assert reload(order).status == OrderStatus.SHIPPED
    assert stock_mismatches() == []


def test_an_order_not_yet_packed_cannot_be_reshipped():
    order = allocated_order()
    with pytest.raises(Exception) as refused:
        parcel_reship(
            order=order,
            line=order.lines.get(),
            units=1,
            carrier=carrier_with_pool(),
            weight_kg=Decimal("2.8"),
            reason="x",
            acting_user=staff("packer"),
        )
    assert refused.value.code == "forbidden_transition"


def test_a_packed_order_refunded_in_part():
    parcel = packed_parcel(quantity=2)
    after_sale_record(
        order=parcel.order,
        line=parcel.order.lines.get(),
        kind="退货退款",
        units=1,
        acting_user=staff("manager"),
    )
    assert reload(parcel.order).status == OrderStatus.PARTIALLY_REFUNDED


# --- pages and API -----------------------------------------------------------------------


def test_a_manager_records_a_refund_on_the_order_page(client_for):
    from django.urls import reverse

    parcel = shipped_parcel(quantity=2)
    order = parcel.order
    client = client_for("manager")
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert reverse("orders:refund", args=[order.pk]) in page

    client.post(
        reverse("orders:refund", args=[order.pk]),
        {
            "line": order.lines.get().pk,
            "kind": AfterSaleKind.REFUND_ONLY,
            "kg": "0.5",
            "amount": "6.00",
            "reason": "有两个烂了",
        },
    )

    assert reload(order).status == OrderStatus.PARTIALLY_REFUNDED
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "有两个烂了" in page and "¥6.00" in page


def test_a_packer_sees_no_refund_money_and_cannot_record_one(client_for):
    from django.urls import reverse

    parcel = shipped_parcel(quantity=2)
    order = parcel.order
    after_sale_record(
        order=order,
        line=order.lines.get(),
        kind="仅退款",
        units=1,
        amount=Decimal("33.33"),
        reason="坏果",
        acting_user=staff("manager"),
    )
    client = client_for("packer")
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "33.33" not in page
    assert reverse("shipping:reship", args=[order.pk]) in page
    response = client.post(reverse("orders:refund", args=[order.pk]), {})
    assert response.status_code == 403


def test_a_packer_reships_from_the_page(client_for):
    from django.urls import reverse

    parcel = shipped_parcel(quantity=2)
    order = parcel.order
    carrier = carrier_with_pool()
    client = client_for("packer")

    response = client.post(
        reverse("shipping:reship", args=[order.pk]),
        {
            "line": order.lines.get().pk,
            "units": "1",
            "carrier": carrier.pk,
            "weight_kg": "2.8",
            "reason": "快递压坏",
        },
    )

    assert response.status_code == 302
    assert order.parcels.count() == 2
    assert AfterSale.objects.get().state == AfterSaleState.RESHIPPED


def test_the_api_records_and_lists_after_sales_for_managers_only(client_for):
    from django.urls import reverse

    parcel = shipped_parcel(quantity=2)
    order = parcel.order
    url = reverse("api:after-sales-list")
    assert client_for("creator").get(url).status_code == 403
    client = client_for("manager")
    body = {
        "channel": "kuaishou",
        "order_no": order.external_no,
        "kind": "仅退款",
        "units": 1,
        "amount": "10.00",
        "platform_refund_id": "API-1",
    }

    first = client.post(url, body, content_type="application/json")
    again = client.post(url, body, content_type="application/json")
    bad = client.post(url, body | {"order_no": "999"}, content_type="application/json")

    assert first.status_code == 201 and first.json()["outcome"] == "created"
    assert again.status_code == 200 and again.json()["outcome"] == "unchanged"
    assert bad.status_code == 400 and "order_no" in bad.json()
    listed = client.get(url).json()["results"]
    assert [(row["platform_refund_id"], row["amount"]) for row in listed] == [("API-1", "10.00")]


# --- farmers' statements and stock health ----------------------------------------------------


def _statement(farmer):
    from django.utils import timezone

    from inventory.reports import farmer_statement

    today = timezone.localdate()
    return farmer_statement(farmer=farmer, date_from=today, date_to=today)


def test_a_refund_changes_no_farmers_credit_and_a_return_lowers_shipped_kg():
    # given a shipped parcel from one farmer's lot
    parcel = shipped_parcel(quantity=2)
    item = parcel.items.select_related("lot__farmer").get()
    farmer = item.lot.farmer
    before = _statement(farmer)
    assert before.shipped_kg == Decimal("5.000")

    # when a refund without a return is recorded, the farmer's figures do not move at all
    after_sale_record(
        order=parcel.order,
        line=parcel.order.lines.get(),
        kind="仅退款",
        units=1,
        reason="坏果",
        acting_user=staff("manager"),
    )
    assert _statement(farmer) == before

    # and when 1 kg comes back and is written off: credit unchanged, shipped net of it
    parcel_return(
        parcel=parcel,
        rows=[
            ReturnRow(
                item=item, kg=Decimal("1"), disposition=ReturnDisposition.WRITE_OFF, reason="烂"
            )
        ],
        acting_user=staff("intake"),
    )
    after = _statement(farmer)
    assert (after.delivered_amount, after.closing_balance) == (
        before.delivered_amount,
        before.closing_balance,
    )
    assert (after.shipped_kg, after.written_off_kg) == (Decimal("4.000"), Decimal("1.000"))
    assert stock_mismatches() == []


def test_an_after_sale_of_an_order_already_refunded_is_recorded_and_changes_nothing():
    from orders.services import order_cancel

    order = allocated_order()
    order_cancel(order=order, to=OrderStatus.REFUNDED, acting_user=staff("manager"))
    values = {"channel": "kuaishou", "order_no": order.external_no, "kind": "仅退款"}

    recorded = after_sale_apply(
        **values, units=1, platform_refund_id="R1", platform_state="退款成功"
    )
    with pytest.raises(Exception) as refused:
        after_sale_apply(**values, units=5, platform_refund_id="R2", platform_state="退款成功")

    assert recorded.outcome == "created"
    assert refused.value.field == "units"
    assert reload(order).status == OrderStatus.REFUNDED


def test_a_connectors_flags_without_words_are_idempotent_too():
    parcel = shipped_parcel(quantity=2)
    values = {
        "channel": "kuaishou",
        "order_no": parcel.order.external_no,
        "kind": "refund_only",
        "units": 1,
        "amount": Decimal("10.00"),
        "platform_refund_id": "K-1",
        "succeeded": True,
        "closed": False,
    }
    assert after_sale_apply(**values).outcome == "created"
    assert after_sale_apply(**values).outcome == "unchanged"


def test_the_api_reships_a_line_for_packers(client_for):
    from django.urls import reverse

    parcel = shipped_parcel(quantity=2)
    order = parcel.order
    carrier = carrier_with_pool()
    url = reverse("api:parcels-reship")
    body = {
        "order": order.pk,
        "line": order.lines.get().pk,
        "units": 1,
        "carrier": carrier.code,
        "weight_kg": "2.8",
        "reason": "压坏补发",
    }
    assert client_for("creator").post(url, body, content_type="application/json").status_code == 403
    client = client_for("packer")

    made = client.post(url, body, content_type="application/json")
    wrong_line = client.post(url, body | {"line": 999999}, content_type="application/json")

    assert made.status_code == 201, made.content
    assert made.json()["order"] == order.pk or made.json().get("order_no") == order.external_no
    assert wrong_line.status_code == 400 and "line" in wrong_line.json()
    assert order.parcels.count() == 2
