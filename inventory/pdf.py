"""PDFs of the intake desk: the lot tag stuck on a crate and the farmer's receipt (收货单).

Each has a pure function that builds its data from model objects and a renderer that turns
the data into PDF bytes, so the renderer can be tested and reused without a database.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.pdfgen.canvas import Canvas

from core.pdf import (
    THERMAL_DPI,
    cjk_font_name,
    cjk_mono_font_name,
    draw_qr,
    fit_size,
    fit_text,
    format_kg,
    format_money,
    mm,
    text_width,
    wrap_text,
)
from core.units import WeightUnit, format_unit_price, format_weight
from inventory.models import Delivery, Lot, Storage

# What ``lot_tag_data`` reads through a lot: fetch lots with ``select_related(*LOT_TAG_RELATED)``
# so many tags cost one query.
LOT_TAG_RELATED = ("product", "grade", "farmer")

LOT_TAG_SIZE = (60 * mm, 40 * mm)  # a small thermal label
SLIP_WIDTH = 80 * mm  # receipt printer paper; about 72 mm of it is printable


def _kg(kg: Decimal, unit: str = WeightUnit.KG) -> str:
    """12.5 kg, or 25 斤 in a studio that weighs in 斤 (``core.units``)."""
    if unit == WeightUnit.KG:
        return _("%(kg)s kg") % {"kg": format_kg(kg)}
    return format_weight(kg, unit)


def _new_canvas(buffer: BytesIO, size: tuple[float, float], title: str) -> Canvas:
    canvas = Canvas(buffer, pagesize=size, pageCompression=1)
    canvas.setTitle(title)
    canvas.setCreator(settings.STUDIO_NAME)
    return canvas


# --- lot tag ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LotTagData:
    lot_code: str
    product_name: str
    grade_name: str
    kg: Decimal  # as received at intake
    farmer_name: str
    village: str
    harvest_date: date
    expiry_date: date
    storage: str  # a ``Storage`` value
    unit: str = WeightUnit.KG  # the studio's weight unit: what ``kg`` is printed in

    @property
    def is_cold(self) -> bool:
        return self.storage == Storage.COLD


def lot_tag_data(lot: Lot, *, unit: str = WeightUnit.KG) -> LotTagData:
    """The tag of one lot, its weight printed in ``unit``. Reads ``lot.product``,
    ``lot.grade`` and ``lot.farmer``."""
    return LotTagData(
        lot_code=lot.code,
        product_name=lot.product.name,
        grade_name=lot.grade.name,
        kg=lot.received_kg,
        farmer_name=lot.farmer.name,
        village=lot.farmer.village,
        harvest_date=lot.harvest_date,
        expiry_date=lot.expiry_date,
        storage=lot.product.storage,
        unit=unit,
    )


def render_lot_tags(tags: Sequence[LotTagData]) -> bytes:
    """One 60×40 mm page per tag, in the order given."""
    if not tags:
        raise ValueError("render_lot_tags needs at least one tag")
    buffer = BytesIO()
    canvas = _new_canvas(buffer, LOT_TAG_SIZE, _("Lot tags"))
    for tag in tags:
        _draw_lot_tag(canvas, tag)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_lot_tag(canvas: Canvas, tag: LotTagData) -> None:
    font, mono = cjk_font_name(), cjk_mono_font_name()
    width, height = LOT_TAG_SIZE
    margin = 2.5 * mm
    left, right, top = margin, width - margin, height - margin

    # The QR sits in the lower right corner; its quiet zone reaches the label's edges (white
    # paper either way), so the symbol itself is about 18.4 mm and 3.8 mm from the edges.
    qr_size = 26 * mm
    draw_qr(canvas, tag.lot_code, width - qr_size, 0, qr_size)
    column_right = width - qr_size + 1 * mm  # text may use the quiet zone's outer millimetre

    # Header across the full width: product and grade, the cold mark on the right.
    header_right = right
    if tag.is_cold:
        header_right = _draw_badge(canvas, str(Storage.COLD.label), right, top, font, 9) - 1.5 * mm
    # A long product name shrinks, then is cut; the grade always shows whole.
    room = header_right - left
    size = fit_size(f"{tag.product_name} {tag.grade_name}", font, 16, room, 11)
    grade = fit_text(tag.grade_name, font, size, room / 2)
    product = fit_text(tag.product_name, font, size, room - text_width(f" {grade}", font, size))
    y = top - size * 0.82
    canvas.setFont(font, size)
    canvas.drawString(left, y, f"{product} {grade}")

    size = fit_size(tag.lot_code, mono, 13, right - left, 8)
    y -= size + 3.5
    canvas.setFont(mono, size)
    canvas.drawString(left, y, fit_text(tag.lot_code, mono, size, right - left))
    y -= 3.5
    canvas.setLineWidth(2 * 72 / THERMAL_DPI)  # two printer dots
    canvas.line(left, y, column_right - 1.5 * mm, y)

    column = column_right - 1.5 * mm - left
    y -= 12
    canvas.setFont(font, 12)
    canvas.drawString(left, y, fit_text(_kg(tag.kg, tag.unit), font, 12, column))

    rows = [
        (tag.farmer_name, 8),
        (tag.village, 7),
        (_("Harvest %(date)s") % {"date": tag.harvest_date.isoformat()}, 7),
        (_("Expiry %(date)s") % {"date": tag.expiry_date.isoformat()}, 8),
    ]
    y -= 3
    for text, size in rows:
        y -= size + 2
        canvas.setFont(font, size)
        canvas.drawString(left, y, fit_text(text, font, size, column))


def _draw_badge(
    canvas: Canvas, text: str, right: float, top: float, font: str, size: float
) -> float:
    """White text on a black box whose upper right corner is (right, top); returns its left."""
    text = fit_text(text, font, size, 20 * mm)
    padding = 1.2 * mm
    box_width = text_width(text, font, size) + 2 * padding
    box_height = size + 2 * 0.8 * mm
    box_left = right - box_width
    canvas.saveState()
    canvas.setFillGray(0)
    canvas.roundRect(box_left, top - box_height, box_width, box_height, 1 * mm, stroke=0, fill=1)
    canvas.setFillGray(1)
    canvas.setFont(font, size)
    canvas.drawString(box_left + padding, top - box_height + 0.8 * mm + size * 0.16, text)
    canvas.restoreState()
    return box_left


# --- intake slip -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeSlipLine:
    lot_code: str
    product_name: str
    grade_name: str
    gross_kg: Decimal
    crates: int
    tare_per_crate_kg: Decimal
    net_kg: Decimal
    price_per_kg: Decimal
    amount: Decimal  # net × price, to the fen


@dataclass(frozen=True)
class IntakeSlipData:
    studio_name: str
    delivery_code: str
    received_at: datetime  # in the studio's time zone
    farmer_name: str
    village: str
    masked_phone: str
    received_by: str
    note: str
    lines: tuple[IntakeSlipLine, ...]
    unit: str = WeightUnit.KG  # the studio's weight unit: weights and prices per it

    @property
    def total_kg(self) -> Decimal:
        return sum((line.net_kg for line in self.lines), Decimal("0.000"))

    @property
    def total_amount(self) -> Decimal:
        """The sum of the printed amounts, so the slip adds up line by line."""
        return sum((line.amount for line in self.lines), Decimal("0.00"))


def intake_slip_data(delivery: Delivery, *, unit: str = WeightUnit.KG) -> IntakeSlipData:
    """The receipt of one delivery, weights and prices in ``unit``: one query for its lots,
    with product and grade. Reads
    ``delivery.farmer`` and ``delivery.received_by`` (``select_related`` them to save two)."""
    lots = delivery.lots.select_related("product", "grade").order_by("pk")
    user = delivery.received_by
    return IntakeSlipData(
        studio_name=settings.STUDIO_NAME,
        delivery_code=delivery.code,
        received_at=timezone.localtime(delivery.received_at, timezone.get_default_timezone()),
        farmer_name=delivery.farmer.name,
        village=delivery.farmer.village,
        masked_phone=delivery.farmer.masked_phone,
        received_by=user.get_full_name() or user.get_username(),
        note=delivery.note,
        lines=tuple(
            IntakeSlipLine(
                lot_code=lot.code,
                product_name=lot.product.name,
                grade_name=lot.grade.name,
                gross_kg=lot.gross_kg,
                crates=lot.crates,
                tare_per_crate_kg=lot.tare_per_crate_kg,
                net_kg=lot.received_kg,
                price_per_kg=lot.price_per_kg,
                amount=lot.amount,
            )
            for lot in lots
        ),
        unit=unit,
    )


# A row of the slip: its height, and how to draw it given the y of its top edge.
_Row = tuple[float, Callable[[Canvas, float], None]]


class _Slip:
    """The slip as a column of rows, measured first so the page is exactly as long as needed."""

    margin_x = 4 * mm
    margin_y = 5 * mm

    def __init__(self) -> None:
        self.font, self.mono = cjk_font_name(), cjk_mono_font_name()
        self.left = self.margin_x
        self.right = SLIP_WIDTH - self.margin_x
        self.rows: list[_Row] = []

    @property
    def width(self) -> float:
        return self.right - self.left

    def space(self, height: float) -> None:
        self.rows.append((height, lambda canvas, top: None))

    def centered(self, text: str, size: float, *, max_lines: int = 2) -> None:
        for line in wrap_text(text, self.font, size, self.width, max_lines):

            def draw(canvas: Canvas, top: float, line=line, size=size) -> None:
                canvas.setFont(self.font, size)
                canvas.drawCentredString(SLIP_WIDTH / 2, top - size * 0.95, line)

            self.rows.append((size * 1.35, draw))

    def pair(
        self,
        label: str,
        value: str,
        size: float = 9,
        *,
        value_font: str | None = None,
        indent: float = 0,
        max_lines: int = 1,
    ) -> None:
        """The label on the left, the value right-aligned; a long value wraps under itself."""
        font = value_font or self.font
        label = fit_text(label, self.font, size, self.width * 0.45)
        label_width = text_width(label, self.font, size)
        room = self.width - indent - label_width - 3 * mm
        for index, line in enumerate(wrap_text(value, font, size, room, max_lines) or [""]):

            def draw(canvas: Canvas, top: float, line=line, first=index == 0) -> None:
                baseline = top - size * 0.95
                if first:
                    canvas.setFont(self.font, size)
                    canvas.drawString(self.left + indent, baseline, label)
                canvas.setFont(font, size)
                canvas.drawRightString(self.right, baseline, line)

            self.rows.append((size * 1.3, draw))

    def rule(self, *, dashed: bool = False, weight: float = 0.6) -> None:
        def draw(canvas: Canvas, top: float) -> None:
            canvas.saveState()
            canvas.setLineWidth(weight)
            if dashed:
                canvas.setDash(2, 1.5)
            canvas.line(self.left, top - 3, self.right, top - 3)
            canvas.restoreState()

        self.rows.append((6, draw))

    def signature(self, label: str, name: str = "") -> None:
        """Room to sign above a line, the label (and the printed name) in front of it."""
        size = 9
        text = fit_text(f"{label} {name}".strip(), self.font, size, self.width * 0.6)

        def draw(canvas: Canvas, top: float) -> None:
            baseline = top - 30
            canvas.setFont(self.font, size)
            canvas.drawString(self.left, baseline, text)
            line_left = self.left + text_width(text, self.font, size) + 2 * mm
            canvas.setLineWidth(0.6)
            canvas.line(line_left, baseline - 1.5, self.right, baseline - 1.5)

        self.rows.append((36, draw))

    def render(self, title: str) -> bytes:
        height = sum(row_height for row_height, _draw in self.rows) + 2 * self.margin_y
        buffer = BytesIO()
        canvas = _new_canvas(buffer, (SLIP_WIDTH, height), title)
        top = height - self.margin_y
        for row_height, draw in self.rows:
            draw(canvas, top)
            top -= row_height
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()


def render_intake_slip(data: IntakeSlipData) -> bytes:
    """The farmer's receipt on 80 mm receipt paper: one page as long as the delivery needs."""
    slip = _Slip()
    title = _("Intake slip")
    slip.centered(data.studio_name, 10)
    slip.centered(title, 14, max_lines=1)
    slip.space(3)
    slip.pair(_("Delivery"), data.delivery_code, value_font=slip.mono)
    slip.pair(_("Date"), data.received_at.strftime("%Y-%m-%d %H:%M"))
    slip.pair(_("Farmer"), data.farmer_name, max_lines=3)
    slip.pair(_("Village"), data.village, max_lines=2)
    if data.masked_phone:
        slip.pair(_("Phone"), data.masked_phone)
    for line in data.lines:
        slip.rule(dashed=True)
        slip.pair(line.lot_code, f"{line.product_name} {line.grade_name}", 10, max_lines=2)
        indent = 3 * mm
        slip.pair(_("Gross"), _kg(line.gross_kg, data.unit), indent=indent)
        if line.crates:
            tare = _("%(crates)d × %(tare)s") % {
                "crates": line.crates,
                "tare": _kg(line.tare_per_crate_kg, data.unit),
            }
            slip.pair(_("Crates × tare"), tare, indent=indent)
        slip.pair(_("Net"), _kg(line.net_kg, data.unit), indent=indent)
        if data.unit == WeightUnit.KG:
            price = _("%(price)s/kg") % {"price": format_money(line.price_per_kg)}
        else:
            price = format_unit_price(line.price_per_kg, data.unit)
        slip.pair(_("Price"), price, indent=indent)
        slip.pair(_("Amount"), format_money(line.amount), indent=indent)
    slip.rule(weight=1.2)
    slip.pair(_("Total net"), _kg(data.total_kg, data.unit), 10)
    slip.pair(_("Total amount"), format_money(data.total_amount), 12)
    if data.note:
        slip.rule(dashed=True)
        slip.pair(_("Note"), data.note, 8, max_lines=4)
    slip.space(4)
    slip.signature(_("Farmer's signature"))
    slip.signature(_("Received by"), data.received_by)
    return slip.render(f"{title} {data.delivery_code}")
