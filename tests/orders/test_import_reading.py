"""The import's pieces that need no database: encodings, cells, column presets, addresses,
and the checks of single cells."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from core.errors import DomainError
from orders.importers.presets import map_columns
from orders.importers.reading import (
    _xlsx_text,
    clean_cell,
    column_letter,
    detect_encoding,
    read_table,
)
from orders.importers.rows import (
    Bad,
    parse_money,
    parse_order_number,
    parse_phone,
    parse_quantity,
    parse_time,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


TEXT = "订单号,收货人\r\n\t2611181930000000001,王小明\r\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (b"\xef\xbb\xbf" + TEXT.encode(), "utf-8-sig"),
        (TEXT.encode("utf-8"), "utf-8"),
        (TEXT.encode("gb18030"), "gb18030"),
        (TEXT.encode("gbk"), "gb18030"),  # GBK is a subset of GB18030
        (TEXT.encode("utf-16"), "utf-16"),
    ],
    ids=["bom", "utf-8", "gb18030", "gbk", "utf-16"],
)
def test_the_encoding_is_found_not_assumed(data, encoding):
    assert detect_encoding(data) == encoding
    table = read_table(data, "orders.csv")
    assert table.header == ["订单号", "收货人"]
    assert table.rows == [(2, ["\t2611181930000000001", "王小明"])]


def test_rows_keep_their_spreadsheet_numbers_across_blank_lines_and_quoted_newlines():
    data = '订单号,地址\r\n1001,"陕西省\n汉中市"\r\n\r\n1002,北京市\r\n'.encode()

    table = read_table(data, "orders.csv")

    assert [(number, cells[0]) for number, cells in table.rows] == [(2, "1001"), (4, "1002")]
    assert table.rows[0][1][1] == "陕西省\n汉中市"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\t2611181930000000001", "2611181930000000001"),
        ("'2611181930000000001", "2611181930000000001"),
        ("  王小明 ", "王小明"),
        ("\t '138****1234 ", "138****1234"),
        ("=HYPERLINK(1)", "=HYPERLINK(1)"),
        ("", ""),
    ],
)
def test_cells_lose_the_tabs_apostrophes_and_spaces_exports_add(raw, clean):
    assert clean_cell(raw) == clean


def test_xlsx_cells_are_read_as_the_text_a_person_sees():
    assert _xlsx_text(2611181930000000001) == "2.61118E+18"  # already rounded by Excel
    assert _xlsx_text(2.611181930000000e18) == "2.61118E+18"
    assert _xlsx_text(13800138000) == "13800138000"
    assert _xlsx_text(2.0) == "2"
    assert _xlsx_text(39.9) == "39.9"
    assert _xlsx_text(datetime(2026, 11, 18, 20, 1, 12)) == "2026-11-18 20:01:12"
    assert _xlsx_text(None) == ""
    assert column_letter(0) == "A"
    assert column_letter(27) == "AB"


@pytest.mark.parametrize(
    ("header", "preset"),
    [
        (
            ["订单号", "商家编码", "商品数量", "收货人", "收货人手机号", "收货地址", "支付时间"],
            "kuaishou",
        ),
        (
            [
                "主订单编号",
                "子订单编号",
                "商家编码",
                "商品数量",
                "收件人",
                "收件人手机号",
                "省",
                "市",
                "区",
                "详细地址",
                "支付完成时间",
                "买家备注",
            ],
            "douyin",
        ),
        (
            [
                "订单ID",
                "规格编码",
                "数量",
                "单价",
                "收件人姓名",
                "收货人电话",
                "收件地址",
                "付款时间",
            ],
            "generic",
        ),
    ],
)
def test_the_preset_is_chosen_by_the_header(header, preset):
    columns = map_columns(header)

    assert columns.preset.code == preset
    assert columns.complete
    assert columns.columns["external_no"] == 0


def test_a_saved_mapping_wins_over_the_presets_and_unknown_headers_are_listed():
    header = ["单号", "货号", "件数", "姓名", "电话", "地址", "成交时间", "备注"]

    unknown = map_columns(header)
    saved = map_columns(
        header,
        saved={
            "单号": "external_no",
            "货号": "merchant_code",
            "件数": "quantity",
            "姓名": "recipient_name",
            "电话": "phone",
            "地址": "full_address",
            "成交时间": "paid_at",
            "备注": "",
        },
    )

    assert not unknown.complete
    assert "external_no" in unknown.missing
    assert "单号" in unknown.unknown
    # the mapping screen starts from guesses for the unknown headers
    assert unknown.as_choices()["电话"] == "phone"
    assert unknown.as_choices()["件数"] == "quantity"
    assert saved.complete
    assert saved.from_saved
    assert saved.columns["paid_at"] == 6
    assert "buyer_note" not in saved.columns


def test_order_numbers():
    assert parse_order_number("2611181930000000001") == "2611181930000000001"
    assert parse_order_number("W-0001") == "W-0001"
    for mangled in ("2.61121E+15", "2.61121e15", "2611181930000000000.0"):
        with pytest.raises(Bad, match="rounded by a spreadsheet"):
            parse_order_number(mangled)
    with pytest.raises(Bad, match="missing"):
        parse_order_number("")
    with pytest.raises(Bad, match="not an order number"):
        parse_order_number("订单 1")


def test_quantities():
    assert parse_quantity("3") == 3
    assert parse_quantity("2.0") == 2
    assert parse_quantity("0") == 0  # a number: the rule "at least 1" is the draft's
    for bad in ("-1", "1.5", "两", "", "1e3"):
        with pytest.raises(Bad):
            parse_quantity(bad)


def test_money():
    assert parse_money("39.90", "unit_price") == Decimal("39.90")
    assert parse_money("¥1,299.5", "unit_price") == Decimal("1299.50")
    assert parse_money("￥8 元", "shipping_fee") == Decimal("8.00")
    assert parse_money("", "shipping_fee") is None
    for bad in ("三十九", "-1", "1.234", "NaN", "Infinity", "1e3x"):
        with pytest.raises(Bad):
            parse_money(bad, "unit_price")


def test_times_in_the_forms_exports_use():
    expected = datetime(2026, 11, 18, 20, 5, 9, tzinfo=SHANGHAI)
    for text in (
        "2026-11-18 20:05:09",
        "2026/11/18 20:05:09",
        "2026年11月18日 20:05:09",
        "2026-11-18T20:05:09",
        "2026-11-18 20:05:09.000",
    ):
        assert parse_time(text, SHANGHAI) == expected, text
    assert parse_time("2026-11-18 20:05", SHANGHAI) == expected.replace(second=0)
    for bad in ("昨天晚上", "2026-13-01 10:00", "18/11/2026 20:05", ""):
        with pytest.raises(Bad):
            parse_time(bad, SHANGHAI)


def test_phones():
    assert parse_phone("13800138000") == ("13800138000", False)
    assert parse_phone("+86 138 0013 8000") == ("13800138000", False)
    assert parse_phone("138-0013-8000") == ("13800138000", False)
    assert parse_phone("138****8000") == ("138****8000", True)
    # What is a phone number at all is one rule for every new order: orders.drafts.
    assert parse_phone("0916-5551234") == ("09165551234", False)


def test_a_header_without_rows_and_a_file_without_a_header_are_refused():
    with pytest.raises(DomainError, match="no orders"):
        read_table("订单号,收货人\r\n,\r\n".encode(), "orders.csv")
    with pytest.raises(DomainError, match="empty"):
        read_table(b",,\r\n1,2\r\n", "orders.csv")
