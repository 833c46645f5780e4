"""Tables as downloads: CSV (UTF-8 with a BOM, so Excel opens Chinese text) and XLSX.

Every report page offers the table it shows through ``export_response``. Text cells that a
spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return) get a leading apostrophe; numbers stay numbers. Callers pass phone numbers already
masked: nothing here can tell a phone from any other text.
"""

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from django.utils.encoding import force_str
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value: str) -> str:
    """Text a spreadsheet shows as text and never runs as a formula."""
    if value and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass
class Table:
    """A report table: ``columns`` are (key, heading) pairs; ``rows`` are mappings by key."""

    title: str
    columns: Sequence[tuple[str, str]]
    rows: Iterable[Mapping] = field(default_factory=list)

    def headings(self) -> list[str]:
        return [force_str(heading) for _, heading in self.columns]

    def values(self) -> Iterable[list]:
        keys = [key for key, _ in self.columns]
        for row in self.rows:
            yield [row.get(key) for key in keys]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
            if timezone.is_aware(value)
            else value.strftime("%Y-%m-%d %H:%M")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float | Decimal):
        return str(value)
    return neutralise(force_str(value))


def table_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(heading) for heading in table.headings()])
    for values in table.values():
        writer.writerow([_text(value) for value in values])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx_value(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        return value
    if isinstance(value, date):
        return value
    return neutralise(force_str(value))


def table_xlsx(table: Table) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=force_str(table.title)[:31] or "Sheet1")
    sheet.append([neutralise(heading) for heading in table.headings()])
    for values in table.values():
        row = []
        for value in values:
            cell_value = _xlsx_value(value)
            if isinstance(cell_value, str):
                # A text cell, never a formula, whatever openpyxl would guess.
                cell = WriteOnlyCell(sheet, value=cell_value)
                cell.data_type = "s"
                row.append(cell)
            else:
                row.append(cell_value)
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_format(request) -> str | None:
    """The export the request asks for (``?format=csv`` or ``?format=xlsx``), or None."""
    fmt = request.GET.get("format", "").lower()
    return fmt if fmt in FORMATS else None


def export_response(table: Table, *, fmt: str, filename: str) -> HttpResponse:
    """The table as a download named ``filename`` + the format's extension."""
    if fmt == "xlsx":
        body, content_type = table_xlsx(table), XLSX_TYPE
    else:
        body, content_type = table_csv(table), "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    name = f"{filename}.{fmt}"
    response["Content-Disposition"] = (
        f"attachment; filename=\"{quote(name)}\"; filename*=UTF-8''{quote(name)}"
    )
    response["Cache-Control"] = "private, no-store"
    return response
