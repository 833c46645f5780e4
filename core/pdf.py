"""What every PDF of the studio shares: the CJK font, QR codes, text that never overflows, and
units. Lot tags, intake slips, shipping labels, pick lists and statements build on it.

User text (names, villages, notes) is drawn with ``drawString`` only, never through
``Paragraph`` markup: ``<b>`` or ``<img src=…>`` in a farmer's name prints literally and
nothing is fetched.
"""

import logging
import math
import threading
import unicodedata
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import numpy
import zxingcpp
from django.conf import settings
from django.http import HttpResponse
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from core.barcodes import is_ean13

logger = logging.getLogger(__name__)

__all__ = [
    "ELLIPSIS",
    "THERMAL_DPI",
    "cjk_font_name",
    "cjk_mono_font_name",
    "draw_linear_barcode",
    "draw_qr",
    "fit_size",
    "fit_text",
    "format_kg",
    "format_money",
    "mm",
    "pdf_response",
    "qr_modules",
    "snap",
    "text_width",
    "wrap_text",
]

THERMAL_DPI = 203  # 8 dots per mm: the usual label and receipt printer
ELLIPSIS = "…"

CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
FALLBACK_CID_FONT = "STSong-Light"
_FONT_NAME = "ShanhuoCJK"
_MONO_FONT_NAME = "ShanhuoCJKMono"

_font_lock = threading.Lock()
_fonts: dict[str, str] = {}


# --- fonts -----------------------------------------------------------------------------------


def _font_candidates() -> list[str]:
    configured = getattr(settings, "SHANHUO_CJK_FONT", "") or ""
    return [path for path in (configured, *CJK_FONT_CANDIDATES) if path]


def _register_fonts() -> None:
    """Register the first TrueType CJK font that loads (and its monospaced sibling in the same
    collection, if it has one); else ReportLab's built-in CID font, which is not embedded."""
    for path in _font_candidates():
        if not Path(path).is_file():
            if path == getattr(settings, "SHANHUO_CJK_FONT", ""):
                logger.warning("SHANHUO_CJK_FONT %s does not exist; looking further", path)
            continue
        try:
            font = TTFont(_FONT_NAME, path, subfontIndex=0)
        except TTFError as exc:  # e.g. CFF outlines (Noto CJK): ReportLab embeds TrueType only
            logger.warning("Cannot use %s as the PDF font: %s", path, exc)
            continue
        if ord("中") not in font.face.charToGlyph:
            logger.warning("Cannot use %s as the PDF font: it has no Chinese glyphs", path)
            continue
        pdfmetrics.registerFont(font)
        _fonts["regular"] = _FONT_NAME
        _fonts["mono"] = _FONT_NAME
        try:
            mono = TTFont(_MONO_FONT_NAME, path, subfontIndex=1)
        except TTFError:
            return  # a single font file, or a collection without a second face
        if b"mono" in mono.face.name.lower():
            pdfmetrics.registerFont(mono)
            _fonts["mono"] = _MONO_FONT_NAME
        return
    logger.warning(
        "No TrueType CJK font found (set SHANHUO_CJK_FONT or install fonts-wqy-microhei): "
        "PDFs use %s, which is not embedded and looks different on each viewer or printer.",
        FALLBACK_CID_FONT,
    )
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CID_FONT))
    _fonts["regular"] = FALLBACK_CID_FONT
    _fonts["mono"] = FALLBACK_CID_FONT


def _font(kind: str) -> str:
    if kind not in _fonts:
        with _font_lock:
            if kind not in _fonts:
                _register_fonts()
    return _fonts[kind]


def cjk_font_name() -> str:
    """The ReportLab name of the font for Chinese and Latin text, registered once per process."""
    return _font("regular")


def cjk_mono_font_name() -> str:
    """A monospaced face for codes (lot codes, tracking numbers) when the font collection has one;
    otherwise the same font as ``cjk_font_name()``."""
    return _font("mono")


# --- units -----------------------------------------------------------------------------------


def snap(points: float, dpi: int = THERMAL_DPI) -> float:
    """``points`` rounded down to whole printer dots, so edges land on the printer's grid."""
    dot = 72 / dpi
    return math.floor(points / dot + 1e-9) * dot


