"""Reads of shipping that pages, PDFs, the CLI and the API share: which orders a wave would
take, waves with their progress, a wave's pick list, and parcels in pick order."""

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.db import column_values, quoted
from core.regions import canonical_province
from inventory.models import ZERO_KG
from inventory.selectors import box_parts
from orders.lifecycle import CLOSED, PACKABLE, PACKED_OR_LATER, SHIPPED_OR_LATER
from orders.models import Order, OrderLine, OrderStatus
from orders.selectors import held_stock_by_lot
from shipping.models import (
    Carrier,
    HandoverBatch,
    Parcel,
    ParcelItem,
    ParcelStatus,
    ShipmentReport,
    Wave,
    WaveOrder,
)

# Orders of a wave that have left the picking floor in a box.
DEFAULT_WAVE_SIZE = 200


# --- choosing orders for a wave --------------------------------------------------------------


@dataclass(frozen=True)
class WaveSelection:
    """What a new wave takes: allocated orders in no wave, narrowed by these (empty values do
    not narrow), oldest payment first, at most ``limit`` of them."""

    live_session_id: int | None = None
    channel_id: int | None = None
    merchant_code: str = ""
    province: str = ""
    carrier_id: int | None = None
    carrier_in_note: bool = False  # only orders whose buyer note names the carrier
    limit: int = DEFAULT_WAVE_SIZE

    def as_json(self) -> dict:
        """What the wave remembers of how it was chosen."""
        return {key: value for key, value in vars(self).items() if value not in (None, "", False)}


def wave_candidates(selection: WaveSelection) -> QuerySet[Order]:
    """Every order the selection matches, oldest payment first (``limit`` not applied, so
    the page can say how many match in all)."""
    in_wave = WaveOrder.objects.filter(order=OuterRef("pk"))
    orders = Order.objects.filter(status=OrderStatus.ALLOCATED).exclude(Exists(in_wave))
    if selection.live_session_id:
        orders = orders.filter(live_session_id=selection.live_session_id)
    if selection.channel_id:
        orders = orders.filter(channel_id=selection.channel_id)
    if selection.province:
        # Typed any way (浙江, 浙江省): orders hold the national divisions' names.
        orders = orders.filter(province=canonical_province(selection.province))
    if selection.merchant_code:
        lines = OrderLine.objects.filter(
            order=OuterRef("pk"), sku__merchant_code=selection.merchant_code
        )
        orders = orders.filter(Exists(lines))
    if selection.carrier_in_note and selection.carrier_id:
        carrier = Carrier.objects.get(pk=selection.carrier_id)
        orders = orders.filter(buyer_note__contains=carrier.name)
    return orders.order_by("paid_at", "pk")


# --- waves -----------------------------------------------------------------------------------


def _count_per_wave(rows: QuerySet) -> Coalesce:
    """How many of ``rows`` (filtered on ``wave=OuterRef("pk")``) each wave has."""
    counted = rows.order_by().values("wave").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def wave_list(*, with_parcel_count: bool = False) -> QuerySet[Wave]:
    """Waves, newest first, each with ``order_count``, ``packed_count``,
    ``cancelled_count`` (and ``parcel_count`` when asked) computed in the same query.

    Each count is a subquery of its own rather than a join: joining a wave's orders and its
    parcels at once would multiply them, and the paginator counts the waves alone."""
    wave_orders = WaveOrder.objects.filter(wave=OuterRef("pk"))
    waves = Wave.objects.select_related("carrier", "created_by").annotate(
        order_count=_count_per_wave(wave_orders),
        packed_count=_count_per_wave(wave_orders.filter(order__status__in=PACKED_OR_LATER)),
        cancelled_count=_count_per_wave(wave_orders.filter(order__status__in=CLOSED)),
    )
    if with_parcel_count:
        waves = waves.annotate(
            parcel_count=_count_per_wave(Parcel.objects.filter(wave=OuterRef("pk")))
        )
    return waves.order_by("-created_at", "-id")


def wave_orders(wave: Wave) -> QuerySet[Order]:
    """A wave's orders in pick order (``wave_position`` annotated), their parcels and lines
    (with SKU) loaded: two prefetch queries per page, whatever the orders."""
    lines = OrderLine.objects.select_related("sku").order_by("id")
    return (
        Order.objects.filter(wave_order__wave=wave)
        .select_related("channel")
        .prefetch_related("parcels", Prefetch("lines", queryset=lines))
        .annotate(wave_position=F("wave_order__position"))
        .order_by("wave_order__position")
    )


def wave_parcel_counts(wave: Wave) -> dict[str, int]:
    """``parcels`` packed in the wave and how many of them are ``unprinted``, in one query."""
    return wave.parcels.aggregate(
        parcels=Count("id"), unprinted=Count("id", filter=Q(label_printed_at__isnull=True))
    )


