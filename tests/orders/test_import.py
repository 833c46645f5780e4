"""Importing platform exports: the fixtures in tests/data (made by tests/data/make_fixtures.py)
go through the import service as the pages, the API and the command use it."""

import csv
import io
from datetime import datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from core import db
from inventory.models import Lot
from inventory.selectors import stock_mismatches
from orders.checks import reservations_match_allocations
from orders.importers import service
from orders.importers.writing import copy_matches_models, uses_copy
from orders.models import (
    Allocation,
    Channel,
    ImportBatch,
    ImportMode,
    ImportRowError,
    ImportStatus,
    LiveSession,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
)
from tests.data.make_fixtures import SESSION, SKUS
from tests.factories import GradeFactory, ProductFactory, SkuFactory, receive

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# merchant code → (product, grade) of the fixtures' SKUs
PRODUCTS = {
    "MT-5J-TJ": ("蜜桃", "特级"),
    "MT-5J-YJ": ("蜜桃", "一级"),
    "BL-2J-TJ": ("板栗", "特级"),
    "FM-1J-TJ": ("蜂蜜", "特级"),
}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def catalogue():
    """The fixtures' SKUs, each with its own product and grade."""
    skus = {}
    for code, name, kg, price in SKUS:
        product_name, grade_name = PRODUCTS[code]
        skus[code] = SkuFactory(
            merchant_code=code,
            name=name,
            product=ProductFactory(name=product_name),
            grade=GradeFactory(name=grade_name, rank=0 if grade_name == "特级" else 1),
            net_kg=Decimal(kg),
            price=Decimal(price),
        )
    return skus


@pytest.fixture
def stock(catalogue):
    """Plenty of every SKU's product and grade."""
    return {
        code: receive(kg="500", product=sku.product, grade=sku.grade)
        for code, sku in catalogue.items()
    }


@pytest.fixture
def manager(make_user):
    return make_user("manager")


@pytest.fixture
def sessions():
    """The 快手 live sessions of the fixtures' evening: the one the file names by title starts
    late, so an order in it by title is not in it by time; an early one holds 20:05."""
    channel = Channel.objects.get(code="kuaishou")
    named = LiveSession.objects.create(
        channel=channel,
        title=SESSION,
        host="阿秀",
        starts_at=datetime(2026, 11, 18, 20, 30, tzinfo=SHANGHAI),
        ends_at=datetime(2026, 11, 18, 23, 0, tzinfo=SHANGHAI),
    )
    early = LiveSession.objects.create(
        channel=channel,
        title="早场",
        host="朱大山",
        starts_at=datetime(2026, 11, 18, 19, 0, tzinfo=SHANGHAI),
        ends_at=datetime(2026, 11, 18, 20, 10, tzinfo=SHANGHAI),
    )
    return named, early


def upload(name: str, user, *, channel: str = "kuaishou", data: bytes | None = None):
    data = (DATA / name).read_bytes() if data is None else data
    with translation.override("en"):
        return service.import_upload(
            channel=Channel.objects.get(code=channel),
            uploaded=SimpleUploadedFile(name, data),
            acting_user=user,
        )


def commit(batch, user, mode=ImportMode.KEEP_GOOD):
    with translation.override("en"):
        return service.import_commit(batch=batch, mode=mode, acting_user=user)


def run(name: str, user, *, mode=ImportMode.KEEP_GOOD, channel="kuaishou", data=None):
    return commit(upload(name, user, channel=channel, data=data), user, mode)


def numbers(**filters) -> set[str]:
    return set(Order.objects.filter(**filters).values_list("external_no", flat=True))


def assert_stock_consistent() -> None:
    assert stock_mismatches() == []
    assert reservations_match_allocations() == []


# --- the three kinds of file -----------------------------------------------------------------


