"""Reads of stock shared by pages, the API and reports."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, F, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Round
from django.utils import timezone

from inventory.models import Delivery, FarmerPayment, Lot, Sku, SkuComponent, StockMovement

ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=12, decimal_places=3))


def lot_list(*, filters: dict | None = None) -> QuerySet[Lot]:
    """Lots with everything a list shows, in first-expiry-first-out order."""
    return (
        Lot.objects.select_related("farmer", "product", "grade", "location")
        .filter(**(filters or {}))
        .order_by("expiry_date", "received_at", "id")
    )


def expired_lots() -> QuerySet[Lot]:
    """Lots past their expiry date that still hold kilograms: what is to be written off
    (what orders still hold of them first goes back, when those orders are allocated again).
    Longest expired first."""
    return lot_list().filter(pk__in=Lot.objects.expired().values("pk"))


@dataclass(frozen=True)
class LotFilters:
    """What a list of lots can be narrowed by, for the stock page and the lots API alike;
    empty values do not narrow."""

    stock: str = "with"  # "with": lots holding kilograms; "without": empty lots; "": both
    expiring_within: int | None = None  # days: lots with stock that expire by then
    product_id: int | None = None
    grade_id: int | None = None
    farmer_id: int | None = None
    location_id: int | None = None
    code: str = ""  # one lot, by its whole code
    q: str = ""  # part of the lot's code or of the farmer's name


def lots_filtered(filters: LotFilters, *, lots: QuerySet[Lot] | None = None) -> QuerySet[Lot]:
    """``lots`` (by default :func:`lot_list`) narrowed by ``filters``."""
    lots = lot_list() if lots is None else lots
    if filters.stock == "with":
        lots = lots.with_stock()
    elif filters.stock == "without":
        lots = lots.filter(on_hand_kg=0)
    if filters.expiring_within is not None:
        lots = lots.expiring_within(filters.expiring_within)
    for name in ("product_id", "grade_id", "farmer_id", "location_id"):
        value = getattr(filters, name)
        if value:
            lots = lots.filter(**{name: value})
    if filters.code:
        lots = lots.filter(code=filters.code)
    if filters.q:
        lots = lots.filter(Q(code__icontains=filters.q) | Q(farmer__name__icontains=filters.q))
    return lots


def lot_history(*, lot: Lot) -> QuerySet[StockMovement]:
    return lot.movements.select_related("acting_user").order_by("created_at", "id")


def stock_summary(*, lots: QuerySet[Lot] | None = None) -> QuerySet:
    """On-hand, reserved and available kg per product and grade, over lots with stock."""
    lots = Lot.objects.all() if lots is None else lots
    return (
        lots.filter(on_hand_kg__gt=0)
        .values("product_id", "product__name", "grade_id", "grade__name", "grade__rank")
        .annotate(
            total_on_hand_kg=Sum("on_hand_kg"),
            total_reserved_kg=Sum("reserved_kg"),
            total_available_kg=Sum(F("on_hand_kg") - F("reserved_kg")),
        )
        .order_by("product__name", "grade__rank", "grade__name")
    )


@dataclass(frozen=True)
class StockMismatch:
    lot_code: str
    cached_on_hand: Decimal
    ledger_on_hand: Decimal
    reserved: Decimal

    @property
    def problem(self) -> str:
        if self.cached_on_hand != self.ledger_on_hand:
            return "on-hand differs from ledger"
        return "reserved outside 0..on-hand"


def stock_mismatches() -> list[StockMismatch]:
    """Lots whose cached on-hand differs from the sum of their ledger, or whose reservation
    lies outside 0 ≤ reserved ≤ on-hand. An empty list means cache = ledger."""
    lots = (
        # Rounded to the gram: SQLite sums decimals as binary floats.
        Lot.objects.annotate(ledger=Round(Coalesce(Sum("movements__kg_delta"), ZERO), 3))
        .filter(
            ~Q(on_hand_kg=F("ledger")) | Q(reserved_kg__lt=0) | Q(reserved_kg__gt=F("on_hand_kg"))
        )
        .order_by("id")
    )
    return [StockMismatch(lot.code, lot.on_hand_kg, lot.ledger, lot.reserved_kg) for lot in lots]


def home_figures(*, user) -> dict:
    """The few numbers the home page shows every role."""
    today = timezone.localdate()
    deliveries_today = Delivery.objects.filter(received_at__date=today)
    kg_today = Lot.objects.filter(delivery__in=deliveries_today).aggregate(
        kg=Coalesce(Sum("received_kg"), ZERO)
    )["kg"]
    available = Lot.objects.aggregate(kg=Coalesce(Sum(F("on_hand_kg") - F("reserved_kg")), ZERO))
    return {
        "deliveries_today": deliveries_today.count(),
        "kg_today": kg_today,
        "available_kg": available["kg"],
        "expiring_lots": Lot.objects.expiring_within(2).count(),
    }


def delivery_with_lots() -> QuerySet:
    """Deliveries with their farmer, receiver and lots (product, grade, location) loaded."""
    lots = Lot.objects.select_related("product", "grade", "location", "farmer").order_by("id")
    return Delivery.objects.select_related("farmer", "received_by").prefetch_related(
        Prefetch("lots", queryset=lots)
    )


def recent_deliveries(*, limit: int = 5) -> list:
    return list(delivery_with_lots().order_by("-received_at", "-id")[:limit])


def farmer_payments(*, date_from=None, date_to=None) -> QuerySet[FarmerPayment]:
    """Payments to farmers, newest first, with the farmer and who recorded it; the payments
    page and the payments API read the same list."""
    payments = FarmerPayment.objects.select_related("farmer", "recorded_by").order_by(
        "-paid_on", "-pk"
    )
    if date_from:
        payments = payments.filter(paid_on__gte=date_from)
    if date_to:
        payments = payments.filter(paid_on__lte=date_to)
    return payments


# --- gift boxes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoxPart:
    """One component of a gift box, as allocation, pick lists and the station need it."""

    bundle_id: int
    sku_id: int
    merchant_code: str
    name: str
    product_id: int
    grade_id: int
    net_kg: Decimal  # of one unit of the component
    quantity: int  # units of it in one box

    @property
    def kg_per_box(self) -> Decimal:
        return self.net_kg * self.quantity


def box_parts(bundle_ids) -> dict[int, list[BoxPart]]:
    """The components of the given gift boxes, per box id, in the order they were set. One
    query (a subquery may stand for the ids)."""
    parts: dict[int, list[BoxPart]] = {}
    rows = (
        SkuComponent.objects.filter(bundle_id__in=bundle_ids)
        .order_by("bundle_id", "id")
        .values_list(
            "bundle_id",
            "component_id",
            "component__merchant_code",
            "component__name",
            "component__product_id",
            "component__grade_id",
            "component__net_kg",
            "quantity",
        )
    )
    for row in rows:
        parts.setdefault(row[0], []).append(BoxPart(*row))
    return parts


def sku_for_code(code: str) -> Sku | None:
    """The SKU a scanned or typed code names: its GTIN (EAN-13), or its merchant code in any
    case. An exact merchant code wins over one that differs only in case; a code two SKUs
    share in different cases names none (``None``), as does an unknown one."""
    code = (code or "").strip()
    if not code:
        return None
    skus = Sku.objects.select_related("product", "grade")
    found = skus.filter(gtin=code).first() or skus.filter(merchant_code=code).first()
    if found is not None:
        return found
    matches = list(skus.filter(merchant_code__iexact=code)[:2])
    return matches[0] if len(matches) == 1 else None
