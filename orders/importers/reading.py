"""Turn an uploaded export (CSV or XLSX bytes) into a header and rows of text cells.

Nothing here knows about orders. The encoding is found, not assumed: a BOM means UTF-8,
then strict UTF-8, then GB18030 (what Excel on Chinese Windows writes), then a guess by
``charset-normalizer``. Every cell is read as text, so an 19-digit order number stays exactly
as exported; a number that a spreadsheet already rounded (``2.61121E+15``) is kept in the
form the spreadsheet shows, so row checks can refuse it.
"""

import codecs
import csv
import gc
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import DomainError
from orders.importers.xlsx import Refused, XlsxLimits, open_workbook

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
CSV_EXTENSIONS = {".csv", ".txt"}
XLSX_EXTENSIONS = {".xlsx"}
# Old binary Excel (.xls, and other OLE2 files) and a few formats people upload by mistake.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Floats at or above this many units lost digits in the spreadsheet (a double holds 15).
EXACT_FLOAT_LIMIT = 10**15
SHARED_CELLS = 50_000


@contextmanager
def collector_paused():
    """Reading a file makes a great many small objects that hold no reference cycles; the
    cyclic garbage collector would walk them over and over while they pile up (a third of
    the time of a large file). It runs again afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def max_upload_bytes() -> int:
    return int(getattr(settings, "ORDER_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass
class Table:
    """A file as read: its header and data rows, each row numbered as a spreadsheet numbers
    it (the header is row 1). Rows that are entirely empty are left out."""

    kind: str  # "csv" or "xlsx"
    encoding: str
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    truncated: bool = False  # read stopped at ``max_rows``

    def raw(self, cells: list[str]) -> dict[str, str]:
        """A row as {header: cell} for error reports (extra cells get their column letter)."""
        out = {}
        for index, value in enumerate(cells):
            name = self.header[index] if index < len(self.header) else ""
            out[name or column_letter(index)] = value
        return out


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: how a spreadsheet names a column without a header."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


LEADING_JUNK = "\t'\u2018\u2019 "


def clean_cell(value: str) -> str:
    """Exports put a tab or an apostrophe before long numbers so Excel keeps them as text;
    people leave spaces around values. None of that belongs to the value."""
    value = value.strip()
    if value and value[0] in LEADING_JUNK:
        return value.lstrip(LEADING_JUNK).strip()
    return value


def clean_header(value: str) -> str:
    return clean_cell(value.replace("\ufeff", "")).strip('*"').strip()


# --- kind and encoding -----------------------------------------------------------------------


def file_kind(data: bytes, file_name: str) -> str:
    """ "csv" or "xlsx", judged by the content first and the name second."""
    suffix = PurePath(file_name or "").suffix.lower()
    if data.startswith(b"PK\x03\x04"):
        if suffix in CSV_EXTENSIONS:
            raise DomainError(_("This file is a ZIP archive, not a CSV file."), field="file")
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            names = set()
        if "xl/workbook.xml" not in names:
            raise DomainError(
                _("This file is not an Excel workbook (XLSX) nor a CSV file."), field="file"
            )
        return "xlsx"
    if data.startswith(OLE2_MAGIC):
        raise DomainError(
            _("Old Excel files (.xls) cannot be read: save the file as XLSX or CSV."),
            field="file",
        )
    if suffix in XLSX_EXTENSIONS:
        raise DomainError(_("This file is not a valid XLSX workbook."), field="file")
    if suffix and suffix not in CSV_EXTENSIONS:
        raise DomainError(
            _("Upload the export as a CSV or XLSX file (this one is %(suffix)s).")
            % {"suffix": suffix},
            field="file",
        )
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DomainError(_("This file is not a CSV or XLSX file."), field="file")
    return "csv"


def detect_encoding(data: bytes) -> str:
    """The encoding that decodes ``data``: BOM, strict UTF-8, GB18030, or a last guess."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        if _decodes(data, encoding):
            return encoding
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1048576]).best()
    if best is None:
        raise DomainError(
            _("The file's text encoding could not be recognised: save it as UTF-8 or GBK CSV."),
            field="file",
        )
    return best.encoding


