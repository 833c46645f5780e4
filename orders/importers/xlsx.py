"""Stream the first sheet of an XLSX workbook as rows of cell values, inside limits.

An XLSX file is a zip of XML parts, and a small file can hold a great deal: a 300 KB upload
whose sheet inflates to 300 MB, one shared string of 200 MB, rows with a cell in column XFD
(16,384 columns), a million empty rows. The well-kept readers trust the file: openpyxl's
read-only mode walks the whole sheet once more to find its size when the file does not say
it, builds every cell of a row before handing it over and keeps every shared string whole;
calamine builds the sheet's whole rectangle (rows × last column) in memory. So this reader
is written for hostile input, on the standard library's expat parser, and checks as it goes:

- before any parsing, the declared uncompressed size of every zip member and of all of them
  together (zipfile never inflates a member past its declared size);
- while parsing, the row number, the column of each cell and the length of each text, so it
  stops at the first cell over a limit having held at most one row.

openpyxl still does what needs no trust: it knows which number formats are dates and turns
Excel serial numbers into datetimes. No DTD is accepted (XLSX parts never have one).
"""

import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from posixpath import join, normpath
from xml.etree import ElementTree
from xml.parsers import expat
from zlib import error as ZlibError

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

CHUNK = 64 * 1024
# Number formats Excel keeps by id without writing them into the file. Besides the ones
# openpyxl knows, the ids 27–36 and 50–58 are dates in the Chinese editions of Excel.
CJK_DATE_FORMAT_IDS = frozenset([*range(27, 37), *range(50, 59)])
COLUMN = re.compile(r"[A-Z]+")
REL_WORKSHEET = "/worksheet"


class Refused(Exception):
    """The workbook breaks a limit or is not a workbook. ``limit`` names the limit broken
    ("inflated", "rows", "columns", "cell") or is "" for a damaged file; ``row`` is the
    sheet's row number where it happened, when there is one."""

    def __init__(self, limit: str, *, row: int | None = None, column: int | None = None):
        super().__init__(limit)
        self.limit = limit
        self.row = row
        self.column = column


@dataclass(frozen=True)
class XlsxLimits:
    max_inflated_bytes: int  # all members together, uncompressed
    max_part_bytes: int  # each member that is not a sheet or the shared strings
    max_rows: int  # the last sheet row number read
    max_columns: int
    max_cell_chars: int


def column_index(reference: str) -> int:
    """ "C7" → 2 (0-based); -1 when the reference has no column letters."""
    return _COLUMNS[reference.rstrip("0123456789")]


class _Columns(dict):
    """Column letters → index, worked out once per letters (a sheet has few columns)."""

    def __missing__(self, letters: str) -> int:
        if not COLUMN.fullmatch(letters):
            return -1
        index = 0
        for letter in letters:
            index = index * 26 + ord(letter) - 64
        if len(self) < 20_000:
            self[letters] = index - 1
        return index - 1


class _Names(dict):
    """Tag → tag without its namespace: "{…main}row" (ElementTree) or "x:row" (expat) →
    "row", worked out once per tag name (the callbacks run millions of times)."""

    def __missing__(self, name: str) -> str:
        local = name.rpartition("}")[2].rpartition(":")[2]
        if len(self) < 1_000:
            self[name] = local
        return local


_COLUMNS = _Columns()
_local = _Names().__getitem__


def _no_dtd(*_args) -> None:
    raise Refused("")


def _parser(start: Callable, end: Callable, text: Callable) -> expat.XMLParserType:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _no_dtd
    parser.EntityDeclHandler = _no_dtd
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    return parser


def _read_part(archive: zipfile.ZipFile, name: str, limits: XlsxLimits) -> ElementTree.Element:
    """A small part (workbook, relationships, styles) as a tree: its size was checked."""
    info = archive.getinfo(name)
    if info.file_size > limits.max_part_bytes:
        raise Refused("inflated")
    try:
        return ElementTree.fromstring(archive.read(name))
    except (ElementTree.ParseError, zipfile.BadZipFile, ZlibError, EOFError) as exc:
        raise Refused("") from exc