# --- pick list -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PickRow:
    location_code: str
    location_name: str
    lot_code: str
    farmer_name: str
    sku_name: str
    merchant_code: str
    kg: Decimal
    units: Decimal  # kg ÷ the SKU's net kg: whole unless a unit is split between two lots
    expiry_date: date | None = None
    box_name: str = ""  # the gift box this component goes into ("" for a plain SKU)
    barcode_value: str = ""  # the SKU's GTIN, else its merchant code (``Sku.barcode_value``)

    @property
    def whole_units(self) -> bool:
        return self.units == self.units.to_integral_value()

    @property
    def expired(self) -> bool:
        """Past the lot's expiry date: not to be picked (``orders.lifecycle``)."""
        return self.expiry_date is not None and self.expiry_date < timezone.localdate()


@dataclass(frozen=True)
class PickTotals:
    kg: Decimal
    units: Decimal
    rows: int


def pick_rows(wave: Wave) -> list[PickRow]:
    """What to take from where for a wave: the kilograms still reserved for its orders,
    summed per location, then lot, then SKU, in that order. One grouped query, and one more
    for the components when a gift box is among them: a box's rows name the component its
    lot serves (units of the component), and the box. Orders already packed have consumed
    their reservation and are not on it."""
    grouped = list(held_stock_by_lot(orders=Order.objects.filter(wave_order__wave=wave)))
    boxes = {row["line__sku_id"] for row in grouped if row["line__sku__is_bundle"]}
    parts = {
        (box_id, part.product_id, part.grade_id): part
        for box_id, box in (box_parts(boxes) if boxes else {}).items()
        for part in box
    }
    rows = []
    for row in grouped:
        kg = Decimal(row["kg"]).quantize(Decimal("0.001"))  # SQLite sums as float
        name, code, net_kg, box_name = (
            row["line__sku__name"],
            row["line__sku__merchant_code"],
            row["line__sku__net_kg"],
            "",
        )
        part = parts.get((row["line__sku_id"], row["lot__product_id"], row["lot__grade_id"]))
        if part is not None:
            name, code, net_kg, box_name = part.name, part.merchant_code, part.net_kg, name
        units = (kg / net_kg).quantize(Decimal("0.01"))
        rows.append(
            PickRow(
                location_code=row["lot__location__code"],
                location_name=row["lot__location__name"],
                lot_code=row["lot__code"],
                farmer_name=row["lot__farmer__name"],
                sku_name=name,
                merchant_code=code,
                barcode_value=(row["line__sku__gtin"] if part is None else "") or code,
                kg=kg,
                units=units.normalize() if units == units.to_integral_value() else units,
                expiry_date=row["lot__expiry_date"],
                box_name=box_name,
            )
        )
    return rows


def pick_totals(rows: list[PickRow]) -> PickTotals:
    return PickTotals(
        kg=sum((row.kg for row in rows), ZERO_KG),
        units=sum((row.units for row in rows), Decimal("0")),
        rows=len(rows),
    )


# --- parcels for label batches ---------------------------------------------------------------


@dataclass(frozen=True)
class ParcelFilters:
    """Which parcels a label batch prints; empty values do not narrow."""

    wave_code: str = ""
    carrier_code: str = ""
    packed_on: date | None = None
    unprinted: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.wave_code or self.carrier_code or self.packed_on or self.unprinted)


def order_parcel_ids(order_id: int) -> list[int]:
    """The ids of every parcel of an order, oldest first: its own, and those that hold its
    items (a box of merged orders belongs to the first order; the others' items are in it).
    The two are read by their indexes and joined (``UNION``): an ``OR`` across the join would
    read every parcel and item, a cost that grows with each box packed."""
    return sorted(set(column_values(_order_parcel_ids_sql(), [order_id, order_id])))


@functools.cache
def _order_parcel_ids_sql() -> str:
    # Written once: it runs in every pack (core.db.column_values).
    return (
        f"SELECT {quoted(Parcel, 'id')} FROM {quoted(Parcel)} WHERE {quoted(Parcel, 'order')} = %s "
        f"UNION SELECT i.{quoted(ParcelItem, 'parcel')} FROM {quoted(ParcelItem)} i "
        f"JOIN {quoted(OrderLine)} l "
        f"ON l.{quoted(OrderLine, 'id')} = i.{quoted(ParcelItem, 'line')} "
        f"WHERE l.{quoted(OrderLine, 'order')} = %s"
    )


def order_parcels(order_id: int) -> QuerySet[Parcel]:
    """Every parcel of an order (``order_parcel_ids``), as a queryset to filter further."""
    return Parcel.objects.filter(pk__in=order_parcel_ids(order_id))


