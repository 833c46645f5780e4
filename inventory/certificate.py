"""The 承诺达标合格证 (edible agricultural product compliance certificate) the studio issues for
a lot it repacks: product, weight, producer and origin, date, commitment basis and the
studio's contact, with a line for the signature. A6 portrait, one certificate per page.

The certificate is a standard Chinese form: its headings and commitments are printed in
Chinese whatever the interface language, like the handling marks on a shipping label.
``certificate_data`` builds what it says from a lot; ``render_certificate`` draws it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from reportlab.lib.pagesizes import A6
from reportlab.pdfgen.canvas import Canvas

from core.pdf import cjk_font_name, cjk_mono_font_name, fit_text, format_kg, mm, wrap_text
from inventory.models import Lot


class CommitmentBasis(models.TextChoices):
    COMMISSIONED_TEST = "commissioned", _("Commissioned testing (委托检测)")
    SELF_TEST = "self_test", _("Self-testing (自我检测)")
    INTERNAL_CONTROL = "internal", _("Internal quality control (内部质量控制)")
    SELF_DECLARED = "declared", _("Self-declared compliance (自我承诺达标)")


# As the form prints them, in its order.
BASIS_MARKS = {
    CommitmentBasis.COMMISSIONED_TEST: "委托检测",
    CommitmentBasis.SELF_TEST: "自我检测",
    CommitmentBasis.INTERNAL_CONTROL: "内部质量控制",
    CommitmentBasis.SELF_DECLARED: "自我承诺达标",
}
COMMITMENTS = (
    "不使用禁用农药兽药、停用兽药和非法添加物",
    "常规农药兽药残留不超标",
    "对承诺的真实性负责",
)
PAGE_SIZE = A6  # 105 × 148 mm


@dataclass(frozen=True)
class CertificateData:
    lot_code: str
    product_name: str
    grade_name: str
    kg: Decimal
    farmer_name: str
    village: str
    county: str
    adcode: str
    harvest_date: date
    issued_on: date
    basis: str  # a ``CommitmentBasis`` value
    studio_name: str
    studio_phone: str
    studio_address: str

    @property
    def origin(self) -> str:
        return "".join(part for part in (self.county, self.village) if part)


def certificate_data(lot: Lot, *, kg: Decimal, basis: str, issued_on: date) -> CertificateData:
    """The certificate for ``kg`` of ``lot``. Reads ``lot.product``, ``lot.grade`` and
    ``lot.farmer``."""
    farmer = lot.farmer
    return CertificateData(
        lot_code=lot.code,
        product_name=lot.product.name,
        grade_name=lot.grade.name,
        kg=kg,
        farmer_name=farmer.name,
        village=farmer.village,
        county=farmer.county,
        adcode=farmer.adcode,
        harvest_date=lot.harvest_date,
        issued_on=issued_on,
        basis=CommitmentBasis(basis).value,
        studio_name=settings.STUDIO_NAME,
        studio_phone=settings.STUDIO_PHONE,
        studio_address=settings.STUDIO_ADDRESS,
    )


def _box(canvas: Canvas, x: float, y: float, size: float, ticked: bool) -> None:
    canvas.rect(x, y, size, size, stroke=1, fill=0)
    if ticked:
        path = canvas.beginPath()
        path.moveTo(x + size * 0.18, y + size * 0.5)
        path.lineTo(x + size * 0.42, y + size * 0.2)
        path.lineTo(x + size * 0.85, y + size * 0.85)
        canvas.saveState()
        canvas.setLineWidth(1.2)
        canvas.drawPath(path, stroke=1, fill=0)
        canvas.restoreState()


def _draw(canvas: Canvas, data: CertificateData) -> None:
    font, mono = cjk_font_name(), cjk_mono_font_name()
    width, height = PAGE_SIZE
    margin = 7 * mm
    inner = width - 2 * margin
    canvas.setLineWidth(0.8)
    canvas.rect(margin - 2 * mm, margin - 2 * mm, inner + 4 * mm, height - 2 * margin + 4 * mm)

    y = height - margin - 7 * mm
    canvas.setFont(font, 16)
    canvas.drawCentredString(width / 2, y, "承诺达标合格证")
    y -= 8 * mm

    canvas.setFont(font, 8)
    canvas.drawString(margin, y, "我承诺对生产销售的食用农产品：")
    box = 2.6 * mm
    for commitment in COMMITMENTS:
        y -= 4.6 * mm
        _box(canvas, margin + 1 * mm, y - 0.4 * mm, box, True)
        canvas.drawString(margin + 1 * mm + box + 1.5 * mm, y, fit_text(commitment, font, 8, inner))

    rows = [
        ("产品名称", f"{data.product_name} {data.grade_name}"),
        ("数量（重量）", f"{format_kg(data.kg)} 千克"),
        ("生产者", f"{data.farmer_name}（{data.village}）"),
        ("产地", data.origin + (f"（{data.adcode}）" if data.adcode else "")),
        ("批次", data.lot_code),
        ("采收日期", data.harvest_date.isoformat()),
        ("开具单位", data.studio_name),
        ("联系电话", data.studio_phone),
        ("地址", data.studio_address),
        ("开具日期", data.issued_on.isoformat()),
    ]
    y -= 8 * mm
    label_width = 21 * mm
    value_width = inner - label_width
    for label, value in rows:
        canvas.setFont(font, 8)
        canvas.drawString(margin, y, label + "：")
        size = 9
        lines = wrap_text(value, font, size, value_width, 2)
        canvas.setFont(mono if label == "批次" else font, size)
        for index, line in enumerate(lines):
            canvas.drawString(margin + label_width, y - index * 4 * mm, line)
        canvas.setLineWidth(0.3)
        y -= 4 * mm * (len(lines) - 1)
        canvas.line(margin + label_width, y - 1.2 * mm, width - margin, y - 1.2 * mm)
        y -= 6 * mm

    y -= 1 * mm
    canvas.setFont(font, 8)
    canvas.drawString(margin, y, "承诺依据：")
    x = margin + 15 * mm
    line_y = y
    for value, mark in BASIS_MARKS.items():
        mark_width = box + 1.2 * mm + canvas.stringWidth(mark, font, 8) + 2.5 * mm
        if x + mark_width > width - margin:
            x, line_y = margin + 15 * mm, line_y - 4.6 * mm
        _box(canvas, x, line_y - 0.4 * mm, box, data.basis == value)
        canvas.drawString(x + box + 1.2 * mm, line_y, mark)
        x += mark_width

    y = margin + 4 * mm
    canvas.setFont(font, 8)
    canvas.drawString(margin, y, "开具者签名（盖章）：")
    canvas.setLineWidth(0.5)
    canvas.line(margin + 28 * mm, y - 1 * mm, width - margin, y - 1 * mm)


def render_certificate(certificates: Sequence[CertificateData]) -> bytes:
    """One PDF, one certificate per A6 page."""
    if not certificates:
        raise ValueError("render_certificate needs at least one certificate")
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE_SIZE, pageCompression=1)
    canvas.setTitle("承诺达标合格证")
    canvas.setCreator(settings.STUDIO_NAME)
    for data in certificates:
        _draw(canvas, data)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