class Workbook:
    """The parts of a workbook a reader needs: where the first sheet is, the shared strings,
    which cell styles are dates and the workbook's date system."""

    def __init__(self, archive: zipfile.ZipFile, limits: XlsxLimits):
        self.archive = archive
        self.limits = limits
        infos = archive.infolist()
        if sum(info.file_size for info in infos) > limits.max_inflated_bytes:
            raise Refused("inflated")
        self.names = {info.filename for info in infos}
        self.sheet_path, self.epoch = self._first_sheet()
        self.date_styles = self._date_styles()
        self.strings = self._shared_strings()

    def _first_sheet(self) -> tuple[str, object]:
        workbook = _read_part(self.archive, "xl/workbook.xml", self.limits)
        epoch = CALENDAR_WINDOWS_1900
        sheet_ids = []
        for element in workbook.iter():
            tag = _local(element.tag)
            if tag == "workbookPr" and element.get("date1904") in {"1", "true"}:
                epoch = CALENDAR_MAC_1904
            elif tag == "sheet":
                rel_id = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
                if rel_id:
                    sheet_ids.append(rel_id)
        rels_name = "xl/_rels/workbook.xml.rels"
        if rels_name not in self.names:
            raise Refused("")
        targets = {}
        for rel in _read_part(self.archive, rels_name, self.limits).iter():
            if _local(rel.tag) == "Relationship" and rel.get("Type", "").endswith(REL_WORKSHEET):
                target = rel.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else join("xl", target)
                targets[rel.get("Id")] = normpath(path)
        for rel_id in sheet_ids:
            path = targets.get(rel_id)
            if path in self.names:
                return path, epoch
        raise Refused("")

    def _date_styles(self) -> frozenset[int]:
        if "xl/styles.xml" not in self.names:
            return frozenset()
        styles = _read_part(self.archive, "xl/styles.xml", self.limits)
        custom = {}
        date_styles = set()
        for element in styles.iter():
            if _local(element.tag) == "numFmt":
                try:
                    custom[int(element.get("numFmtId", ""))] = element.get("formatCode", "")
                except ValueError:
                    continue
        for element in styles.iter():
            if _local(element.tag) != "cellXfs":
                continue
            for index, xf in enumerate(child for child in element if _local(child.tag) == "xf"):
                try:
                    format_id = int(xf.get("numFmtId", "0"))
                except ValueError:
                    continue
                code = custom.get(format_id, BUILTIN_FORMATS.get(format_id, ""))
                if format_id in CJK_DATE_FORMAT_IDS or (code and is_date_format(code)):
                    date_styles.add(index)
        return frozenset(date_styles)

    def _shared_strings(self) -> list[str]:
        path = self._strings_path()
        if path is None:
            return []
        strings: list[str] = []
        limit = self.limits.max_cell_chars
        state = {"depth": 0, "in_t": False, "phonetic": 0, "parts": [], "length": 0}

        def start(name, attrs):
            tag = _local(name)
            if tag == "si":
                state["parts"], state["length"] = [], 0
            elif tag == "rPh":
                state["phonetic"] += 1
            elif tag == "t" and not state["phonetic"]:
                state["in_t"] = True

        def end(name):
            tag = _local(name)
            if tag == "si":
                strings.append("".join(state["parts"]).replace("_x005F_", "_"))
            elif tag == "rPh":
                state["phonetic"] -= 1
            elif tag == "t":
                state["in_t"] = False

        def text(data):
            if state["in_t"]:
                state["length"] += len(data)
                if state["length"] > limit:
                    raise Refused("cell")
                state["parts"].append(data)

        parser = _parser(start, end, text)
        with self.archive.open(path) as stream:
            _feed(parser, stream)
        return strings

    def _strings_path(self) -> str | None:
        rels_name = "xl/_rels/workbook.xml.rels"
        for rel in _read_part(self.archive, rels_name, self.limits).iter():
            if _local(rel.tag) == "Relationship" and rel.get("Type", "").endswith("/sharedStrings"):
                target = rel.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else join("xl", target)
                path = normpath(path)
                return path if path in self.names else None
        return None

    def rows(self, convert: Callable[[object], str]) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells as text) of the first sheet, in order; empty rows are left
        out. ``convert`` turns a cell's value (str, int, float, bool, datetime) into text."""
        reader = _SheetReader(self, convert)
        with self.archive.open(self.sheet_path) as stream:
            while True:
                try:
                    chunk = stream.read(CHUNK)
                    reader.parser.Parse(chunk, not chunk)
                except (expat.ExpatError, zipfile.BadZipFile, ZlibError, EOFError) as exc:
                    raise Refused("", row=reader.row_number or None) from exc
                if reader.done:
                    yield from reader.done
                    reader.done = []
                if not chunk:
                    return


