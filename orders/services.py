"""Every write to orders that is not a move along the lifecycle: create, allocate, cancel,
fill back-orders.

Moves along the lifecycle, the transition table and the status groups live in
``orders.lifecycle``; these services lock orders and move them only through it. Stock is
reserved and released only by ``inventory.services``; orders records what it got back as
``Allocation`` rows. Locks: orders first (by primary key), then inventory's lots.
"""

from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, Exists, OuterRef, Q, Subquery, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from inventory.models import Grade, Lot, Product, SkuComponent
from inventory.selectors import box_parts
from inventory.services import (
    InsufficientStock,
    Reservation,
    ReserveRequest,
    lock_lots,
    stock_release,
    stock_reserve_many,
)
from orders.drafts import (
    WRITE_CHUNK,
    OrderDraft,
    check_draft,
    created_note,
    goods_total,
    line_kg,
    live_session_for,
)
from orders.lifecycle import (
    ALLOCATABLE,
    CANCELLABLE,
    CLOSED,
    HOLDS_STOCK,
    TransitionError,
    lock_orders,
    move_locked,
)
from orders.models import (
    AddressChangeStatus,
    AfterSale,
    AfterSaleState,
    Allocation,
    Channel,
    Order,
    OrderAddressChange,
    OrderEvent,
    OrderLine,
    OrderStatus,
)
from orders.rollup import rollup_orders_added, rollup_orders_removed
from orders.transit import TransitTable, fresh_until, province_short


class DuplicateOrder(DomainError):
    def __init__(self, *, number: str, channel: Channel):
        super().__init__(
            _("Order %(number)s already exists in %(channel)s.")
            % {"number": number, "channel": channel.name},
            field="external_no",
            code="duplicate",
        )


# --- create ----------------------------------------------------------------------------------


def build_orders(
    *, channel: Channel, drafts: Sequence[OrderDraft], import_batch=None
) -> tuple[list[Order], list[OrderLine]]:
    """Unsaved Order and OrderLine objects for drafts that pass ``check_draft`` (lines point
    at their orders)."""
    orders, lines = [], []
    for draft in drafts:
        check_draft(draft)
        order = Order(
            channel=channel,
            external_no=draft.external_no,
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
            goods_total=goods_total(draft),
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
                    kg=line_kg(line),
                )
            )
    return orders, lines


@transaction.atomic
def orders_create(
    *, channel: Channel, drafts: Sequence[OrderDraft], acting_user=None, import_batch=None
) -> list[Order]:
    """Save new orders with their lines and a first event each, in bulk (``WRITE_CHUNK`` a
    statement). Every draft must pass ``check_draft``; order numbers the channel already has
    are refused (``DomainError`` naming one): callers that import filter duplicates out
    first. Allocation is separate: see ``orders_allocate``."""
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
    Order.objects.bulk_create(orders, batch_size=WRITE_CHUNK)
    for line in lines:
        line.order_id = line.order.pk
    OrderLine.objects.bulk_create(lines, batch_size=WRITE_CHUNK)
    note = created_note(imported=import_batch is not None)
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order=order,
                from_status="",
                to_status=OrderStatus.NEW,
                acting_user=acting_user,
                note=note,
            )
            for order in orders
        ],
        batch_size=WRITE_CHUNK,
    )
    rollup_orders_added(order.pk for order in orders)  # the dashboard's daily roll-up
    return orders


# --- allocation ------------------------------------------------------------------------------

# Kilograms of a line cancelled before packing (a refund by line, orders.aftersales).
CANCELLED_KG = Subquery(
    AfterSale.objects.filter(
        line=OuterRef("pk"), before_shipping=True, state=AfterSaleState.REFUNDED
    )
    .order_by()
    .values("line")
    .annotate(kg=Sum("kg"))
    .values("kg")[:1]
)

# Orders allocated in one transaction. Their candidate lots stay locked until it commits:
# other allocations, cancellations and packing of those products wait that long (about 0.2 s
# for 500 orders on a busy 2-core machine). Bigger chunks save little: the per-chunk cost
# (locks, commit) is already shared by hundreds of orders.
ALLOCATE_CHUNK = 500