def test_a_gb18030_kuaishou_export_becomes_allocated_orders(manager, stock, sessions):
    named, early = sessions

    batch = run("kuaishou_gb18030.csv", manager)

    assert (batch.status, batch.encoding, batch.preset) == ("done", "gb18030", "kuaishou")
    assert (batch.rows_total, batch.rows_done) == (12, 12)
    assert (batch.created_count, batch.duplicate_count, batch.invalid_count) == (7, 0, 0)
    assert batch.skipped_count == 1  # the order closed on the platform
    assert "2611181930000000004" not in numbers()
    # 19-digit numbers survive exactly, without the tab the export put before them
    assert numbers() == {f"261118193000000000{n}" for n in (1, 2, 3, 5, 6, 7, 8)}
    big = Order.objects.get(external_no="2611181930000000005")
    assert sorted(big.lines.values_list("sku__merchant_code", "quantity")) == [
        ("BL-2J-TJ", 2),
        ("MT-5J-TJ", 1),
        ("MT-5J-YJ", 2),
    ]
    assert big.recipient_name == "<script>alert(1)</script>"  # stored as text
    assert big.buyer_note == "+cmd|' /C calc'!A0"
    assert big.goods_total == Decimal("49.90") * 1 + Decimal("39.90") * 2 + Decimal("36.80") * 2
    masked = Order.objects.get(external_no="2611181930000000002")
    assert (masked.phone, masked.phone_masked_by_platform) == ("139****5678", True)
    assert (masked.province, masked.city, masked.district) == ("北京市", "北京市", "朝阳区")
    formula = Order.objects.get(external_no="2611181930000000003")
    assert formula.buyer_note == '=HYPERLINK("http://example.com","点我")'
    assert formula.paid_at == datetime(2026, 11, 18, 20, 5, 9, tzinfo=SHANGHAI)
    assert (formula.shipping_fee, formula.goods_total) == (Decimal("8.00"), Decimal("204.00"))
    # the session column wins over the time window; without it, the paid time decides
    assert Order.objects.get(external_no="2611181930000000001").live_session == named
    assert formula.live_session == early
    # every new order was allocated, oldest payment first, and says it was imported
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.ALLOCATED}
    assert OrderEvent.objects.filter(to_status=OrderStatus.NEW, note="Imported").count() == 7
    assert Order.objects.filter(import_batch=batch).count() == 7
    state = service.status_json(batch)
    assert (state["allocated"], state["backordered"]) == (7, 0)
    assert "7 orders created: 7 allocated, 0 back-ordered" in batch.message
    assert_stock_consistent()


def test_a_utf8_bom_douyin_export_with_the_address_in_one_column(manager, stock):
    batch = run("douyin_utf8_bom.csv", manager, channel="douyin")

    assert (batch.status, batch.encoding, batch.preset) == ("done", "utf-8-sig", "douyin")
    assert numbers() == {"6928374650192837465", "6928374650192837466"}
    assert batch.skipped_count == 1  # 已取消
    beijing = Order.objects.get(external_no="6928374650192837465")
    assert (beijing.province, beijing.city, beijing.district, beijing.address_detail) == (
        "北京市",
        "北京市",
        "朝阳区",
        "建国路88号",
    )
    assert beijing.raw_address == "北京市北京市朝阳区建国路88号"
    assert beijing.lines.count() == 2
    assert beijing.goods_total == Decimal("185.90")  # 订单金额 minus 运费 0
    assert beijing.paid_at == datetime(2026, 11, 18, 20, 15, 3, tzinfo=SHANGHAI)
    guangxi = Order.objects.get(external_no="6928374650192837466")
    assert (guangxi.province, guangxi.city, guangxi.district) == (
        "广西壮族自治区",
        "南宁市",
        "青秀区",
    )
    assert (guangxi.phone, guangxi.phone_masked_by_platform) == ("158****0000", True)
    assert guangxi.lines.get().unit_price == Decimal("36.80")  # "¥36.80"


def test_an_xlsx_keeps_19_digit_order_numbers_stored_as_text(manager, stock):
    batch = run("orders_19digit.xlsx", manager, channel="wechat")

    assert (batch.status, batch.preset, batch.created_count) == ("done", "generic", 3)
    assert numbers() == {f"300000000000000000{n}" for n in (1, 2, 3)}
    order = Order.objects.get(external_no="3000000000000000001")
    line = order.lines.get()
    assert (line.quantity, line.unit_price, line.kg) == (2, Decimal("49.90"), Decimal("5.000"))
    assert order.phone == "13800000001"  # a number cell, read as the digits it shows
    assert order.paid_at == datetime(2026, 11, 18, 20, 0, tzinfo=SHANGHAI)
    assert (order.province, order.city, order.district) == ("浙江省", "杭州市", "西湖区")


