"""The pick list of a wave (A4): what to take from which location and lot, summed per SKU,
with a tick box per row and totals, then the wave's orders as Code 128 barcodes so a packer
can scan them off the sheet. Each row carries the SKU's barcode (EAN-13 of its GTIN, else a
Code 128 of its merchant code) and, where a lot begins, a Code 128 of the lot's code.

``pick_list_data`` builds the data from a wave (two queries); ``render_pick_list`` draws it.
``A4Sheet`` is the page flow the handover manifest shares.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from io import BytesIO

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from core.pdf import (
    cjk_font_name,
    cjk_mono_font_name,
    draw_linear_barcode,
    fit_text,
    format_kg,
    mm,
)
from orders.lifecycle import PACKED_OR_LATER, expired_lots_refusal
from shipping.models import Wave
from shipping.selectors import (
    PickRow,
    PickTotals,
    pick_rows,
    pick_totals,
    wave_orders,
)

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 14 * mm
# Bars in whole dots of 1/300 inch (an office printer's 600 dpi prints them exactly), at most
# three dots (0.25 mm) a module; 9 mm high.
SHEET_DPI = 300
ROW_BARS = 9 * mm


class A4Sheet:
    """A portrait A4 document filled top to bottom: ``need(height)`` starts a new page (with
    the running header) when the next block would not fit. Page numbers are drawn on save."""

    def __init__(self, title: str, running_header: str) -> None:
        self.font, self.mono = cjk_font_name(), cjk_mono_font_name()
        self.buffer = BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=A4, pageCompression=1)
        self.canvas.setTitle(title)
        self.canvas.setCreator(settings.STUDIO_NAME)
        self.running_header = running_header
        self.left, self.right = MARGIN, PAGE_WIDTH - MARGIN
        self.page = 1
        self.y = PAGE_HEIGHT - MARGIN
        self.on_new_page = None  # called after the running header, e.g. to repeat a table head

    @property
    def width(self) -> float:
        return self.right - self.left

    def need(self, height: float) -> None:
        if self.y - height < MARGIN + 8 * mm:
            self._footer()
            self.canvas.showPage()
            self.page += 1
            self.y = PAGE_HEIGHT - MARGIN
            self.text(self.running_header, 9, gray=0.35)
            self.y -= 3 * mm
            if self.on_new_page:
                self.on_new_page()

    def _footer(self) -> None:
        self.canvas.setFont(self.font, 8)
        self.canvas.setFillGray(0.35)
        self.canvas.drawRightString(self.right, MARGIN - 2 * mm, f"{self.page}")
        self.canvas.setFillGray(0)

    def text(
        self,
        text: str,
        size: float,
        *,
        font: str | None = None,
        gray: float = 0,
        x: float | None = None,
        width: float | None = None,
        advance: bool = True,
    ) -> None:
        font = font or self.font
        left = self.left if x is None else x
        room = width if width is not None else self.right - left
        self.need(size * 1.4)
        self.canvas.setFillGray(gray)
        self.canvas.setFont(font, size)
        self.canvas.drawString(left, self.y - size, fit_text(text, font, size, room))
        self.canvas.setFillGray(0)
        if advance:
            self.y -= size * 1.4

    def rule(self, weight: float = 0.6, gap: float = 2 * mm) -> None:
        self.canvas.setLineWidth(weight)
        self.canvas.line(self.left, self.y - gap / 2, self.right, self.y - gap / 2)
        self.y -= gap

    def save(self) -> bytes:
        self._footer()
        self.canvas.showPage()
        self.canvas.save()
        return self.buffer.getvalue()


def draw_code128(canvas: Canvas, value: str, x: float, y: float, max_width: float, height: float):
    """A Code 128 of ``value`` with its quiet zones, left edge at ``x``, bars from ``y`` up;
    bars as wide as fit in ``max_width`` (0.33 mm at most, 0.19 mm at least). Returns its
    width."""
    bar = 0.33 * mm
    barcode = Code128(value, barWidth=bar, barHeight=height, humanReadable=False, quiet=True)
    if barcode.width > max_width:
        bar = max(0.19 * mm, bar * max_width / barcode.width)
        barcode = Code128(value, barWidth=bar, barHeight=height, humanReadable=False, quiet=True)
    barcode.drawOn(canvas, x, y)
    return barcode.width


@dataclass(frozen=True)
class PickOrder:
    position: int
    order_number: str
    recipient: str  # the name only, as the order list shows it
    province: str
    packed: bool


@dataclass(frozen=True)
class PickListData:
    wave_code: str
    created_at: datetime
    carrier_name: str
    note: str
    rows: tuple[PickRow, ...]
    totals: PickTotals
    orders: tuple[PickOrder, ...]

    @property
    def packed_count(self) -> int:
        return sum(1 for order in self.orders if order.packed)

    @property
    def expired_refusal(self) -> str:
        """The pick list refuses expired lots: why and what to do, or ""."""
        expired = {(row.lot_code, row.expiry_date) for row in self.rows if row.expired}
        return expired_lots_refusal(expired) if expired else ""


def pick_list_data(wave: Wave) -> PickListData:
    """The pick list of a wave: the grouped rows (one query) and its orders (one query, plus
    the prefetches of ``wave_orders``)."""
    rows = pick_rows(wave)
    orders = tuple(
        PickOrder(
            position=order.wave_position,
            order_number=order.external_no,
            recipient=order.recipient_name,
            province=order.province,
            packed=order.status in PACKED_OR_LATER,
        )
        for order in wave_orders(wave).prefetch_related(None)
    )
    return PickListData(
        wave_code=wave.code,
        created_at=timezone.localtime(wave.created_at),
        carrier_name=wave.carrier.name if wave.carrier_id else "",
        note=wave.note,
        rows=tuple(rows),
        totals=pick_totals(rows),
        orders=orders,
    )


def _units(units: Decimal) -> str:
    return format_kg(units)


# Column left edges (from the left margin) and widths of the pick table.
_COLUMNS = {
    "tick": (0, 8 * mm),
    "location": (8 * mm, 24 * mm),
    "lot": (32 * mm, 30 * mm),
    "farmer": (62 * mm, 24 * mm),
    "sku": (86 * mm, 58 * mm),
    "units": (144 * mm, 16 * mm),
    "kg": (160 * mm, 22 * mm),
}


def render_pick_list(data: PickListData) -> bytes:
    title = _("Pick list")
    sheet = A4Sheet(f"{title} {data.wave_code}", f"{title} {data.wave_code}")
    canvas, font, mono = sheet.canvas, sheet.font, sheet.mono

    # Header: the wave code large, then date, count and carrier.
    sheet.text(settings.STUDIO_NAME, 9, gray=0.35)
    sheet.text(f"{title}  {data.wave_code}", 20)
    facts = [
        _("Created %(time)s") % {"time": data.created_at.strftime("%Y-%m-%d %H:%M")},
        _("%(count)d orders") % {"count": len(data.orders)},
        _("Carrier: %(carrier)s") % {"carrier": data.carrier_name or _("chosen at the station")},
    ]
    sheet.text("   ·   ".join(facts), 10)
    if data.packed_count:
        sheet.text(
            _("%(packed)d orders already packed are not on the list.")
            % {"packed": data.packed_count},
            9,
            gray=0.35,
        )
    if data.note:
        sheet.text(data.note, 9, gray=0.35)
    if data.expired_refusal:
        sheet.y -= 1 * mm
        sheet.text(data.expired_refusal, 10)
    sheet.y -= 2 * mm

    def cell(name: str, text: str, size: float = 9, *, right: bool = False, cell_font=None):
        left, width = _COLUMNS[name]
        cell_font = cell_font or font
        shown = fit_text(text, cell_font, size, width - 2 * mm)
        canvas.setFont(cell_font, size)
        if right:
            canvas.drawRightString(sheet.left + left + width - 1 * mm, sheet.y - size - 1, shown)
        else:
            canvas.drawString(sheet.left + left + 1 * mm, sheet.y - size - 1, shown)

    def table_head():
        canvas.setFillGray(0.35)
        cell("location", _("Location"), 8)
        cell("lot", _("Lot"), 8)
        cell("farmer", _("Farmer"), 8)
        cell("sku", _("SKU"), 8)
        cell("units", _("Units"), 8, right=True)
        cell("kg", _("kg"), 8, right=True)
        canvas.setFillGray(0)
        sheet.y -= 12
        sheet.rule(0.8, 1 * mm)

    if not data.rows:
        sheet.text(_("Nothing left to pick: every order of this wave is packed."), 11)
    else:
        sheet.need(30)
        table_head()
        sheet.on_new_page = table_head
        row_height = 2 * 9 + 8 + ROW_BARS + 2 * mm
        previous_location = previous_lot = None
        for row in data.rows:
            sheet.need(row_height)
            new_location = row.location_code != previous_location
            if new_location and previous_location is not None:
                canvas.setLineWidth(1)
                canvas.line(sheet.left, sheet.y + 1, sheet.right, sheet.y + 1)
            box = 4 * mm
            canvas.setLineWidth(0.8)
            if row.expired:  # no tick box: a cross, and the row says why
                x, top = sheet.left + 1.5 * mm, sheet.y - 1
                canvas.line(x, top, x + box, top - box)
                canvas.line(x, top - box, x + box, top)
            else:
                canvas.rect(sheet.left + 1.5 * mm, sheet.y - 1 - box, box, box)
            if new_location:
                cell("location", row.location_code, 10, cell_font=mono)
            if new_location or row.lot_code != previous_lot:
                cell("lot", row.lot_code, 9, cell_font=mono)
                cell("farmer", row.farmer_name, 9)
            cell("sku", row.sku_name, 9)
            cell("units", _units(row.units), 10, right=True)
            cell("kg", format_kg(row.kg), 10, right=True)
            sheet.y -= 11
            canvas.setFillGray(0.35)
            if new_location:
                cell("location", row.location_name, 7)
            if row.expired:
                cell("sku", _("EXPIRED — do not pick"), 7)
            else:
                code = row.merchant_code
                if row.box_name:
                    code = _("%(code)s · in %(box)s") % {"code": code, "box": row.box_name}
                cell("sku", code, 7, cell_font=mono)
            canvas.setFillGray(0)
            bars_y = sheet.y - 9 - ROW_BARS
            if new_location or row.lot_code != previous_lot:
                lot_left, _w = _COLUMNS["lot"]
                farmer_left, farmer_width = _COLUMNS["farmer"]
                span = farmer_left + farmer_width - lot_left
                draw_linear_barcode(canvas, row.lot_code, sheet.left + lot_left, bars_y, span,
                                    ROW_BARS, symbology="Code128", max_module_dots=3,
                                    dpi=SHEET_DPI)  # fmt: skip
            sku_left, sku_width = _COLUMNS["sku"]
            draw_linear_barcode(canvas, row.barcode_value or row.merchant_code,
                                sheet.left + sku_left, bars_y, sku_width, ROW_BARS,
                                max_module_dots=3, dpi=SHEET_DPI)  # fmt: skip
            sheet.y -= row_height - 11
            canvas.setLineWidth(0.3)
            canvas.line(sheet.left + 8 * mm, sheet.y + 3, sheet.right, sheet.y + 3)
            previous_location, previous_lot = row.location_code, row.lot_code
        sheet.on_new_page = None
        sheet.need(20)
        sheet.rule(1.2, 1 * mm)
        canvas.setFont(font, 10)
        canvas.drawString(
            sheet.left + 1 * mm,
            sheet.y - 11,
            _("Total: %(rows)d rows") % {"rows": data.totals.rows},
        )
        cell("units", _units(data.totals.units), 10, right=True)
        cell("kg", format_kg(data.totals.kg), 10, right=True)
        sheet.y -= 18

    _draw_orders(sheet, data.orders)
    return sheet.save()


def _draw_orders(sheet: A4Sheet, orders: Sequence[PickOrder]) -> None:
    """The wave's orders, two to a row, each with its number as a Code 128."""
    if not orders:
        return
    canvas = sheet.canvas
    sheet.need(60)
    sheet.y -= 4 * mm
    sheet.text(_("Orders of this wave"), 13)
    sheet.y -= 1 * mm
    column_width = sheet.width / 2
    block = 24 * mm
    for start in range(0, len(orders), 2):
        sheet.need(block)
        for column, order in enumerate(orders[start : start + 2]):
            left = sheet.left + column * column_width
            top = sheet.y
            label = f"#{order.position}  {order.recipient}  {order.province}"
            if order.packed:
                label = f"{label}  [{_('packed')}]"
            canvas.setFont(sheet.font, 8)
            canvas.drawString(left, top - 8, fit_text(label, sheet.font, 8, column_width - 6 * mm))
            draw_code128(canvas, order.order_number, left, top - 8 - 2 * mm - 11 * mm,
                         column_width - 8 * mm, 11 * mm)  # fmt: skip
            canvas.setFont(sheet.mono, 9)
            number = fit_text(order.order_number, sheet.mono, 9, column_width - 8 * mm)
            canvas.drawString(left + 2 * mm, top - 8 - 2 * mm - 11 * mm - 10, number)
        sheet.y -= block


__all__ = [
    "A4Sheet",
    "PickListData",
    "PickOrder",
    "draw_code128",
    "pick_list_data",
    "render_pick_list",
]
