"""Barcode values: the check digit of a GTIN (EAN-13) and which symbology draws a value. The
drawing itself lives in ``core.pdf``."""

import re

EAN13 = re.compile(r"^\d{13}$")


def gtin_check_digit(digits: str) -> int:
    """The GS1 check digit of ``digits`` (the GTIN without its last digit): weights 3 and 1
    alternate from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def is_ean13(value: str) -> bool:
    """Thirteen digits whose last is the right check digit."""
    return bool(EAN13.match(value)) and gtin_check_digit(value[:12]) == int(value[12])
