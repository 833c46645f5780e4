"""After-sales files: a platform's after-sale/refund export (快手 退款/售后, 抖店 售后单, or the
documented generic CSV) read row by row and applied through ``orders.aftersales
.after_sale_apply`` — the same entry point the platform sync uses.

The file is read with the order import's bounded reader (``orders.importers.reading``: size,
unpacked size, rows, columns and cell limits; encodings; leading tabs). Each layout names its
columns by the headers the sellers' back offices write (several spellings each); the layout is
chosen, or found from the headers. A preview applies every row inside a transaction that is
rolled back, so it shows exactly what the import will do; the import then applies the rows
for real, each in its own savepoint: good rows are kept and bad ones reported by row and
column, or, all or nothing, one bad row keeps the whole file out. Applying the same file again
changes nothing (each row's after-sale number is applied once per order).
"""

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from orders.aftersales import after_sale_apply
from orders.importers.reading import clean_header, excerpt, read_table, upload_limits
from orders.importers.rows import Bad, parse_money, parse_order_number, parse_quantity
from orders.models import AfterSaleImport, AfterSaleSource, Channel, ImportMode

FIELDS = {
    "after_sale_id": gettext_lazy("After-sale number"),
    "order_no": gettext_lazy("Order number"),
    "merchant_code": gettext_lazy("Merchant code"),
    "kind": gettext_lazy("After-sale kind"),
    "state": gettext_lazy("After-sale state"),
    "quantity": gettext_lazy("Quantity"),
    "kg": gettext_lazy("Kilograms"),
    "amount": gettext_lazy("Refund amount"),
    "reason": gettext_lazy("Reason"),
}
KG3 = Decimal("0.001")
REQUIRED = ("after_sale_id", "order_no", "kind", "state")


@dataclass(frozen=True)
class Layout:
    code: str
    name: str
    aliases: dict[str, tuple[str, ...]]


# 快手小店 (s.kwaixiaodian.com) 售后 → 退款/售后列表 → 导出.
KUAISHOU = Layout(
    "kuaishou",
    "快手",
    {
        "after_sale_id": ("退款单号", "售后单号", "退款编号", "售后编号"),
        "order_no": ("订单号", "订单编号"),
        "merchant_code": ("SKU编码", "商家编码", "商品编码", "规格编码"),
        "kind": ("退款类型", "售后类型", "处理方式"),
        "state": ("退款状态", "售后状态"),
        "quantity": ("退款数量", "申请数量", "退货数量", "商品数量"),
        "amount": ("退款金额", "实退金额", "申请退款金额"),
        "reason": ("退款原因", "售后原因", "申请原因"),
    },
)
# 抖店 (fxg.jinritemai.com) 售后 → 售后工作台 → 导出售后单.
DOUYIN = Layout(
    "douyin",
    "抖音",
    {
        "after_sale_id": ("售后单号", "售后编号", "售后ID"),
        "order_no": ("主订单编号", "订单号", "订单编号"),
        "merchant_code": ("商家编码", "商品编码", "SKU编码"),
        "kind": ("售后类型",),
        "state": ("售后状态", "退款状态"),
        "quantity": ("售后数量", "退货数量", "申请数量", "商品数量"),
        "amount": ("退款金额", "实际退款金额", "申请退款金额", "售后金额"),
        "reason": ("售后原因", "申请原因", "退款原因"),
    },
)
# The generic CSV (docs/PLATFORMS.md): English names, or the Chinese ones above.
GENERIC = Layout(
    "generic",
    "通用",
    {
        "after_sale_id": ("after_sale_id", "refund_id", *KUAISHOU.aliases["after_sale_id"]),
        "order_no": ("order_no", "order_number", *DOUYIN.aliases["order_no"]),
        "merchant_code": ("merchant_code", "sku", *KUAISHOU.aliases["merchant_code"]),
        "kind": ("kind", "type", *KUAISHOU.aliases["kind"]),
        "state": ("state", "status", *KUAISHOU.aliases["state"]),
        "quantity": ("quantity", "units", *DOUYIN.aliases["quantity"]),
        "kg": ("kg", "公斤"),
        "amount": ("amount", "refund_amount", *DOUYIN.aliases["amount"]),
        "reason": ("reason", *DOUYIN.aliases["reason"]),
    },
)
LAYOUTS = {layout.code: layout for layout in (KUAISHOU, DOUYIN, GENERIC)}


@dataclass
class RowResult:
    row: int
    order_no: str = ""
    after_sale_id: str = ""
    outcome: str = ""  # created, updated, unchanged, error
    column: str = ""
    message: str = ""

    def as_dict(self) -> dict:
        return vars(self).copy()


@dataclass
class FileResult:
    layout: str
    rows: list[RowResult] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(row.outcome for row in self.rows))

    @property
    def errors(self) -> list[RowResult]:
        return [row for row in self.rows if row.outcome == "error"]