def test_an_xlsx_order_number_stored_as_a_rounded_number_is_a_row_error(manager, catalogue):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["订单编号", "商家编码", "数量", "收件人", "手机号", "收货地址", "付款时间"])
    row = [2611211234567890123, "MT-5J-TJ", 1, "钱七", "13800000001", "浙江省杭州市西湖区灵隐路1号"]
    sheet.append([*row, "2026-11-18 20:00:00"])
    data = io.BytesIO()
    workbook.save(data)

    batch = upload("numbers.xlsx", manager, channel="wechat", data=data.getvalue())

    error = batch.errors.get()
    assert (error.row_number, error.column) == (2, "订单编号")
    assert "2.61121E+18 was rounded by a spreadsheet" in error.reason
    assert batch.created_count == 0


# --- one test per kind of bad row ------------------------------------------------------------


@pytest.fixture
def bad_file(manager, catalogue):
    return upload("bad_rows_gb18030.csv", manager)


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (4, "订单号", "The order number is missing."),
        (5, "订单号", "2.61121E+15 was rounded by a spreadsheet"),
        (6, "商家编码", "No SKU has the merchant code “NO-SUCH-SKU”."),
        (7, "商品数量", "whole number of at least 1, not “0”"),
        (8, "商品数量", "whole number of at least 1, not “1.5”"),
        (9, "收货人手机号", "neither an 11-digit mobile number nor a masked one"),
        (10, "详细地址", "The address is missing."),
        (11, "商品单价", "“三十九” is not an amount of money."),
        (12, "支付时间", "“昨天晚上” is not a time"),
        (14, "商品数量", "not “两”"),
    ],
    ids=[
        "order-number-missing",
        "order-number-mangled",
        "unknown-merchant-code",
        "quantity-zero",
        "quantity-not-whole",
        "phone-neither-mobile-nor-mask",
        "address-missing",
        "money-unparseable",
        "time-unparseable",
        "quantity-not-a-number",
    ],
)
def test_each_bad_row_is_reported_with_its_row_column_reason_and_raw_cells(
    bad_file, row, column, reason
):
    errors = list(bad_file.errors.filter(row_number=row))

    assert [(error.column) for error in errors] == [column]
    assert reason in errors[0].reason
    # the row as read is kept, cells exactly as in the file
    assert errors[0].raw["收货人"] == "坏行"
    assert set(errors[0].raw) >= {"订单号", "商家编码", "详细地址", "支付时间"}


def test_the_other_rows_of_an_order_with_a_bad_row_say_why_they_were_left_out(bad_file):
    mate = bad_file.errors.get(row_number=13)

    assert mate.column == ""
    assert "row 14" in mate.reason
    assert bad_file.invalid_count == 11  # rows 4–14
    assert bad_file.skipped_count == 1  # row 17, closed, is not checked further
    assert not bad_file.errors.filter(row_number__in=[2, 3, 15, 16, 17]).exists()


def test_a_masked_phone_is_accepted_and_flagged(manager, catalogue):
    batch = commit(upload("bad_rows_gb18030.csv", manager), manager)

    order = Order.objects.get(external_no="2611190000000000116")
    assert (order.phone, order.phone_masked_by_platform, order.masked_phone) == (
        "139****5678",
        True,
        "139****5678",
    )
    assert batch.status == ImportStatus.DONE


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "CSV or XLSX"),
        ("orders.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "Old Excel files"),
        ("orders.xlsx", b"PK\x03\x04 not really a workbook", "not an Excel workbook"),
        ("orders.pdf", b"%PDF-1.4 hello", "CSV or XLSX file (this one is .pdf)"),
        ("empty.csv", b"", "The file is empty."),
        ("blank.csv", b"\r\n  \r\n", "The file is empty."),
        ("header.csv", "订单号,商家编码\r\n".encode(), "no orders"),
    ],
    ids=["png", "xls", "fake-xlsx", "pdf", "empty", "blank-lines", "header-only"],
)
def test_a_file_that_is_not_an_export_is_refused_and_nothing_is_stored(
    manager, catalogue, name, data, reason
):
    from core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        upload(name, manager, data=data)

    assert refused.value.field == "file"
    assert reason in refused.value.message
    assert not ImportBatch.objects.exists()