def _waiting_reason(
    outcome: InsufficientStock,
    *,
    province: str,
    life_days: dict[tuple[int, int], int],
    names: dict[tuple[int, int], str],
) -> str:
    """What a back-ordered order waits for, in plain words: per product and grade, either no
    lot that arrives fresh ("没有能新鲜送达新疆的蜜桃（特级）批次：需 4 天") when the stock
    there is too short-lived, or the kilograms missing."""
    place = province_short(province) if province else _("this address")
    parts = []
    for pair, short in sorted(outcome.shortages.items()):
        if outcome.not_fresh.get(pair, Decimal("0")) >= short:
            parts.append(
                _("No lot of %(product)s arrives fresh in %(place)s: it needs %(days)d days")
                % {"product": names[pair], "place": place, "days": life_days[pair]}
            )
        else:
            parts.append(_("%(product)s: %(kg)s kg short") % {"product": names[pair], "kg": short})
    return "; ".join(parts)[:200]


def _unpack_boxes(
    lines: dict[int, list[tuple[int, ReserveRequest]]], boxes: dict[int, tuple[int, int]]
) -> None:
    """Replace each gift-box line's request by one per component (its units × the line's
    quantity × its net kg), each from the component's own product and grade: the order then
    reserves every component, first expiry first, or (all or nothing, as for any line) none.
    The line keeps one allocation per component lot. One query (the boxes' components)."""
    parts = box_parts({sku_id for sku_id, _quantity in boxes.values()})
    for order_id, requests in lines.items():
        unpacked: list[tuple[int, ReserveRequest]] = []
        for line_id, request in requests:
            sku_id, quantity = boxes.get(line_id, (None, 0))
            if sku_id not in parts:
                unpacked.append((line_id, request))
                continue
            unpacked += [
                (
                    line_id,
                    replace(
                        request,
                        product_id=part.product_id,
                        grade_id=part.grade_id,
                        kg=part.kg_per_box * quantity,
                    ),
                )
                for part in parts[sku_id]
            ]
        lines[order_id] = unpacked


