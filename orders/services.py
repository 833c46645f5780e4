"""Every write to orders: create, move along the lifecycle, allocate, cancel, fill back-orders.

An order's status changes only in ``order_transition``, which locks the order, checks the move
against ``ALLOWED_TRANSITIONS`` and writes the event — or, for allocation in batches, in
``orders_transition_locked``, which does the same in bulk for many orders its caller has
locked. Stock is reserved and released only by ``inventory.services``; orders records what
it got back as ``Allocation`` rows.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from inventory.models import Sku
from inventory.services import (
    InsufficientStock,
    Reservation,
    ReserveRequest,
    stock_release,
    stock_reserve_many,
)
from orders.addresses import address_normalise_draft
from orders.models import (
    ALLOCATABLE,
    ALLOWED_TRANSITIONS,
    HOLDS_STOCK,
    Allocation,
    Channel,
    LiveSession,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
)
from orders.signals import queue_backorder_fill


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


class DuplicateOrder(DomainError):
    def __init__(self, *, number: str, channel: Channel):
        super().__init__(
            _("Order %(number)s already exists in %(channel)s.")
            % {"number": number, "channel": channel.name},
            field="external_no",
            code="duplicate",
        )


def _lock_order(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


@transaction.atomic
def order_transition(*, order: Order, to: str, acting_user=None, note: str = "") -> Order:
    """Move an order to ``to`` if the transition table allows it, and record the event.
    Re-reads the order under a row lock, so two callers cannot both move it."""
    locked = _lock_order(order)
    if to not in ALLOWED_TRANSITIONS[locked.status]:
        raise TransitionError(locked, to)
    # Stock follows the status: an order in a stock-holding state holds allocations, one in
    # any other state holds none. So nobody can "allocate" without reserving (use
    # order_allocate) or cancel without releasing (use order_cancel).
    holds = Allocation.objects.filter(line__order=locked).exists()
    if (to in HOLDS_STOCK) != holds:
        raise DomainError(
            _("Order %(order)s cannot go to %(to)s: its reserved stock does not match.")
            % {"order": locked.external_no, "to": OrderStatus(to).label},
            field="status",
            code="forbidden_transition",
        )
    OrderEvent.objects.create(
        order=locked, from_status=locked.status, to_status=to, acting_user=acting_user, note=note
    )
    locked.status = to
    locked.save(update_fields=["status", "updated_at"])
    order.status = locked.status
    return locked


# --- create ----------------------------------------------------------------------------------


@dataclass
class LineDraft:
    sku: Sku
    quantity: int
    unit_price: Decimal


@dataclass
class OrderDraft:
    """An order as parsed from a file or an API body, before it is saved."""

    external_no: str
    recipient_name: str
    phone: str
    province: str
    address_detail: str
    paid_at: datetime
    lines: list[LineDraft] = field(default_factory=list)
    phone_masked_by_platform: bool = False
    city: str = ""
    district: str = ""
    raw_address: str = ""
    buyer_note: str = ""
    goods_total: Decimal | None = None
    shipping_fee: Decimal = Decimal("0")
    platform_status: str = ""
    live_session: LiveSession | None = None
    # Set by ``orders.addresses.address_normalise_draft`` (canonical names, code, how read).
    adcode: str = ""
    address_status: str = ""


def live_session_for(channel: Channel, paid_at: datetime) -> LiveSession | None:
    """The channel's live session whose time window holds ``paid_at`` (the latest-started one
    when windows overlap)."""
    return (
        LiveSession.objects.filter(channel=channel, starts_at__lte=paid_at, ends_at__gte=paid_at)
        .order_by("-starts_at")
        .first()
    )


def _check_draft(draft: OrderDraft) -> None:
    if not draft.external_no.strip():
        raise DomainError(_("The order number is missing."), field="external_no")
    if not draft.lines:
        raise DomainError(_("An order needs at least one line."), field="lines")
    for index, line in enumerate(draft.lines):
        if line.quantity <= 0:
            raise DomainError(_("Quantity must be at least 1."), field="quantity", row=index)
        if line.unit_price < 0:
            raise DomainError(_("The price cannot be negative."), field="unit_price", row=index)
        if not line.sku.is_active:
            raise DomainError(
                _("SKU %(code)s is not sold any more.") % {"code": line.sku.merchant_code},
                field="sku",
                row=index,
            )


def build_orders(
    *, channel: Channel, drafts: Sequence[OrderDraft], import_batch=None
) -> tuple[list[Order], list[OrderLine]]:
    """Unsaved Order and OrderLine objects for drafts (lines point at their orders)."""
    orders, lines = [], []
    for draft in drafts:
        address_normalise_draft(draft)
        _check_draft(draft)
        total = draft.goods_total
        if total is None:
            total = sum((line.unit_price * line.quantity for line in draft.lines), Decimal("0"))
        order = Order(
            channel=channel,
            external_no=draft.external_no.strip(),
            status=OrderStatus.NEW,
            platform_status=draft.platform_status,
            live_session=draft.live_session or live_session_for(channel, draft.paid_at),
            recipient_name=draft.recipient_name,
            phone=draft.phone,
            phone_masked_by_platform=draft.phone_masked_by_platform,
            province=draft.province,
            city=draft.city,
            district=draft.district,
            address_detail=draft.address_detail,
            raw_address=draft.raw_address,
            adcode=draft.adcode,
            address_status=draft.address_status,
            buyer_note=draft.buyer_note,
            paid_at=draft.paid_at,
            goods_total=total,
            shipping_fee=draft.shipping_fee,
            import_batch=import_batch,
        )
        orders.append(order)
        for line in draft.lines:
            lines.append(
                OrderLine(
                    order=order,
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    kg=line.sku.net_kg * line.quantity,
                )
            )
    return orders, lines


@transaction.atomic
def orders_create(
    *, channel: Channel, drafts: Sequence[OrderDraft], acting_user=None, import_batch=None
) -> list[Order]:
    """Save new orders with their lines and a first event each, in bulk. Order numbers that
    the channel already has are refused (``DomainError`` naming one); callers that import
    filter duplicates out first. Allocation is separate: see ``orders_allocate``."""
    orders, lines = build_orders(channel=channel, drafts=drafts, import_batch=import_batch)
    numbers = [order.external_no for order in orders]
    if len(set(numbers)) != len(numbers):
        raise DomainError(_("The same order number appears twice."), field="external_no")
    existing = set(
        Order.objects.filter(channel=channel, external_no__in=numbers).values_list(
            "external_no", flat=True
        )
    )
    if existing:
        raise DuplicateOrder(number=sorted(existing)[0], channel=channel)
    Order.objects.bulk_create(orders, batch_size=2000)
    for line in lines:
        line.order_id = line.order.pk
    OrderLine.objects.bulk_create(lines, batch_size=2000)
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order=order,
                from_status="",
                to_status=OrderStatus.NEW,
                acting_user=acting_user,
                note=_("Imported") if import_batch else _("Created"),
            )
            for order in orders
        ],
        batch_size=2000,
    )
    return orders


# --- allocation ------------------------------------------------------------------------------

# Orders allocated in one transaction. Their candidate lots stay locked until it commits:
# other allocations, cancellations and packing of those products wait that long (about 0.2 s
# for 500 orders on a busy 2-core machine). Bigger chunks save little: the per-chunk cost
# (locks, commit) is already shared by hundreds of orders.
ALLOCATE_CHUNK = 500


def orders_transition_locked(*, moves: Sequence[tuple[int, str, str, str]], acting_user) -> None:
    """Move many orders at once, each ``(order id, from, to, note)``: one ``UPDATE`` per target
    status and one insert of their events. The caller holds the orders' row locks and has read
    ``from`` under them. Every move is checked against ``ALLOWED_TRANSITIONS`` first; one
    forbidden move refuses them all (``TransitionError``), before anything is written."""
    for order_id, from_status, to, _note in moves:
        if to not in ALLOWED_TRANSITIONS[from_status]:
            raise TransitionError(Order.objects.get(pk=order_id), to)
    now = timezone.now()
    by_target: dict[str, list[int]] = defaultdict(list)
    for order_id, _from_status, to, _note in moves:
        by_target[to].append(order_id)
    for to, order_ids in sorted(by_target.items()):
        Order.objects.filter(pk__in=order_ids).update(status=to, updated_at=now)
    OrderEvent.objects.bulk_create(
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


def _allocate_locked(*, orders: Sequence[tuple[int, str]], acting_user) -> dict[int, bool]:
    """Allocate orders, each ``(order id, status)``, that the caller has locked and found
    allocatable, first served in the given order. Each order gets every line's kilograms
    (quantity × SKU net kg) from lots of its product and grade, first expiry first, or nothing:
    it then becomes back-ordered (if it was new) with the shortage as the event's note.
    Returns, per order id, whether it was allocated.

    A fixed number of statements whatever the number of orders: read the lines, reserve
    (``stock_reserve_many``: lock the candidate lots, one update), insert the allocations,
    one update per new status, insert the events."""
    if not orders:
        return {}
    lines: dict[int, list[tuple[int, ReserveRequest]]] = {order_id: [] for order_id, _s in orders}
    holding: set[int] = set()
    for line_id, order_id, product_id, grade_id, kg, holds in (
        OrderLine.objects.filter(order_id__in=lines)
        .order_by("pk")
        .values_list(
            "pk",
            "order_id",
            "sku__product_id",
            "sku__grade_id",
            "kg",
            Exists(Allocation.objects.filter(line=OuterRef("pk"))),
        )
    ):
        lines[order_id].append((line_id, ReserveRequest(product_id, grade_id, kg)))
        if holds:
            holding.add(order_id)
    # Stock follows the status (see order_transition): an order waiting for allocation holds
    # nothing, and an allocated order holds something.
    for order_id, _status in orders:
        if order_id in holding or not lines[order_id]:
            order = Order.objects.get(pk=order_id)
            raise DomainError(
                _("Order %(order)s cannot go to %(to)s: its reserved stock does not match.")
                % {"order": order.external_no, "to": OrderStatus.ALLOCATED.label},
                field="status",
                code="forbidden_transition",
            )

    outcomes = stock_reserve_many(
        documents=[[request for _line, request in lines[order_id]] for order_id, _s in orders]
    )
    allocations: list[Allocation] = []
    moves: list[tuple[int, str, str, str]] = []
    served: dict[int, bool] = {}
    for (order_id, status), outcome in zip(orders, outcomes, strict=True):
        if isinstance(outcome, InsufficientStock):
            served[order_id] = False
            if status == OrderStatus.NEW:
                moves.append((order_id, status, OrderStatus.BACKORDERED, str(outcome)))
            continue
        served[order_id] = True
        allocations += [
            Allocation(line_id=line_id, lot_id=reservation.lot_id, kg=reservation.kg)
            for (line_id, _request), reservations in zip(lines[order_id], outcome, strict=True)
            for reservation in reservations
        ]
        moves.append((order_id, status, OrderStatus.ALLOCATED, ""))
    Allocation.objects.bulk_create(allocations)
    orders_transition_locked(moves=moves, acting_user=acting_user)
    return served


@transaction.atomic
def order_allocate(*, order: Order, acting_user=None) -> bool:
    """Reserve every line's kilograms (quantity × SKU net kg) from its product and grade, first
    expiry first, all lines or none. Returns True when allocated; when stock falls short the
    order becomes back-ordered (if it was new) and False is returned. An order that is neither
    new nor back-ordered is refused (``TransitionError``).

    Locks the order, then (inside ``stock_reserve_many``) its candidate lots in lot-id order:
    the batch path of ``orders_allocate`` with one order."""
    locked = _lock_order(order)
    if locked.status not in ALLOCATABLE:
        raise TransitionError(locked, OrderStatus.ALLOCATED)
    allocated = _allocate_locked(orders=[(locked.pk, locked.status)], acting_user=acting_user)
    order.status = OrderStatus.ALLOCATED if allocated[locked.pk] else OrderStatus.BACKORDERED
    return allocated[locked.pk]


@transaction.atomic
def _allocate_chunk(order_ids: Sequence[int], acting_user) -> dict[int, str]:
    """One transaction of ``orders_allocate``: lock the orders (in id order), allocate those
    still new or back-ordered, first paid first served. Returns each order's new status; an
    order not returned was not allocatable (moved on, or gone) and is left as it is."""
    locked = list(
        Order.objects.select_for_update()
        .filter(pk__in=order_ids)
        .order_by("pk")
        .values_list("pk", "status", "paid_at")
    )
    locked.sort(key=lambda row: (row[2], row[0]))
    waiting = [(order_id, status) for order_id, status, _paid in locked if status in ALLOCATABLE]
    allocated = _allocate_locked(orders=waiting, acting_user=acting_user)
    return {
        order_id: OrderStatus.ALLOCATED if ok else OrderStatus.BACKORDERED
        for order_id, ok in allocated.items()
    }


def _allocate_in_chunks(order_ids: Sequence[int], acting_user, chunk_size: int):
    """Yield each chunk's new statuses (``_allocate_chunk``), chunk after chunk."""
    for start in range(0, len(order_ids), chunk_size):
        yield _allocate_chunk(order_ids[start : start + chunk_size], acting_user)


