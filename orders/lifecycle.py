"""An order's whole state: the transition table, every named group of statuses, and the
services through which the apps above orders (shipping) move orders along.

Orders alone owns an order's status and the kilograms it holds (its ``Allocation`` rows).
Shipping never locks an ``Order`` and never reads or writes an ``Allocation``: it asks this
module to pick orders for a wave (``orders_pick``), to pack them (``orders_pack``, which
consumes what they hold and hands back the ``(line, lot, kg)`` items for the parcel), and to
follow their parcels (``orders_lock``, ``orders_mark_shipped``, ``orders_mark_delivered``).
Goods that come back and reshipments go through ``orders.aftersales``
(``orders_goods_returned``, ``orders_reship``), which refunds by line.

Lock order. Every service that takes several row locks takes them in this order, each kind by
primary key, so two services can never wait for each other in a circle::

    Order → Lot → Parcel → Wave

An order is locked first (``lock_orders``); inventory then locks the lots it touches (in lot-id
order); shipping locks its parcel, then its wave. Waybill numbers are claimed before any of
these with ``SELECT … FOR UPDATE SKIP LOCKED``, which never waits, so they take no place in
the order. ``docs/ARCHITECTURE.md`` says the same, and ``tests/test_lock_order.py`` captures the
SQL of packing, returning and cancelling on PostgreSQL to prove it.

Stock follows the status: an order in a stock-holding state (``HOLDS_STOCK``) holds
allocations and an order in any other state holds none. Every move below keeps that true.
"""

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django.utils.translation import gettext as _

from core.db import delete_rows, insert_rows, quoted, select
from core.errors import DomainError
from inventory.models import Lot
from orders.models import Allocation, Order, OrderEvent, OrderLine, OrderStatus

S = OrderStatus
KG_STEP = Decimal("0.001")

# Every move an order may make; ``order_transition`` and ``move_locked`` refuse all others.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.ALLOCATED, S.BACKORDERED, S.CANCELLED, S.REFUNDED}),
    S.BACKORDERED: frozenset({S.ALLOCATED, S.CANCELLED, S.REFUNDED}),
    # Packed straight from the shelf, without a wave, or through a wave (picking).
    S.ALLOCATED: frozenset({S.PICKING, S.PACKED, S.CANCELLED, S.REFUNDED}),
    S.PICKING: frozenset({S.PACKED, S.ALLOCATED, S.CANCELLED, S.REFUNDED}),
    # After packing, a refund of part of an order makes it partially refunded, of all of it
    # refunded (orders.aftersales); the parcels keep moving on their own.
    S.PACKED: frozenset({S.SHIPPED, S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.DELIVERED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}

# --- the named groups: each defined here once, imported everywhere else ----------------------

# Hold reserved kilograms (their Allocation rows).
HOLDS_STOCK = frozenset({S.ALLOCATED, S.PICKING})
# Can be allocated, or tried again when stock arrives.
ALLOCATABLE = frozenset({S.NEW, S.BACKORDERED})
# Can be packed: their kilograms are reserved.
PACKABLE = HOLDS_STOCK
# Not packed yet: a cancel (ours or the platform's) still stops them, and gives back their stock.
CANCELLABLE = frozenset({S.NEW, S.BACKORDERED, S.ALLOCATED, S.PICKING})
# Closed: no longer sales, never packed.
CLOSED = frozenset({S.CANCELLED, S.REFUNDED})
# Everything else counts as sold.
SOLD = frozenset(S.values) - CLOSED
# Their stock has left the warehouse in parcels (a partial refund comes only after packing).
PACKED_OR_LATER = frozenset({S.PACKED, S.SHIPPED, S.DELIVERED, S.PARTIALLY_REFUNDED})
SHIPPED_OR_LATER = frozenset({S.SHIPPED, S.DELIVERED, S.PARTIALLY_REFUNDED})
# Some money went back, for all of the order or a part (the dashboard's refund rate).
REFUNDED_SOME = frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED})
# Reached allocation (and maybe went further).
ALLOCATED_OR_LATER = HOLDS_STOCK | PACKED_OR_LATER
# Work still to do before the order leaves: the fulfilment backlog.
BACKLOG = CANCELLABLE | {S.PACKED}