def _allocate_locked(*, orders: Sequence[tuple[int, str]], acting_user) -> dict[int, bool]:
    """Allocate orders, each ``(order id, status)``, that the caller has locked and found
    allocatable, first served in the given order. Each order gets every line's kilograms
    (quantity × SKU net kg) from lots of its product and grade, first expiry first among the
    lots that still arrive fresh (``orders.transit``: today + the days to the order's
    province with its channel's carrier + the product's days of life on arrival), or
    nothing: it then becomes back-ordered (if it was new), and what it waits for is written
    on it (``backorder_reason``) and in the event's note. Returns, per order id, whether it
    was allocated.

    A fixed number of statements whatever the number of orders: read the transit table and
    the lines (with their orders' destinations), reserve (``stock_reserve_many``: lock the
    candidate lots, one update), insert the allocations, one update per new status, one of
    the reasons that changed, insert the events."""
    if not orders:
        return {}
    lines: dict[int, list[tuple[int, ReserveRequest]]] = {order_id: [] for order_id, _s in orders}
    transit = TransitTable.load()
    today = timezone.localdate()
    life_days: dict[int, dict[tuple[int, int], int]] = {order_id: {} for order_id in lines}
    destination: dict[int, str] = {}
    previous: dict[int, str] = {}
    names: dict[tuple[int, int], str] = {}
    holding: set[int] = set()
    boxes: dict[int, tuple[int, int]] = {}  # gift-box lines: line id → (SKU id, quantity)
    for row in (
        OrderLine.objects.filter(order_id__in=lines)
        .order_by("pk")
        .values_list(
            "pk",
            "order_id",
            "sku__product_id",
            "sku__grade_id",
            "kg",
            "sku__product__min_days_on_arrival",
            Exists(Allocation.objects.filter(line=OuterRef("pk"))),
            "order__province",
            "order__channel__carrier_code",
            "order__backorder_reason",
            "sku__product__name",
            "sku__grade__name",
            "sku__is_bundle",
            "sku_id",
            "quantity",
            CANCELLED_KG,
        )
    ):
        line_id, order_id, product_id, grade_id, kg, min_days, holds = row[:7]
        (
            province,
            carrier,
            previous[order_id],
            product,
            grade,
            is_box,
            sku_id,
            quantity,
            cancelled,
        ) = row[7:]
        pair = (product_id, grade_id)
        destination[order_id] = province
        names[pair] = f"{product}（{grade}）"
        days = transit.days(province, carrier)
        life_days[order_id][pair] = days + min_days
        until = fresh_until(transit_days=days, min_days_on_arrival=min_days, today=today)
        # Units refunded before packing (orders.aftersales) are never reserved again.
        left = kg - (cancelled or 0)
        if left > 0:
            lines[order_id].append((line_id, ReserveRequest(product_id, grade_id, left, until)))
        if is_box and cancelled:
            quantity = int(quantity * left / kg)  # the boxes not refunded
        if holds:
            holding.add(order_id)
        if is_box:
            boxes[line_id] = (sku_id, quantity)
    if boxes:
        _unpack_boxes(lines, boxes)
        # A box's components wait under their own names, with the box's days of life.
        for order_id, requests in lines.items():
            for _line, request in requests:
                pair = (request.product_id, request.grade_id)
                life_days[order_id].setdefault(pair, max(life_days[order_id].values(), default=0))
                names.setdefault(pair, "")
        missing = {pair for pair, name in names.items() if not name}
        if missing:
            products = dict(
                Product.objects.filter(pk__in={p for p, _g in missing}).values_list("pk", "name")
            )
            grades = dict(
                Grade.objects.filter(pk__in={g for _p, g in missing}).values_list("pk", "name")
            )
            for product_id, grade_id in missing:
                names[(product_id, grade_id)] = (
                    f"{products.get(product_id, '')}（{grades.get(grade_id, '')}）"
                )
    # Stock follows the status (see orders.lifecycle): an order waiting for allocation holds
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
    reasons: dict[int, str] = {}
    served: dict[int, bool] = {}
    for (order_id, status), outcome in zip(orders, outcomes, strict=True):
        if isinstance(outcome, InsufficientStock):
            served[order_id] = False
            reasons[order_id] = _waiting_reason(
                outcome,
                province=destination[order_id],
                life_days=life_days[order_id],
                names=names,
            )
            if status == OrderStatus.NEW:
                moves.append((order_id, status, OrderStatus.BACKORDERED, reasons[order_id]))
            continue
        served[order_id] = True
        allocations += [
            Allocation(line_id=line_id, lot_id=reservation.lot_id, kg=reservation.kg)
            for (line_id, _request), reservations in zip(lines[order_id], outcome, strict=True)
            for reservation in reservations
        ]
        if status in ALLOCATABLE:  # not when allocated again (order_reallocate)
            moves.append((order_id, status, OrderStatus.ALLOCATED, ""))
    Allocation.objects.bulk_create(allocations)
    move_locked(moves=moves, acting_user=acting_user)
    changed = [pk for pk in served if reasons.get(pk, "") != previous.get(pk, "")]
    if changed:
        Order.objects.filter(pk__in=changed).update(
            backorder_reason=Case(
                *(When(pk=pk, then=Value(reasons[pk])) for pk in changed if pk in reasons),
                default=Value(""),
            )
        )
    return served