def _columns(layout: Layout, header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    cleaned = [clean_header(name).lower() for name in header]
    for name, aliases in layout.aliases.items():
        for alias in aliases:
            if alias.lower() in cleaned:
                found[name] = cleaned.index(alias.lower())
                break
    return found


def choose_layout(code: str, header: list[str]) -> tuple[Layout, dict[str, int]]:
    """The layout asked for, or ("auto") the first whose required columns are all there."""
    candidates = [LAYOUTS[code]] if code in LAYOUTS else list(LAYOUTS.values())
    for layout in candidates:
        columns = _columns(layout, header)
        missing = [name for name in REQUIRED if name not in columns]
        if not missing:
            return layout, columns
    layout = candidates[0]
    missing = [str(FIELDS[name]) for name in REQUIRED if name not in _columns(layout, header)]
    raise DomainError(
        _("The file has no column for: %(fields)s. Is it an after-sales export of %(layout)s?")
        % {"fields": ", ".join(missing), "layout": layout.name},
        field="file",
    )


def _apply_rows(channel: Channel, table, layout: Layout, columns, acting_user) -> FileResult:
    result = FileResult(layout=layout.code)
    header = table.header

    def cell(cells: list[str], name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    def column_of(name: str) -> str:
        name = {"external_no": "order_no", "units": "quantity", "line": "merchant_code"}.get(
            name, name
        )
        index = columns.get(name)
        return header[index] if index is not None else str(FIELDS.get(name, ""))

    for number, cells in table.rows:
        row = RowResult(row=number, order_no=cell(cells, "order_no")[:40])
        row.after_sale_id = cell(cells, "after_sale_id")[:64]
        try:
            if not row.after_sale_id:
                # Without its number a row could not be recognised when the file comes again.
                raise Bad("after_sale_id", _("The after-sale number is missing."))
            order_no = parse_order_number(cell(cells, "order_no"))
            quantity = cell(cells, "quantity")
            kg_text = cell(cells, "kg")
            kg = _parse_kg(kg_text) if kg_text else None
            amount_text = cell(cells, "amount")
            applied = after_sale_apply(
                channel=channel,
                order_no=order_no,
                line_code=cell(cells, "merchant_code"),
                kind=cell(cells, "kind"),
                units=parse_quantity(quantity) if quantity and not kg else None,
                kg=kg,
                amount=parse_money(amount_text, "amount") if amount_text else None,
                platform_refund_id=row.after_sale_id,
                platform_state=cell(cells, "state"),
                reason=cell(cells, "reason"),
                source=AfterSaleSource.FILE,
                acting_user=acting_user,
            )
        except Bad as bad:
            row.outcome, row.column, row.message = "error", column_of(bad.field), bad.reason
        except DomainError as error:
            row.outcome, row.column, row.message = "error", column_of(error.field), error.message
        else:
            row.outcome, row.message = applied.outcome, applied.effect
        result.rows.append(row)
    return result


def _parse_kg(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").replace("kg", "").strip())
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value <= 0 or value != value.quantize(KG3):
        raise Bad(
            "kg",
            _("“%(value)s” is not kilograms with up to 3 decimals.") % {"value": excerpt(text)},
        )
    return value.quantize(KG3)


class _Rollback(Exception):
    pass


def apply_file(
    *, channel: Channel, data: bytes, file_name: str, layout: str, acting_user, dry_run: bool
) -> FileResult:
    """Read ``data`` and apply each row (``dry_run``: inside a transaction rolled back at
    the end, so the result shows what would happen and nothing stays). Refuses an unreadable
    file, or one without the layout's columns, with ``DomainError`` on field "file"."""
    table = read_table(data, file_name, limits=upload_limits())
    chosen, columns = choose_layout(layout, table.header)
    outcome: FileResult | None = None
    try:
        with transaction.atomic():
            outcome = _apply_rows(channel, table, chosen, columns, acting_user)
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    assert outcome is not None
    return outcome


def after_sales_upload(
    *, channel: Channel, uploaded, layout: str, mode: str, acting_user
) -> AfterSaleImport:
    """Keep an uploaded after-sales file and preview it (nothing is applied yet)."""
    data = uploaded.read()
    preview = apply_file(
        channel=channel,
        data=data,
        file_name=uploaded.name,
        layout=layout,
        acting_user=acting_user,
        dry_run=True,
    )
    batch = AfterSaleImport(
        channel=channel,
        file_name=excerpt(uploaded.name, 200),
        sha256=hashlib.sha256(data).hexdigest(),
        layout=preview.layout,
        mode=mode,
        uploaded_by=acting_user,
        rows_total=len(preview.rows),
        counts=preview.counts,
        results=[row.as_dict() for row in preview.rows],
    )
    batch.file.save(f"after-sales-{batch.sha256[:12]}.bin", ContentFile(data), save=False)
    batch.save()
    return batch


def after_sales_commit(*, batch: AfterSaleImport, acting_user) -> AfterSaleImport:
    """Apply a previewed file. All or nothing: any bad row rejects the whole file and nothing
    is kept. Import the good rows: they are kept, the bad ones listed."""
    if batch.status != AfterSaleImport.Status.PREVIEWED:
        raise DomainError(_("This file was imported already."), field="status")
    with batch.file.open("rb") as stored:
        data = stored.read()
    all_or_nothing = batch.mode == ImportMode.ALL_OR_NOTHING
    result = apply_file(
        channel=batch.channel,
        data=data,
        file_name=batch.file_name,
        layout=batch.layout,
        acting_user=acting_user,
        dry_run=True,
    )
    if all_or_nothing and result.errors:
        batch.status = AfterSaleImport.Status.REJECTED
    else:
        result = apply_file(
            channel=batch.channel,
            data=data,
            file_name=batch.file_name,
            layout=batch.layout,
            acting_user=acting_user,
            dry_run=False,
        )
        batch.status = AfterSaleImport.Status.DONE
    batch.counts = result.counts
    batch.results = [row.as_dict() for row in result.rows]
    batch.finished_at = timezone.now()
    batch.save(update_fields=["status", "counts", "results", "finished_at"])
    return batch
