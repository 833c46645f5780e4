"""The handover manifest (A4): which parcels the studio gave the carrier's courier, when, and
both signatures. ``manifest_data`` builds it from parcels; ``render_manifest`` draws it."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from core.pdf import fit_text, format_kg, mm
from inventory.models import ZERO_KG
from shipping.models import Carrier, Parcel
from shipping.picklist import A4Sheet


@dataclass(frozen=True)
class ManifestRow:
    tracking_number: str
    order_number: str
    province: str
    weight_kg: Decimal


@dataclass(frozen=True)
class ManifestData:
    studio_name: str
    studio_phone: str
    carrier_name: str
    handed_over_at: datetime
    rows: tuple[ManifestRow, ...]
    handed_over_by: str
    batch_code: str = ""
    courier_name: str = ""

    @property
    def total_kg(self) -> Decimal:
        return sum((row.weight_kg for row in self.rows), ZERO_KG)


def manifest_data(
    *,
    carrier: Carrier,
    parcels: Sequence[Parcel],
    handed_over_by: str,
    at: datetime | None = None,
    batch_code: str = "",
    courier_name: str = "",
) -> ManifestData:
    """Reads ``parcel.order`` of each parcel (``select_related`` it)."""
    return ManifestData(
        studio_name=settings.STUDIO_NAME,
        studio_phone=settings.STUDIO_PHONE,
        carrier_name=carrier.name,
        handed_over_at=timezone.localtime(at or timezone.now()),
        rows=tuple(
            ManifestRow(
                tracking_number=parcel.tracking_number,
                order_number=parcel.order.external_no,
                province=parcel.order.province,
                weight_kg=parcel.weight_kg,
            )
            for parcel in parcels
        ),
        handed_over_by=handed_over_by,
        batch_code=batch_code,
        courier_name=courier_name,
    )


# Column left edges (from the left margin) and widths.
_COLUMNS = {
    "index": (0, 12 * mm),
    "tracking": (12 * mm, 62 * mm),
    "order": (74 * mm, 58 * mm),
    "province": (132 * mm, 28 * mm),
    "kg": (160 * mm, 22 * mm),
}


def render_manifest(data: ManifestData) -> bytes:
    title = _("Handover manifest")
    when = data.handed_over_at.strftime("%Y-%m-%d %H:%M")
    head = " · ".join(filter(None, [title, data.batch_code, data.carrier_name, when]))
    sheet = A4Sheet(f"{title} {data.batch_code} {data.carrier_name} {when}".strip(), head)
    canvas, font, mono = sheet.canvas, sheet.font, sheet.mono

    sheet.text(f"{data.studio_name}  {data.studio_phone}", 9, gray=0.35)
    sheet.text(f"{title}  {data.batch_code}  {data.carrier_name}".replace("    ", "  "), 20)
    facts = [
        when,
        _("%(count)d parcels") % {"count": len(data.rows)},
        _("%(kg)s kg in all") % {"kg": format_kg(data.total_kg)},
    ]
    sheet.text("   ·   ".join(facts), 11)
    sheet.y -= 3 * mm

    def cell(name: str, text: str, size: float = 10, *, right: bool = False, cell_font=None):
        left, width = _COLUMNS[name]
        cell_font = cell_font or font
        shown = fit_text(text, cell_font, size, width - 2 * mm)
        canvas.setFont(cell_font, size)
        baseline = sheet.y - size - 1
        if right:
            canvas.drawRightString(sheet.left + left + width - 1 * mm, baseline, shown)
        else:
            canvas.drawString(sheet.left + left + 1 * mm, baseline, shown)

    def table_head():
        canvas.setFillGray(0.35)
        cell("index", "#", 8)
        cell("tracking", _("Tracking number"), 8)
        cell("order", _("Order"), 8)
        cell("province", _("Province"), 8)
        cell("kg", _("kg"), 8, right=True)
        canvas.setFillGray(0)
        sheet.y -= 12
        sheet.rule(0.8, 1 * mm)

    sheet.need(30)
    table_head()
    sheet.on_new_page = table_head
    for index, row in enumerate(data.rows, start=1):
        sheet.need(16)
        cell("index", str(index), 9)
        cell("tracking", row.tracking_number, 11, cell_font=mono)
        cell("order", row.order_number, 9, cell_font=mono)
        cell("province", row.province, 9)
        cell("kg", format_kg(row.weight_kg), 10, right=True)
        sheet.y -= 15
        canvas.setLineWidth(0.3)
        canvas.line(sheet.left, sheet.y + 2, sheet.right, sheet.y + 2)
    sheet.on_new_page = None

    sheet.need(60 * mm)
    sheet.y -= 4 * mm
    sheet.text(
        _("The courier received %(count)d parcels as listed above.") % {"count": len(data.rows)},
        10,
    )
    sheet.y -= 8 * mm
    half = sheet.width / 2
    signatures = [
        (_("Handed over by (studio)"), data.handed_over_by),
        (_("Received by (courier)"), data.courier_name),
    ]
    for column, (label, name) in enumerate(signatures):
        left = sheet.left + column * half
        canvas.setFont(font, 10)
        canvas.drawString(left, sheet.y - 10, fit_text(label, font, 10, half - 6 * mm))
        if name:
            canvas.setFont(font, 9)
            canvas.drawString(left, sheet.y - 24, fit_text(name, font, 9, half - 6 * mm))
        canvas.setLineWidth(0.7)
        canvas.line(left, sheet.y - 22 * mm, left + half - 10 * mm, sheet.y - 22 * mm)
        canvas.setFont(font, 8)
        canvas.setFillGray(0.35)
        canvas.drawString(left, sheet.y - 22 * mm - 10, _("Signature"))
        canvas.line(left, sheet.y - 34 * mm, left + half - 10 * mm, sheet.y - 34 * mm)
        canvas.drawString(left, sheet.y - 34 * mm - 10, _("Date and time"))
        canvas.setFillGray(0)
    sheet.y -= 40 * mm
    return sheet.save()