def _decodes(data: bytes, encoding: str) -> bool:
    """Whether ``data`` is valid ``encoding``, checked a megabyte at a time (a whole 20 MB
    file decoded at once would be a second, larger copy of it)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(data)
    try:
        for start in range(0, len(data), 1048576):
            decoder.decode(view[start : start + 1048576])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


# --- readers ---------------------------------------------------------------------------------


def _xlsx_text(value) -> str:
    """A cell as the text a person sees, without the float noise of numeric cells."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, int):
        return str(value) if abs(value) < EXACT_FLOAT_LIMIT else f"{value:.5E}"
    if isinstance(value, float):
        if abs(value) >= EXACT_FLOAT_LIMIT:
            # Already rounded by the spreadsheet: show it as Excel does, never as digits
            # that look exact.
            return f"{value:.5E}"
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)


def upload_limits() -> "UploadLimits":
    """The limits every uploaded table (order export, tracking file) is read within, from
    the settings (README, docs/DEPLOY.md)."""
    return UploadLimits(
        max_bytes=max_upload_bytes(),
        max_inflated_bytes=int(getattr(settings, "UPLOAD_MAX_INFLATED_BYTES", 100 * 2**20)),
        max_rows=int(getattr(settings, "UPLOAD_MAX_ROWS", 35_000)),
        max_columns=int(getattr(settings, "UPLOAD_MAX_COLUMNS", 200)),
        max_cell_chars=int(getattr(settings, "UPLOAD_MAX_CELL_CHARS", 2_000)),
        max_error_rows=int(getattr(settings, "UPLOAD_MAX_ERROR_ROWS", 1_000)),
    )


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int  # the file as uploaded
    max_inflated_bytes: int  # an XLSX's zip members, uncompressed, all together
    max_rows: int  # rows below the header, blank ones included
    max_columns: int
    max_cell_chars: int
    max_error_rows: int  # bad rows before the file is refused as a whole

    def xlsx(self) -> XlsxLimits:
        return XlsxLimits(
            max_inflated_bytes=self.max_inflated_bytes,
            # Workbook, relationships and styles are small in any real export.
            max_part_bytes=min(self.max_inflated_bytes, 8 * 2**20),
            max_rows=self.max_rows + 1,  # the header is row 1
            max_columns=self.max_columns,
            max_cell_chars=self.max_cell_chars,
        )


def excerpt(value: str, length: int = 40) -> str:
    """At most ``length`` characters of a cell, for an error message."""
    value = str(value)
    if len(value) <= length:
        return value
    return value[: length - 1] + "…"


def _where(row: int | None, column: int | None) -> str:
    if row and column is not None:
        return _("row %(row)s, column %(column)s") % {"row": row, "column": column_letter(column)}
    return _("row %(row)s") % {"row": row}


def limit_error(limit: str, limits: UploadLimits, *, row=None, column=None) -> DomainError:
    """The refusal of a file that breaks one of ``limits``, naming the limit and where."""
    where = _where(row, column) if row else ""
    if limit == "inflated":
        message = _(
            "The workbook unpacks to more than %(limit)s MB (the limit): save only the orders "
            "sheet, or export as CSV."
        ) % {"limit": round(limits.max_inflated_bytes / 2**20)}
    elif limit == "rows":
        message = _(
            "The file has more than %(limit)s rows (the limit; %(where)s is past it): split it "
            "into smaller files."
        ) % {"limit": f"{limits.max_rows:,}", "where": where}
    elif limit == "columns":
        message = _(
            "The file has more than %(limit)s columns (the limit; %(where)s is past it): delete "
            "the extra columns."
        ) % {"limit": limits.max_columns, "where": where}
    elif limit == "cell" and not row:
        message = _(
            "A text in the workbook holds more than %(limit)s characters (the limit): no export "
            "needs that much text in one cell."
        ) % {"limit": f"{limits.max_cell_chars:,}"}
    elif limit == "cell":
        message = _(
            "A cell holds more than %(limit)s characters (the limit; %(where)s): no export "
            "needs that much text in one cell."
        ) % {"limit": f"{limits.max_cell_chars:,}", "where": where}
    else:
        message = _("The workbook could not be opened: the file is damaged or not an XLSX.")
    return DomainError(message, field="file", code="too_large" if limit else "invalid")


def _xlsx_records(data: bytes, limits: UploadLimits) -> Iterator[tuple[int, list[str]]]:
    try:
        workbook = open_workbook(io.BytesIO(data), limits.xlsx())
        yield from workbook.rows(_xlsx_text)
    except Refused as refused:
        raise limit_error(refused.limit, limits, row=refused.row, column=refused.column) from None


