"""Label PDFs as one-bit bitmaps at a printer's resolution, rendered by PDFium (pypdfium2).

PDFium was measured against poppler's ``pdftoppm -mono`` on the same labels (bench/labels.py,
docs/BENCHMARKS.md): 4 ms against 15 ms for one label (no process to start), 2.9 ms against
4.9 ms a page in a batch. Smoothing is off, so edges are not grey and a threshold at half
keeps every bar and module as wide as it was drawn.
"""

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy
import pypdfium2

__all__ = ["Bitmap", "rasterise"]

# PDFium is not thread-safe: one document is rendered at a time per process.
_pdfium = threading.Lock()
POINTS_PER_INCH = 72


@dataclass(frozen=True, eq=False)
class Bitmap:
    """One label as the printer's rows: ``rows[y, i]`` holds dots ``8i`` to ``8i + 7`` of row
    ``y``, the leftmost in the highest bit, 1 where the printer burns a dot. The width is a
    whole number of bytes (padded white on the right), as both languages send rows."""

    rows: numpy.ndarray  # uint8, (height, row_bytes)
    dpi: int

    @property
    def height(self) -> int:
        return self.rows.shape[0]

    @property
    def row_bytes(self) -> int:
        return self.rows.shape[1]

    @property
    def width(self) -> int:
        return self.row_bytes * 8

    @property
    def dots(self) -> numpy.ndarray:
        """One boolean a dot, True for black: ``dots[y, x]``."""
        return numpy.unpackbits(self.rows, axis=1).astype(bool)

    def packed(self, *, black: int = 1) -> bytes:
        """The rows as bytes; a black dot is the bit ``black`` (ZPL: 1, TSPL: 0)."""
        return (self.rows if black else ~self.rows).tobytes()

    @classmethod
    def from_dots(cls, dots: numpy.ndarray, dpi: int) -> "Bitmap":
        """From one boolean a dot (True for black), padded white to whole bytes."""
        return cls(rows=numpy.packbits(dots, axis=1), dpi=dpi)


def _scale(width_points: float, dpi: int) -> float:
    """PDFium maps the page onto a bitmap of ``ceil(width × scale)`` dots, stretching it to
    fit: a hair under ``dpi / 72`` so that a page of whole dots (``render.page_size``) maps
    onto exactly that many, and every drawn dot lands on a printer dot."""
    dots = round(width_points * dpi / POINTS_PER_INCH)
    return (dots - 0.001) / width_points


def rasterise(pdf: bytes, *, dpi: int) -> Iterator[Bitmap]:
    """Each page of ``pdf`` as a bitmap at ``dpi``, in page order. Packed to a bit a dot as
    soon as it is drawn: a page at 203 dpi holds 120 KB, not a megabyte."""
    with _pdfium:
        document = pypdfium2.PdfDocument(pdf)
        try:
            pages = []
            for index in range(len(document)):
                page = document[index]
                rendered = page.render(
                    scale=_scale(page.get_width(), dpi),
                    grayscale=True,
                    may_draw_forms=False,
                    no_smoothtext=True,
                    no_smoothpath=True,
                    no_smoothimage=True,
                )
                pages.append(numpy.packbits(rendered.to_numpy() < 128, axis=1))
                rendered.close()
                page.close()
        finally:
            document.close()
    for rows in pages:
        yield Bitmap(rows=rows, dpi=dpi)
