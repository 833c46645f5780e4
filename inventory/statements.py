"""The farmer's statement (结算单) as an A4 PDF a farmer can read: large type, the lots
delivered, what left in parcels and what spoiled, the payments, the balance in big type, and
lines to sign. One farmer, or every farmer of a period in one PDF (each on their own pages).

The data comes from ``inventory.reports.farmer_statements``; this module only draws. Each
statement is laid out as a column of rows, measured first, then cut into pages: a table that
runs over a page repeats its header, and the balance stays with the signatures. Drawing goes
straight to the canvas (no Platypus), so 500 statements take seconds.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from io import BytesIO

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import get_language, gettext, ngettext
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from core.models import StudioSettings
from core.pdf import (
    cjk_font_name,
    cjk_mono_font_name,
    fit_size,
    format_kg,
    format_money,
    mm,
    text_width,
)
from core.pdf import fit_text as _fit_text
from core.pdf import wrap_text as _wrap_text
from core.units import (
    WeightUnit,
    format_unit_price_number,
    format_weight,
    format_weight_number,
    unit_label,
)
from inventory.reports import FarmerStatement

# Most of what a statement measures repeats from farmer to farmer (headings, the footnote,
# column titles, products): measured once per process, 500 statements render about twice
# as fast. Pure functions of their arguments.
fit_text = lru_cache(maxsize=8192)(_fit_text)


@lru_cache(maxsize=512)
def _wrapped(text: str, font: str, size: float, max_width: float, max_lines: int) -> tuple:
    return tuple(_wrap_text(text, font, size, max_width, max_lines))


def wrap_text(text: str, font: str, size: float, max_width: float, max_lines: int) -> list[str]:
    return list(_wrapped(text, font, size, max_width, max_lines))


@lru_cache(maxsize=512)
def _translated(language: str | None, message: str) -> str:
    return gettext(message)


def _(message: str) -> str:
    """``gettext``, remembered per language: each statement asks for the same forty labels."""
    return _translated(get_language(), message)


PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 15 * mm
MARGIN_BOTTOM = 20 * mm  # the footer with the page number sits in it
LEFT, RIGHT = MARGIN_X, PAGE_WIDTH - MARGIN_X
WIDTH = RIGHT - LEFT

BODY = 12  # every line a farmer reads is at least this size
HEADING = 14
TITLE = 24
BIG = 22
LINE = 1.45  # line height as a multiple of the font size
ROW = 19  # a table row: 12 pt type and a little air
CELL_PAD = 2 * mm


@dataclass(frozen=True)
class StudioInfo:
    name: str
    phone: str
    address: str
    weight_unit: str = WeightUnit.KG  # what weights and prices per unit are printed in

    @classmethod
    def from_settings(cls) -> "StudioInfo":
        return cls(
            settings.STUDIO_NAME,
            settings.STUDIO_PHONE,
            settings.STUDIO_ADDRESS,
            StudioSettings.load().weight_unit,
        )


# A row of the statement: its height and how to draw it given the y of its top edge. A row of
# a table knows its table's header row, which is drawn again on the next page.
@dataclass(frozen=True)
class _Row:
    height: float
    draw: Callable[[Canvas, float], None]
    header: "_Row | None" = None


@dataclass(frozen=True)
class _Column:
    title: str
    width: float
    align: str = "left"  # or "right"
    mono: bool = False


def _kg(kg, unit: str = WeightUnit.KG) -> str:
    if unit == WeightUnit.KG:
        return _("%(kg)s kg") % {"kg": format_kg(kg)}
    return format_weight(kg, unit)


class _Layout:
    """Rows of one farmer's statement."""

    def __init__(self, statement: FarmerStatement, studio: StudioInfo, printed_on: date):
        self.s = statement
        self.studio = studio
        self.printed_on = printed_on
        self.font, self.mono = cjk_font_name(), cjk_mono_font_name()
        self.rows: list[_Row] = []

    # --- building blocks ---------------------------------------------------------------------

    def space(self, height: float) -> None:
        self.rows.append(_Row(height, lambda canvas, top: None))

    def centered(self, text: str, size: float, *, max_lines: int = 1) -> None:
        for line in wrap_text(text, self.font, size, WIDTH, max_lines):

            def draw(canvas: Canvas, top: float, line=line, size=size) -> None:
                canvas.setFont(self.font, size)
                canvas.drawCentredString(PAGE_WIDTH / 2, top - size, line)

            self.rows.append(_Row(size * LINE, draw))

    def pair(self, left: str, right: str, size: float = BODY) -> None:
        """Text on the left and on the right of one line."""
        right = fit_text(right, self.font, size, WIDTH * 0.45)
        room = WIDTH - text_width(right, self.font, size) - 4 * mm
        left = fit_text(left, self.font, size, room)

        def draw(canvas: Canvas, top: float) -> None:
            canvas.setFont(self.font, size)
            canvas.drawString(LEFT, top - size, left)
            canvas.drawRightString(RIGHT, top - size, right)

        self.rows.append(_Row(size * LINE, draw))

    def paragraph(self, text: str, size: float = BODY, *, max_lines: int = 6) -> None:
        for line in wrap_text(text, self.font, size, WIDTH, max_lines):

            def draw(canvas: Canvas, top: float, line=line) -> None:
                canvas.setFont(self.font, size)
                canvas.drawString(LEFT, top - size, line)

            self.rows.append(_Row(size * LINE, draw))

    def heading(self, text: str) -> None:
        def draw(canvas: Canvas, top: float) -> None:
            canvas.setFont(self.font, HEADING)
            canvas.drawString(LEFT, top - HEADING - 2, fit_text(text, self.font, HEADING, WIDTH))

        self.rows.append(_Row(HEADING * LINE + 4, draw))

    def rule(self, weight: float = 0.8) -> None:
        def draw(canvas: Canvas, top: float) -> None:
            canvas.setLineWidth(weight)
            canvas.line(LEFT, top - 4, RIGHT, top - 4)

        self.rows.append(_Row(8, draw))

    def table(self, columns: Sequence[_Column], rows: Sequence[Sequence[str]], total=None) -> None:
        """A ruled table: the header on a grey band, one line per row, an optional total row
        in a larger size. Cells that do not fit are cut with "…"."""
        height = ROW

        def cells(
            canvas: Canvas, top: float, values: Sequence[str], size: float, body: bool = True
        ) -> None:
            x = LEFT
            baseline = top - (height + size * 0.7) / 2
            for column, value in zip(columns, values, strict=True):
                font = self.mono if column.mono and body else self.font
                text = fit_text(value, font, size, column.width - 2 * CELL_PAD)
                canvas.setFont(font, size)
                if column.align == "right":
                    canvas.drawRightString(x + column.width - CELL_PAD, baseline, text)
                else:
                    canvas.drawString(x + CELL_PAD, baseline, text)
                x += column.width

        def draw_header(canvas: Canvas, top: float) -> None:
            canvas.saveState()
            canvas.setFillGray(0.9)
            canvas.rect(LEFT, top - height, WIDTH, height, stroke=0, fill=1)
            canvas.restoreState()
            cells(canvas, top, [column.title for column in columns], BODY, body=False)

        header = _Row(height, draw_header)
        self.rows.append(header)
        for values in rows:

            def draw(canvas: Canvas, top: float, values=values) -> None:
                cells(canvas, top, values, BODY)
                canvas.setLineWidth(0.4)
                canvas.setStrokeGray(0.6)
                canvas.line(LEFT, top - height, RIGHT, top - height)
                canvas.setStrokeGray(0)

            self.rows.append(_Row(height, draw, header=header))
        if total is not None:

            def draw_total(canvas: Canvas, top: float) -> None:
                canvas.setLineWidth(1)
                canvas.line(LEFT, top, RIGHT, top)
                cells(canvas, top, total, BODY + 1, body=False)

            self.rows.append(_Row(height + 2, draw_total, header=header))

    # --- the statement -----------------------------------------------------------------------

    def build(self) -> list[_Row]:
        s = self.s
        self.centered(self.studio.name, 16)
        self.centered(_("Farmer's statement"), TITLE)
        contact = "  ".join(part for part in (self.studio.phone, self.studio.address) if part)
        if contact:
            self.centered(contact, BODY, max_lines=2)
        self.space(4)
        self.rule(1.2)
        farmer = _("Farmer: %(name)s (%(village)s)") % {
            "name": s.farmer_name,
            "village": s.village,
        }
        phone = _("Phone: %(phone)s") % {"phone": s.masked_phone} if s.masked_phone else ""
        self.pair(farmer, phone, 13)
        period = _("Period: %(start)s to %(end)s") % {
            "start": s.date_from.isoformat(),
            "end": s.date_to.isoformat(),
        }
        printed = _("Printed %(date)s") % {"date": self.printed_on.isoformat()}
        self.pair(period, printed)
        self.space(6)

        self.heading(_("1. Produce delivered in this period"))
        unit = self.studio.weight_unit
        in_kg = unit == WeightUnit.KG
        if s.lots:
            self.table(
                [
                    _Column(_("Date"), 72),
                    _Column(_("Lot"), 92, mono=True),
                    _Column(_("Product"), 76),
                    _Column(_("Grade"), 42),
                    _Column(_("Kg") if in_kg else unit_label(unit), 66, "right"),
                    _Column(_("¥/kg") if in_kg else f"¥/{unit_label(unit)}", 58, "right"),
                    _Column(_("Amount"), WIDTH - 406, "right"),
                ],
                [
                    [
                        lot.received_on.isoformat(),
                        lot.lot_code,
                        lot.product,
                        lot.grade,
                        format_weight_number(lot.kg, unit),
                        "¥" + format_unit_price_number(lot.price_per_kg, unit),
                        format_money(lot.amount),
                    ]
                    for lot in s.lots
                ],
                total=[
                    _("Total"),
                    ngettext("%(n)d lot", "%(n)d lots", s.delivered_lots) % {"n": s.delivered_lots},
                    "",
                    "",
                    format_weight_number(s.delivered_kg, unit),
                    "",
                    format_money(s.delivered_amount),
                ],
            )
        else:
            self.paragraph(_("No produce delivered in this period."))
        self.space(8)

        self.heading(_("2. What happened to your produce in this period"))
        shipped = _("Shipped to buyers: %(kg)s") % {"kg": _kg(s.shipped_kg, unit)}
        written_off = _("Written off: %(kg)s") % {"kg": _kg(s.written_off_kg, unit)}
        self.pair(shipped, written_off)
        self.paragraph(
            _("Shipped kilograms are net of buyers' returns; written off means spoiled or damaged.")
        )
        self.space(6)

        self.heading(_("3. Payments in this period"))
        if s.payments:
            self.table(
                [
                    _Column(_("Date"), 72),
                    _Column(_("Method"), 92),
                    _Column(_("Reference / note"), WIDTH - 72 - 92 - 110),
                    _Column(_("Amount"), 110, "right"),
                ],
                [
                    [
                        payment.paid_on.isoformat(),
                        payment.method_label,
                        " ".join(part for part in (payment.reference, payment.note) if part),
                        format_money(payment.amount),
                    ]
                    for payment in s.payments
                ],
                total=[_("Total"), "", "", format_money(s.paid)],
            )
        else:
            self.paragraph(_("No payments in this period."))
        self.space(6)
        self.rows.append(self._balance_and_signatures())
        return self.rows

    def _balance_and_signatures(self) -> _Row:
        """The balance, the footnote and the signature lines: one block that never splits."""
        s = self.s
        lines = [
            (_("Balance before the period"), format_money(s.opening_balance)),
            (_("+ Produce delivered in the period"), format_money(s.delivered_amount)),
            (_("− Paid in the period"), format_money(s.paid)),
        ]
        if s.is_prepaid:
            closing_label = _("Paid in advance at the end of the period")
            closing_value = format_money(s.prepaid)
        else:
            closing_label = _("Still owed to you at the end of the period")
            closing_value = format_money(s.closing_balance)
        if self.studio.weight_unit == WeightUnit.KG:
            worth = _(
                "Each lot is worth its net weight at intake × the price per kg, rounded to the fen."
            )
        else:
            worth = _(
                "Each lot is worth its net weight at intake × the price per 斤 (1 斤 = 0.5 kg), "
                "rounded to the fen."
            )
        note = (
            worth
            + " "
            + _(
                "Spoilage, count differences and returns after intake are the studio's loss and do "
                "not change what you are owed."
            )
        )
        if s.is_prepaid:
            note += " " + _("The advance is taken off your next deliveries.")
        if self.studio.phone:
            note += " " + _("Questions: call %(phone)s.") % {"phone": self.studio.phone}
        note_lines = wrap_text(note, self.font, BODY, WIDTH, 5)
        line_height = BODY * LINE
        box_height = BIG * 1.9
        signature_height = 46
        height = (
            HEADING * LINE
            + 4
            + len(lines) * line_height
            + 6
            + box_height
            + 8
            + len(note_lines) * line_height
            + signature_height
        )
        value_right = RIGHT - 3 * mm

        def draw(canvas: Canvas, top: float) -> None:
            y = top
            canvas.setFont(self.font, HEADING)
            canvas.drawString(LEFT, y - HEADING - 2, _("4. Balance"))
            y -= HEADING * LINE + 4
            canvas.setFont(self.font, BODY + 1)
            for label, value in lines:
                canvas.drawString(LEFT + 3 * mm, y - BODY, fit_text(label, self.font, BODY, 300))
                canvas.drawRightString(value_right, y - BODY, value)
                y -= line_height
            y -= 6
            canvas.setLineWidth(1.6)
            canvas.rect(LEFT, y - box_height, WIDTH, box_height, stroke=1, fill=0)
            baseline = y - box_height / 2 - BIG * 0.35
            value_size = fit_size(closing_value, self.font, BIG + 4, WIDTH * 0.45, BIG)
            canvas.setFont(self.font, value_size)
            canvas.drawRightString(value_right, baseline, closing_value)
            room = WIDTH - text_width(closing_value, self.font, value_size) - 10 * mm
            label_size = fit_size(closing_label, self.font, BIG - 4, room, BODY + 2)
            canvas.setFont(self.font, label_size)
            canvas.drawString(
                LEFT + 3 * mm, baseline, fit_text(closing_label, self.font, label_size, room)
            )
            y -= box_height + 8
            canvas.setFont(self.font, BODY)
            for line in note_lines:
                canvas.drawString(LEFT, y - BODY, line)
                y -= line_height
            baseline = y - signature_height + 8
            half = WIDTH / 2
            self._signature(canvas, LEFT, baseline, half - 6 * mm, _("Farmer's signature"))
            self._signature(canvas, LEFT + half, baseline, half, _("For the studio"))

        return _Row(height, draw)

    def _signature(self, canvas: Canvas, left: float, baseline: float, width: float, who: str):
        """ "Who ______ Date ______" across ``width``: room for a signature and the day."""
        size = BODY + 1
        canvas.setFont(self.font, size)
        label = fit_text(who, self.font, size, width * 0.5)
        date_label = _("Date")
        canvas.drawString(left, baseline, label)
        canvas.setLineWidth(0.8)
        date_left = left + width * 0.66
        line_left = left + text_width(label, self.font, size) + 2 * mm
        canvas.line(line_left, baseline - 2, date_left - 3 * mm, baseline - 2)
        canvas.drawString(date_left, baseline, date_label)
        line_left = date_left + text_width(date_label, self.font, size) + 2 * mm
        canvas.line(line_left, baseline - 2, left + width, baseline - 2)


