"""After-sales files: a platform's refund export applied by line — before shipping it cancels
units and releases stock, after shipping it records the refund (and expects the goods back
for 退货退款); the preview shows each row's outcome and errors; a re-import changes nothing."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inventory.models import Lot
from inventory.selectors import stock_mismatches
from orders.aftersale_files import after_sales_commit, after_sales_upload, apply_file
from orders.models import (
    AfterSale,
    AfterSaleImport,
    AfterSaleState,
    Channel,
    ImportMode,
    OrderStatus,
    ReturnState,
)
from tests.shipping.builders import allocated_order, lot_figures, reload, staff, stocked_sku
from tests.shipping.builders_api import shipped_parcel

pytestmark = pytest.mark.django_db

KUAISHOU_HEADER = (
    "退款单号,订单号,商品名称,SKU编码,退款类型,退款状态,退款数量,退款金额,退款原因,申请时间"
)
DOUYIN_HEADER = (
    "售后单号,主订单编号,子订单编号,商品名称,商家编码,售后类型,售后状态,售后数量,退款金额,售后原因"
)


def _csv(header: str, *rows: str, encoding: str = "gb18030") -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode(encoding)


def _apply(data: bytes, *, layout: str = "auto", dry_run: bool = False):
    channel = Channel.objects.get(code="kuaishou")
    return apply_file(
        channel=channel,
        data=data,
        file_name="退款.csv",
        layout=layout,
        acting_user=staff("manager"),
        dry_run=dry_run,
    )


def test_a_refund_before_shipping_cancels_the_line_and_releases_its_stock():
    sku = stocked_sku("MT-5J")
    order = allocated_order((sku, 2))
    lot = Lot.objects.get(product=sku.product)
    data = _csv(
        KUAISHOU_HEADER,
        f"\tRF1001,\t{order.external_no},蜜桃,MT-5J,仅退款,退款成功,2,79.80,不想要了,"
        "2026-06-19 10:00",
    )

    result = _apply(data)

    assert [row.outcome for row in result.rows] == ["created"]
    assert reload(order).status == OrderStatus.REFUNDED
    assert lot_figures(lot)[1] == Decimal("0.000")
    assert stock_mismatches() == []


def test_a_partial_refund_before_shipping_cancels_only_its_units():
    sku = stocked_sku("MT-5J")
    order = allocated_order((sku, 3))
    lot = Lot.objects.get(product=sku.product)
    data = _csv(
        KUAISHOU_HEADER,
        f"RF1002,{order.external_no},蜜桃,MT-5J,仅退款,退款成功,1,,买多了,2026-06-19 10:00",
    )

    _apply(data)

    assert reload(order).status == OrderStatus.ALLOCATED
    assert lot_figures(lot)[1] == Decimal("5.000")
    sale = AfterSale.objects.get()
    assert (sale.units, sale.kg, sale.before_shipping) == (1, Decimal("2.500"), True)


def test_a_refund_after_shipping_is_recorded_by_line_and_expects_the_return():
    parcel = shipped_parcel(quantity=2)
    order = parcel.order
    data = _csv(
        DOUYIN_HEADER,
        f"\t7300000001,\t{order.external_no},\t6900000001,蜜桃,MT-5J,退货退款,退款成功,1,39.90,坏果",
        encoding="utf-8-sig",
    )

    result = _apply(data)

    assert result.layout == "douyin"
    sale = AfterSale.objects.get()
    assert (sale.state, sale.return_state, sale.amount) == (
        AfterSaleState.REFUNDED,
        ReturnState.EXPECTED,
        Decimal("39.90"),
    )
    assert reload(order).status == OrderStatus.PARTIALLY_REFUNDED


def test_re_importing_the_same_file_changes_nothing():
    parcel = shipped_parcel(quantity=2)
    order = parcel.order
    data = _csv(
        KUAISHOU_HEADER,
        f"RF2001,{order.external_no},蜜桃,MT-5J,仅退款,退款成功,1,20.00,坏果,2026-06-19 10:00",
    )
    _apply(data)
    events = order.events.count()
    stored = list(AfterSale.objects.values())

    again = _apply(data)

    assert [row.outcome for row in again.rows] == ["unchanged"]
    assert list(AfterSale.objects.values()) == stored
    assert order.events.count() == events


def test_bad_rows_are_named_by_row_and_column_and_the_preview_writes_nothing():
    parcel = shipped_parcel(quantity=2)
    order = parcel.order
    data = _csv(
        KUAISHOU_HEADER,
        f"RF3001,{order.external_no},蜜桃,MT-5J,仅退款,退款成功,1,10.00,坏果,",
        "RF3002,2611999999999999,蜜桃,MT-5J,仅退款,退款成功,1,10.00,坏果,",
        f"RF3003,{order.external_no},蜜桃,NOPE,仅退款,退款成功,1,10.00,坏果,",
        f"RF3004,{order.external_no},蜜桃,MT-5J,换货,退款成功,1,10.00,坏果,",
        f"RF3005,{order.external_no},蜜桃,MT-5J,仅退款,退款成功,1,¥abc,坏果,",
        f"RF3006,{order.external_no},蜜桃,MT-5J,仅退款,退款成功,9,,坏果,",
        f",{order.external_no},蜜桃,MT-5J,仅退款,退款成功,1,,坏果,",
    )

    preview = _apply(data, dry_run=True)

    assert [(row.row, row.outcome, row.column) for row in preview.rows] == [
        (2, "created", ""),
        (3, "error", "订单号"),
        (4, "error", "SKU编码"),
        (5, "error", "退款类型"),
        (6, "error", "退款金额"),
        (7, "error", "退款数量"),
        (8, "error", "退款单号"),
    ]
    assert not AfterSale.objects.exists()
    assert reload(order).status == OrderStatus.SHIPPED


def test_a_file_without_the_columns_is_refused():
    from core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        _apply(_csv("a,b,c", "1,2,3"))
    assert refused.value.field == "file"


def test_the_generic_csv_takes_kilograms():
    parcel = shipped_parcel(quantity=2)
    order = parcel.order
    data = _csv(
        "after_sale_id,order_no,merchant_code,kind,state,kg,amount,reason",
        f"G-1,{order.external_no},MT-5J,refund_only,refunded,0.750,9.00,spoiled",
        encoding="utf-8",
    )

    _apply(data, layout="generic")

    sale = AfterSale.objects.get()
    assert (sale.kg, sale.units, sale.amount) == (Decimal("0.750"), 0, Decimal("9.00"))


def test_upload_previews_then_commit_applies_all_or_nothing():
    parcel = shipped_parcel(quantity=1)
    order = parcel.order
    data = _csv(
        KUAISHOU_HEADER,
        f"RF4001,{order.external_no},蜜桃,MT-5J,仅退款,退款成功,1,10.00,坏果,",
        "RF4002,2611999999999999,蜜桃,MT-5J,仅退款,退款成功,1,10.00,坏果,",
    )
    manager = staff("manager")
    channel = Channel.objects.get(code="kuaishou")
    batch = after_sales_upload(
        channel=channel,
        uploaded=SimpleUploadedFile("退款.csv", data),
        layout="kuaishou",
        mode=ImportMode.ALL_OR_NOTHING,
        acting_user=manager,
    )
    assert batch.status == AfterSaleImport.Status.PREVIEWED
    assert batch.counts == {"created": 1, "error": 1}
    assert not AfterSale.objects.exists()

    batch = after_sales_commit(batch=batch, acting_user=manager)

    assert batch.status == AfterSaleImport.Status.REJECTED
    assert not AfterSale.objects.exists()


def test_the_pages_import_a_file_for_managers_only(client_for):
    parcel = shipped_parcel(quantity=2)
    order = parcel.order
    channel = Channel.objects.get(code="kuaishou")
    data = _csv(
        KUAISHOU_HEADER,
        f"RF5001,{order.external_no},蜜桃,MT-5J,仅退款,退款成功,1,39.90,坏果,",
    )
    assert client_for("packer").get(reverse("imports:after_sales")).status_code == 403
    client = client_for("manager")

    response = client.post(
        reverse("imports:after_sales"),
        {
            "channel": channel.pk,
            "layout": "auto",
            "mode": ImportMode.KEEP_GOOD,
            "file": SimpleUploadedFile("退款.csv", data),
        },
    )
    batch = AfterSaleImport.objects.get()
    assert response.status_code == 302
    page = client.get(reverse("imports:after_sales_detail", args=[batch.pk]))
    assert "RF5001" in page.content.decode()

    client.post(reverse("imports:after_sales_commit", args=[batch.pk]))

    assert reload(batch).status == AfterSaleImport.Status.DONE
    assert reload(order).status == OrderStatus.PARTIALLY_REFUNDED


def test_a_broken_upload_is_a_400_naming_the_file(client_for):
    client = client_for("manager")
    channel, _ = Channel.objects.get_or_create(code="kuaishou", defaults={"name": "快手"})
    response = client.post(
        reverse("imports:after_sales"),
        {
            "channel": channel.pk,
            "layout": "auto",
            "mode": ImportMode.KEEP_GOOD,
            "file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n"),
        },
    )
    assert response.status_code == 400


def test_the_command_imports_a_file_and_a_second_run_changes_nothing(tmp_path):
    from io import StringIO

    from django.core.management import call_command

    parcel = shipped_parcel(quantity=2)
    order = parcel.order
    staff("manager")
    path = tmp_path / "退款.csv"
    path.write_bytes(
        _csv(
            KUAISHOU_HEADER,
            f"RF6001,{order.external_no},蜜桃,MT-5J,仅退款,退款成功,1,39.90,坏果,",
        )
    )
    out = StringIO()
    call_command("import_after_sales", str(path), channel="kuaishou", dry_run=True, stdout=out)
    assert not AfterSale.objects.exists()

    call_command("import_after_sales", str(path), channel="kuaishou", stdout=out)
    call_command("import_after_sales", str(path), channel="kuaishou", stdout=out)

    assert AfterSale.objects.count() == 1
    assert out.getvalue().strip().splitlines()[-1] == "kuaishou: unchanged 1"