def test_a_file_over_the_size_limit_is_refused(manager, catalogue, settings):
    from core.errors import DomainError

    settings.ORDER_IMPORT_MAX_BYTES = 1000
    data = (DATA / "kuaishou_gb18030.csv").read_bytes()
    assert len(data) > 1000

    with pytest.raises(DomainError) as refused:
        upload("big.csv", manager, data=data)

    assert refused.value.code == "too_large"
    assert "the limit is 0.0 MB" in refused.value.message
    assert not ImportBatch.objects.exists()


# --- modes, re-imports, closed orders --------------------------------------------------------


def test_all_or_nothing_creates_nothing_when_one_row_is_bad(manager, stock):
    batch = run("bad_rows_gb18030.csv", manager, mode=ImportMode.ALL_OR_NOTHING)

    assert batch.status == ImportStatus.REJECTED
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()
    assert not OrderEvent.objects.exists()
    assert batch.created_count == 0
    assert batch.errors.count() == 11
    assert "nothing was imported" in batch.message
    assert Lot.objects.filter(reserved_kg__gt=0).count() == 0


def test_all_or_nothing_imports_a_clean_file(manager, stock):
    batch = run("kuaishou_gb18030.csv", manager, mode=ImportMode.ALL_OR_NOTHING)

    assert (batch.status, batch.created_count) == (ImportStatus.DONE, 7)
    assert Order.objects.count() == 7


def test_keeping_the_good_rows_creates_exactly_the_good_orders(manager, stock):
    batch = run("bad_rows_gb18030.csv", manager)

    assert batch.status == ImportStatus.DONE
    assert numbers() == {"2611190000000000101", "2611190000000000115", "2611190000000000116"}
    assert Order.objects.get(external_no="2611190000000000101").lines.count() == 2
    assert (batch.created_count, batch.invalid_count, batch.skipped_count) == (3, 11, 1)
    assert batch.rows_done == batch.rows_total == 16
    assert_stock_consistent()


def test_importing_the_same_file_again_creates_nothing(manager, stock):
    first = run("kuaishou_gb18030.csv", manager)
    counts = (Order.objects.count(), OrderLine.objects.count(), OrderEvent.objects.count())
    reserved = sorted(Lot.objects.values_list("pk", "reserved_kg"))

    again = upload("kuaishou_gb18030.csv", manager)
    assert service.earlier_import(again) == first
    second = commit(again, manager)

    assert (second.status, second.created_count, second.duplicate_count) == ("done", 0, 7)
    assert (Order.objects.count(), OrderLine.objects.count(), OrderEvent.objects.count()) == counts
    assert sorted(Lot.objects.values_list("pk", "reserved_kg")) == reserved


def test_an_overlapping_file_creates_only_the_new_orders_and_cancels_what_the_platform_closed(
    manager, stock
):
    run("kuaishou_gb18030.csv", manager)
    closed = Order.objects.get(external_no="2611181930000000008")
    assert closed.status == OrderStatus.ALLOCATED
    lot = stock["MT-5J-YJ"]
    lot.refresh_from_db()
    reserved_before = lot.reserved_kg

    batch = run("kuaishou_overlap_gb18030.csv", manager)

    assert (batch.created_count, batch.duplicate_count, batch.skipped_count) == (3, 2, 1)
    assert numbers(import_batch=batch) == {
        "2611181930000000009",
        "2611181930000000010",
        "2611181930000000011",
    }
    assert Order.objects.count() == 10
    # order 8 (one 2.5 kg unit of MT-5J-YJ) was closed on the platform: cancelled, stock back
    closed.refresh_from_db()
    assert closed.status == OrderStatus.CANCELLED
    assert "交易关闭" in closed.events.latest("id").note
    lot.refresh_from_db()
    new_yj = Decimal("2.500")  # order 11 takes one unit of the same SKU
    assert lot.reserved_kg == reserved_before - Decimal("2.500") + new_yj
    assert "1 earlier orders cancelled" in batch.message
    assert_stock_consistent()


def test_a_closed_order_that_is_already_packed_is_left_alone_and_reported(manager, stock):
    run("kuaishou_gb18030.csv", manager)
    packed = Order.objects.get(external_no="2611181930000000008")
    Order.objects.filter(pk=packed.pk).update(status=OrderStatus.PACKED)

    batch = run("kuaishou_overlap_gb18030.csv", manager)

    packed.refresh_from_db()
    assert packed.status == OrderStatus.PACKED
    assert "already packed" in batch.message