def orders_allocate(
    *, orders: Iterable[Order], acting_user=None, chunk_size: int = ALLOCATE_CHUNK
) -> dict[str, int]:
    """Allocate many orders, first paid first served: in (paid at, id) order, each order takes
    its kilograms (all lines or none, first expiry first) before any order paid after it, and
    one that cannot be served in full is back-ordered and reserves nothing, so later orders may
    still be served from what is left — as if each were allocated alone, one after another.

    ``chunk_size`` orders share one transaction: their rows are locked (in id order), then
    their candidate lots once (in lot id order), and everything is written with a few bulk
    statements (see ``_allocate_locked``). An order that is no longer new or back-ordered
    when it is locked (someone cancelled or allocated it meanwhile) is skipped.

    Returns counts: ``allocated``, ``backordered`` (including back-orders still short) and
    ``skipped``. The given Order objects' ``status`` is updated."""
    by_id = {order.pk: order for order in orders}
    order_ids = [
        order.pk for order in sorted(by_id.values(), key=lambda order: (order.paid_at, order.pk))
    ]
    counts = {"allocated": 0, "backordered": 0, "skipped": 0}
    for statuses in _allocate_in_chunks(order_ids, acting_user, chunk_size):
        for order_id, status in statuses.items():
            by_id[order_id].status = status
            counts["allocated" if status == OrderStatus.ALLOCATED else "backordered"] += 1
    counts["skipped"] = len(order_ids) - counts["allocated"] - counts["backordered"]
    return counts