class TransitionError(DomainError):
    def __init__(self, order: Order, to: str):
        super().__init__(
            _("Order %(order)s cannot go from %(from)s to %(to)s.")
            % {
                "order": order.external_no,
                "from": OrderStatus(order.status).label,
                "to": OrderStatus(to).label,
            },
            field="status",
            code="forbidden_transition",
        )


def _stock_mismatch(order_number: str, to: str) -> DomainError:
    return DomainError(
        _("Order %(order)s cannot go to %(to)s: its reserved stock does not match.")
        % {"order": order_number, "to": OrderStatus(to).label},
        field="status",
        code="forbidden_transition",
    )


# --- locks and moves -------------------------------------------------------------------------

# Called after every move, in its transaction, with (moves, events, orders): the modules that
# keep figures of orders by status (the dashboard's daily roll-up, ``orders.rollup``) register
# here when the app is ready (``orders.apps``), since they read the status groups above.
MoveListener = Callable[[Sequence[tuple[int, str, str, str]], list, Mapping[int, Order]], None]
_move_listeners: list[MoveListener] = []


def on_moved(listener: MoveListener) -> None:
    """Call ``listener`` after every move (``move_locked``), once however often registered."""
    if listener not in _move_listeners:
        _move_listeners.append(listener)


def lock_orders(
    order_ids: Iterable[int] | QuerySet, *, related: Sequence[str] = ()
) -> dict[int, Order]:
    """Lock these orders for the rest of the caller's transaction, by primary key (the first
    lock of the lock order), and return them by id. ``order_ids`` may be a queryset of ids
    (``values("pk")``): it becomes a subquery of the one locking statement. ``related`` names
    relations to load with them (``select_related``); only the orders' own rows are locked.
    Ids given as a list are locked by SQL written once per number of ids and relations: a pack
    locks its order on every scan."""
    if isinstance(order_ids, QuerySet):
        query = Order.objects.select_for_update(of=("self",))
        if related:
            query = query.select_related(*related)
        return {order.pk: order for order in query.filter(pk__in=order_ids).order_by("pk")}
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    if connection.features.has_select_for_update and connection.get_autocommit():
        # As select_for_update refuses: outside a transaction the lock would end at once.
        raise TransactionManagementError("Orders are locked inside a transaction only.")
    read = select(Order, tuple(related))
    return {
        order.pk: order for order in read.fetch(_lock_orders_sql(len(ids), tuple(related)), ids)
    }


@functools.lru_cache(maxsize=64)
def _lock_orders_sql(count: int, related: tuple[str, ...]) -> str:
    read = select(Order, related)
    key = read.column("", "id")
    marks = ", ".join(["%s"] * count)
    return read.sql(f"{key} IN ({marks})", order_by=key, lock=True)


def move_locked(
    *,
    moves: Sequence[tuple[int, str, str, str]],
    acting_user,
    orders: Mapping[int, Order] | None = None,
) -> None:
    """Move many orders at once, each ``(order id, from, to, note)``: one ``UPDATE`` per target
    status and one insert of their events. For orders' own services, which have locked the
    orders (``lock_orders``) and read ``from`` under the lock; ``orders``, the locked orders by
    id, spare the listeners (``on_moved``) reading them again. Every move is checked against
    ``ALLOWED_TRANSITIONS`` first; one forbidden move refuses them all (``TransitionError``),
    before anything is written."""
    for order_id, from_status, to, _note in moves:
        if to not in ALLOWED_TRANSITIONS[from_status]:
            raise TransitionError(Order.objects.get(pk=order_id), to)
    if not moves:
        return
    now = timezone.now()
    by_target: dict[str, list[int]] = defaultdict(list)
    for order_id, _from_status, to, _note in moves:
        by_target[to].append(order_id)
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        for to, order_ids in sorted(by_target.items()):
            cursor.execute(_move_sql(len(order_ids)), [to, stamp, *order_ids])
    events = insert_rows(
        [
            OrderEvent(
                order_id=order_id,
                from_status=from_status,
                to_status=to,
                acting_user=acting_user,
                note=note[:200],
            )
            for order_id, from_status, to, note in moves
        ]
    )
    for listener in _move_listeners:
        listener(moves, events, orders or {})


