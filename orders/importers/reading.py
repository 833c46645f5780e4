"""Turn an uploaded export (CSV or XLSX bytes) into a header and rows of text cells.

Nothing here knows about orders. The encoding is found, not assumed: a BOM means UTF-8,
then strict UTF-8, then GB18030 (what Excel on Chinese Windows writes), then a guess by
``charset-normalizer``. Every cell is read as text, so an 19-digit order number stays exactly
as exported; a number that a spreadsheet already rounded (``2.61121E+15``) is kept in the
form the spreadsheet shows, so row checks can refuse it.
"""

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

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
CSV_EXTENSIONS = {".csv", ".txt"}
XLSX_EXTENSIONS = {".xlsx"}
# Old binary Excel (.xls, and other OLE2 files) and a few formats people upload by mistake.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Floats at or above this many units lost digits in the spreadsheet (a double holds 15).
EXACT_FLOAT_LIMIT = 10**15


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
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    else:
        return "gb18030"
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise DomainError(
            _("The file's text encoding could not be recognised: save it as UTF-8 or GBK CSV."),
            field="file",
        )
    return best.encoding


# --- readers ---------------------------------------------------------------------------------


def _csv_records(text: str) -> Iterator[list[str]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max([",", "\t", ";"], key=first_line.count)
    if not first_line.count(delimiter):
        delimiter = ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


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


def _xlsx_records(data: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise DomainError(
            _("The workbook could not be opened: %(error)s") % {"error": exc}, field="file"
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_xlsx_text(value) for value in values]
    finally:
        workbook.close()


def read_table(data: bytes, file_name: str, *, max_rows: int | None = None) -> Table:
    """Read ``data`` into a Table. Refuses (``DomainError`` on field "file") a file that is
    over the size limit, empty, not CSV/XLSX, not decodable, or has no header row."""
    limit = max_upload_bytes()
    if len(data) > limit:
        raise DomainError(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": round(len(data) / 1048576, 1), "limit": round(limit / 1048576, 1)},
            field="file",
            code="too_large",
        )
    if not data.strip():
        raise DomainError(_("The file is empty."), field="file", code="empty")
    kind = file_kind(data, file_name)
    if kind == "xlsx":
        encoding = ""
        records = _xlsx_records(data)
    else:
        encoding = detect_encoding(data)
        text = data.decode(encoding)
        records = _csv_records(text)

    table = Table(kind=kind, encoding=encoding, header=[])
    try:
        with collector_paused():
            _fill(table, records, max_rows)
    except csv.Error as exc:
        raise DomainError(
            _("The CSV file could not be read: %(error)s") % {"error": exc}, field="file"
        ) from exc
    if not table.header:
        raise DomainError(_("The file is empty."), field="file", code="empty")
    if not table.rows and not table.truncated:
        raise DomainError(_("The file has column names but no orders."), field="file", code="empty")
    return table


def _fill(table: Table, records: Iterator[list[str]], max_rows: int | None) -> None:
    """The first non-empty record is the header; then every record that is not empty."""
    rows = table.rows
    for number, record in enumerate(records, start=1):
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
        rows.append((number, record))
