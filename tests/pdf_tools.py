"""Open PDFs the way a person or a scanner would: read their text, render a page to an image
with poppler's ``pdftoppm``, decode the barcodes on it with ``zxingcpp``."""

import subprocess
import tempfile
from io import BytesIO
from pathlib import Path

import zxingcpp
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import DictionaryObject
from reportlab.lib.units import mm

__all__ = [
    "decode_barcodes",
    "embedded_font_files",
    "mm",
    "page_sizes",
    "page_texts",
    "read_pdf",
    "render_page",
]


def read_pdf(pdf: bytes) -> PdfReader:
    """The PDF opened by pypdf, strictly: a malformed file raises."""
    assert pdf.startswith(b"%PDF-"), pdf[:20]
    return PdfReader(BytesIO(pdf), strict=True)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in read_pdf(pdf).pages]


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    """(width, height) of each page in points."""
    return [
        (float(page.mediabox.width), float(page.mediabox.height)) for page in read_pdf(pdf).pages
    ]


def embedded_font_files(pdf: bytes) -> dict[str, str]:
    """Base font name → the kind of font program embedded for it (``FontFile2`` for TrueType),
    for every font that pages use and that carries its own outlines."""
    found: dict[str, str] = {}
    for page in read_pdf(pdf).pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for font_ref in fonts.values():
            font = font_ref.get_object()
            candidates = [font, *[f.get_object() for f in font.get("/DescendantFonts", [])]]
            for candidate in candidates:
                descriptor = candidate.get("/FontDescriptor")
                if descriptor is None:
                    continue
                descriptor = descriptor.get_object()
                assert isinstance(descriptor, DictionaryObject)
                for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                    if key in descriptor:
                        found[str(font["/BaseFont"])] = key.lstrip("/")
    return found


def render_page(pdf: bytes, page: int = 1, *, dpi: int = 300, gray: bool = True) -> Image.Image:
    """Page ``page`` (1-based) as poppler draws it at ``dpi``."""
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "in.pdf"
        source.write_bytes(pdf)
        command = ["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png"]
        if gray:
            command.append("-gray")
        subprocess.run(
            [*command, "-singlefile", str(source), str(Path(directory) / "out")],
            check=True,
            capture_output=True,
            timeout=60,
        )
        with Image.open(Path(directory) / "out.png") as image:
            image.load()
            return image


def decode_barcodes(image: Image.Image) -> list[tuple[str, str]]:
    """(format, text) of every barcode zxing finds, e.g. ``[("QRCode", "L2611-0042")]``."""
    return [(barcode.format.name, barcode.text) for barcode in zxingcpp.read_barcodes(image)]
