"""A label bitmap in a thermal printer's own language: the bytes a printer accepts as one
label, ready to send.

ZPL II (Zebra, and printers that emulate it): ``^XA ^PW ^LL ^LH ^FO ^GFA … ^FS ^PQ1 ^XZ``. The
graphic field ``^GFA,b,c,d,data`` carries ``c`` bytes of ``d`` bytes a row (``b`` = ``c`` for
ASCII data), 1 bits black. The data is either Z64 — the rows deflated (zlib), Base64-encoded,
framed ``:Z64:…:CRC`` with the CRC-16/CCITT (XMODEM) of the Base64 text in four hex digits, as
the ZPL II Programming Guide (ZB64 encoding) describes; about 11 KB for a 100×150 mm label at
203 dpi — or plain hexadecimal, two characters a byte (240 KB), which every ZPL printer reads.

TSPL (TSC and the many printers that speak it: Xprinter, Gprinter, Deli, HPRT…): ``SIZE``,
``GAP``, ``DIRECTION``, ``CLS``, ``BITMAP x,y,width_bytes,height,0,<rows>`` and ``PRINT 1,1``,
lines ended by CR LF. TSPL's bitmap is the other way round: a 0 bit burns a dot, 1 leaves it
white. Mode 0 overwrites the (cleared) image buffer.
"""

import base64
import binascii
import zlib
from decimal import Decimal

from shipping.models import PrinterLanguage, ZplGraphics
from shipping.printing.raster import Bitmap

__all__ = ["TSPL_GAP_MM", "label_bytes", "tspl", "zpl"]

# The usual die-cut roll: labels 2 mm apart. Printers find the gap with their sensor anyway.
TSPL_GAP_MM = 2
ZLIB_LEVEL = 1  # 0.3 ms and 10 KB a label; level 6 saves 2 KB for four times the time


def _mm(dots: int, dpi: int) -> str:
    """Dots as millimetres with one decimal, for TSPL's ``SIZE``."""
    return str((Decimal(dots) * Decimal("25.4") / dpi).quantize(Decimal("0.1")))


def _z64(data: bytes) -> str:
    encoded = base64.b64encode(zlib.compress(data, ZLIB_LEVEL))
    return f":Z64:{encoded.decode('ascii')}:{binascii.crc_hqx(encoded, 0):04X}"


def zpl(bitmap: Bitmap, *, graphics: str = ZplGraphics.Z64) -> bytes:
    """One ZPL II label holding ``bitmap`` at the label's upper left corner."""
    rows = bitmap.packed()
    total = len(rows)
    data = _z64(rows) if graphics == ZplGraphics.Z64 else rows.hex().upper()
    return (
        f"^XA^PW{bitmap.width}^LL{bitmap.height}^LH0,0^FO0,0"
        f"^GFA,{total},{total},{bitmap.row_bytes},{data}^FS^PQ1^XZ\r\n"
    ).encode("ascii")


def tspl(bitmap: Bitmap, *, size: str | None = None) -> bytes:
    """One TSPL label holding ``bitmap`` at the label's upper left corner. ``SIZE`` is the
    label stock (``size``, a ``LabelSize`` value such as "100x150"), else the bitmap's own."""
    if size:
        width, height = size.split("x")
    else:
        width, height = _mm(bitmap.width, bitmap.dpi), _mm(bitmap.height, bitmap.dpi)
    head = (
        f"SIZE {width} mm,{height} mm\r\n"
        f"GAP {TSPL_GAP_MM} mm,0 mm\r\n"
        "DIRECTION 1,0\r\n"
        "CLS\r\n"
        f"BITMAP 0,0,{bitmap.row_bytes},{bitmap.height},0,"
    ).encode("ascii")
    return head + bitmap.packed(black=0) + b"\r\nPRINT 1,1\r\n"


def label_bytes(
    bitmap: Bitmap,
    *,
    language: str,
    zpl_graphics: str = ZplGraphics.Z64,
    size: str | None = None,
) -> bytes:
    """One label in ``language``; ``size`` is the label stock (TSPL's ``SIZE``)."""
    if language == PrinterLanguage.ZPL:
        return zpl(bitmap, graphics=zpl_graphics)
    if language == PrinterLanguage.TSPL:
        return tspl(bitmap, size=size)
    raise ValueError(f"unknown printer language {language!r}")