@functools.lru_cache(maxsize=64)
def _move_sql(count: int) -> str:
    """``move_locked``'s update of ``count`` orders to one status, written once per count (it
    runs in every pack, wave and handover)."""
    marks = ", ".join(["%s"] * count)
    return (
        f"UPDATE {quoted(Order)} SET {quoted(Order, 'status')} = %s, "
        f"{quoted(Order, 'updated_at')} = %s WHERE {quoted(Order, 'id')} IN ({marks})"
    )


@transaction.atomic
def order_transition(*, order: Order, to: str, acting_user=None, note: str = "") -> Order:
    """Move an order to ``to`` if the transition table allows it, and record the event.
    Re-reads the order under its row lock, so two callers cannot both move it. Stock follows
    the status: a move into a stock-holding state needs allocations, a move out of one needs
    none left (allocate with ``order_allocate``, give stock back with ``order_cancel``)."""
    locked = lock_orders([order.pk]).get(order.pk)
    if locked is None:
        raise DomainError(_("This order no longer exists."), field="order")
    if to not in ALLOWED_TRANSITIONS[locked.status]:
        raise TransitionError(locked, to)
    holds = Allocation.objects.filter(line__order=locked).exists()
    if (to in HOLDS_STOCK) != holds:
        raise _stock_mismatch(locked.external_no, to)
    move_locked(
        moves=[(locked.pk, locked.status, to, note)],
        acting_user=acting_user,
        orders={locked.pk: locked},
    )
    locked.status = order.status = to
    return locked


# --- what shipping asks ----------------------------------------------------------------------


def _holding(order_ids: Iterable[int]) -> set[int]:
    """Which of these orders hold any allocation."""
    return set(
        Allocation.objects.filter(line__order_id__in=list(order_ids))
        .values_list("line__order_id", flat=True)
        .distinct()
    )


@transaction.atomic(savepoint=False)
def orders_pick(*, order_ids: Iterable[int] | QuerySet, acting_user, note: str = "") -> list[Order]:
    """Move the allocated orders among ``order_ids`` (ids, or a queryset of them) to picking —
    a wave took them — and return them first paid first; the others (not allocated, or gone)
    are left as they are. Locks the orders. Four statements for any number: lock, check their
    stock, one update and one insert of events."""
    locked = lock_orders(order_ids)
    picked = [order for order in locked.values() if order.status == S.ALLOCATED]
    holding = _holding(order.pk for order in picked)
    for order in picked:
        if order.pk not in holding:
            raise _stock_mismatch(order.external_no, S.PICKING)
    move_locked(
        moves=[(order.pk, order.status, S.PICKING, note) for order in picked],
        acting_user=acting_user,
        orders=locked,
    )
    for order in picked:
        order.status = S.PICKING
    return sorted(picked, key=lambda order: (order.paid_at, order.pk))


@dataclass(frozen=True)
class PackItem:
    """Units of one order line going into the box being packed."""

    line_id: int
    units: int


@dataclass(frozen=True)
class PackedItem:
    """Kilograms of one lot, for one order line, that left the order's reservation for a box.
    ``line`` comes with its SKU, ``lot`` with its farmer (what a label and a slip print)."""

    line: OrderLine
    lot: Lot
    kg: Decimal

    @property
    def lot_id(self) -> int:
        return self.lot.pk


@dataclass
class Packing:
    """What ``orders_pack`` did: the orders (locked, ``orders[0]`` the one scanned), the
    items to put in the parcel, and which orders are now wholly packed."""

    orders: list[Order]
    items: list[PackedItem]
    packed: set[int]

    @property
    def complete(self) -> bool:
        return self.packed == {order.pk for order in self.orders}


def expired_lots_refusal(lots: Iterable[tuple[str, date]]) -> str:
    """Why produce of these expired lots (code, expiry date) must not be picked or packed,
    and what to do: the message the pick list, the station and ``orders_pack`` give."""
    named = ", ".join(
        _("%(lot)s (expired %(day)s)") % {"lot": code, "day": day.isoformat()}
        for code, day in sorted(set(lots))
    )
    return _(
        "Expired lot %(lots)s: do not pick or pack it. A manager allocates the order "
        "again from fresh stock and writes the expired lot off."
    ) % {"lots": named}


class ExpiredLot(DomainError):
    """Packing refused: the order holds produce of a lot past its expiry date."""

    def __init__(self, lots: Iterable[Lot]):
        super().__init__(
            expired_lots_refusal((lot.code, lot.expiry_date) for lot in lots),
            field="order",
            code="expired_lot",
        )