def parcel_order_ids(parcel_id: int) -> list[int]:
    """The orders of a parcel: its own, and those whose items it holds (more than one when
    orders were merged), by id. Read by the indexes, as ``order_parcels``."""
    own = Parcel.objects.filter(pk=parcel_id).order_by().values_list("order_id", flat=True)
    items = (
        ParcelItem.objects.filter(parcel_id=parcel_id)
        .order_by()
        .values_list("line__order_id", flat=True)
    )
    return sorted(set(own.union(items).order_by()))


def parcels_filtered(filters: ParcelFilters) -> QuerySet[Parcel]:
    """Parcels in pick order: by wave, then the order's place in its wave; parcels packed
    outside a wave after them, by packing time."""
    parcels = Parcel.objects.all()
    if filters.wave_code:
        parcels = parcels.filter(wave__code=filters.wave_code)
    if filters.carrier_code:
        parcels = parcels.filter(carrier__code=filters.carrier_code)
    if filters.packed_on:
        start = timezone.make_aware(datetime.combine(filters.packed_on, time.min))
        parcels = parcels.filter(packed_at__gte=start, packed_at__lt=start + timedelta(days=1))
    if filters.unprinted:
        parcels = parcels.filter(label_printed_at__isnull=True)
    return parcels.order_by(
        F("wave_id").asc(nulls_last=True),
        F("order__wave_order__position").asc(nulls_last=True),
        "sequence",
        "packed_at",
        "pk",
    )


# --- handover --------------------------------------------------------------------------------


def parcels_by_ids(ids: list[int]) -> list[Parcel]:
    """Parcels in the order of ``ids`` (those that still exist), order and carrier joined."""
    found = Parcel.objects.select_related("order", "carrier").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def parcels_waiting_by_carrier() -> dict[int, int]:
    """Carrier id → packed parcels not handed over yet (one grouped query)."""
    rows = (
        Parcel.objects.filter(status=ParcelStatus.PACKED, handover_scan__isnull=True)
        .values("carrier")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["carrier"]: row["n"] for row in rows}


def handover_batches(*, open_: bool | None = None) -> QuerySet[HandoverBatch]:
    """Handover batches with their carrier, starter and parcel count; open ones, closed ones
    or (``None``) all, newest first."""
    batches = HandoverBatch.objects.all()
    if open_ is not None:
        batches = batches.filter(closed_at__isnull=open_)
    return (
        batches.select_related("carrier", "started_by", "closed_by")
        .annotate(parcel_count=Count("scans"))
        .order_by("-started_at", "-id")
    )


def handover_parcels(batch: HandoverBatch) -> QuerySet[Parcel]:
    """The parcels of a batch in scan order, order and carrier joined."""
    return (
        Parcel.objects.filter(handover_scan__batch=batch)
        .select_related("order", "carrier", "handover_scan")
        .order_by("handover_scan__scanned_at", "handover_scan__id")
    )


def packing_backlog() -> dict[str, int]:
    """What waits for the packing area: orders to pack, allocated orders in no wave yet, and
    packed parcels still to hand over (the packer's home page)."""
    return {
        "orders_to_pack": Order.objects.filter(status__in=PACKABLE).count(),
        "orders_without_wave": Order.objects.filter(
            status=OrderStatus.ALLOCATED, wave_order__isnull=True
        ).count(),
        "parcels_to_hand_over": Parcel.objects.filter(status=ParcelStatus.PACKED).count(),
    }


# --- ship-back -------------------------------------------------------------------------------


def shipments_waiting() -> list[dict]:
    """Per channel: the handed-over parcels and orders not yet reported to its platform, and
    the payment of the oldest of them (the platform's late-shipment clock starts there). One
    grouped query."""
    rows = (
        Parcel.objects.filter(reported_at__isnull=True, order__status__in=SHIPPED_OR_LATER)
        .exclude(status=ParcelStatus.PACKED)
        .values("order__channel__code", "order__channel__name")
        .annotate(
            parcels=Count("pk"),
            orders=Count("order", distinct=True),
            oldest_paid=Min("order__paid_at"),
        )
        .order_by("order__channel__code")
    )
    now = timezone.now()
    return [
        {
            "code": row["order__channel__code"],
            "name": row["order__channel__name"],
            "parcels": row["parcels"],
            "orders": row["orders"],
            "oldest_paid": row["oldest_paid"],
            "hours": int((now - row["oldest_paid"]).total_seconds() // 3600),
        }
        for row in rows
    ]


def shipment_reports() -> QuerySet[ShipmentReport]:
    """Ship-back reports, newest first, with their channel and who made them."""
    return ShipmentReport.objects.select_related("channel", "created_by").order_by(
        "-created_at", "-id"
    )