@transaction.atomic
def order_allocate(*, order: Order, acting_user=None) -> bool:
    """Reserve every line's kilograms (quantity × SKU net kg) from its product and grade, first
    expiry first, all lines or none. Returns True when allocated; when stock falls short the
    order becomes back-ordered (if it was new) and False is returned. An order that is neither
    new nor back-ordered is refused (``TransitionError``).

    Locks the order, then (inside ``stock_reserve_many``) its candidate lots in lot-id order:
    the batch path of ``orders_allocate`` with one order."""
    locked = lock_orders([order.pk]).get(order.pk)
    if locked is None:
        raise DomainError(_("This order no longer exists."), field="order")
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
    locked = sorted(lock_orders(order_ids).values(), key=lambda order: (order.paid_at, order.pk))
    waiting = [(order.pk, order.status) for order in locked if order.status in ALLOCATABLE]
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
            # A gift box waits for its components' products, not its own.
            in_box = SkuComponent.objects.filter(
                bundle=OuterRef("sku"),
                component__product_id=product_id,
                component__grade_id=grade_id,
            )
            q = lines.filter(
                Q(sku__is_bundle=False, sku__product_id=product_id, sku__grade_id=grade_id)
                | Q(sku__is_bundle=True) & Exists(in_box)
            )
            match = Exists(q) if match is None else match | Exists(q)
        waiting = waiting.filter(match)
    order_ids = list(waiting.order_by("paid_at", "pk").values_list("pk", flat=True))
    return sum(
        status == OrderStatus.ALLOCATED
        for statuses in _allocate_in_chunks(order_ids, None, ALLOCATE_CHUNK)
        for status in statuses.values()
    )


@transaction.atomic
def order_reallocate(*, order: Order, acting_user=None) -> Order:
    """Allocate an order that holds stock (allocated or picking) again from fresh stock: what
    it holds goes back to its lots and every line is reserved again, first expiry first among
    the lots that still arrive fresh — what a manager does for an order the pick list or the
    station refused for an expired lot. All or nothing: when fresh stock falls short nothing
    changes and the refusal says what the order would wait for (cancel it, or wait).

    Locks the order, then, in one statement in lot-id order, the lots it holds and every lot
    of its products and grades with stock (release and reserve then take locks already held:
    a lot made meanwhile has a higher id, so the order by id still holds)."""
    locked = lock_orders([order.pk]).get(order.pk)
    if locked is None:
        raise DomainError(_("This order no longer exists."), field="order")
    if locked.status not in HOLDS_STOCK:
        raise TransitionError(locked, OrderStatus.ALLOCATED)
    held = list(Allocation.objects.filter(line__order=locked).select_related("lot"))
    if not held:
        raise DomainError(_("This order holds no stock to allocate again."), field="order")
    pairs = set(
        OrderLine.objects.filter(order=locked).values_list("sku__product_id", "sku__grade_id")
    )
    match = Q()
    for product_id, grade_id in pairs:
        match |= Q(product_id=product_id, grade_id=grade_id)
    same_goods = Lot.objects.filter(match, on_hand_kg__gt=0).values_list("pk", flat=True)
    lock_lots([*{a.lot_id for a in held}, *same_goods])
    stock_release(
        reservations=[Reservation(a.lot_id, a.kg) for a in held], reference=locked.reference
    )
    Allocation.objects.filter(pk__in=[a.pk for a in held]).delete()
    served = _allocate_locked(orders=[(locked.pk, locked.status)], acting_user=acting_user)
    if not served[locked.pk]:
        reason = Order.objects.values_list("backorder_reason", flat=True).get(pk=locked.pk)
        raise DomainError(
            _("Order %(order)s cannot be allocated again from fresh stock: %(reason)s.")
            % {"order": locked.external_no, "reason": reason},
            field="order",
            code="insufficient_stock",
        )
    Order.objects.filter(pk=locked.pk).update(backorder_reason="")
    expired = sorted({a.lot.code for a in held if a.lot.is_expired})
    OrderEvent.objects.create(
        order=locked,
        from_status=locked.status,
        to_status=locked.status,
        acting_user=acting_user,
        note=(
            _("Allocated again from fresh stock (expired: %(lots)s).")
            % {"lots": ", ".join(expired)}
            if expired
            else _("Allocated again from fresh stock.")
        )[:200],
    )
    return locked


# --- cancel ----------------------------------------------------------------------------------


