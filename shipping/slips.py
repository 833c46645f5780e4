"""Packing slips (装箱单): what goes into the box, for the packer and the buyer.

The order number is printed as a Code 128, the code the packing station scans. Each line
names the lots it was taken from and their farmers (the slip is the studio's own paper, so
names print whether or not a farmer agreed to appear on the public trace page). No phone
number, neither the buyer's nor the studio's, is printed.

As for labels, ``slip_data`` builds the data from the database and ``render_slips`` draws it.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from io import BytesIO

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from core.pdf import (
    cjk_font_name,
    cjk_mono_font_name,
    fit_text,
    format_kg,
    mm,
    snap,
    text_width,
    wrap_text,
)
from inventory.models import ZERO_KG
from orders.models import Order
from orders.selectors import held_stock
from shipping.labels.data import mask_name
from shipping.labels.render import DOT, PAGE_SIZES, draw_code128
from shipping.models import Parcel, ParcelItem

__all__ = [
    "SLIP_SIZES",
    "SlipData",
    "SlipLine",
    "SlipLot",
    "order_slip_data",
    "render_slips",
    "slip_data",
    "slips_data",
]

A4_SIZE = "A4"
SLIP_SIZES: dict[str, tuple[float, float]] = {**PAGE_SIZES, A4_SIZE: A4}


@dataclass(frozen=True)
class SlipLot:
    code: str
    farmer_name: str
    kg: Decimal


@dataclass(frozen=True)
class SlipLine:
    sku_code: str
    sku_name: str
    quantity: int | None  # None when the kilograms in the box are not whole units
    kg: Decimal
    lots: tuple[SlipLot, ...]


@dataclass(frozen=True)
class SlipData:
    studio_name: str
    order_number: str
    channel_name: str
    live_session: str  # the live session's title, or ""
    paid_at: datetime | None  # in the studio's time zone
    recipient_name: str  # masked: the slip matches the label, it does not address the box
    buyer_note: str
    lines: tuple[SlipLine, ...]
    carrier_name: str = ""
    tracking_number: str = ""
    sequence: int = 1
    parcel_count: int = 1

    @property
    def total_kg(self) -> Decimal:
        return sum((line.kg for line in self.lines), ZERO_KG)

    @property
    def total_units(self) -> int:
        return sum(line.quantity or 0 for line in self.lines)


# --- data ------------------------------------------------------------------------------------

_ITEM_RELATED = ("line__sku", "lot__farmer")


def _lines(rows: Iterable) -> tuple[SlipLine, ...]:
    """Rows (parcel items or allocations: a line, a lot, kilograms) grouped by order line."""
    per_line: dict[int, tuple] = {}
    for row in rows:
        sku = row.line.sku
        kg_and_lots = per_line.setdefault(row.line_id, (sku, [ZERO_KG], {}))
        kg_and_lots[1][0] += row.kg
        lots = kg_and_lots[2]
        code = row.lot.code
        previous = lots.get(code)
        lots[code] = SlipLot(
            code=code,
            farmer_name=row.lot.farmer.name,
            kg=row.kg + (previous.kg if previous else ZERO_KG),
        )
    lines = []
    for _line_id, (sku, (kg,), lots) in sorted(per_line.items()):
        units = kg / sku.net_kg
        lines.append(
            SlipLine(
                sku_code=sku.merchant_code,
                sku_name=sku.name,
                quantity=int(units) if units == units.to_integral_value() else None,
                kg=kg,
                lots=tuple(lots.values()),
            )
        )
    return tuple(lines)


def _order_fields(order: Order) -> dict:
    paid_at = order.paid_at
    return {
        "studio_name": settings.STUDIO_NAME,
        "order_number": order.external_no,
        "channel_name": order.channel.name,
        "live_session": order.live_session.title if order.live_session else "",
        "paid_at": timezone.localtime(paid_at, timezone.get_default_timezone())
        if paid_at
        else None,
        "recipient_name": mask_name(order.recipient_name),
        "buyer_note": order.buyer_note,
    }


def _parcel_slip(parcel: Parcel, items: Iterable[ParcelItem]) -> SlipData:
    return SlipData(
        **_order_fields(parcel.order),
        lines=_lines(items),
        carrier_name=parcel.carrier.name,
        tracking_number=parcel.tracking_number,
        sequence=parcel.sequence,
        parcel_count=parcel.parcel_count,
    )


def slip_data(parcel: Parcel) -> SlipData:
    """The slip of one parcel: what went into it, lot by lot. One query for its items; the
    order, its channel and live session and the carrier are read as they are."""
    items = parcel.items.select_related(*_ITEM_RELATED).order_by("pk")
    return _parcel_slip(parcel, items)


def slips_data(parcels: QuerySet[Parcel] | Sequence[Parcel]) -> list[SlipData]:
    """The slips of many parcels in the order given, in two queries."""
    ids = [parcel.pk for parcel in parcels]
    fetched = (
        Parcel.objects.filter(pk__in=ids)
        .select_related("order__channel", "order__live_session", "carrier")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=ParcelItem.objects.select_related(*_ITEM_RELATED).order_by("pk"),
                to_attr="slip_items",
            )
        )
    )
    by_id = {parcel.pk: parcel for parcel in fetched}
    return [_parcel_slip(by_id[pk], by_id[pk].slip_items) for pk in ids]


def order_slip_data(order: Order) -> SlipData:
    """The slip of an order not packed yet: the lots its allocation reserved."""
    allocations = held_stock().filter(line__order=order)
    return SlipData(**_order_fields(order), lines=_lines(allocations))


# --- drawing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    margin: float
    text_pt: float
    small_pt: float
    title_pt: float
    bar_height: float
    note_lines: int


def _spec(size: str) -> _Spec:
    if size == A4_SIZE:
        return _Spec(12 * mm, 11, 9, 18, 15 * mm, 6)
    if size == "76x130":
        return _Spec(2.5 * mm, 8, 7, 12, 11 * mm, 3)
    return _Spec(3 * mm, 9, 7.5, 14, 13 * mm, 4)


# A row of the slip: its height, and how to draw it given the y of its top edge.
_Row = tuple[float, Callable[[Canvas, float], None]]


class _SlipPages:
    """One slip as rows, cut into pages; every page starts with the order's barcode."""

    def __init__(self, size: str, data: SlipData) -> None:
        self.data = data
        self.spec = _spec(size)
        self.font, self.mono = cjk_font_name(), cjk_mono_font_name()
        self.width, self.height = SLIP_SIZES[size]
        margin = snap(self.spec.margin)
        self.left, self.right = margin, snap(self.width - margin)
        self.top, self.bottom = snap(self.height - margin), margin
        self.rows: list[_Row] = []
        size = self.spec.text_pt
        # Right-aligned columns: quantity, then kilograms.
        self.kg_right = self.right
        self.qty_right = self.right - text_width("00,000.000 kg", self.font, size)
        self.text_right = self.qty_right - text_width("× 0000", self.font, size) - 2 * mm

    # -- building rows --

    def add(self, height: float, draw: Callable[[Canvas, float], None]) -> None:
        self.rows.append((height, draw))

    def text(self, text: str, size: float, *, font: str | None = None, max_lines: int = 1):
        font = font or self.font
        for line in wrap_text(text, font, size, self.right - self.left, max_lines):

            def draw(canvas: Canvas, top: float, line=line) -> None:
                canvas.setFont(font, size)
                canvas.drawString(self.left, top - size * 0.95, line)

            self.add(size * 1.35, draw)

    def pair(self, label: str, value: str, size: float, *, max_lines: int = 1) -> None:
        label = fit_text(label, self.font, size, (self.right - self.left) * 0.35)
        indent = text_width(label, self.font, size) + 2 * mm
        lines = wrap_text(value, self.font, size, self.right - self.left - indent, max_lines)
        for index, line in enumerate(lines or [""]):

            def draw(canvas: Canvas, top: float, line=line, first=index == 0) -> None:
                baseline = top - size * 0.95
                canvas.setFont(self.font, size)
                if first:
                    canvas.drawString(self.left, baseline, label)
                canvas.drawString(self.left + indent, baseline, line)

            self.add(size * 1.35, draw)

    def rule(self, weight: float = 2 * DOT, *, dashed: bool = False) -> None:
        def draw(canvas: Canvas, top: float) -> None:
            canvas.saveState()
            canvas.setLineWidth(weight)
            if dashed:
                canvas.setDash(3 * DOT, 3 * DOT)
            canvas.line(self.left, top - 2.5, self.right, top - 2.5)
            canvas.restoreState()

        self.add(5, draw)

    def columns(self, left: str, quantity: str, kg: str, size: float) -> None:
        """The table's header or a line: its text wraps to two lines, numbers on the first."""
        font = self.font
        lines = wrap_text(left, font, size, self.text_right - self.left, 2)
        for index, line in enumerate(lines):

            def draw(canvas: Canvas, top: float, line=line, first=index == 0) -> None:
                baseline = top - size * 0.95
                canvas.setFont(font, size)
                canvas.drawString(self.left, baseline, line)
                if first:
                    canvas.drawRightString(self.qty_right, baseline, quantity)
                    canvas.drawRightString(self.kg_right, baseline, kg)

            self.add(size * 1.3, draw)

    def lot(self, lot: SlipLot, size: float) -> None:
        indent = self.left + 4 * mm
        kg = _("%(kg)s kg") % {"kg": format_kg(lot.kg)}
        room = self.kg_right - indent - text_width(kg, self.font, size) - 3 * mm
        code = fit_text(lot.code, self.mono, size, room * 0.5)
        farmer_left = indent + text_width(code, self.mono, size) + 2 * mm
        farmer = fit_text(lot.farmer_name, self.font, size, indent + room - farmer_left)

        def draw(canvas: Canvas, top: float) -> None:
            baseline = top - size * 0.95
            canvas.setFont(self.mono, size)
            canvas.drawString(indent, baseline, code)
            canvas.setFont(self.font, size)
            canvas.drawString(farmer_left, baseline, farmer)
            canvas.drawRightString(self.kg_right, baseline, kg)

        self.add(size * 1.3, draw)

    def build(self) -> None:
        data, spec = self.data, self.spec
        size, small = spec.text_pt, spec.small_pt
        self.pair(_("Channel"), data.channel_name, size)
        if data.live_session:
            self.pair(_("Live session"), data.live_session, size, max_lines=2)
        if data.paid_at:
            self.pair(_("Paid at"), data.paid_at.strftime("%Y-%m-%d %H:%M"), size)
        self.pair(_("Recipient"), data.recipient_name, size)
        if data.tracking_number:
            parcel = f"{data.carrier_name} {data.tracking_number}"
            if data.parcel_count > 1:
                parcel += f"  ({data.sequence}/{data.parcel_count})"
            self.pair(_("Parcel"), parcel, size)
        self.rule()
        self.columns(_("SKU"), _("Qty"), _("kg"), small)
        self.rule(DOT)
        for line in data.lines:
            quantity = "" if line.quantity is None else f"× {line.quantity}"
            kg = _("%(kg)s kg") % {"kg": format_kg(line.kg)}
            self.columns(f"{line.sku_code}  {line.sku_name}", quantity, kg, size)
            for lot in line.lots:
                self.lot(lot, small)
            self.rule(DOT, dashed=True)
        total_kg = _("%(kg)s kg") % {"kg": format_kg(data.total_kg)}
        self.columns(_("Total"), f"{data.total_units}", total_kg, size)
        if data.buyer_note:
            self.rule()
            self.pair(_("Buyer note"), data.buyer_note, size, max_lines=spec.note_lines)

    # -- pages --

    def header_height(self) -> float:
        spec = self.spec
        return spec.title_pt * 1.4 + 2 * mm + spec.bar_height + spec.text_pt * 1.6 + 2 * mm

    def pages(self) -> list[list[_Row]]:
        room = self.top - self.bottom - self.header_height()
        pages: list[list[_Row]] = [[]]
        used = 0.0
        for row in self.rows:
            if used + row[0] > room and pages[-1]:
                pages.append([])
                used = 0.0
            pages[-1].append(row)
            used += row[0]
        return pages

    def draw_header(self, canvas: Canvas, page: int, pages: int) -> float:
        data, spec = self.data, self.spec
        title_size = spec.title_pt
        baseline = self.top - title_size * 0.9
        page_text = f"{page}/{pages}" if pages > 1 else ""
        title = _("Packing slip")
        canvas.setFont(self.font, title_size)
        right_room = text_width(page_text, self.font, spec.text_pt) + 2 * mm if page_text else 0
        title = fit_text(title, self.font, title_size, (self.right - self.left) * 0.45)
        canvas.drawString(self.left, baseline, title)
        studio_left = self.left + text_width(title, self.font, title_size) + 3 * mm
        studio = fit_text(
            data.studio_name, self.font, spec.small_pt, self.right - right_room - studio_left
        )
        canvas.setFont(self.font, spec.small_pt)
        canvas.drawRightString(self.right - right_room, baseline, studio)
        if page_text:
            canvas.setFont(self.font, spec.text_pt)
            canvas.drawRightString(self.right, baseline, page_text)
        top = self.top - title_size * 1.4 - 2 * mm
        bars_bottom = top - spec.bar_height
        draw_code128(
            canvas,
            data.order_number,
            self.width / 2,
            bars_bottom,
            spec.bar_height,
            self.width - 16 * DOT,
        )
        number_size = spec.text_pt * 1.1
        canvas.setFont(self.mono, number_size)
        number = fit_text(data.order_number, self.mono, number_size, self.right - self.left)
        canvas.drawCentredString(self.width / 2, bars_bottom - number_size * 1.05, number)
        return bars_bottom - spec.text_pt * 1.6 - 2 * mm

    def draw(self, canvas: Canvas) -> None:
        self.build()
        pages = self.pages()
        for number, rows in enumerate(pages, start=1):
            canvas.setPageSize((self.width, self.height))
            top = self.draw_header(canvas, number, len(pages))
            for height, draw in rows:
                draw(canvas, top)
                top -= height
            canvas.showPage()


def render_slips(slips: Sequence[SlipData], *, size: str = "100x150") -> bytes:
    """One PDF of packing slips in the order given, each on as many pages as it needs.
    ``size``: a label size (``LabelSize`` value) or ``"A4"``."""
    if not slips:
        raise ValueError("render_slips needs at least one slip")
    if size not in SLIP_SIZES:
        raise ValueError(f"unknown slip size {size!r}")
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=SLIP_SIZES[size], pageCompression=1)
    canvas.setTitle(_("Packing slips"))
    canvas.setCreator(settings.STUDIO_NAME)
    for slip in slips:
        _SlipPages(size, slip).draw(canvas)
    canvas.save()
    return buffer.getvalue()
