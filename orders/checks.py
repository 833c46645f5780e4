"""What orders adds to ``manage.py check_stock`` (registered in ``OrdersConfig.ready``)."""

from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from inventory.models import KG, Lot
from orders.lifecycle import HOLDS_STOCK
from orders.models import Allocation


def reservations_match_allocations() -> list[str]:
    """Every lot's ``reserved_kg`` must equal the kilograms that orders holding stock
    (``HOLDS_STOCK``) have allocated from it. One query, so it reads one consistent snapshot
    even while orders are being allocated."""
    held = (
        Allocation.objects.filter(lot=OuterRef("pk"), line__order__status__in=HOLDS_STOCK)
        .order_by()
        .values("lot")
        .annotate(kg=Sum("kg"))
        .values("kg")
    )
    zero = Value(Decimal("0"), output_field=DecimalField(**KG))
    lots = (
        Lot.objects.annotate(
            held_kg=Coalesce(Subquery(held, output_field=DecimalField(**KG)), zero)
        )
        .exclude(reserved_kg=F("held_kg"))
        .order_by("pk")
        .values_list("code", "reserved_kg", "held_kg")
    )
    return [
        f"{code}: reserved {reserved} kg, but orders holding stock have allocated {held_kg} kg"
        for code, reserved, held_kg in lots
    ]
