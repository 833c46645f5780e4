"""Kilograms and 斤: what the studio weighs in, and how a typed weight or price becomes the
kilograms stored.

Storage never changes: weights are kilograms (``Decimal``, 3 places), prices are yuan per
kilogram (2 places). The studio's unit (``StudioSettings.weight_unit``) only decides what the
intake desk asks for and what pages and printouts show. 1 斤 = 0.5 kg exactly (the market
jin of 1959), so every conversion here is a multiplication or a division by 2 of a
``Decimal``: exact, never rounded.

- A weight typed in 斤 with at most 2 places is at most 3 places in kg: stored exactly, and
  shown back as the very number typed. A stored kg weight (3 places) is at most 3 places in 斤.
- A price typed per 斤 doubles per kg: 2 places stay 2 places. A stored price per kg halves
  per 斤: at most 3 places (¥7.15/kg is ¥3.575/斤), shown in full rather than rounded.
"""

from decimal import Decimal

from django.db import models
from django.utils.translation import pgettext_lazy

JIN_KG = Decimal("0.5")
KG_PLACES = 3
PRICE_PLACES = 2


class WeightUnit(models.TextChoices):
    KG = "kg", pgettext_lazy("unit", "kg")
    JIN = "jin", pgettext_lazy("unit", "斤")


# The places a weight or a price may be typed with in each unit so that the kilograms stored
# hold it exactly.
WEIGHT_INPUT_PLACES = {WeightUnit.KG: KG_PLACES, WeightUnit.JIN: KG_PLACES - 1}
PRICE_INPUT_PLACES = {WeightUnit.KG: PRICE_PLACES, WeightUnit.JIN: PRICE_PLACES + 1}


class InexactConversion(ValueError):
    """The value cannot be stored in kilograms without rounding."""


def _unit(unit) -> WeightUnit:
    return WeightUnit(str(unit))


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def kg_from(value: Decimal, unit) -> Decimal:
    """Kilograms of a weight typed in ``unit``. Raises ``InexactConversion`` when the result
    would need more than 3 places (more than 2 places typed in 斤)."""
    kg = value * JIN_KG if _unit(unit) == WeightUnit.JIN else value
    if _places(kg) > KG_PLACES:
        raise InexactConversion(value)
    return kg


def kg_to(kg: Decimal, unit) -> Decimal:
    """A stored kilogram weight in ``unit``: exact (2 × kg for 斤)."""
    return kg / JIN_KG if _unit(unit) == WeightUnit.JIN else kg


def price_per_kg_from(price: Decimal, unit) -> Decimal:
    """Yuan per kilogram of a price typed per ``unit``. Raises ``InexactConversion`` when the
    price per kg would need more than 2 places (¥3.573/斤)."""
    per_kg = price / JIN_KG if _unit(unit) == WeightUnit.JIN else price
    if _places(per_kg) > PRICE_PLACES:
        raise InexactConversion(price)
    return per_kg


def price_per_kg_to(price_per_kg: Decimal, unit) -> Decimal:
    """A stored price per kilogram, per ``unit``: exact (half of it per 斤)."""
    return price_per_kg * JIN_KG if _unit(unit) == WeightUnit.JIN else price_per_kg


def format_weight_number(kg: Decimal, unit) -> str:
    """1,234.5 — the weight in ``unit``, exact, without trailing zeros."""
    value = kg_to(Decimal(kg), unit).quantize(Decimal("0.001"))
    text = f"{value:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_weight(kg: Decimal, unit) -> str:
    """12.5 斤 / 6.25 kg."""
    return f"{format_weight_number(kg, unit)} {_unit(unit).label}"


def format_unit_price_number(price_per_kg: Decimal, unit) -> str:
    """7.10 per kg; 3.55 or 3.575 per 斤: at least 2 places, more only when the price has
    them (never rounded)."""
    price = price_per_kg_to(Decimal(price_per_kg), unit)
    places = max(PRICE_PLACES, _places(price))
    return f"{price:,.{places}f}"


def format_unit_price(price_per_kg: Decimal, unit) -> str:
    """¥3.55/斤 / ¥7.10/kg."""
    return f"¥{format_unit_price_number(price_per_kg, unit)}/{_unit(unit).label}"


def unit_label(unit) -> str:
    return str(_unit(unit).label)


__all__ = [
    "JIN_KG",
    "InexactConversion",
    "WeightUnit",
    "format_unit_price",
    "format_weight",
    "kg_from",
    "kg_to",
    "price_per_kg_from",
    "price_per_kg_to",
    "unit_label",
]
