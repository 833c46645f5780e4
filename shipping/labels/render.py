"""Shipping labels as PDF pages, drawn from ``LabelData`` alone (no database).

Thermal printers print at 203 dpi: margins, rules, the bars of the Code 128 and the modules
of the QR code sit on whole printer dots, so every bar prints as wide as the code says.
User text (names, addresses, SKU names) is drawn with ``drawString``: never parsed as markup,
never able to fetch anything, cut with "…" where it would leave its box.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from io import BytesIO

from django.conf import settings
from django.utils.translation import gettext as _
from reportlab.graphics.barcode.code128 import Code128
from reportlab.pdfgen.canvas import Canvas

from core.pdf import (
    THERMAL_DPI,
    cjk_font_name,
    cjk_mono_font_name,
    draw_qr,
    fit_size,
    fit_text,
    format_kg,
    mm,
    snap,
    text_width,
    wrap_text,
)
from core.units import WeightUnit, format_weight
from shipping.labels.data import LabelData
from shipping.models import LabelSize

__all__ = [
    "DOT",
    "PAGE_SIZES",
    "code128_pattern",
    "draw_code128",
    "draw_qr_dots",
    "page_size",
    "render_labels",
]

DOT = 72 / THERMAL_DPI  # one printer dot, in points

PAGE_SIZES: dict[str, tuple[float, float]] = {
    LabelSize.MM_100x150: (100 * mm, 150 * mm),
    LabelSize.MM_76x130: (76 * mm, 130 * mm),
    LabelSize.MM_100x180: (100 * mm, 180 * mm),
}


@cache
def page_size(size: str, dpi: int = THERMAL_DPI) -> tuple[float, float]:
    """The label's page, to the nearest whole dots of a ``dpi`` printer (100 mm at 203 dpi is
    799.2 dots: 799): rasterised at ``dpi``, every dot of the drawing is a dot of the bitmap,
    none stretched."""
    dot = 72 / dpi
    width, height = PAGE_SIZES[size]
    return round(width / dot) * dot, round(height / dot) * dot


QUIET_MODULES = 10  # Code 128's quiet zone on each side, in modules
MAX_MODULE_DOTS = 4  # 0.5 mm bars: wider only makes the code longer, not easier to scan


@dataclass(frozen=True)
class _Spec:
    """Font sizes (points) and heights (mm) of one label size's blocks."""

    carrier_pt: float
    count_pt: float
    header_mm: float
    sort_pt: float
    bar_mm: float
    digits_pt: float
    name_pt: float
    address_pt: float
    address_lines: int
    sender_pt: float
    sender_lines: int
    mark_pt: float
    qr_mm: float
    content_pt: float


SPECS: dict[str, _Spec] = {
    LabelSize.MM_100x150: _Spec(
        carrier_pt=22,
        count_pt=16,
        header_mm=12,
        sort_pt=28,
        bar_mm=17,
        digits_pt=13,
        name_pt=16,
        address_pt=12,
        address_lines=3,
        sender_pt=8,
        sender_lines=1,
        mark_pt=13,
        qr_mm=30,
        content_pt=9,
    ),
    LabelSize.MM_76x130: _Spec(
        carrier_pt=18,
        count_pt=13,
        header_mm=10,
        sort_pt=22,
        bar_mm=14,
        digits_pt=11,
        name_pt=13,
        address_pt=10,
        address_lines=3,
        sender_pt=7,
        sender_lines=1,
        mark_pt=11,
        qr_mm=25,
        content_pt=8,
    ),
    LabelSize.MM_100x180: _Spec(
        carrier_pt=24,
        count_pt=18,
        header_mm=14,
        sort_pt=32,
        bar_mm=20,
        digits_pt=14,
        name_pt=17,
        address_pt=13,
        address_lines=4,
        sender_pt=9,
        sender_lines=2,
        mark_pt=15,
        qr_mm=34,
        content_pt=10,
    ),
}


# --- Code 128 --------------------------------------------------------------------------------


def _printable_ascii(value: str) -> bool:
    return bool(value) and all(32 <= ord(ch) < 127 for ch in value)


def code128_pattern(value: str) -> str:
    """The Code 128 symbol of ``value`` as ReportLab encodes it (code sets chosen to keep it
    short, check digit, stop): upper-case letters are bars, lower-case spaces, ``a``/``A`` one
    module wide, ``d``/``D`` four. Empty when ``value`` is not printable ASCII."""
    if not _printable_ascii(value):
        return ""
    barcode = Code128(value, barWidth=1, quiet=0)
    barcode.validate()
    barcode.encode()
    return barcode.decompose()