def _same_recipient(one: Order, other: Order) -> bool:
    return (one.recipient_name, one.phone, one.full_address) == (
        other.recipient_name,
        other.phone,
        other.full_address,
    )


def _take(
    allocations: list[Allocation], items: Sequence[PackItem], orders: dict[int, Order]
) -> tuple[list[PackedItem], list[int], list[Allocation]]:
    """The allocations of the given lines' units, first allocated first (allocation chose the
    lots first expiry first): whole allocations, or a part of the last one touched. Returns
    the items, the ids of the allocations used up, and the allocations left smaller (their
    ``kg`` already lowered)."""
    if not items:
        raise DomainError(_("Say what goes into this box."), field="items")
    by_line: dict[int, list[Allocation]] = defaultdict(list)
    for allocation in allocations:
        by_line[allocation.line_id].append(allocation)
    packed: list[PackedItem] = []
    emptied: list[int] = []
    shrunk: dict[int, Allocation] = {}
    for index, item in enumerate(items):
        held = by_line.get(item.line_id)
        if not held:
            raise DomainError(
                _("That line is not one of this order's lines waiting to be packed."),
                field="items",
                row=index,
            )
        line = held[0].line
        if item.units <= 0:
            raise DomainError(_("Pack at least one unit."), field="units", row=index)
        left_kg = sum((a.kg for a in held), Decimal("0"))
        left = int(left_kg * line.quantity / line.kg)  # whole units still held
        # The last units take whatever is left, so rounding never strands a gram.
        needed = left_kg if item.units == left else (line.kg * item.units / line.quantity)
        needed = needed.quantize(KG_STEP)
        if item.units > left:
            raise DomainError(
                _("Only %(units)d of %(sku)s are left to pack in order %(order)s.")
                % {"units": left, "sku": line.sku.name, "order": orders[line.order_id].external_no},
                field="units",
                row=index,
            )
        # A gift box holds lots of several products: each unit takes its share of each.
        parts: dict[tuple[int, int], list[Allocation]] = defaultdict(list)
        for allocation in held:
            parts[(allocation.lot.product_id, allocation.lot.grade_id)].append(allocation)
        if len(parts) > 1:
            wants = []
            for part in parts.values():
                part_kg = sum((a.kg for a in part), Decimal("0"))
                share = part_kg if item.units == left else part_kg * item.units / left
                wants.append((part, share.quantize(KG_STEP)))
        else:
            wants = [(held, needed)]
        for part, needed in wants:
            while needed > 0:
                allocation = part[0]
                kg = min(needed, allocation.kg)
                packed.append(PackedItem(line, allocation.lot, kg))
                allocation.kg -= kg
                needed -= kg
                if allocation.kg == 0:
                    part.pop(0)
                    if part is not held:
                        held.remove(allocation)
                    emptied.append(allocation.pk)
                    shrunk.pop(allocation.pk, None)
                else:
                    shrunk[allocation.pk] = allocation
    return packed, emptied, list(shrunk.values())


