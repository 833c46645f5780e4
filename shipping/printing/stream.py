"""Labels as a printer's bytes, one label at a time: drawn in chunks into one PDF each (the
fonts are embedded once a chunk), rasterised, encoded. A generator, so a wave of a thousand
labels streams to the printer while the next labels are being drawn."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from shipping.labels import LabelData, render_labels
from shipping.models import ZplGraphics
from shipping.printing.languages import label_bytes
from shipping.printing.raster import rasterise

__all__ = ["CHUNK", "PrinterFormat", "printer_labels"]

CHUNK = 50  # labels drawn into one PDF: the per-PDF cost (fonts) is spread, memory stays low


@dataclass(frozen=True)
class PrinterFormat:
    """What the bytes must be: language, resolution, the label stock loaded."""

    language: str
    dpi: int
    size: str
    zpl_graphics: str = ZplGraphics.Z64


def printer_labels(
    labels: Sequence[LabelData], fmt: PrinterFormat, *, chunk: int = CHUNK
) -> Iterator[bytes]:
    """Each label, in order, as the bytes of one label in the printer's language."""
    for start in range(0, len(labels), chunk):
        pdf = render_labels(labels[start : start + chunk], size=fmt.size)
        for bitmap in rasterise(pdf, dpi=fmt.dpi):
            yield label_bytes(
                bitmap, language=fmt.language, zpl_graphics=fmt.zpl_graphics, size=fmt.size
            )
