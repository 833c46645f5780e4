"""Every write of shipping: waybill pools, waves, packing, parcel status and tracking, returns.

Orders move only through ``orders.lifecycle``: a wave asks ``orders_pick``, packing asks
``orders_pack`` (which consumes what the orders hold and hands back the items for the box), a
parcel's status asks ``orders_lock`` then ``orders_mark_shipped``/``orders_mark_delivered``,
a return ``orders.aftersales.orders_goods_returned`` (refunds by line), a reshipment
``orders_reship``. Shipping never locks an ``Order`` and never touches an
``Allocation``. Stock leaves or comes back only through ``inventory.services``. Locks follow
the lock order of ``orders.lifecycle``: Order → Lot → Parcel → Wave, each by primary key;
waybill numbers are claimed first with ``SKIP LOCKED``, which never waits.
"""

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.db import column_values, for_update, insert_rows, quoted
from core.errors import DomainError
from inventory.services import Reservation, next_codes, stock_return, stock_ship_out
from orders.aftersales import after_sale_reshipped, orders_goods_returned, orders_reship
from orders.importers.reading import clean_header, excerpt, read_table, upload_limits
from orders.lifecycle import (
    PackedItem,
    PackItem,
    orders_lock,
    orders_mark_delivered,
    orders_mark_shipped,
    orders_pack,
    orders_pick,
)
from orders.models import Order, OrderLine, OrderStatus
from orders.selectors import held_stock
from shipping.models import (
    PARCEL_TRANSITIONS,
    Carrier,
    HandoverBatch,
    HandoverScan,
    Parcel,
    ParcelItem,
    ParcelStatus,
    ReturnDisposition,
    ReturnLine,
    TrackingEvent,
    Wave,
    WaveOrder,
    WaveStatus,
    WaybillNumber,
    WaybillPool,
)
from shipping.selectors import order_parcel_ids, order_parcels, parcel_order_ids
from shipping.waybills import services as waybills  # a module: the pool source imports this one

TRACKING_NUMBER = re.compile(r"^[A-Za-z0-9-]{6,40}$")


# --- waybill numbers -------------------------------------------------------------------------


@transaction.atomic
def waybill_pool_import(
    *, carrier: Carrier, numbers: Iterable[str], file_name: str = "", acting_user
) -> tuple[WaybillPool, int, int]:
    """Store the numbers a carrier issued. Numbers already known are skipped, not doubled.
    Returns the pool, how many were added and how many were already there."""
    cleaned = []
    for index, raw in enumerate(numbers, start=1):
        number = raw.strip().lstrip("'\t")
        if not number:
            continue
        if not TRACKING_NUMBER.match(number):
            raise DomainError(
                _("Line %(line)d: “%(number)s” is not a waybill number.")
                % {"line": index, "number": number[:40]},
                field="numbers",
            )
        cleaned.append(number)
    unique = list(dict.fromkeys(cleaned))
    if not unique:
        raise DomainError(_("The file holds no waybill numbers."), field="numbers")
    known = set(
        WaybillNumber.objects.filter(carrier=carrier, number__in=unique).values_list(
            "number", flat=True
        )
    )
    # A number scanned onto a parcel before its pool arrived must not be handed out again.
    known |= set(
        Parcel.objects.filter(carrier=carrier, tracking_number__in=unique).values_list(
            "tracking_number", flat=True
        )
    )
    pool = WaybillPool.objects.create(carrier=carrier, file_name=file_name, imported_by=acting_user)
    fresh = [n for n in unique if n not in known]
    WaybillNumber.objects.bulk_create(
        [WaybillNumber(pool=pool, carrier=carrier, number=n) for n in fresh], batch_size=2000
    )
    return pool, len(fresh), len(known) + (len(cleaned) - len(unique))


@transaction.atomic
def waybill_take(*, carrier: Carrier) -> str:
    """The carrier's next free waybill number, taken for good. Concurrent callers each get a
    different number: the row is locked (``SKIP LOCKED`` on PostgreSQL, so they do not queue
    behind each other) and marked taken in the same transaction."""
    return _take_waybill(carrier)