def format_money(amount: Decimal) -> str:
    """¥1,234.50"""
    amount = amount.quantize(Decimal("0.01"))
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def format_kg(kg: Decimal) -> str:
    """1,234.5 — exact, without trailing zeros (kg are stored with 3 places)."""
    text = f"{kg.quantize(Decimal('0.001')):,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- text ------------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    """Whitespace and control characters collapsed to single spaces: nothing in user text can
    move the pen to another line."""
    cleaned = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in str(text))
    return " ".join(cleaned.split())


def text_width(text: str, font: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, font, size)


# The text helpers are pure and a batch of labels asks them the same questions again and
# again (the sender's block, the carrier's name, the captions): answered once each.
_TEXT_CACHE = 4096


@lru_cache(maxsize=_TEXT_CACHE)
def fit_text(text: str, font: str, size: float, max_width: float) -> str:
    """``text`` on one line, cut with "…" where it would pass ``max_width``."""
    text = _one_line(text)
    if text_width(text, font, size) <= max_width:
        return text
    low, high = 0, len(text)  # the longest prefix that fits with the ellipsis
    while low < high:
        middle = (low + high + 1) // 2
        if text_width(text[:middle].rstrip() + ELLIPSIS, font, size) <= max_width:
            low = middle
        else:
            high = middle - 1
    if low == 0 and not _fits(ELLIPSIS, font, size, max_width):
        return ""
    return text[:low].rstrip() + ELLIPSIS


def _fits(text: str, font: str, size: float, max_width: float) -> bool:
    return text_width(text, font, size) <= max_width


@lru_cache(maxsize=_TEXT_CACHE)
def fit_size(text: str, font: str, size: float, max_width: float, min_size: float) -> float:
    """The largest font size from ``size`` down to ``min_size`` (in half points) at which
    ``text`` fits on one line; ``min_size`` if none does (then cut it with ``fit_text``)."""
    width = text_width(_one_line(text), font, size)
    if width <= max_width:
        return size
    fitting = math.floor(size * max_width / width * 2) / 2
    return max(min_size, fitting)


def _breaks_inside_word(line: str, next_char: str) -> bool:
    return bool(line) and _is_word_char(line[-1]) and _is_word_char(next_char)


def _is_word_char(ch: str) -> bool:
    # Latin words (with their hyphens and punctuation) keep together; CJK breaks anywhere.
    return ch.isascii() and not ch.isspace()


def wrap_text(text: str, font: str, size: float, max_width: float, max_lines: int) -> list[str]:
    """``text`` broken into at most ``max_lines`` lines no wider than ``max_width``. Chinese breaks
    between any two characters; a Latin word moves whole to the next line when a space allows.
    The last line ends with "…" when text had to be cut."""
    return list(_wrap(text, font, size, max_width, max_lines))


def _longest_fitting(text: str, font: str, size: float, max_width: float) -> int:
    """How many characters of ``text`` fit on one line: a bisection over prefixes (widths only
    grow as characters are added), so a few measurements a line instead of one a character."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if _fits(text[:middle], font, size, max_width):
            low = middle
        else:
            high = middle - 1
    return low


@lru_cache(maxsize=_TEXT_CACHE)
def _wrap(text: str, font: str, size: float, max_width: float, max_lines: int) -> tuple[str, ...]:
    text = _one_line(text)
    lines: list[str] = []
    rest = text
    while rest and len(lines) < max_lines - 1:
        fitting = _longest_fitting(rest, font, size, max_width)
        if fitting == len(rest):
            lines.append(rest)
            return tuple(lines)
        line = rest[:fitting]
        if _breaks_inside_word(line, rest[fitting]) and " " in line.strip():
            line = line[: line.rstrip().rindex(" ")]
        if not line:  # not even one character fits
            line = rest[:1]
        lines.append(line.rstrip())
        rest = rest[len(line) :].lstrip()
    if rest:
        lines.append(fit_text(rest, font, size, max_width))
    return tuple(lines)


# --- codes -----------------------------------------------------------------------------------


def qr_modules(data: str) -> numpy.ndarray:
    """The modules of the QR code of ``data`` (error correction M), one boolean per module,
    ``True`` for dark, without the quiet zone. zxing-cpp encodes in C++: about 0.1 ms for a
    trace URL, against about 0.75 ms for segno."""
    symbol = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    return numpy.asarray(symbol.to_image(scale=1, add_quiet_zones=False)) < 128


def _module_rects(modules: numpy.ndarray) -> str:
    """PDF ``re`` operators for each horizontal run of dark modules, in a coordinate system of
    one unit per module with its origin at the symbol's lower left corner."""
    height, width = modules.shape
    edges = numpy.zeros((height, width + 2), dtype=numpy.int8)
    edges[:, 1:-1] = modules
    steps = numpy.diff(edges, axis=1)
    rows, starts = numpy.nonzero(steps == 1)
    _rows, ends = numpy.nonzero(steps == -1)  # row-major, so each end pairs with its start
    return " ".join(
        f"{start} {height - 1 - row} {end - start} 1 re"
        for row, start, end in zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True)
    )