@transaction.atomic
def order_cancel(
    *, order: Order, acting_user=None, note: str = "", to: str = OrderStatus.CANCELLED
) -> Order:
    """Cancel (or mark refunded) an order that is not packed yet (``CANCELLABLE``); what it had
    reserved goes back to its lots, and inventory announces that stock is available again
    (back-orders waiting for it are then filled). Packed or shipped orders are refused: their
    stock has left. Locks the order, then its lots."""
    if to not in CLOSED:
        raise DomainError(_("An order is cancelled or refunded, nothing else."), field="status")
    locked = lock_orders([order.pk]).get(order.pk)
    if locked is None:
        raise DomainError(_("This order no longer exists."), field="order")
    if locked.status not in CANCELLABLE:
        raise TransitionError(locked, to)
    allocations = list(Allocation.objects.filter(line__order=locked).order_by("lot_id", "pk"))
    if allocations:
        stock_release(
            reservations=[Reservation(a.lot_id, a.kg) for a in allocations],
            reference=locked.reference,
        )
        Allocation.objects.filter(pk__in=[a.pk for a in allocations]).delete()
    move_locked(moves=[(locked.pk, locked.status, to, note)], acting_user=acting_user)
    locked.status = order.status = to
    return locked


# --- address changes -------------------------------------------------------------------------

_ADDRESS_FIELDS = ("recipient_name", "phone", "province", "city", "district", "address_detail")


@transaction.atomic
def order_address_change(
    *, order: Order, draft: OrderDraft, acting_user=None
) -> OrderAddressChange | None:
    """Take the recipient and address a platform now reports for ``order`` (from a pulled
    ``draft``). Before packing the order is changed; once packed (or later) it is left as
    it is and the change waits for a person (status "needs attention", shown on the order).
    Either way an event says so. Returns None when nothing changed, or when the same change
    already waits. Locks the order."""
    locked = lock_orders([order.pk]).get(order.pk)
    if locked is None:
        raise DomainError(_("This order no longer exists."), field="order")
    new = tuple(getattr(draft, name).strip() for name in _ADDRESS_FIELDS)
    if new == tuple(getattr(locked, name) for name in _ADDRESS_FIELDS):
        return None
    change = OrderAddressChange(
        order=locked,
        recipient_name=draft.recipient_name.strip(),
        phone=draft.phone.strip(),
        phone_masked_by_platform=draft.phone_masked_by_platform,
        province=draft.province.strip(),
        city=draft.city.strip(),
        district=draft.district.strip(),
        address_detail=draft.address_detail.strip(),
        previous_address=locked.full_address[:400],
        order_status=locked.status,
    )
    if locked.status in CANCELLABLE:  # nothing labelled yet: the address may still change
        change.status = AddressChangeStatus.APPLIED
        for name, value in zip(_ADDRESS_FIELDS, new, strict=True):
            setattr(locked, name, value)
        locked.phone_masked_by_platform = draft.phone_masked_by_platform
        locked.raw_address = (draft.raw_address or change.full_address)[:400]
        rollup_orders_removed([locked.pk])  # counted by province: out under the old one…
        locked.save(
            update_fields=[
                *_ADDRESS_FIELDS,
                "phone_masked_by_platform",
                "raw_address",
                "updated_at",
            ]
        )
        rollup_orders_added([locked.pk])  # …and in under the new one
        note = _("The platform changed the address; the order was updated.")
    else:
        waiting = (
            OrderAddressChange.objects.filter(
                order=locked, status=AddressChangeStatus.NEEDS_ATTENTION
            )
            .order_by("-id")
            .first()
        )
        if waiting and tuple(getattr(waiting, name) for name in _ADDRESS_FIELDS) == new:
            return None
        change.status = AddressChangeStatus.NEEDS_ATTENTION
        note = _("The platform changed the address after packing: check the parcel.")
    change.save()
    OrderEvent.objects.create(
        order=locked,
        from_status=locked.status,
        to_status=locked.status,
        acting_user=acting_user,
        note=note[:200],
    )
    for name in (*_ADDRESS_FIELDS, "phone_masked_by_platform", "raw_address"):
        setattr(order, name, getattr(locked, name))
    return change


# --- ship-back --------------------------------------------------------------------------------


def orders_shipment_reported(*, order_ids: Iterable[int], at) -> int:
    """The platform now knows these orders' waybill numbers (a ship-back file was made, or
    its API took them): stamp the time on each, keeping the first. Not a move of status."""
    return Order.objects.filter(pk__in=list(order_ids), shipment_reported_at__isnull=True).update(
        shipment_reported_at=at
    )
