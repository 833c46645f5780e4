"""Weights and prices per unit in templates, in the studio's unit (``core.units``).

``{% load units %}``, then ``{{ lot.received_kg|weight:weight_unit }}`` → "12.5 斤",
``{{ lot.received_kg|weight_number:weight_unit }}`` → "12.5",
``{{ lot.price_per_kg|unit_price:weight_unit }}`` → "¥3.55/斤" and
``{{ lot.price_per_kg|unit_price_number:weight_unit }}`` → "3.55". ``weight_unit`` comes from
the ``core.context_processors.weight_unit`` context processor (read once, when first used)."""

from decimal import Decimal, InvalidOperation

from django import template

from core import units

register = template.Library()


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def weight(kg, unit=units.WeightUnit.KG) -> str:
    value = _decimal(kg)
    return "" if value is None else units.format_weight(value, unit)


@register.filter
def weight_number(kg, unit=units.WeightUnit.KG) -> str:
    value = _decimal(kg)
    return "" if value is None else units.format_weight_number(value, unit)


@register.filter
def unit_price(price_per_kg, unit=units.WeightUnit.KG) -> str:
    value = _decimal(price_per_kg)
    return "" if value is None else units.format_unit_price(value, unit)


@register.filter
def unit_price_number(price_per_kg, unit=units.WeightUnit.KG) -> str:
    value = _decimal(price_per_kg)
    return "" if value is None else units.format_unit_price_number(value, unit)


@register.filter
def unit_label(unit) -> str:
    return units.unit_label(unit)