def backorders_fill(*, product_grade_pairs: Iterable[tuple[int, int]] | None = None) -> int:
    """Try to allocate back-ordered orders, in paid-at order, that need any of the given
    (product, grade) pairs (all back-orders when None), in chunks as ``orders_allocate`` does.
    Returns how many were allocated."""
    waiting = Order.objects.filter(status=OrderStatus.BACKORDERED)
    if product_grade_pairs is not None:
        pairs = set(product_grade_pairs)
        if not pairs:
            return 0
        lines = OrderLine.objects.filter(order=OuterRef("pk"))
        match = None
        for product_id, grade_id in pairs:
            q = lines.filter(sku__product_id=product_id, sku__grade_id=grade_id)
            match = Exists(q) if match is None else match | Exists(q)
        waiting = waiting.filter(match)
    order_ids = list(waiting.order_by("paid_at", "pk").values_list("pk", flat=True))
    return sum(
        status == OrderStatus.ALLOCATED
        for statuses in _allocate_in_chunks(order_ids, None, ALLOCATE_CHUNK)
        for status in statuses.values()
    )


# --- cancel ----------------------------------------------------------------------------------


@transaction.atomic
def order_cancel(
    *, order: Order, acting_user=None, note: str = "", to: str = OrderStatus.CANCELLED
) -> Order:
    """Cancel (or mark refunded) an order that is not packed yet; what it had reserved goes
    back to its lots, and back-orders waiting for those products are queued to be filled.
    Packed or shipped orders are refused: their stock has left."""
    if to not in {OrderStatus.CANCELLED, OrderStatus.REFUNDED}:
        raise DomainError(_("An order is cancelled or refunded, nothing else."), field="status")
    locked = _lock_order(order)
    if to not in ALLOWED_TRANSITIONS[locked.status] or locked.status in {
        OrderStatus.PACKED,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
    }:
        raise TransitionError(locked, to)
    if locked.status in HOLDS_STOCK:
        allocations = list(Allocation.objects.filter(line__order=locked))
        stock_release(
            reservations=[Reservation(a.lot_id, a.kg) for a in allocations],
            reference=locked.reference,
        )
        Allocation.objects.filter(pk__in=[a.pk for a in allocations]).delete()
        lot_ids = [a.lot_id for a in allocations]
        transaction.on_commit(lambda: queue_backorder_fill(lot_ids=lot_ids), robust=True)
    transitioned = order_transition(order=locked, to=to, acting_user=acting_user, note=note)
    order.status = transitioned.status
    return transitioned