def _feed(parser: expat.XMLParserType, stream) -> None:
    try:
        while True:
            chunk = stream.read(CHUNK)
            parser.Parse(chunk, not chunk)
            if not chunk:
                return
    except (expat.ExpatError, zipfile.BadZipFile, ZlibError, EOFError) as exc:
        raise Refused("") from exc


class _SheetReader:
    """expat handlers for one sheet: rows collect in ``done`` as they end."""

    def __init__(self, workbook: Workbook, convert: Callable[[object], str]):
        self.strings = workbook.strings
        self.date_styles = workbook.date_styles
        self.epoch = workbook.epoch
        self.limits = workbook.limits
        self.convert = convert
        self.done: list[tuple[int, list[str]]] = []
        self.row_number = 0
        self.cells: dict[int, str] = {}
        self.column = -1
        self.cell_type = "n"
        self.style = 0
        self.parts: list[str] = []
        self.length = 0
        self.collect = False
        self.phonetic = 0
        self.parser = _parser(self.start, self.end, self.text)

    def start(self, name, attrs):
        tag = _local(name)
        if tag == "c":
            reference = attrs.get("r", "")
            column = column_index(reference) if reference else self.column + 1
            if column < 0:
                column = self.column + 1
            if column >= self.limits.max_columns:
                raise Refused("columns", row=self.row_number, column=column)
            self.column = column
            self.cell_type = attrs.get("t", "n")
            try:
                self.style = int(attrs.get("s", "0"))
            except ValueError:
                self.style = 0
            self.parts, self.length = [], 0
        elif tag == "row":
            number = attrs.get("r", "")
            self.row_number = int(number) if number.isdigit() else self.row_number + 1
            if self.row_number > self.limits.max_rows:
                raise Refused("rows", row=self.row_number)
            self.cells = {}
            self.column = -1
        elif tag == "rPh":
            self.phonetic += 1
        elif tag in {"v", "t"} and not self.phonetic:
            self.collect = True

    def text(self, data):
        if self.collect:
            self.length += len(data)
            if self.length > self.limits.max_cell_chars:
                raise Refused("cell", row=self.row_number, column=self.column)
            self.parts.append(data)

    def end(self, name):
        tag = _local(name)
        if tag in {"v", "t"}:
            self.collect = False
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "c":
            if self.parts:
                text = self.convert(self._value("".join(self.parts)))
                if text:
                    if len(text) > self.limits.max_cell_chars:
                        raise Refused("cell", row=self.row_number, column=self.column)
                    self.cells[self.column] = text
        elif tag == "row":
            if self.cells:
                width = max(self.cells) + 1
                self.done.append(
                    (self.row_number, [self.cells.get(index, "") for index in range(width)])
                )
            self.cells = {}

    def _value(self, raw: str):
        kind = self.cell_type
        if kind == "s":
            try:
                return self.strings[int(raw)]
            except (ValueError, IndexError):
                return ""
        if kind in {"inlineStr", "str", "e"}:
            return raw
        if kind == "b":
            return raw.strip() in {"1", "true"}
        if kind == "d":
            return raw
        try:
            number = int(raw) if raw.lstrip("-").isdigit() else float(raw)
        except ValueError:
            return raw
        if self.style in self.date_styles:
            try:
                return from_excel(number, self.epoch)
            except (ValueError, OverflowError):
                return number
        return number


def open_workbook(data_file, limits: XlsxLimits) -> Workbook:
    """The workbook in ``data_file`` (a binary file object), or ``Refused``."""
    try:
        archive = zipfile.ZipFile(data_file)
    except (zipfile.BadZipFile, OSError) as exc:
        raise Refused("") from exc
    if "xl/workbook.xml" not in archive.namelist():
        raise Refused("")
    return Workbook(archive, limits)