def _pattern_modules(pattern: str) -> int:
    return sum(ord(ch) - (96 if ch.islower() else 64) for ch in pattern)


def draw_code128(
    canvas: Canvas,
    value: str,
    center_x: float,
    y: float,
    height: float,
    max_width: float,
    *,
    max_module_dots: int | None = None,
    dpi: int = THERMAL_DPI,
) -> float:
    """The bars of ``value`` centred on ``center_x`` from ``y`` up to ``y + height``, as one
    path. Modules are whole dots of a ``dpi`` printer, as wide as ``max_width`` allows with
    the quiet zones (at most ``max_module_dots``); the quiet zones are left white, not drawn.
    Returns the width of the bars, 0 when ``value`` cannot be encoded."""
    pattern = code128_pattern(value)
    if not pattern:
        return 0.0
    dot = 72 / dpi
    if max_module_dots is None:  # as wide as MAX_MODULE_DOTS at 203 dpi, on this printer
        max_module_dots = round(MAX_MODULE_DOTS * dpi / THERMAL_DPI)
    modules = _pattern_modules(pattern)
    module = max(1, min(int((max_width / dot) // (modules + 2 * QUIET_MODULES)), max_module_dots))
    width = modules * module * dot
    canvas.saveState()
    # Drawn in printer dots: every edge is a whole number, and the page stream stays short.
    canvas.translate(snap(center_x - width / 2, dpi), snap(y, dpi))
    canvas.scale(dot, dot)
    dots_high = round(height / dot)
    bars, x = [], 0
    for ch in pattern:
        if ch.isupper():
            span = (ord(ch) - 64) * module
            bars.append(f"{x} 0 {span} {dots_high} re")
        else:
            span = (ord(ch) - 96) * module
        x += span
    # One filled path of whole-dot rectangles, written straight into the page stream.
    canvas.setFillGray(0)
    canvas.addLiteral(" ".join(bars) + " f")
    canvas.restoreState()
    return width


def draw_qr_dots(
    canvas: Canvas, data: str, x: float, y: float, size: float, *, dpi: int = THERMAL_DPI
) -> None:
    """``core.pdf.draw_qr`` on the printer's grid: modules of whole printer dots, their
    corners on dot boundaries."""
    draw_qr(canvas, data, snap(x, dpi), snap(y, dpi), size, dpi=dpi)


# --- drawing helpers -------------------------------------------------------------------------


def _bold(canvas: Canvas, x: float, y: float, text: str, font: str, size: float) -> None:
    """Text filled and outlined: the CJK font has no bold face, and carrier names, sorting
    codes and recipients must read from arm's length. Only those: outlined glyphs are the
    dearest thing on the label to rasterise."""
    label = canvas.beginText(x, y)
    label.setTextRenderMode(2)
    label.setFont(font, size)
    label.textOut(text)
    label.setTextRenderMode(0)  # the render mode outlives the text object: reset it
    canvas.setLineWidth(size * 0.035)
    canvas.drawText(label)


@cache
def _badge_box(
    text: str, font: str, size: float, max_width: float, dpi: int
) -> tuple[str, float, float]:
    """The text that fits, and the box's width and height (the same few captions and marks
    are on every label: measured once)."""
    text = fit_text(text, font, size, max_width - 2 * 1.2 * mm)
    width = snap(text_width(text, font, size) + 2 * snap(1.2 * mm, dpi) + 72 / dpi, dpi)
    height = snap(size * 1.08 + 2 * snap(0.7 * mm, dpi), dpi)
    return text, width, height


def _badge(
    canvas: Canvas,
    text: str,
    x: float,
    top: float,
    font: str,
    size: float,
    *,
    max_width: float,
    dpi: int = THERMAL_DPI,
) -> float:
    """White text on a black box whose upper left corner is (x, top); returns its width."""
    text, width, height = _badge_box(text, font, size, max_width, dpi)
    pad_x, pad_y = snap(1.2 * mm, dpi), snap(0.7 * mm, dpi)
    canvas.setFillGray(0)
    canvas.rect(x, top - height, width, height, stroke=0, fill=1)
    canvas.setFillGray(1)
    canvas.setFont(font, size)
    canvas.drawString(x + pad_x, top - height + pad_y + size * 0.2, text)
    canvas.setFillGray(0)
    return width


def _kg(kg: Decimal, unit: str = WeightUnit.KG) -> str:
    """12.5 kg, or 25 斤 in a studio that weighs in 斤 (``core.units``)."""
    if unit == WeightUnit.KG:
        return _("%(kg)s kg") % {"kg": format_kg(kg)}
    return format_weight(kg, unit)


# --- one label -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Texts:
    """The fixed words of a label, translated once per PDF rather than once per label."""

    to: str
    sender: str
    contents: str
    weight: str
    net: str
    order: str
    scan: str
    more: str

    @classmethod
    def now(cls) -> "_Texts":
        return cls(
            to=_("To"),
            sender=_("From"),
            contents=_("Contents"),
            weight=_("Weight"),
            net=_("Net"),
            order=_("Order"),
            scan=_("Scan to trace"),
            more=_("… and %(count)d more"),
        )


class _Painter:
    """Draws labels of one size for a printer of ``dpi``; measures what does not depend on
    the label once. Every edge, bar and module lands on that printer's dots."""

    def __init__(self, size: str, texts: _Texts, dpi: int = THERMAL_DPI) -> None:
        self.dpi, self.dot = dpi, 72 / dpi
        self.size = size
        self.spec = SPECS[size]
        self.texts = texts
        self.font, self.mono = cjk_font_name(), cjk_mono_font_name()
        self.width, self.height = page_size(size, dpi)
        margin = self.snap(2 * mm)
        self.left, self.right = margin, self.snap(self.width - margin)
        self.top, self.bottom = self.snap(self.height - margin), margin
        self.rule_weight = 3 * self.dot

    def snap(self, points: float) -> float:
        return snap(points, self.dpi)

    def rule(self, canvas: Canvas, y: float, weight: float | None = None) -> None:
        canvas.setLineWidth(weight or self.rule_weight)
        canvas.line(self.left, y, self.right, y)

    def draw(self, canvas: Canvas, label: LabelData) -> None:
        y = self.header(canvas, label, self.top)
        if label.sorting_code:
            y = self.sorting_code(canvas, label.sorting_code, y)
        y = self.barcode(canvas, label.tracking_number, y)
        y = self.recipient(canvas, label, y)
        y = self.sender(canvas, label, y)
        if label.marks:
            y = self.marks(canvas, label.marks, y)
        self.contents(canvas, label, y)

    def header(self, canvas: Canvas, label: LabelData, top: float) -> float:
        spec, font = self.spec, self.font
        height = self.snap(spec.header_mm * mm)
        count = f"{label.sequence}/{label.parcel_count}"
        count_size = spec.count_pt
        box_width = self.snap(text_width(count, font, count_size) + 3 * mm)
        box_height = self.snap(count_size * 1.35)
        box_left = self.right - box_width
        box_bottom = self.snap(top - (height + box_height) / 2)
        canvas.setLineWidth(2 * self.dot)
        canvas.rect(box_left, box_bottom, box_width, box_height, stroke=1, fill=0)
        canvas.setFont(font, count_size)
        canvas.drawCentredString(
            box_left + box_width / 2, box_bottom + box_height / 2 - count_size * 0.36, count
        )
        room = box_left - 2 * mm - self.left
        size = fit_size(label.carrier_name, font, spec.carrier_pt, room, spec.carrier_pt * 0.6)
        name = fit_text(label.carrier_name, font, size, room)
        _bold(canvas, self.left, top - height / 2 - size * 0.36, name, font, size)
        y = top - height
        self.rule(canvas, y)
        return y

    def sorting_code(self, canvas: Canvas, code: str, top: float) -> float:
        size = fit_size(code, self.font, self.spec.sort_pt, self.right - self.left, 12)
        height = self.snap(size * 1.45)
        text = fit_text(code, self.font, size, self.right - self.left)
        width = text_width(text, self.font, size)
        x = (self.left + self.right - width) / 2
        _bold(canvas, x, top - height / 2 - size * 0.36, text, self.font, size)
        y = top - height
        self.rule(canvas, y)
        return y

    def barcode(self, canvas: Canvas, number: str, top: float) -> float:
        spec = self.spec
        gap = self.snap(2 * mm)
        bar_height = self.snap(spec.bar_mm * mm)
        bars_bottom = top - gap - bar_height
        # The quiet zones may reach into the page margins: paper is white there too.
        draw_code128(
            canvas,
            number,
            self.width / 2,
            bars_bottom,
            bar_height,
            self.width - 2 * self.dot * 8,
            dpi=self.dpi,
        )
        size = fit_size(number, self.mono, spec.digits_pt, self.right - self.left, 7)
        baseline = bars_bottom - 1.2 * mm - size * 0.8
        digits = fit_text(number, self.mono, size, self.right - self.left)
        x = (self.width - text_width(digits, self.mono, size)) / 2
        # Regular weight: the digits back up the bars, and a thermal printer spends a third
        # of a label's time stroking outlined (bold) glyphs.
        canvas.setFont(self.mono, size)
        canvas.drawString(x, baseline, digits)
        y = self.snap(baseline - size * 0.35 - 1 * mm)
        self.rule(canvas, y)
        return y

    def _caption(self, canvas: Canvas, text: str, top: float, size: float) -> float:
        """A black caption box at the block's upper left; returns the left of the text column."""
        width = _badge(
            canvas, text, self.left, top, self.font, size, max_width=12 * mm, dpi=self.dpi
        )
        return self.left + width + self.snap(1.5 * mm)

    def recipient(self, canvas: Canvas, label: LabelData, top: float) -> float:
        spec, font = self.spec, self.font
        pad = self.snap(1.5 * mm)
        text_left = self._caption(canvas, self.texts.to, top - pad, spec.address_pt)
        room = self.right - text_left
        size = spec.name_pt
        baseline = top - pad - size * 0.88
        phone = fit_text(label.recipient_phone, font, size, room * 0.55)
        phone_width = text_width(phone, font, size)
        name_room = room - phone_width - (3 * mm if phone else 0)
        name_size = fit_size(label.recipient_name, font, size, name_room, size * 0.45)
        name = fit_text(label.recipient_name, font, name_size, name_room)
        _bold(canvas, text_left, baseline, name, font, name_size)
        if phone:
            canvas.setFont(font, size)
            canvas.drawRightString(self.right, baseline, phone)
        size = spec.address_pt
        lines = wrap_text(label.recipient_address, font, size, room, spec.address_lines)
        canvas.setFont(font, size)
        line_height = size * 1.25
        baseline -= spec.name_pt * 0.3 + line_height
        for line in lines:
            canvas.drawString(text_left, baseline, line)
            baseline -= line_height
        # The block keeps its height whatever the address's length: the layout below stays put.
        y = self.snap(top - pad - spec.name_pt * 1.18 - spec.address_lines * line_height - pad)
        self.rule(canvas, y, 2 * self.dot)
        return y

    def sender(self, canvas: Canvas, label: LabelData, top: float) -> float:
        spec, font = self.spec, self.font
        pad = self.snap(1.2 * mm)
        size = spec.sender_pt
        text_left = self._caption(canvas, self.texts.sender, top - pad, size)
        room = self.right - text_left
        baseline = top - pad - size * 1.1
        phone = fit_text(label.sender_phone, font, size, room * 0.4)
        name_room = room - text_width(phone, font, size) - 2 * mm
        canvas.setFont(font, size)
        canvas.drawString(text_left, baseline, fit_text(label.sender_name, font, size, name_room))
        canvas.drawRightString(self.right, baseline, phone)
        line_height = size * 1.25
        for line in wrap_text(label.sender_address, font, size, room, spec.sender_lines):
            baseline -= line_height
            canvas.drawString(text_left, baseline, line)
        y = self.snap(top - pad - size * 1.35 - spec.sender_lines * line_height - pad)
        self.rule(canvas, y)
        return y

    def marks(self, canvas: Canvas, marks: Sequence[str], top: float) -> float:
        size = self.spec.mark_pt
        pad = self.snap(1.2 * mm)
        x = self.left
        for mark in marks:
            room = self.right - x
            if room < size * 2:
                break
            x += _badge(canvas, mark, x, top - pad, self.font, size, max_width=room, dpi=self.dpi)
            x += self.snap(2 * mm)
        return self.snap(top - pad - size * 1.08 - 2 * self.snap(0.7 * mm))

    def contents(self, canvas: Canvas, label: LabelData, top: float) -> None:
        spec, font, texts = self.spec, self.font, self.texts
        pad = self.snap(1.5 * mm)
        caption_size = spec.content_pt
        caption_gap = caption_size * 1.5
        # The QR code in the lower right corner, its caption under it; its quiet zone may
        # reach the page edge.
        qr_size = self.snap(min(spec.qr_mm * mm, top - pad - self.bottom - caption_gap))
        qr_left = self.snap(self.width - qr_size)
        qr_bottom = self.snap(self.bottom + caption_gap)
        draw_qr_dots(canvas, label.trace_url, qr_left, qr_bottom, qr_size, dpi=self.dpi)
        canvas.setFont(font, caption_size * 0.9)
        scan = fit_text(texts.scan, font, caption_size * 0.9, qr_size)
        canvas.drawCentredString(qr_left + qr_size / 2, self.bottom + caption_size * 0.4, scan)

        right = qr_left + 1 * mm  # the quiet zone's outer edge may hold text
        room = right - self.left
        size = spec.content_pt
        line_height = size * 1.3
        # Bottom rows first (weight and order number), then items fill what is left above.
        weight_size = size + 2
        order_baseline = self.bottom + size * 0.3
        weight_baseline = order_baseline + size * 1.2 + weight_size * 0.25
        weight = f"{texts.weight} {_kg(label.weight_kg)}"
        # The parcel's weight is for the carrier, who bills by the kilogram; the produce's net
        # weight is the studio's, in its unit (斤 or kg).
        net = f"{texts.net} {_kg(label.net_kg, label.unit)}"
        canvas.setFont(font, weight_size)
        weight = fit_text(weight, font, weight_size, room * 0.55)
        canvas.drawString(self.left, weight_baseline, weight)
        canvas.setFont(font, size)
        net_left = self.left + text_width(weight, font, weight_size) + 3 * mm
        canvas.drawString(net_left, weight_baseline, fit_text(net, font, size, right - net_left))
        order = f"{texts.order} {label.order_number}"
        canvas.setFont(self.mono, size)
        canvas.drawString(self.left, order_baseline, fit_text(order, self.mono, size, room))

        baseline = top - pad - caption_size * 0.9
        canvas.setFont(font, caption_size)
        canvas.drawString(self.left, baseline, fit_text(texts.contents, font, caption_size, room))
        lowest = weight_baseline + weight_size * 1.1 + size * 0.3
        fitting = max(0, int((baseline - lowest) // line_height))
        items = label.items
        if len(items) > fitting and fitting:
            shown, hidden = items[: fitting - 1], len(items) - fitting + 1
        else:
            shown, hidden = items[:fitting], 0
        indent = self.left + 2 * mm
        canvas.setFont(font, size)
        for item in shown:
            baseline -= line_height
            amount = _kg(item.kg, label.unit) if item.quantity is None else f"× {item.quantity}"
            amount_width = text_width(amount, font, size)
            name = fit_text(item.name, font, size, right - indent - amount_width - 2 * mm)
            canvas.drawString(indent, baseline, name)
            canvas.drawRightString(right - 1 * mm, baseline, amount)
        if hidden:
            baseline -= line_height
            more = texts.more % {"count": hidden}
            canvas.drawString(indent, baseline, fit_text(more, font, size, right - indent))


@cache
def _painter(size: str, texts: _Texts, dpi: int) -> _Painter:
    return _Painter(size, texts, dpi)


def render_labels(
    labels: Sequence[LabelData],
    *,
    size: str | None = None,
    progress: Callable[[int], None] | None = None,
    dpi: int = THERMAL_DPI,
) -> bytes:
    """One PDF, one label per page, in the order given. ``size`` (a ``LabelSize`` value) sets
    every page; ``None`` prints each label at its carrier's size. ``progress``, if given, is
    called with the number of labels drawn after every hundred and at the end. Edges, bars and
    QR modules land on the dots of a printer of ``dpi`` (203 unless a 300-dpi printer is to
    get the label)."""
    if not labels:
        raise ValueError("render_labels needs at least one label")
    if size is not None and size not in PAGE_SIZES:
        raise ValueError(f"unknown label size {size!r}")
    texts = _Texts.now()
    buffer = BytesIO()
    first_size = size or labels[0].size
    canvas = Canvas(buffer, pagesize=page_size(first_size, dpi), pageCompression=1)
    canvas.setTitle(_("Shipping labels"))
    canvas.setCreator(settings.STUDIO_NAME)
    for index, label in enumerate(labels, start=1):
        label_size = size or (label.size if label.size in PAGE_SIZES else LabelSize.MM_100x150)
        canvas.setPageSize(page_size(label_size, dpi))
        _painter(label_size, texts, dpi).draw(canvas, label)
        canvas.showPage()
        if progress is not None and (index % 100 == 0 or index == len(labels)):
            progress(index)
    canvas.save()
    return buffer.getvalue()
