"""Check every row of a table and turn the good ones into order drafts.

Each row becomes a ``ParsedRow`` holding either a line and the order-level values it carries,
or the reasons it is bad (column and message). Rows with the same order number are the lines
of one order (``group_rows``): the order's own values come from its first row; a later row
may leave them empty. An order with any bad row is left out whole, and its other rows say so.
Rows of orders the platform closed are checked for their order number only: they are never
created, only used to cancel an order imported earlier.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.regions import normalise
from inventory.models import Sku
from orders.drafts import (
    CENT,
    ORDER_NUMBER,
    LineDraft,
    OrderDraft,
    draft_errors,
)
from orders.importers.presets import FIELD_LABELS, ColumnMap
from orders.importers.reading import Table, clean_cell, excerpt, upload_limits
from orders.sessions import SessionFinder, SessionMismatch

# What platforms call an order that was closed, cancelled or fully refunded.
CLOSED_STATUSES = frozenset(
    {
        "已关闭",
        "已取消",
        "交易关闭",
        "交易取消",
        "订单关闭",
        "订单取消",
        "退款成功",
        "已退款",
        "全额退款",
        "closed",
        "cancelled",
        "canceled",
        "refunded",
    }
)
# Of those, the ones that mean the buyer got the money back: the order becomes refunded.
REFUNDED_STATUSES = frozenset({"退款成功", "已退款", "全额退款", "refunded"})

# What a spreadsheet leaves of a long number it took for a float: 2.61121E+15, 2611210000.0
MANGLED_NUMBER = re.compile(r"^\d+(?:\.\d*)?(?:[eE][+-]?\d+)$|^\d+\.\d+$")
QUANTITY = re.compile(r"^\d{1,9}(?:\.0+)?$")
DATETIME = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]+(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2})(?:\.\d+)?\s*秒?)?)?$"
)
MONEY_PLAIN = re.compile(r"^\d{1,10}(?:\.\d{1,2})?$")
MONEY_NOISE = str.maketrans("", "", "¥￥元,， ")
ZERO = Decimal("0")
ORDER_FIELDS = (
    "recipient_name",
    "phone",
    "province",
    "city",
    "district",
    "address_detail",
    "full_address",
    "paid_at",
    "platform_status",
    "buyer_note",
    "shipping_fee",
    "paid_total",
    "live_session",
)
# A draft's field as the importer's column names it.
DRAFT_FIELD_COLUMNS = {
    "sku": "merchant_code",
    "goods_total": "paid_total",
    "raw_address": "full_address",
    "lines": "",
}


class Bad(Exception):
    """One cell is wrong: which of our fields, and why."""

    def __init__(self, field_name: str, reason: str):
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


# --- cell parsers ----------------------------------------------------------------------------


def parse_order_number(text: str) -> str:
    if not text:
        raise Bad("external_no", _("The order number is missing."))
    if MANGLED_NUMBER.match(text):
        raise Bad(
            "external_no",
            _(
                "The order number %(value)s was rounded by a spreadsheet: export the orders "
                "again and upload the file as exported, without saving it from Excel."
            )
            % {"value": excerpt(text)},
        )
    if not ORDER_NUMBER.match(text):
        raise Bad(
            "external_no", _("“%(value)s” is not an order number.") % {"value": excerpt(text)}
        )
    return text


def parse_quantity(text: str) -> int:
    if not QUANTITY.match(text):
        raise Bad(
            "quantity",
            _("The quantity must be a whole number of at least 1, not “%(value)s”.")
            % {"value": excerpt(text)},
        )
    return int(text.split(".")[0])  # at least 1 and at most MAX_QUANTITY: orders.drafts


def parse_money(text: str, field_name: str) -> Decimal | None:
    """Yuan with at most 2 decimals (¥ signs and thousands commas allowed), None if empty."""
    if MONEY_PLAIN.match(text):
        return Decimal(text)
    plain = text.translate(MONEY_NOISE)
    if not plain:
        return None
    try:
        value = Decimal(plain)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0 or value >= Decimal("1e10"):
        raise Bad(
            field_name, _("“%(value)s” is not an amount of money.") % {"value": excerpt(text)}
        )
    if value != value.quantize(CENT):
        raise Bad(
            field_name,
            _("“%(value)s” has more than 2 decimal places.") % {"value": excerpt(text)},
        )
    return value.quantize(CENT)


def parse_time(text: str, zone: ZoneInfo) -> datetime:
    if not text:
        raise Bad("paid_at", _("The paid time is missing."))
    match = DATETIME.match(text)
    if match:
        parts = [int(part) if part else 0 for part in match.groups()]
        try:
            return datetime(*parts, tzinfo=zone)
        except ValueError:
            pass
    raise Bad(
        "paid_at",
        _("“%(value)s” is not a time like 2026-06-18 20:15:03.") % {"value": excerpt(text)},
    )


def parse_phone(text: str) -> tuple[str, bool]:
    """(phone without spaces, dashes or the +86 prefix; masked by the platform). Whether it is
    a phone number at all is a rule of ``orders.drafts``."""
    phone = re.sub(r"[\s\-()（）]", "", text)
    if phone.startswith("+86"):
        phone = phone[3:]
    elif len(phone) == 13 and phone.startswith("86"):
        phone = phone[2:]
    return phone, "*" in phone


# --- rows ------------------------------------------------------------------------------------


@dataclass(slots=True)
class OrderValues:
    """The order-level values one row carries."""

    recipient_name: str = ""
    phone: str = ""
    phone_masked: bool = False
    province: str = ""
    city: str = ""
    district: str = ""
    address_detail: str = ""
    raw_address: str = ""
    adcode: str = ""
    address_status: str = ""
    paid_at: datetime | None = None
    platform_status: str = ""
    buyer_note: str = ""
    shipping_fee: Decimal = Decimal("0")
    paid_total: Decimal | None = None
    live_session_title: str = ""


@dataclass(slots=True)
class ParsedRow:
    number: int  # as the spreadsheet numbers it (the header is row 1)
    cells: list[str]
    external_no: str = ""
    closed: bool = False
    line: LineDraft | None = None
    values: OrderValues | None = None  # None on a later row that left them empty
    errors: list[tuple[str, str]] = field(default_factory=list)  # (field, reason)


@dataclass(slots=True)
class OrderGroup:
    """The rows of one order number, and the draft made of them when they are all good."""

    external_no: str
    rows: list[ParsedRow]
    closed: bool = False
    platform_status: str = ""
    draft: OrderDraft | None = None

    @property
    def bad(self) -> bool:
        return any(row.errors for row in self.rows)

    @property
    def first_row(self) -> int:
        return self.rows[0].number


class RowReader:
    """Reads the rows of one table with one column map, for one channel."""

    def __init__(self, *, table: Table, columns: ColumnMap, channel):
        self.table = table
        self.columns = columns.columns
        self.header = table.header
        self.channel = channel
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.skus: dict[str, Sku] = {}
        self.skus_folded: dict[str, Sku] = {}
        self.items = tuple(self.columns.items())
        self.first_cells: dict[str, tuple[str, ...]] = {}
        self.blank = dict.fromkeys(FIELD_LABELS, "")
        self.width = max(self.columns.values(), default=-1) + 1

    def column_name(self, field_name: str) -> str:
        index = self.columns.get(field_name)
        if index is None:
            index = self.columns.get("full_address") if field_name in _ADDRESS else None
        if index is None or index >= len(self.header):
            return ""
        return self.header[index]

    def _load_skus(self, rows: list[tuple[int, list[str]]]) -> None:
        index = self.columns.get("merchant_code")
        if index is None:
            return
        codes = {clean_cell(cells[index]) for _n, cells in rows if index < len(cells)}
        codes.discard("")
        found = {}
        code_list = sorted(codes)
        for start in range(0, len(code_list), 500):
            chunk = code_list[start : start + 500]
            found.update(
                (sku.merchant_code, sku)
                for sku in Sku.objects.select_related("product", "grade").filter(
                    merchant_code__in=chunk
                )
            )
        if len(found) < len(codes):
            # Exports change the case of codes now and then: match those case-insensitively.
            for sku in Sku.objects.select_related("product", "grade"):
                found.setdefault(sku.merchant_code, sku)
                self.skus_folded.setdefault(sku.merchant_code.upper(), sku)
        self.skus = found

    def read(self, rows: list[tuple[int, list[str]]] | None = None) -> list[ParsedRow]:
        rows = self.table.rows if rows is None else rows
        self._load_skus(rows)
        seen: set[str] = set()
        parsed = []
        max_bad = upload_limits().max_error_rows
        bad = 0
        for number, cells in rows:
            row = self.read_row(number, cells, seen)
            if row.external_no:
                seen.add(row.external_no)
            if row.errors:
                bad += 1
                if bad > max_bad:
                    raise too_many_bad_rows(max_bad, row, self.column_name)
            parsed.append(row)
        return parsed

    def cells_by_field(self, cells: list[str]) -> dict[str, str]:
        """{field: cleaned cell} for every field ("" where the file has no such column)."""
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        return {**self.blank, **{name: clean_cell(cells[i]) for name, i in self.items}}

    def read_row(self, number: int, cells: list[str], seen: set[str]) -> ParsedRow:
        v = self.cells_by_field(cells)
        row = ParsedRow(number=number, cells=cells)
        errors = row.errors
        try:
            row.external_no = parse_order_number(v["external_no"])
        except Bad as bad:
            errors.append((bad.field, bad.reason))
        status = v["platform_status"]
        if status.lower() in CLOSED_STATUSES:
            row.closed = True
            # 抖店 closes a refunded order (已关闭) and says why beside it (售后状态 退款成功).
            after_sales = v["after_sales_status"]
            if after_sales.lower() in REFUNDED_STATUSES:
                status = after_sales
            row.values = OrderValues(platform_status=status)
            return row

        try:
            row.line = self._line(v)
        except _Many as many:
            errors.extend((bad.field, bad.reason) for bad in many.bads)
        except Bad as bad:
            errors.append((bad.field, bad.reason))
        # Later rows of an order may leave the order's own cells empty, or repeat them as
        # they are: then the first row's reading stands.
        order_cells = tuple([v[name] for name in ORDER_FIELDS])
        if row.external_no in seen:
            if order_cells == self.first_cells.get(row.external_no) or not any(order_cells):
                return row
        elif row.external_no:
            self.first_cells[row.external_no] = order_cells
        values = OrderValues(platform_status=status)
        row.values = values
        for part in (self._recipient, self._phone, self._address, self._money):
            try:
                part(v, values, errors)
            except Bad as bad:
                errors.append((bad.field, bad.reason))
        try:
            values.paid_at = parse_time(v["paid_at"], self.zone)
        except Bad as bad:
            errors.append((bad.field, bad.reason))
        values.live_session_title = v["live_session"]
        values.buyer_note = v["buyer_note"]
        return row

    # Each part reads a few cells into ``values``; a Bad ends that part only.

    def _line(self, v: dict[str, str]) -> LineDraft:
        code = v["merchant_code"]
        errors = []
        sku = None
        if not code:
            errors.append(Bad("merchant_code", _("The merchant code is missing.")))
        else:
            sku = self.skus.get(code) or self.skus_folded.get(code.upper())
            if sku is None:
                errors.append(
                    Bad(
                        "merchant_code",
                        _("No SKU has the merchant code “%(code)s”.") % {"code": excerpt(code)},
                    )
                )
        quantity = None
        try:
            quantity = parse_quantity(v["quantity"])
        except Bad as bad:
            errors.append(bad)
        price = None
        try:
            price = parse_money(v["unit_price"], "unit_price")
        except Bad as bad:
            errors.append(bad)
        if errors:
            first, *others = errors
            if others:
                raise _Many(errors)
            raise first
        return LineDraft(
            sku=sku, quantity=quantity, unit_price=price if price is not None else sku.price
        )

    def _recipient(self, v: dict[str, str], values: OrderValues, errors) -> None:
        values.recipient_name = v["recipient_name"]

    def _phone(self, v: dict[str, str], values: OrderValues, errors) -> None:
        values.phone, values.phone_masked = parse_phone(v["phone"])

    def _address(self, v: dict[str, str], values: OrderValues, errors) -> None:
        """The address as columns, or whole in one column (收货地址), or whole in the street
        column when there are no region columns (抖店's 详细地址): read onto the national
        divisions (``core.regions``). An address that cannot be read is kept and flagged
        for review, never refused; only one without a street is."""
        detail, whole = v["address_detail"], v["full_address"]
        province, city, district = v["province"], v["city"], v["district"]
        values.raw_address = whole or f"{province}{city}{district}{detail}"
        if not (detail or whole):
            raise Bad("address_detail", _("The address is missing."))
        place = normalise(province=province, city=city, district=district, detail=detail or whole)
        if not place.detail:
            raise Bad(
                "address_detail" if detail else "full_address",
                _("The address “%(value)s” has no street.")
                % {"value": excerpt(values.raw_address)},
            )
        values.province, values.city, values.district = place.province, place.city, place.district
        values.address_detail = place.detail
        values.adcode, values.address_status = place.adcode, place.status

    def _money(self, v: dict[str, str], values: OrderValues, errors) -> None:
        try:
            values.shipping_fee = parse_money(v["shipping_fee"], "shipping_fee") or ZERO
        except Bad as bad:
            errors.append((bad.field, bad.reason))
        values.paid_total = parse_money(v["paid_total"], "paid_total")
        if values.paid_total is not None and values.paid_total < values.shipping_fee:
            raise Bad(
                "paid_total",
                _("The paid total %(total)s is less than the shipping fee %(fee)s.")
                % {"total": values.paid_total, "fee": values.shipping_fee},
            )


_ADDRESS = {"province", "city", "district", "address_detail"}


def too_many_bad_rows(limit: int, row: ParsedRow, column_name) -> DomainError:
    """A file with more bad rows than the limit is refused whole: it is most likely the
    wrong file, and reading on would only fill a useless errors file."""
    field_name, reason = row.errors[0]
    return DomainError(
        _(
            "More than %(limit)s rows are bad (the limit per file), so the file was not "
            "imported: is it the right file for this channel? The last one read: row "
            "%(row)s, %(column)s: %(reason)s"
        )
        % {
            "limit": f"{limit:,}",
            "row": row.number,
            "column": column_name(field_name) or "-",
            "reason": excerpt(reason, 120),
        },
        field="file",
        code="too_many_errors",
    )


class _Many(Bad):
    """Several cells of one part are wrong."""

    def __init__(self, bads: list[Bad]):
        super().__init__(bads[0].field, bads[0].reason)
        self.bads = bads


# --- orders ----------------------------------------------------------------------------------


def group_rows(rows: Iterable[ParsedRow]) -> tuple[list[OrderGroup], list[ParsedRow]]:
    """Rows by order number, in the order each number first appears. Rows without a usable
    number cannot belong to any order: they come back on their own."""
    groups: dict[str, OrderGroup] = {}
    orphans: list[ParsedRow] = []
    for row in rows:
        if not row.external_no:
            orphans.append(row)
            continue
        group = groups.get(row.external_no)
        if group is None:
            group = groups[row.external_no] = OrderGroup(external_no=row.external_no, rows=[])
            group.closed = row.closed
            group.platform_status = row.values.platform_status if row.values else ""
        group.rows.append(row)
    return list(groups.values()), orphans


def mark_order_mates(group: OrderGroup) -> None:
    """Every good row of an order that has a bad row says why it was left out too."""
    bad_rows = [row.number for row in group.rows if row.errors]
    if not bad_rows:
        return
    reason = _("Another row of this order is bad (row %(rows)s): the whole order was left out.") % {
        "rows": ", ".join(str(number) for number in bad_rows)
    }
    for row in group.rows:
        if not row.errors:
            row.errors.append(("", reason))


def _draft(group: OrderGroup, values: OrderValues, lines: list[LineDraft], session) -> OrderDraft:
    goods_total = None
    if values.paid_total is not None:
        goods_total = values.paid_total - values.shipping_fee
    return OrderDraft(
        external_no=group.external_no,
        recipient_name=values.recipient_name,
        phone=values.phone,
        phone_masked_by_platform=values.phone_masked,
        province=values.province,
        city=values.city,
        district=values.district,
        address_detail=values.address_detail,
        raw_address=values.raw_address,
        adcode=values.adcode,
        address_status=values.address_status,
        buyer_note=values.buyer_note,
        paid_at=values.paid_at,
        platform_status=values.platform_status,
        shipping_fee=values.shipping_fee,
        goods_total=goods_total,
        live_session=session,
        lines=lines,
    )


def build_drafts(channel, groups: list[OrderGroup]) -> list[SessionMismatch]:
    """Set ``draft`` on every good, open order group, checked by ``orders.drafts``; put each
    broken rule on the row it comes from; mark the mates of bad rows. The live session of each
    draft follows the rule of time (``orders.sessions``); returns the orders that name a
    session but were paid outside its window.

    The order is made of its first row's values. A later row that gives other values of its
    own (a different phone, an address) is checked against the same rules, so a bad value is
    reported wherever it stands, as a person reading the file would expect."""
    finder = SessionFinder(
        channel,
        [
            (row.values.paid_at, row.values.live_session_title)
            for group in groups
            for row in group.rows[:1]
            if row.values and row.values.paid_at and not group.closed
        ],
    )
    for group in groups:
        if group.closed:
            # Only the number of a closed order matters: it may cancel one imported earlier.
            for row in group.rows:
                row.errors = [error for error in row.errors if error[0] == "external_no"]
            continue
        if group.bad:
            mark_order_mates(group)
            continue
        first = group.rows[0].values
        lines = [row.line for row in group.rows if row.line is not None]
        group.draft = _draft(group, first, lines, None)
        _report(group, draft_errors(group.draft))
        for row in group.rows[1:]:
            if row.values is not None and row.values is not first:
                _report_order_values(row, draft_errors(_draft(group, row.values, lines, None)))
        if group.bad:
            group.draft = None
            mark_order_mates(group)
        else:  # only orders that will be created count towards a session's mismatches
            group.draft.live_session = finder.find(first.paid_at, first.live_session_title)
    return finder.mismatches()


def _column(field_name: str) -> str:
    return DRAFT_FIELD_COLUMNS.get(field_name, field_name)


def _report(group: OrderGroup, problems) -> None:
    """Put a draft's rule errors on the rows they come from: a line's on its row, the order's
    on its first row."""
    line_rows = [row for row in group.rows if row.line is not None]
    for problem in problems:
        row = line_rows[problem.row] if problem.row is not None else group.rows[0]
        row.errors.append((_column(problem.field), problem.message))


def _report_order_values(row: ParsedRow, problems) -> None:
    """The order-level rule errors of a later row's own values, on that row."""
    for problem in problems:
        if problem.row is None and problem.field != "lines":
            row.errors.append((_column(problem.field), problem.message))