@transaction.atomic(savepoint=False)
def orders_pack(
    *,
    order: Order,
    merge: Sequence[Order] = (),
    items: Sequence[PackItem] | None = None,
    acting_user,
    note: str = "",
    related: Sequence[str] = (),
) -> Packing:
    """Consume what ``order`` (and the orders in ``merge``, which must go to the same recipient
    and address) holds for a box: everything it holds (``items`` None), or only the given units
    of its lines, so that one order can go into several boxes. Returns the consumed
    ``(line, lot, kg)`` items for the parcel: the caller ships that stock out
    (``inventory.services.stock_ship_out``) in the same transaction.

    Locks the orders by primary key (``related``: relations to load with them). Every order
    must be packable and hold stock, none of it from an expired lot (``ExpiredLot``, code
    ``expired_lot``). An order with nothing left to pack becomes packed; one with units still
    to pack (a later box) goes to (or stays in) picking, still holding them. Refuses with
    ``DomainError`` (code ``not_packable``) before anything is written."""
    ids = sorted({order.pk, *(other.pk for other in merge)})
    locked = lock_orders(ids, related=related)
    primary = locked.get(order.pk)
    if primary is None:
        raise DomainError(_("This order no longer exists."), field="order", code="not_packable")
    for each in locked.values():
        if each.status not in PACKABLE:
            raise DomainError(
                _("Order %(order)s is %(status)s: only allocated orders can be packed.")
                % {"order": each.external_no, "status": each.get_status_display()},
                field="order",
                code="not_packable",
            )
        if each.pk != primary.pk and not _same_recipient(each, primary):
            raise DomainError(
                _("Order %(order)s goes to another recipient or address.")
                % {"order": each.external_no},
                field="merge",
            )
    if len(locked) != len(ids):
        raise DomainError(_("An order to merge no longer exists."), field="merge")
    allocations = select(Allocation, _PACKED_WITH).fetch(_allocations_sql(len(ids)), ids)
    holding = {allocation.line.order_id for allocation in allocations}
    for each in locked.values():
        if each.pk not in holding:
            raise _stock_mismatch(each.external_no, S.PACKED)
    expired = [allocation.lot for allocation in allocations if allocation.lot.is_expired]
    if expired:
        raise ExpiredLot(expired)

    if items is None:
        packed_items = [PackedItem(a.line, a.lot, a.kg) for a in allocations]
        emptied, shrunk = [a.pk for a in allocations], []
    else:
        packed_items, emptied, shrunk = _take(allocations, items, locked)
    delete_rows(Allocation, emptied)
    for allocation in shrunk:
        Allocation.objects.filter(pk=allocation.pk).update(kg=allocation.kg)
    gone = set(emptied)
    still_holding = {a.line.order_id for a in allocations if a.pk not in gone}

    moves, packed = [], set()
    for order_id in ids:
        each = locked[order_id]
        to = S.PICKING if order_id in still_holding else S.PACKED
        if order_id not in still_holding:
            packed.add(order_id)
        if each.status != to:
            moves.append((order_id, each.status, to, note))
            each.status = to
    move_locked(moves=moves, acting_user=acting_user, orders=locked)
    order.status = primary.status
    others = [locked[pk] for pk in ids if pk != primary.pk]
    return Packing(orders=[primary, *others], items=packed_items, packed=packed)


# What packing reads with an order's allocations: the line and its SKU, the lot and its farmer
# (the parcel's items, its label and the expiry check).
_PACKED_WITH = ("line__sku", "lot__farmer")


@functools.lru_cache(maxsize=16)
def _allocations_sql(count: int) -> str:
    """The allocations of ``count`` orders, with ``_PACKED_WITH``, first allocated first."""
    read = select(Allocation, _PACKED_WITH)
    marks = ", ".join(["%s"] * count)
    return read.sql(f"{read.column('line', 'order')} IN ({marks})", order_by=read.column("", "id"))


def orders_lock(*, order_ids: Iterable[int]) -> dict[int, str]:
    """Lock these orders for the rest of the caller's transaction and return their statuses:
    for a caller that must decide something about them under their lock before it asks for a
    move (shipping, whether every parcel of an order has left). Must run inside a transaction;
    it is the first lock the caller takes (see the lock order above)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("orders_lock needs a transaction: its lock lasts until it ends")
    return {pk: order.status for pk, order in lock_orders(order_ids).items()}


def _advance(order_ids: Iterable[int], *, frm: str, to: str, acting_user, note: str) -> list[int]:
    locked = lock_orders(order_ids)
    ready = [pk for pk, order in locked.items() if order.status == frm]
    move_locked(moves=[(pk, frm, to, note) for pk in ready], acting_user=acting_user, orders=locked)
    return ready


@transaction.atomic(savepoint=False)
def orders_mark_shipped(*, order_ids: Iterable[int], acting_user, note: str = "") -> list[int]:
    """Packed orders among these whose every parcel has left become shipped (the caller, who
    knows the parcels, decided that under ``orders_lock``). Others are left as they are.
    Returns the ids moved."""
    return _advance(order_ids, frm=S.PACKED, to=S.SHIPPED, acting_user=acting_user, note=note)


@transaction.atomic(savepoint=False)
def orders_mark_delivered(*, order_ids: Iterable[int], acting_user, note: str = "") -> list[int]:
    """Shipped orders among these whose every parcel has arrived become delivered."""
    return _advance(order_ids, frm=S.SHIPPED, to=S.DELIVERED, acting_user=acting_user, note=note)