def test_orders_beyond_the_stock_are_back_ordered_oldest_payment_first(manager, catalogue):
    # only 2.5 kg of 特级 peaches: one MT-5J-TJ unit; orders 1, 2, 5 and 7 want them
    sku = catalogue["MT-5J-TJ"]
    receive(kg="2.5", product=sku.product, grade=sku.grade)
    for code in ("MT-5J-YJ", "BL-2J-TJ", "FM-1J-TJ"):
        receive(kg="500", product=catalogue[code].product, grade=catalogue[code].grade)

    batch = run("kuaishou_gb18030.csv", manager)

    first = Order.objects.get(external_no="2611181930000000001")  # paid first (20:01)
    assert first.status == OrderStatus.ALLOCATED
    assert set(
        Order.objects.filter(
            external_no__in=["2611181930000000002", "2611181930000000005", "2611181930000000007"]
        ).values_list("status", flat=True)
    ) == {OrderStatus.BACKORDERED}
    state = service.status_json(batch)
    assert (state["allocated"], state["backordered"]) == (4, 3)
    assert "4 allocated, 3 back-ordered" in batch.message
    assert_stock_consistent()


# --- the errors file -------------------------------------------------------------------------


def test_the_errors_csv_opens_with_a_bom_and_never_runs_a_formula(manager, catalogue):
    batch = upload("bad_rows_gb18030.csv", manager)

    data = service.errors_csv(batch)

    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:4] == ["订单号", "订单状态", "商品名称", "商家编码"]
    assert header[-3:] == ["错误", "行号", "列"]
    by_row = {row[-2]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert sorted(by_row, key=int) == [str(n) for n in range(4, 15)]
    assert by_row["9"]["列"] == "收货人手机号"
    assert "neither an 11-digit mobile number" in by_row["9"]["错误"]
    # formula-looking cells start with an apostrophe; long numbers stay text
    assert by_row["9"]["买家留言"] == '\'=HYPERLINK("http://evil.example","领奖")'
    assert by_row["10"]["买家留言"] == "'@SUM(A1)"
    assert by_row["6"]["订单号"] == "'\t2611190000000000106"
    assert by_row["5"]["订单号"] == "2.61121E+15"
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_the_fixed_errors_file_can_be_uploaded_again(manager, stock):
    run("bad_rows_gb18030.csv", manager)
    errors = service.errors_csv(ImportBatch.objects.get())
    fixed = errors.decode("utf-8-sig").replace("1381234567,", "13812345678,")

    batch = run("bad_rows_fixed.csv", manager, data=fixed.encode("utf-8-sig"))

    assert batch.preset == "kuaishou"  # the 错误/行号/列 columns are ignored
    assert numbers(import_batch=batch) == {"2611190000000000109"}
    assert Order.objects.get(external_no="2611190000000000109").phone == "13812345678"


# --- the mapping screen's choice -------------------------------------------------------------


def test_a_mapping_is_saved_for_the_channel_and_used_for_the_next_file(manager, stock):
    batch = upload("unknown_layout.csv", manager, channel="wechat")
    assert batch.status == ImportStatus.UPLOADED
    columns, samples = service.batch_columns(batch)
    assert "external_no" in columns.missing
    assert samples["单号"] == "W0001"

    choices = {
        "单号": "external_no",
        "货号": "merchant_code",
        "件数": "quantity",
        "姓名": "recipient_name",
        "电话": "phone",
        "地址": "full_address",
        "成交时间": "paid_at",
        "备注": "buyer_note",
    }
    with translation.override("en"):
        batch = service.import_map_columns(batch=batch, choices=choices, acting_user=manager)

    assert batch.status == ImportStatus.PREVIEWED
    assert batch.created_count == 2
    assert Channel.objects.get(code="wechat").column_mapping == choices
    # the next export of the channel is read without asking
    again = upload("unknown_layout.csv", manager, channel="wechat")
    assert again.status == ImportStatus.PREVIEWED
    done = commit(again, manager)
    assert numbers() == {"W0001", "W0002"}
    assert Order.objects.get(external_no="W0002").buyer_note == "要新鲜的"
    assert done.status == ImportStatus.DONE


def test_a_mapping_that_leaves_out_a_needed_field_is_refused(manager, catalogue):
    from core.errors import DomainError

    batch = upload("unknown_layout.csv", manager, channel="wechat")

    with translation.override("en"), pytest.raises(DomainError) as refused:
        service.import_map_columns(
            batch=batch, choices={"单号": "external_no", "货号": "external_no"}, acting_user=manager
        )

    assert "Two columns" in refused.value.message
    assert Channel.objects.get(code="wechat").column_mapping == {}


# --- the task worker -------------------------------------------------------------------------


@pytest.fixture
def migrated_rows():
    """What the data migrations create, for a transactional test that may run after another
    one emptied the tables."""
    from django.contrib.auth.models import Group

    from core.roles import Role

    for role in Role.values:
        Group.objects.get_or_create(name=role)
    for code, name in [("kuaishou", "快手"), ("douyin", "抖音"), ("wechat", "微信/电话")]:
        Channel.objects.get_or_create(code=code, defaults={"name": name})


# Transactional: the worker commits as in production (and may close the connection between
# tasks, which a test transaction would not survive on PostgreSQL).
@pytest.mark.django_db(transaction=True)
def test_a_large_file_runs_in_the_task_worker_and_reports_progress(
    migrated_rows, manager, stock, settings, monkeypatch
):
    settings.ORDER_IMPORT_INLINE_ROWS = 5  # this file's 12 rows count as large
    monkeypatch.setattr(service, "WRITE_CHUNK", 2)
    batch = upload("kuaishou_gb18030.csv", manager)

    queued = commit(batch, manager)  # the task is queued when the commit's transaction ends

    assert queued.status == ImportStatus.QUEUED
    assert not Order.objects.exists()
    task = DBTaskResult.objects.get(task_path="orders.importers.service.import_orders_file")
    assert task.args_kwargs == {"args": [batch.pk], "kwargs": {}}
    assert ImportBatch.objects.get(pk=batch.pk).task_id == str(task.id)

    with CaptureQueriesContext(connection) as queries, translation.override("en"):
        call_command("db_worker", batch=True, stdout=StringIO(), stderr=StringIO())

    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    batch.refresh_from_db()
    assert (batch.status, batch.created_count, batch.rows_done) == ("done", 7, 12)
    assert task.return_value["allocated"] == 7
    # progress was written chunk by chunk (7 new orders in chunks of 2)
    progress_updates = [
        q["sql"]
        for q in queries
        if "orders_importbatch" in q["sql"]
        and "rows_done" in q["sql"]
        and q["sql"].lstrip().upper().startswith("UPDATE")
    ]
    assert len(progress_updates) >= 4
    assert_stock_consistent()


def test_a_batch_is_run_once_even_if_two_workers_get_it(manager, stock):
    batch = upload("kuaishou_gb18030.csv", manager)
    done = commit(batch, manager)

    again = service.import_run(batch_id=done.pk)

    assert again.status == ImportStatus.DONE
    assert Order.objects.count() == 7


# --- the command -----------------------------------------------------------------------------


def test_the_command_dry_run_writes_nothing(manager, stock):
    out = StringIO()

    with translation.override("en"):
        call_command(
            "import_orders", str(DATA / "bad_rows_gb18030.csv"), channel="kuaishou",
            dry_run=True, stdout=out,
        )  # fmt: skip

    text = out.getvalue()
    assert "nothing was written" in text
    assert "new orders 3" in text
    assert "bad rows 11" in text
    assert "row 9 [收货人手机号]" in text
    assert not Order.objects.exists()
    assert not ImportBatch.objects.exists()
    assert not ImportRowError.objects.exists()


def test_the_command_imports_with_a_progress_bar_and_a_summary(manager, stock):
    out, err = StringIO(), StringIO()

    with translation.override("en"):
        call_command(
            "import_orders", str(DATA / "kuaishou_gb18030.csv"), channel="kuaishou",
            user=manager.username, stdout=out, stderr=err,
        )  # fmt: skip

    assert "created 7" in out.getvalue()
    assert "allocated 7" in out.getvalue()
    assert "100%" in err.getvalue()
    assert ImportBatch.objects.get().uploaded_by == manager
    assert Order.objects.count() == 7


def test_the_command_fails_when_the_file_is_rejected(manager, stock, tmp_path):
    out = StringIO()

    with translation.override("en"), pytest.raises(CommandError) as failed:
        call_command(
            "import_orders", str(DATA / "bad_rows_gb18030.csv"), channel="kuaishou",
            all_or_nothing=True, stdout=out, stderr=StringIO(),
            errors_csv=str(tmp_path / "bad.csv"),
        )  # fmt: skip

    assert failed.value.returncode == 1
    assert not Order.objects.exists()
    assert (tmp_path / "bad.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    png = tmp_path / "photo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    with translation.override("en"), pytest.raises(CommandError) as refused:
        call_command("import_orders", str(png), channel="kuaishou", stdout=out)
    assert "CSV or XLSX" in str(refused.value)


# --- the bulk writer -------------------------------------------------------------------------


def test_the_copy_writer_knows_every_column_of_the_tables_it_writes():
    assert copy_matches_models()


@pytest.mark.postgres
def test_postgresql_imports_with_copy(manager, stock):
    assert uses_copy()

    batch = run("kuaishou_gb18030.csv", manager)

    assert batch.created_count == 7
    order = Order.objects.get(external_no="2611181930000000005")
    assert order.lines.count() == 3
    assert order.events.first().note == "Imported"
    assert order.created_at is not None
    # the sequences moved past the ids COPY used: a normal insert still works
    assert_stock_consistent()
    run("kuaishou_overlap_gb18030.csv", manager)
    assert Order.objects.count() == 10


def test_an_overlapping_file_marks_an_order_the_platform_refunded_as_refunded(manager, stock):
    # given an imported order, and the platform's later export saying it was refunded
    run("kuaishou_gb18030.csv", manager)
    overlap = (DATA / "kuaishou_overlap_gb18030.csv").read_bytes().decode("gb18030")
    lines = overlap.splitlines()
    refunded = [line for line in lines[1:] if "2611181930000000008" in line]
    assert refunded, "the overlap fixture holds order 8"
    status_column = lines[0].split(",").index("订单状态")
    cells = refunded[0].split(",")
    cells[status_column] = "退款成功"
    data = "\n".join([lines[0], ",".join(cells)]).encode("gb18030")

    # when it is imported
    run("kuaishou_refund.csv", manager, data=data)

    # then the order is refunded (not merely cancelled) and its stock is back
    order = Order.objects.get(external_no="2611181930000000008")
    assert order.status == OrderStatus.REFUNDED
    assert "退款成功" in order.events.latest("id").note
    assert_stock_consistent()


# --- statistics after a large import ---------------------------------------------------------
# Waves, pick lists and packing follow within seconds: PostgreSQL must plan them from
# statistics that know the new orders (core.db.analyze).


def _last_analyzed(model):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT pg_stat_get_last_analyze_time(%s::regclass)", [model._meta.db_table])
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_large_import_analyzes_the_orders_lines_and_allocations_it_wrote(
    manager, stock, sessions, monkeypatch
):
    tables = (Order, OrderLine, Allocation)
    before = [_last_analyzed(model) for model in tables]  # None, or an earlier test's
    monkeypatch.setattr(db, "ANALYZE_AFTER_ROWS", 5)  # the fixture's 7 orders count as many

    batch = run("kuaishou_gb18030.csv", manager)

    assert (batch.status, batch.created_count) == ("done", 7)
    after = [_last_analyzed(model) for model in tables]
    for old, new in zip(before, after, strict=True):
        assert new is not None and (old is None or new > old)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_small_import_leaves_the_statistics_to_autovacuum(manager, stock, sessions):
    tables = (Order, OrderLine, Allocation)
    before = [_last_analyzed(model) for model in tables]

    batch = run("kuaishou_gb18030.csv", manager)  # 7 orders, below ANALYZE_AFTER_ROWS

    assert batch.status == "done"
    assert [_last_analyzed(model) for model in tables] == before


def test_analyze_runs_only_on_postgresql_and_only_after_enough_rows():
    many = db.ANALYZE_AFTER_ROWS
    assert db.analyze(Order, rows=many - 1) is False
    assert db.analyze() is False
    assert db.analyze(Order, rows=many) is (connection.vendor == "postgresql")
