"""A SKU's barcode stickers: 40×30 mm for a thermal printer (one sticker a page), or an A4
sheet of 5 × 9 stickers of the same size for an office printer. Each carries the SKU's name,
its net weight and its barcode: EAN-13 when the SKU has a GTIN, else a Code 128 of its
merchant code, with the value in digits below it.

``sku_sticker_data`` builds the data from a SKU; ``render_sku_stickers`` draws it."""

from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO

from django.conf import settings
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from core.pdf import (
    cjk_font_name,
    cjk_mono_font_name,
    draw_linear_barcode,
    fit_size,
    fit_text,
    format_kg,
    linear_symbology,
    mm,
)
from inventory.models import Sku

STICKER_SIZE = (40 * mm, 30 * mm)
SHEET_COLUMNS, SHEET_ROWS = 5, 9  # 45 stickers of 40×30 mm on A4: 200 × 270 mm
# Bars are whole dots of the printer: 203 dpi for the thermal one; an office printer's 600 dpi
# prints 300-dpi dots exactly, and 1/300 inch lets a Code 128 of a long merchant code take
# modules of two dots within 40 mm.
THERMAL_STICKER_DPI, SHEET_DPI = 203, 300
MAX_STICKERS = 450  # ten sheets in one PDF


class StickerLayout:
    THERMAL = "thermal"
    A4 = "a4"
    ALL = (THERMAL, A4)


@dataclass(frozen=True)
class SkuStickerData:
    name: str
    grade_name: str
    merchant_code: str
    barcode_value: str
    net_kg: Decimal

    @property
    def symbology(self) -> str:
        return linear_symbology(self.barcode_value)


def sku_sticker_data(sku: Sku) -> SkuStickerData:
    """Reads ``sku.grade``."""
    return SkuStickerData(
        name=sku.name,
        grade_name=sku.grade.name,
        merchant_code=sku.merchant_code,
        barcode_value=sku.barcode_value,
        net_kg=sku.net_kg,
    )


def render_sku_stickers(data: SkuStickerData, *, copies: int, layout: str) -> bytes:
    """``copies`` stickers of one SKU (1 to ``MAX_STICKERS``): a page each on the thermal
    printer, or 45 to an A4 page (the last sheet partly filled, from the top left)."""
    if not 1 <= copies <= MAX_STICKERS:
        raise ValueError(f"copies must be 1..{MAX_STICKERS}")
    if layout not in StickerLayout.ALL:
        raise ValueError(f"unknown layout {layout!r}")
    buffer = BytesIO()
    size = STICKER_SIZE if layout == StickerLayout.THERMAL else A4
    canvas = Canvas(buffer, pagesize=size, pageCompression=1)
    canvas.setTitle(f"{_('SKU stickers')} {data.merchant_code}")
    canvas.setCreator(settings.STUDIO_NAME)
    if layout == StickerLayout.THERMAL:
        for _copy in range(copies):
            _draw_sticker(canvas, data, 0, 0, THERMAL_STICKER_DPI)
            canvas.showPage()
    else:
        width, height = STICKER_SIZE
        left = (A4[0] - SHEET_COLUMNS * width) / 2
        top = (A4[1] + SHEET_ROWS * height) / 2
        per_sheet = SHEET_COLUMNS * SHEET_ROWS
        for index in range(copies):
            place = index % per_sheet
            if index and place == 0:
                canvas.showPage()
            row, column = divmod(place, SHEET_COLUMNS)
            _draw_sticker(canvas, data, left + column * width, top - (row + 1) * height, SHEET_DPI)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_sticker(canvas: Canvas, data: SkuStickerData, x: float, y: float, dpi: int) -> None:
    font, mono = cjk_font_name(), cjk_mono_font_name()
    width, height = STICKER_SIZE
    margin = 2 * mm
    room = width - 2 * margin
    title = f"{data.name} {data.grade_name}"
    size = fit_size(title, font, 9, room, 7)
    canvas.setFont(font, size)
    title = fit_text(title, font, size, room)
    canvas.drawString(x + margin, y + height - margin - size * 0.85, title)
    weight = _("Net %(kg)s kg") % {"kg": format_kg(data.net_kg)}
    canvas.setFont(font, 7)
    canvas.drawString(x + margin, y + height - margin - size - 8, fit_text(weight, font, 7, room))
    # The bars may use the whole width: their quiet zones are the sticker's white edges.
    draw_linear_barcode(
        canvas, data.barcode_value, x, y + 6 * mm, width, 12 * mm, center=True, dpi=dpi
    )
    shown = fit_text(data.barcode_value, mono, 8, room)
    canvas.setFont(mono, 8)
    canvas.drawCentredString(x + width / 2, y + 3 * mm, shown)