def _text_stream(data: bytes, encoding: str) -> io.TextIOWrapper:
    """The bytes decoded as they are read: no second copy of the whole file as text."""
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")


def _csv_records(data: bytes, encoding: str, limits: UploadLimits):
    stream = _text_stream(data, encoding)
    first_line = stream.readline(64 * 1024)
    stream.seek(0)
    delimiter = max([",", "\t", ";"], key=first_line.count)
    if not first_line.count(delimiter):
        delimiter = ","
    reader = csv.reader(stream, delimiter=delimiter)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            yield number, record
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise limit_error("cell", limits, row=number + 1) from None
        raise DomainError(
            _("The CSV file could not be read at row %(row)s: %(error)s")
            % {"row": number + 1, "error": excerpt(str(exc), 80)},
            field="file",
        ) from exc
    except UnicodeDecodeError as exc:
        raise DomainError(
            _("The file's text encoding could not be recognised: save it as UTF-8 or GBK CSV."),
            field="file",
        ) from exc


def read_table(
    data: bytes,
    file_name: str,
    *,
    max_rows: int | None = None,
    limits: UploadLimits | None = None,
) -> Table:
    """Read ``data`` into a Table. Refuses (``DomainError`` on field "file") a file that is
    over a limit (``upload_limits()``: size, unpacked size, rows, columns, characters in a
    cell), empty, not CSV/XLSX, not decodable, or has no header row. The limits are checked
    while reading: a refused file costs no more memory than the rows read before it."""
    limits = limits or upload_limits()
    if len(data) > limits.max_bytes:
        raise DomainError(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {
                "size": round(len(data) / 1048576, 1),
                "limit": round(limits.max_bytes / 1048576, 1),
            },
            field="file",
            code="too_large",
        )
    if not data[:65536].strip() and not data.strip():
        raise DomainError(_("The file is empty."), field="file", code="empty")
    kind = file_kind(data, file_name)
    if kind == "xlsx":
        encoding = ""
        records = _xlsx_records(data, limits)
    else:
        encoding = detect_encoding(data)
        records = _csv_records(data, encoding, limits)

    table = Table(kind=kind, encoding=encoding, header=[])
    with collector_paused():
        _fill(table, records, max_rows, limits)
    if not table.header:
        raise DomainError(_("The file is empty."), field="file", code="empty")
    if not table.rows and not table.truncated:
        raise DomainError(_("The file has column names but no orders."), field="file", code="empty")
    return table


def _fill(
    table: Table,
    records: Iterator[tuple[int, list[str]]],
    max_rows: int | None,
    limits: UploadLimits,
) -> None:
    """The first non-empty record is the header; then every record that is not empty.
    Every record is checked against the limits as it comes."""
    rows = table.rows
    last_row, max_columns, max_chars = (
        limits.max_rows + 1,
        limits.max_columns,
        limits.max_cell_chars,
    )
    # Most cells of an export repeat (status, SKU, price, province, session): one string for
    # each distinct short value instead of one per cell keeps a large file's rows at about
    # half the memory. Bounded, so a file of distinct values does not grow it without end.
    shared: dict[str, str] = {}
    for number, record in records:
        if number > last_row:
            raise limit_error("rows", limits, row=number)
        if len(record) > max_columns:
            while record and not record[-1]:
                record.pop()
            if len(record) > max_columns:
                raise limit_error("columns", limits, row=number, column=max_columns)
        for index, cell in enumerate(record):
            if len(cell) > max_chars:
                raise limit_error("cell", limits, row=number, column=index)
        if not table.header:
            if not any(cell.strip() for cell in record):
                raise DomainError(
                    _("Row 1 must hold the column names; it is empty."),
                    field="file",
                    code="empty",
                )
            header = [clean_header(cell) for cell in record]
            while header and not header[-1]:
                header.pop()
            table.header = header
            continue
        if not "".join(record).strip():
            continue
        if max_rows is not None and len(rows) >= max_rows:
            table.truncated = True
            return
        if len(shared) < SHARED_CELLS:
            record = [shared.setdefault(cell, cell) if len(cell) <= 24 else cell for cell in record]
        rows.append((number, record))
