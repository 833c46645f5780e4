"""Labels as a printer's bytes, one label at a time: drawn in chunks into one PDF each (the
fonts are embedded once a chunk) on the printer's own grid of dots, rasterised, encoded. A
generator, so a wave of a thousand labels streams to the printer while the next labels are
being drawn.

Drawing is Python (ReportLab) and holds the interpreter; rasterising (PDFium), compressing
(zlib) and sending (the socket) run in C and release it. So with more than one chunk, a
worker thread rasterises and encodes chunk *n* while this thread draws chunk *n + 1* and the
caller sends: on two cores, a batch costs about what drawing alone costs. At most two chunks
are in flight, so memory stays bounded whatever the batch.
"""

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from shipping.labels import LabelData, render_labels
from shipping.models import ZplGraphics
from shipping.printing.languages import label_bytes
from shipping.printing.raster import rasterise

__all__ = ["CHUNK", "PrinterFormat", "encode_pdf", "printer_labels"]

CHUNK = 50  # labels drawn into one PDF: the per-PDF cost (fonts) is spread, memory stays low


@dataclass(frozen=True)
class PrinterFormat:
    """What the bytes must be: language, resolution, the label stock loaded."""

    language: str
    dpi: int
    size: str
    zpl_graphics: str = ZplGraphics.Z64


def encode_pdf(pdf: bytes, fmt: PrinterFormat) -> list[bytes]:
    """Every page of a label PDF as one label in the printer's language."""
    return [
        label_bytes(bitmap, language=fmt.language, zpl_graphics=fmt.zpl_graphics, size=fmt.size)
        for bitmap in rasterise(pdf, dpi=fmt.dpi)
    ]


def printer_labels(
    labels: Sequence[LabelData], fmt: PrinterFormat, *, chunk: int = CHUNK
) -> Iterator[bytes]:
    """Each label, in order, as the bytes of one label in the printer's language."""
    parts = [labels[start : start + chunk] for start in range(0, len(labels), chunk)]
    if len(parts) <= 1:  # the packing station's one label: no thread to start
        for part in parts:
            yield from encode_pdf(render_labels(part, size=fmt.size, dpi=fmt.dpi), fmt)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="label-raster") as worker:
        in_flight: deque[Future] = deque()
        for part in parts:
            pdf = render_labels(part, size=fmt.size, dpi=fmt.dpi)
            in_flight.append(worker.submit(encode_pdf, pdf, fmt))
            if len(in_flight) > 1:
                yield from in_flight.popleft().result()
        while in_flight:
            yield from in_flight.popleft().result()