def draw_qr(
    canvas: Canvas,
    data: str,
    x: float,
    y: float,
    size: float,
    *,
    border: int = 4,
    dpi: int | None = THERMAL_DPI,
) -> float:
    """A QR code of ``data`` in the square of side ``size`` whose lower left corner is (x, y),
    its quiet zone of ``border`` modules included. Modules are whole printer dots at ``dpi``
    (``None``: no snapping) so a thermal printer prints them all the same width. Drawn as one
    filled path of whole-module rectangles (one per run of dark modules in a row), written
    straight into the page stream: a few thousand bytes, no per-rectangle Python objects.
    Returns the side of one module in points."""
    modules = qr_modules(data)
    count = modules.shape[0]
    module = size / (count + 2 * border)
    if dpi:
        module = max(snap(module, dpi), 72 / dpi)
    symbol = count * module
    left = x + (size - symbol) / 2
    bottom = y + (size - symbol) / 2
    if dpi:
        left, bottom = snap(left, dpi), snap(bottom, dpi)
    canvas.saveState()
    canvas.translate(left, bottom)
    canvas.scale(module, module)  # one unit is one module: every corner is a whole number
    canvas.setFillGray(0)
    canvas.addLiteral(f"{_module_rects(modules)} f")
    canvas.restoreState()
    return module


# Quiet zones in modules on each side: Code 128 asks for 10, EAN-13 for 11 left and 7 right.
QUIET_MODULES = {"Code128": 10, "EAN13": 11}
LINEAR_SYMBOLOGIES = ("Code128", "EAN13")


def linear_symbology(value: str) -> str:
    """``"EAN13"`` for a valid EAN-13 (a GTIN), else ``"Code128"``."""
    return "EAN13" if is_ean13(value) else "Code128"


@lru_cache(maxsize=1024)
def linear_modules(value: str, symbology: str = "Code128") -> tuple[int, ...]:
    """The dark (1) and light (0) modules of a one-dimensional barcode of ``value``, without
    quiet zones, encoded by zxing-cpp (check digits included)."""
    if symbology not in LINEAR_SYMBOLOGIES:
        raise ValueError(f"unknown symbology {symbology!r}")
    symbol = zxingcpp.create_barcode(value, getattr(zxingcpp.BarcodeFormat, symbology))
    row = numpy.asarray(symbol.to_image(scale=1, add_quiet_zones=False))[0]
    return tuple(int(v) for v in (row < 128))


def draw_linear_barcode(
    canvas: Canvas,
    value: str,
    x: float,
    y: float,
    max_width: float,
    height: float,
    *,
    symbology: str | None = None,
    max_module_dots: int = 4,
    dpi: int = THERMAL_DPI,
    center: bool = False,
) -> float:
    """A Code 128 or EAN-13 (``symbology``; by default EAN-13 for a valid GTIN, else Code 128)
    of ``value``, bars from ``y`` up to ``y + height``. Its quiet zones fit in ``max_width``
    from ``x`` (or around the centre of that span with ``center``) and stay white. Modules are
    whole dots of a ``dpi`` printer, as many dots as fit (at most ``max_module_dots``, at least
    one). Drawn as one path. Returns the width of the bars."""
    symbology = symbology or linear_symbology(value)
    modules = linear_modules(value, symbology)
    quiet = QUIET_MODULES[symbology]
    dot = 72 / dpi
    count = len(modules)
    module = max(1, min(int((max_width / dot) // (count + 2 * quiet)), max_module_dots))
    width = count * module * dot
    left = x + (max_width - width) / 2 if center else x + quiet * module * dot
    runs, start = [], None
    for index, dark in enumerate((*modules, 0)):
        if dark and start is None:
            start = index
        elif not dark and start is not None:
            runs.append(f"{start * module} 0 {(index - start) * module} {round(height / dot)} re")
            start = None
    canvas.saveState()
    canvas.translate(snap(left, dpi), snap(y, dpi))
    canvas.scale(dot, dot)  # one unit is one printer dot: every bar edge is a whole dot
    canvas.setFillGray(0)
    canvas.addLiteral(f"{' '.join(runs)} f")
    canvas.restoreState()
    return width


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    """A PDF shown in the browser. Never cached: labels, slips and manifests carry recipients'
    names, phones and addresses."""
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