def _take_waybill(carrier: Carrier) -> str:
    """``waybill_take`` inside a transaction the caller already holds (no savepoint). On
    PostgreSQL one statement claims the first free number (``UPDATE … WHERE id = (SELECT …
    FOR UPDATE SKIP LOCKED) RETURNING``); elsewhere a locked read, then the update."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(WaybillNumber._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET taken_at = %s WHERE id = ("
                f"SELECT id FROM {table} WHERE carrier_id = %s AND taken_at IS NULL "
                "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING number",
                [now, carrier.pk],
            )
            row = cursor.fetchone()
        if row is None:
            raise _pool_empty(carrier)
        return row[0]
    free = WaybillNumber.objects.filter(carrier=carrier, taken_at__isnull=True).order_by("id")
    waybill = free.select_for_update(skip_locked=True).first()
    if waybill is None:
        raise _pool_empty(carrier)
    updated = WaybillNumber.objects.filter(pk=waybill.pk, taken_at__isnull=True).update(
        taken_at=now
    )
    if updated != 1:  # only possible where row locks are not real (never on PostgreSQL)
        raise DomainError(_("The waybill number was taken meanwhile; try again."))
    return waybill.number


def _pool_empty(carrier: Carrier) -> DomainError:
    return DomainError(
        _("No free waybill numbers for %(carrier)s: import a new pool.")
        % {"carrier": carrier.name},
        field="tracking_number",
        code="pool_empty",
    )


def _claim_scanned(carrier: Carrier, number: str) -> list[str]:
    """Take a number scanned from a pre-printed waybill: refuse one already on a parcel, mark
    it taken in its pool if it is there (``SKIP LOCKED``: never waits; a packer claiming the
    same number this instant is stopped by the parcel's unique number). Returns warnings."""
    if not TRACKING_NUMBER.match(number):
        raise DomainError(_("That is not a tracking number."), field="tracking_number")
    if Parcel.objects.filter(carrier=carrier, tracking_number=number).exists():
        raise DomainError(
            _("Tracking number %(number)s is already on another parcel.") % {"number": number},
            field="tracking_number",
        )
    waybill = (
        WaybillNumber.objects.filter(carrier=carrier, number=number, taken_at__isnull=True)
        .select_for_update(skip_locked=True)
        .first()
    )
    if waybill is not None:
        WaybillNumber.objects.filter(pk=waybill.pk).update(taken_at=timezone.now())
    warning = tracking_number_warning(carrier, number)
    return [warning] if warning else []


# --- waves -----------------------------------------------------------------------------------


@transaction.atomic
def wave_create(
    *,
    orders: Iterable[Order],
    acting_user,
    carrier: Carrier | None = None,
    selection: dict | None = None,
    note: str = "",
) -> Wave:
    """Put allocated orders that are in no wave yet into a new wave: orders moves them to
    picking (``orders_pick``, which locks them and leaves out any that moved on meanwhile),
    first paid first. Orders that do not qualify are left out; a wave with no order is
    refused. A fixed number of statements however many orders."""
    ids = [order.pk for order in orders]
    (code,) = next_codes(f"W{timezone.localtime().strftime('%y%m')}", 1)
    in_no_wave = Order.objects.filter(pk__in=ids, wave_order__isnull=True).values("pk")
    picked = orders_pick(order_ids=in_no_wave, acting_user=acting_user, note=code)
    if not picked:
        raise DomainError(_("None of these orders is allocated and waiting for a wave."))
    wave = Wave.objects.create(
        code=code, carrier=carrier, selection=selection or {}, created_by=acting_user, note=note
    )
    WaveOrder.objects.bulk_create(
        [
            WaveOrder(wave=wave, order=order, position=position)
            for position, order in enumerate(picked, start=1)
        ]
    )
    picked_status = {order.pk: order.status for order in picked}
    for order in orders:
        order.status = picked_status.get(order.pk, order.status)
    return wave


def _close_wave_if_done(wave: Wave | None) -> None:
    """Close the wave when none of its orders is still being picked. The wave row is locked
    first: two packers finishing its last two orders at once then decide one after the
    other, and the second sees the first's packed order."""
    if wave is None:
        return
    if column_values(_lock_wave_sql(), [wave.pk]) != [WaveStatus.PICKING]:
        return
    if not _wave_still_picking(wave.pk):
        Wave.objects.filter(pk=wave.pk).update(status=WaveStatus.DONE)


@functools.cache
def _lock_wave_sql() -> str:
    """A wave's status, read under its lock: written once, as it runs in every pack."""
    return (
        f"SELECT {quoted(Wave, 'status')} FROM {quoted(Wave)} "
        f"WHERE {quoted(Wave)}.{quoted(Wave, 'id')} = %s{for_update()}"
    )


def _wave_still_picking(wave_id: int) -> bool:
    """Whether an order of the wave is still being picked. Its orders are read by position,
    last first (packers work down the pick list, so the last one is usually still picking),
    each order's status looked up by primary key: a scalar subquery, which PostgreSQL never
    turns into a join. A join would let the planner read every picking order of the day
    instead of the wave's few hundred when its statistics are stale, as they are right after
    a livestream's orders move to picking."""
    return bool(column_values(_wave_still_picking_sql(), [wave_id, OrderStatus.PICKING]))


@functools.cache
def _wave_still_picking_sql() -> str:
    # Written once: it runs in every pack (core.db.column_values).
    return (
        f"SELECT w.{quoted(WaveOrder, 'id')} FROM {quoted(WaveOrder)} w "
        f"WHERE w.{quoted(WaveOrder, 'wave')} = %s AND (SELECT o.{quoted(Order, 'status')} "
        f"FROM {quoted(Order)} o WHERE o.{quoted(Order, 'id')} = w.{quoted(WaveOrder, 'order')}) "
        f"= %s ORDER BY w.{quoted(WaveOrder, 'position')} DESC LIMIT 1"
    )


# --- packing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightCheck:
    expected_kg: Decimal
    low_kg: Decimal
    high_kg: Decimal

    def warning(self, weight_kg: Decimal) -> str:
        if self.low_kg <= weight_kg <= self.high_kg:
            return ""
        return _("%(weight)s kg is outside the expected %(low)s–%(high)s kg.") % {
            "weight": weight_kg,
            "low": self.low_kg,
            "high": self.high_kg,
        }


def expected_weight(orders: Sequence[Order]) -> WeightCheck:
    """Net kg + packaging of every line, ± the SKUs' tolerances added up."""
    return _weight_check(line for order in orders for line in order.lines.all())


def _weight_check(lines: Iterable[OrderLine]) -> WeightCheck:
    expected = tolerance = Decimal("0")
    for line in lines:
        expected += line.kg + line.sku.packaging_kg * line.quantity
        tolerance += line.sku.weight_tolerance_kg
    return WeightCheck(expected, max(Decimal("0"), expected - tolerance), expected + tolerance)


def tracking_number_warning(carrier: Carrier, number: str) -> str:
    if carrier.tracking_pattern and not re.fullmatch(carrier.tracking_pattern, number):
        return _("%(number)s does not look like a %(carrier)s number.") % {
            "number": number,
            "carrier": carrier.name,
        }
    return ""


@dataclass
class PackResult:
    parcel: Parcel
    warnings: list[str]
    complete: bool = True  # False: the orders have units left for another box


def _items_weight_check(items: Iterable[PackedItem]) -> WeightCheck:
    """Net kg + packaging of the units in this box, ± each line's SKU tolerance."""
    return _kg_weight_check((item.line, item.kg) for item in items)


def _kg_weight_check(pairs: Iterable[tuple[OrderLine, Decimal]]) -> WeightCheck:
    kg_by_line: dict[int, Decimal] = {}
    lines: dict[int, OrderLine] = {}
    for line, kg in pairs:
        kg_by_line[line.pk] = kg_by_line.get(line.pk, Decimal("0")) + kg
        lines[line.pk] = line
    expected = tolerance = Decimal("0")
    for line_id, kg in kg_by_line.items():
        line = lines[line_id]
        units = (kg * line.quantity / line.kg).to_integral_value()
        expected += kg + line.sku.packaging_kg * units
        tolerance += line.sku.weight_tolerance_kg
    expected = expected.quantize(Decimal("0.001"))
    return WeightCheck(expected, max(Decimal("0"), expected - tolerance), expected + tolerance)


def box_weight_check(
    *, order: Order, merge: Sequence[Order] = (), items: Sequence[PackItem] | None = None
) -> WeightCheck | None:
    """What the box about to be packed should weigh, read without a lock: everything the
    orders still hold (``items`` None), or the given units of their lines. None when one of
    the orders holds nothing."""
    ids = [order.pk, *(other.pk for other in merge)]
    held = list(held_stock().filter(line__order_id__in=ids))
    if {allocation.line.order_id for allocation in held} != set(ids):
        return None  # an order holds nothing: orders_pack says why, not the scale
    if items is None:
        return _kg_weight_check((allocation.line, allocation.kg) for allocation in held)
    lines = {allocation.line_id: allocation.line for allocation in held}
    return _kg_weight_check(
        (lines[item.line_id], lines[item.line_id].kg * item.units / lines[item.line_id].quantity)
        for item in items
        if item.line_id in lines and item.units > 0
    )


def _valid_weight(weight_kg: Decimal) -> Decimal:
    if weight_kg <= 0 or weight_kg.as_tuple().exponent < -3:
        raise DomainError(
            _("Enter the parcel's weight in kg (up to 3 decimals)."), field="weight_kg"
        )
    return weight_kg


def _reason(text: str) -> str:
    """The packer's reason for a weight outside the band, on one line."""
    return " ".join(text.split())[:200]


def _outside_band(check: WeightCheck | None, weight_kg: Decimal, reason: str) -> str:
    """The warning for a weight outside the band ("" inside it, or with no band to check);
    refused (``weight_outside_band``) unless the packer said why."""
    warning = check.warning(weight_kg) if check is not None else ""
    if warning and not reason:
        raise _weight_refused(warning)
    return warning


def _weight_refused(warning: str) -> DomainError:
    return DomainError(
        _("%(warning)s Weigh the box again, or say why it is right and pack.")
        % {"warning": warning},
        field="weight_kg",
        code="weight_outside_band",
    )


def _number_the_box(
    primary: Order, *, complete: bool, planned: int | None
) -> tuple[int, int, list[int]]:
    """This box's number in the order, how many boxes the order has (``1/2``) and the ids of
    its earlier boxes. A read under the order's lock, which orders every box of one order:
    the earlier boxes are renumbered later (``_renumber_earlier``), after the lots, in the
    lock order."""
    earlier = order_parcel_ids(primary.pk)
    sequence = len(earlier) + 1
    count = sequence if complete else max(planned or 0, sequence + 1)
    return sequence, count, earlier


def _renumber_earlier(earlier: Sequence[int], count: int) -> list[str]:
    """Give the order's earlier boxes its count of boxes; a label already printed with
    another count is named, to be printed again. Locks those parcels by primary key."""
    if not earlier:
        return []
    stale = list(
        Parcel.objects.select_for_update()
        .filter(pk__in=earlier)
        .exclude(parcel_count=count)
        .order_by("pk")
    )
    warnings = [
        _("The label of box %(box)s says %(old)s: print it again (%(new)s).")
        % {
            "box": parcel.sequence,
            "old": f"{parcel.sequence}/{parcel.parcel_count}",
            "new": f"{parcel.sequence}/{count}",
        }
        for parcel in stale
        if parcel.label_printed_at is not None
    ]
    Parcel.objects.filter(pk__in=[parcel.pk for parcel in stale]).update(parcel_count=count)
    return warnings


def parcel_pack(
    *, order: Order, carrier: Carrier, tracking_number: str = "", sorting_code: str = "", **options
) -> PackResult:
    """Pack a parcel (``_parcel_pack``). Without a scanned number, a carrier whose waybill
    source is a service (``shipping.waybills``) gets its number, sorting code and privacy
    label from that service first, before any row is locked (``waybill_for_packing``) — and
    before that, a weight outside what the box should hold is refused, read without a lock,
    so that no number is asked for a box that will not be packed; a pack that fails then
    cancels the number. Pool and scanned numbers are taken inside the transaction, which a
    refusal rolls back: the weight is checked there only once, under the orders' locks."""
    if not waybills.issues_numbers(carrier=carrier, scanned=tracking_number):
        return _parcel_pack(
            order=order,
            carrier=carrier,
            tracking_number=tracking_number,
            sorting_code=sorting_code,
            **options,
        )
    _outside_band(
        box_weight_check(order=order, merge=options.get("merge", ()), items=options.get("items")),
        _valid_weight(options["weight_kg"]),
        _reason(options.get("weight_reason", "")),
    )
    issued = waybills.waybill_for_packing(carrier=carrier, order=order, scanned=tracking_number)
    if issued is None:  # the service was switched off meanwhile: a pool number, then
        return _parcel_pack(order=order, carrier=carrier, sorting_code=sorting_code, **options)
    try:
        result = _parcel_pack(
            order=order,
            carrier=carrier,
            tracking_number=issued.number,
            sorting_code=sorting_code or issued.sorting_code[:30],
            **options,
        )
    except BaseException:
        waybills.waybill_void(carrier=carrier, number=issued.number)
        raise
    if issued.virtual_number:
        Parcel.objects.filter(pk=result.parcel.pk).update(virtual_number=issued.virtual_number)
        result.parcel.virtual_number = issued.virtual_number
    return result


@transaction.atomic
def _parcel_pack(
    *,
    order: Order,
    carrier: Carrier,
    weight_kg: Decimal,
    acting_user,
    tracking_number: str = "",
    sorting_code: str = "",
    merge: Sequence[Order] = (),
    items: Sequence[PackItem] | None = None,
    weight_reason: str = "",
    parcel_count: int | None = None,
) -> PackResult:
    """Pack an allocated (or picking) order — and, if given, other orders to the same
    recipient and address — into one parcel: everything it holds, or only ``items`` (units
    of its lines) when the order goes into several boxes. Orders consumes what goes in
    (``orders_pack``: the orders are locked and move to packed, or stay picking while units
    are left); the items' kilograms leave the ledger as ``ship_out`` in this transaction; the
    parcel records which lots went in, what it should weigh and its number among the order's
    boxes (``sequence``/``parcel_count``; ``parcel_count`` is the packer's plan, at least one
    more box while units are left). The tracking number is the scanned one, or the carrier's
    next free waybill. A weight outside the expected band is refused unless the packer says
    why (``weight_reason``, kept on the parcel and its first tracking event), checked under
    the orders' locks against what they hold; an unusual number only warns.

    Locks, in the lock order: the waybill number (``SKIP LOCKED``), the orders, the lots,
    the order's earlier parcels, then the wave when the last of its orders is packed."""
    _valid_weight(weight_kg)
    reason = _reason(weight_reason)
    number = tracking_number.strip()
    warnings = _claim_scanned(carrier, number) if number else []
    number = number or _take_waybill(carrier)
    packing = orders_pack(
        order=order,
        merge=merge,
        items=items,
        acting_user=acting_user,
        note=number,
        related=("wave_order__wave", "channel"),
    )
    primary = packing.orders[0]
    band = _items_weight_check(packing.items)  # what the box holds, read under the locks
    weight_warning = _outside_band(band, weight_kg, reason)
    if weight_warning:
        warnings.append(weight_warning)
    sequence, count, earlier = _number_the_box(
        primary, complete=packing.complete, planned=parcel_count
    )
    # The parcel is inserted before its stock leaves so that the ledger can name it; a new row
    # is no lock that another service waits for.
    (parcel,) = insert_rows(
        [
            Parcel(
                order=primary,
                wave=_wave_of(primary),
                carrier=carrier,
                tracking_number=number,
                sorting_code=sorting_code.strip(),
                weight_kg=weight_kg,
                expected_kg=band.expected_kg,
                packed_by=acting_user,
                weight_warning=weight_warning,
                weight_reason=reason if weight_warning else "",
                sequence=sequence,
                parcel_count=count,
            )
        ]
    )
    parcel_items = insert_rows(
        [
            ParcelItem(parcel=parcel, line=item.line, lot=item.lot, kg=item.kg)
            for item in packing.items
        ]
    )
    stock_ship_out(
        items=[Reservation(item.lot_id, item.kg) for item in packing.items],
        reference=f"parcel:{parcel.pk}",
        acting_user=acting_user,
    )
    warnings.extend(_renumber_earlier(earlier, count))  # Parcel after Lot
    (event,) = insert_rows(
        [
            TrackingEvent(
                parcel=parcel,
                status=ParcelStatus.PACKED,
                occurred_at=parcel.packed_at,
                source=TrackingEvent.Source.STATION,
                description=(
                    _("%(warning)s Packed because: %(reason)s")
                    % {"warning": weight_warning, "reason": reason}
                )[:200]
                if weight_warning
                else "",
                acting_user=acting_user,
            )
        ]
    )
    # What a new parcel holds is known: its answer and its label need not read it again.
    _known_related(parcel, "items", parcel_items)
    _known_related(parcel, "events", [event])
    for item in parcel_items:
        _known_related(item, "returns", [])
    waves = {
        wave.pk: wave
        for each in packing.orders
        if each.pk in packing.packed and (wave := _wave_of(each)) is not None
    }
    for wave_id in sorted(waves):
        _close_wave_if_done(waves[wave_id])
    order.status = primary.status
    for other in merge:
        other.status = next(o.status for o in packing.orders if o.pk == other.pk)
    return PackResult(parcel, warnings, complete=packing.complete)


def _known_related(instance, name: str, objects: list) -> None:
    """Give ``instance`` its ``name`` relation as if ``prefetch_related`` had read it: iterating
    it reads nothing; a further filter queries the database as usual."""
    queryset = getattr(instance, name).all()
    queryset._result_cache = list(objects)
    queryset._prefetch_done = True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


def _wave_of(order: Order) -> Wave | None:
    """The wave of an order read with ``select_related("wave_order__wave")``."""
    try:
        return order.wave_order.wave
    except WaveOrder.DoesNotExist:
        return None


def parcel_orders(parcel: Parcel) -> list[Order]:
    """Every order with items in the parcel (more than one when orders were merged)."""
    return list(Order.objects.filter(pk__in=parcel_order_ids(parcel.pk)).order_by("pk"))


def _orders_all_at(order_ids: Sequence[int], to: str) -> list[int]:
    """Which of these orders have every parcel at ``to`` (or beyond it: a parcel that has
    left counts as shipped whatever befell it since). Read under the orders' locks. An order
    with units still to pack (a box not closed yet) is held back by orders itself: it is
    still picking, not packed."""
    ready = []
    for order_id in order_ids:
        parcels = order_parcels(order_id)
        if to == ParcelStatus.SHIPPED:
            behind = parcels.filter(status=ParcelStatus.PACKED).exists()
        elif to == ParcelStatus.RETURNED:
            behind = parcels.exclude(status=ParcelStatus.RETURNED).exists()
        else:
            behind = parcels.exclude(status=ParcelStatus.DELIVERED).exists()
        if not behind:
            ready.append(order_id)
    return ready


@transaction.atomic
def parcel_transition(
    *,
    parcel: Parcel,
    to: str,
    source: str,
    acting_user=None,
    occurred_at: datetime | None = None,
    description: str = "",
) -> Parcel:
    """Move a parcel along ``PARCEL_TRANSITIONS`` with a tracking event. When every parcel of
    an order has shipped (or been delivered), orders moves the order on. Locks the parcel's
    orders first (``orders_lock``), then the parcel: two parcels of one order handed over at
    once decide one after the other, so the second sees the first."""
    order_ids = parcel_order_ids(parcel.pk)  # never change: read before any lock
    orders_lock(order_ids=order_ids)
    locked = Parcel.objects.select_for_update().get(pk=parcel.pk)
    if to not in PARCEL_TRANSITIONS[locked.status]:
        raise DomainError(
            _("Parcel %(number)s cannot go from %(from)s to %(to)s.")
            % {
                "number": locked.tracking_number,
                "from": ParcelStatus(locked.status).label,
                "to": ParcelStatus(to).label,
            },
            field="status",
            code="forbidden_transition",
        )
    TrackingEvent.objects.create(
        parcel=locked,
        status=to,
        occurred_at=occurred_at or timezone.now(),
        source=source,
        description=description,
        acting_user=acting_user,
    )
    locked.status = to
    locked.save(update_fields=["status"])
    if to == ParcelStatus.SHIPPED:
        orders_mark_shipped(order_ids=_orders_all_at(order_ids, to), acting_user=acting_user)
    elif to == ParcelStatus.DELIVERED:
        orders_mark_delivered(order_ids=_orders_all_at(order_ids, to), acting_user=acting_user)
    parcel.status = locked.status
    return locked


def parcel_labels_printed(*, parcel_ids: Sequence[int]) -> int:
    """Stamp the label's first printing; a reprint keeps the first time. Works through a large
    batch in chunks, so the query stays within every database's parameter limit."""
    now, stamped, chunk = timezone.now(), 0, 1000
    for start in range(0, len(parcel_ids), chunk):
        stamped += Parcel.objects.filter(
            pk__in=parcel_ids[start : start + chunk], label_printed_at__isnull=True
        ).update(label_printed_at=now)
    return stamped


def find_parcel(tracking_number: str, carrier: Carrier | None = None) -> Parcel:
    parcels = Parcel.objects.filter(tracking_number=tracking_number.strip())
    if carrier is not None:
        parcels = parcels.filter(carrier=carrier)
    found = list(parcels[:2])
    if not found:
        raise DomainError(
            _("No parcel has tracking number %(number)s.") % {"number": tracking_number},
            field="tracking_number",
            code="not_found",
        )
    if len(found) > 1:
        raise DomainError(
            _("Several carriers use %(number)s: choose the carrier.") % {"number": tracking_number},
            field="carrier",
        )
    return found[0]


@transaction.atomic
def handover_batch_start(*, carrier: Carrier, courier_name: str = "", acting_user) -> HandoverBatch:
    """Open a handover batch for a carrier's pickup, coded ``H<yymm>-0001``."""
    (code,) = next_codes(f"H{timezone.localtime().strftime('%y%m')}", 1)
    return HandoverBatch.objects.create(
        code=code, carrier=carrier, courier_name=courier_name.strip()[:50], started_by=acting_user
    )


@transaction.atomic
def handover_batch_close(*, batch: HandoverBatch, acting_user) -> HandoverBatch:
    """Close a batch: no more scans go into it; its parcels stay shipped. Closing a closed
    batch changes nothing."""
    locked = HandoverBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.closed_at is None:
        locked.closed_at, locked.closed_by = timezone.now(), acting_user
        locked.save(update_fields=["closed_at", "closed_by"])
    return locked


def _already_handed_over(parcel: Parcel) -> DomainError | None:
    """Where a parcel already is, in plain words, when it has left the studio."""
    scan = HandoverScan.objects.filter(parcel=parcel).select_related("batch__carrier").first()
    when = None
    if scan is not None:
        when = timezone.localtime(scan.scanned_at).strftime("%m-%d %H:%M")
        message = _("%(number)s already handed over: batch %(batch)s (%(carrier)s, %(time)s).") % {
            "number": parcel.tracking_number,
            "batch": scan.batch.code,
            "carrier": scan.batch.carrier.name,
            "time": when,
        }
        return DomainError(message, field="tracking_number", code="already_handed_over")
    if parcel.status == ParcelStatus.PACKED:
        return None
    message = _("%(number)s has already left the studio: it is %(status)s.") % {
        "number": parcel.tracking_number,
        "status": ParcelStatus(parcel.status).label,
    }
    return DomainError(message, field="tracking_number", code="already_handed_over")


def handover_scan(
    *,
    tracking_number: str,
    acting_user,
    carrier: Carrier | None = None,
    batch: HandoverBatch | None = None,
) -> Parcel:
    """A parcel scanned out to the carrier's pickup becomes shipped; with ``batch`` it joins
    that handover batch (which must be open, and of the parcel's carrier). A parcel already
    handed over is refused with where it went. Locks the parcel's orders, the parcel, then
    the batch."""
    if batch is not None:
        carrier = batch.carrier
        if batch.closed_at is not None:
            raise DomainError(
                _("Handover %(batch)s is closed: start a new one.") % {"batch": batch.code},
                field="batch",
                code="closed",
            )
    parcel = find_parcel(tracking_number, carrier)
    refusal = _already_handed_over(parcel)
    if refusal is not None:
        raise refusal
    with transaction.atomic():
        try:
            parcel = parcel_transition(
                parcel=parcel,
                to=ParcelStatus.SHIPPED,
                source=TrackingEvent.Source.SCAN,
                acting_user=acting_user,
            )
        except DomainError as error:
            # Scanned at the same moment elsewhere: say where it went.
            raise (_already_handed_over(parcel) or error) from error
        if batch is not None:
            locked = HandoverBatch.objects.select_for_update().get(pk=batch.pk)
            if locked.closed_at is not None:
                raise DomainError(
                    _("Handover %(batch)s is closed: start a new one.") % {"batch": locked.code},
                    field="batch",
                    code="closed",
                )
            HandoverScan.objects.create(batch=locked, parcel=parcel, scanned_by=acting_user)
    return parcel


@transaction.atomic
def tracking_update(
    *,
    tracking_number: str,
    status: str,
    occurred_at: datetime,
    description: str = "",
    carrier: Carrier | None = None,
    source: str = TrackingEvent.Source.FILE,
    acting_user=None,
) -> tuple[Parcel, bool]:
    """A carrier's tracking update. The same update twice changes nothing (returns False)."""
    parcel = find_parcel(tracking_number, carrier)
    if status not in {ParcelStatus.DELIVERED, ParcelStatus.EXCEPTION, ParcelStatus.SHIPPED}:
        raise DomainError(
            _("Unknown tracking status: %(status)s") % {"status": status}, field="status"
        )
    if TrackingEvent.objects.filter(parcel=parcel, status=status, occurred_at=occurred_at).exists():
        return parcel, False
    if parcel.status == status:
        TrackingEvent.objects.create(
            parcel=parcel,
            status=status,
            occurred_at=occurred_at,
            source=source,
            description=description,
            acting_user=acting_user,
        )
        return parcel, True
    parcel = parcel_transition(
        parcel=parcel,
        to=status,
        source=source,
        occurred_at=occurred_at,
        description=description,
        acting_user=acting_user,
    )
    return parcel, True


# --- tracking updates from a carrier's file ------------------------------------------------

COLUMN_NAMES = {
    "tracking_number": {"trackingnumber", "tracking", "trackingno", "waybill", "waybillno",
                        "运单号", "快递单号", "物流单号", "单号"},
    "status": {"status", "trackingstatus", "状态", "物流状态", "快递状态"},
    "time": {"time", "occurredat", "datetime", "date", "时间", "更新时间", "物流时间", "签收时间"},
    "description": {"description", "note", "detail", "描述", "备注", "物流信息", "详情"},
}  # fmt: skip
STATUS_WORDS = {
    "delivered": ParcelStatus.DELIVERED,
    "已签收": ParcelStatus.DELIVERED,
    "签收": ParcelStatus.DELIVERED,
    "exception": ParcelStatus.EXCEPTION,
    "异常": ParcelStatus.EXCEPTION,
    "问题件": ParcelStatus.EXCEPTION,
    "shipped": ParcelStatus.SHIPPED,
    "in transit": ParcelStatus.SHIPPED,
    "运输中": ParcelStatus.SHIPPED,
    "在途": ParcelStatus.SHIPPED,
}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")


@dataclass
class TrackingRowResult:
    row: int  # as the spreadsheet numbers it (the header is row 1)
    tracking_number: str
    outcome: str  # "updated", "unchanged" or "error"
    status: str = ""
    message: str = ""

    @property
    def status_label(self) -> str:
        return str(ParcelStatus(self.status).label) if self.status else ""


def _normalise(name: str) -> str:
    return "".join(clean_header(name).lower().replace("_", " ").split())


def _columns(header: list[str]) -> dict[str, int]:
    found = {}
    for index, name in enumerate(header):
        key = _normalise(name)
        for field, names in COLUMN_NAMES.items():
            if key in names and field not in found:
                found[field] = index
    missing = [field for field in ("tracking_number", "status", "time") if field not in found]
    if missing:
        raise DomainError(
            _("The file needs the columns tracking number, status and time (missing: %(names)s).")
            % {"names": ", ".join(missing)},
            field="file",
        )
    return found


def _parse_time(text: str) -> datetime:
    text = text.strip()
    moment = None
    for pattern in TIME_FORMATS:
        try:
            moment = datetime.strptime(text, pattern)
            break
        except ValueError:
            continue
    if moment is None:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise DomainError(
                _("“%(time)s” is not a date and time (e.g. 2026-11-20 14:30).")
                % {"time": excerpt(text)},
                field="time",
            ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _parse_status(text: str) -> str:
    status = STATUS_WORDS.get(" ".join(text.strip().lower().split()))
    if status is None:
        raise DomainError(
            _("Unknown status “%(status)s”: use delivered, exception or shipped.")
            % {"status": excerpt(text)},
            field="status",
        )
    return status


def tracking_file_apply(
    *, data: bytes, file_name: str, carrier: Carrier | None, acting_user
) -> list[TrackingRowResult]:
    """Each row of a tracking file through ``tracking_update``, each in its own transaction:
    a bad row is reported and the others still apply. The same file twice changes nothing.
    The file is read within the upload limits (``upload_limits()``); a file with more bad
    rows than the limit is refused before any row applies."""
    limits = upload_limits()
    table = read_table(data, file_name, limits=limits)
    columns = _columns(table.header)

    def cell(cells: list[str], field: str) -> str:
        index = columns.get(field)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    checked = []
    bad = 0
    for row_number, cells in table.rows:
        number = cell(cells, "tracking_number")
        try:
            if not number:
                raise DomainError(_("The tracking number is missing."))
            if len(number) > Parcel._meta.get_field("tracking_number").max_length:
                raise DomainError(
                    _("“%(number)s” is not a tracking number.") % {"number": excerpt(number)}
                )
            status = _parse_status(cell(cells, "status"))
            occurred_at = _parse_time(cell(cells, "time"))
        except DomainError as error:
            bad += 1
            if bad > limits.max_error_rows:
                raise DomainError(
                    _(
                        "More than %(limit)s rows are bad (the limit per file), so nothing was "
                        "applied: is it the carrier's tracking file? The last one read: row "
                        "%(row)s: %(reason)s"
                    )
                    % {
                        "limit": f"{limits.max_error_rows:,}",
                        "row": row_number,
                        "reason": error.message,
                    },
                    field="file",
                    code="too_many_errors",
                ) from None
            checked.append((row_number, excerpt(number), None, None, error.message, cells))
            continue
        checked.append((row_number, number, status, occurred_at, "", cells))

    results = []
    for row_number, number, status, occurred_at, message, cells in checked:
        if message:
            results.append(TrackingRowResult(row_number, number, "error", message=message))
            continue
        try:
            _parcel, changed = tracking_update(
                tracking_number=number,
                status=status,
                occurred_at=occurred_at,
                description=cell(cells, "description")[:200],
                carrier=carrier,
                acting_user=acting_user,
            )
        except DomainError as error:
            results.append(TrackingRowResult(row_number, number, "error", message=error.message))
        else:
            outcome = "updated" if changed else "unchanged"
            results.append(TrackingRowResult(row_number, number, outcome, status=status))
    return results


# --- returns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnRow:
    item: ParcelItem
    kg: Decimal
    disposition: str
    reason: str = ""


@transaction.atomic
def parcel_return(*, parcel: Parcel, rows: Sequence[ReturnRow], acting_user) -> Parcel:
    """A returned parcel's contents come back: each row's kilograms re-enter their lot
    (``return`` in the ledger) and stay there, available again, or are written off at once.
    No more than went out of an item can come back. The parcel becomes returned and its
    orders refunded.

    Locks in the lock order: the parcel's orders (``orders_lock``, which also serialises two
    returns of one parcel), the lots (in lot-id order), then the parcel."""
    if not rows:
        raise DomainError(_("Say what came back."), field="rows")
    order_ids = parcel_order_ids(parcel.pk)  # never change: read before any lock
    orders_lock(order_ids=order_ids)
    back: dict[int, Decimal] = {}  # per item: returned before, plus the rows above this one
    for index, row in enumerate(rows):
        if row.item.parcel_id != parcel.pk:
            raise DomainError(_("That item is not in this parcel."), field="item", row=index)
        if row.item.pk not in back:
            back[row.item.pk] = sum(
                ReturnLine.objects.filter(item=row.item).values_list("kg", flat=True),
                Decimal("0"),
            )
        already = back[row.item.pk]
        if row.kg <= 0 or row.kg + already > row.item.kg:
            raise DomainError(
                _("At most %(kg)s kg of this item can come back.") % {"kg": row.item.kg - already},
                field="kg",
                row=index,
            )
        back[row.item.pk] = already + row.kg
        if row.disposition == ReturnDisposition.WRITE_OFF and not row.reason.strip():
            raise DomainError(_("Say why it is written off."), field="reason", row=index)
    reference = f"parcel:{parcel.pk}"
    for row in sorted(rows, key=lambda row: row.item.lot_id):  # lots in lot-id order
        stock_return(
            lot_id=row.item.lot_id,
            kg=row.kg,
            reference=reference,
            acting_user=acting_user,
            note=row.reason,
            keep=row.disposition == ReturnDisposition.RESTOCK,
        )
    ReturnLine.objects.bulk_create(
        [
            ReturnLine(
                item=row.item,
                kg=row.kg,
                disposition=row.disposition,
                reason=row.reason,
                received_by=acting_user,
            )
            for row in rows
        ]
    )
    locked = Parcel.objects.select_for_update().get(pk=parcel.pk)
    if locked.status != ParcelStatus.RETURNED:
        locked = parcel_transition(
            parcel=locked,
            to=ParcelStatus.RETURNED,
            source=TrackingEvent.Source.RETURN,
            acting_user=acting_user,
        )
    orders_goods_returned(
        returns=[(row.item.line_id, row.kg) for row in rows],
        acting_user=acting_user,
        reference=reference,
    )
    return locked


# --- reshipments (补发) -----------------------------------------------------------------------


@transaction.atomic
def parcel_reship(
    *,
    order: Order,
    line: OrderLine,
    units: int,
    carrier: Carrier,
    weight_kg: Decimal,
    reason: str,
    acting_user,
    tracking_number: str = "",
) -> Parcel:
    """Send ``units`` of an order's line again in a new parcel, without a new platform order
    (补发): orders records the reshipment and sets its stock aside first expiry first
    (``orders_reship``); the parcel records its lots and the kilograms leave the ledger
    (``ship_out``) in this transaction. The order's status does not change.

    Locks, in the lock order: the waybill number (``SKIP LOCKED``), the order, the lots."""
    if weight_kg <= 0 or weight_kg.as_tuple().exponent < -3:
        raise DomainError(
            _("Enter the parcel's weight in kg (up to 3 decimals)."), field="weight_kg"
        )
    number = tracking_number.strip()
    if number:
        _claim_scanned(carrier, number)
    else:
        number = _take_waybill(carrier)
    reshipment = orders_reship(
        order=order, line=line, units=units, reason=reason, acting_user=acting_user
    )
    # A reshipment is a shipment of its own: its label says 1/1, whatever boxes went before.
    parcel = Parcel.objects.create(
        order=reshipment.order,
        carrier=carrier,
        tracking_number=number,
        weight_kg=weight_kg,
        packed_by=acting_user,
        sequence=1,
        parcel_count=1,
    )
    ParcelItem.objects.bulk_create(
        [
            ParcelItem(parcel=parcel, line=item.line, lot=item.lot, kg=item.kg)
            for item in reshipment.items
        ]
    )
    stock_ship_out(
        items=[Reservation(item.lot_id, item.kg) for item in reshipment.items],
        reference=f"parcel:{parcel.pk}",
        acting_user=acting_user,
    )
    TrackingEvent.objects.create(
        parcel=parcel,
        status=ParcelStatus.PACKED,
        occurred_at=parcel.packed_at,
        source=TrackingEvent.Source.STATION,
        acting_user=acting_user,
        description=_("Reshipment")[:200],
    )
    after_sale_reshipped(after_sale=reshipment.after_sale, parcel_reference=f"parcel:{parcel.pk}")
    return parcel