def _paginate(rows: Sequence[_Row], first_room: float, room: float) -> list[list[_Row]]:
    """Rows cut into pages; a table row that starts a page has its header drawn above it."""
    pages: list[list[_Row]] = [[]]
    left = first_room
    for row in rows:
        if row.height > left and pages[-1]:
            pages.append([])
            left = room
            if row.header is not None and row.header is not row:
                pages[-1].append(row.header)
                left -= row.header.height
        pages[-1].append(row)
        left -= row.height
    return pages


CONTINUATION_HEIGHT = BODY * LINE + 10


def _draw_statement(
    canvas: Canvas, statement: FarmerStatement, studio: StudioInfo, printed_on: date
) -> None:
    font = cjk_font_name()
    rows = _Layout(statement, studio, printed_on).build()
    usable = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    pages = _paginate(rows, usable, usable - CONTINUATION_HEIGHT)
    period = f"{statement.date_from.isoformat()} – {statement.date_to.isoformat()}"
    for number, page in enumerate(pages, start=1):
        top = PAGE_HEIGHT - MARGIN_TOP
        if number > 1:  # who and which period this page belongs to
            canvas.setFont(font, BODY)
            heading = _("%(name)s · statement %(period)s (continued)") % {
                "name": statement.farmer_name,
                "period": period,
            }
            canvas.drawString(LEFT, top - BODY, fit_text(heading, font, BODY, WIDTH))
            top -= CONTINUATION_HEIGHT
        for row in page:
            row.draw(canvas, top)
            top -= row.height
        canvas.setFont(font, 11)
        footer = f"{studio.name} · {statement.farmer_name} · {period}"
        canvas.drawString(LEFT, MARGIN_BOTTOM / 2, fit_text(footer, font, 11, WIDTH * 0.6))
        canvas.drawRightString(
            RIGHT,
            MARGIN_BOTTOM / 2,
            _("Page %(page)d of %(pages)d") % {"page": number, "pages": len(pages)},
        )
        canvas.showPage()


def render_statements(
    statements: Sequence[FarmerStatement],
    *,
    studio: StudioInfo | None = None,
    language: str | None = None,
) -> bytes:
    """The statements as one A4 PDF, each farmer starting on a new page and numbering their
    own pages ("page 1 of 2"). In the studio's language (``settings.LANGUAGE_CODE``) unless
    ``language`` says otherwise: it is printed for the farmer, whatever the clerk's screen
    shows. An empty list gives one page that says there is nothing to print."""
    studio = studio or StudioInfo.from_settings()
    with translation.override(language or settings.LANGUAGE_CODE):
        buffer = BytesIO()
        canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
        title = _("Farmers' statements")
        if len(statements) == 1:
            title = _("Farmer's statement") + " " + statements[0].farmer_name
        canvas.setTitle(title)
        canvas.setCreator(studio.name)
        printed_on = timezone.localdate()
        for statement in statements:
            _draw_statement(canvas, statement, studio, printed_on)
        if not statements:
            font = cjk_font_name()
            canvas.setFont(font, HEADING)
            canvas.drawString(LEFT, PAGE_HEIGHT - MARGIN_TOP - HEADING, _("No statements."))
            canvas.showPage()
        canvas.save()
        return buffer.getvalue()
