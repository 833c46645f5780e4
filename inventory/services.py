"""Every write to stock. These functions are the only code that changes a lot's quantities.

Each one runs in one transaction, locks the lots it touches (``select_for_update``, in lot-id
order so two callers cannot deadlock), checks the rule *inside* the lock, moves quantities
with ``F()`` and writes its ledger row in the same transaction.
"""

import functools
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, DecimalField, F, Q, Value, When
from django.db.models.functions import Round
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django.utils.translation import gettext as _

from core.db import FEW_ROWS, quoted, select
from core.errors import DomainError
from core.roles import Role, has_role
from inventory.models import (
    KG,
    ZERO_KG,
    CodeSequence,
    Delivery,
    Farmer,
    FarmerPayment,
    Location,
    Lot,
    MovementKind,
    PaymentMethod,
    Product,
    Sku,
    SkuComponent,
    StockMovement,
)
from inventory.signals import announce_available

KG_PLACES = 3
MONEY_PLACES = 2


# --- helpers ---------------------------------------------------------------------------------


def _kg(expression):
    """Kilogram arithmetic in SQL, rounded to the gram. SQLite keeps decimals as binary
    floats: without the rounding, 30.3 − 1.2 is stored as 29.099999999999998 and a later
    reservation of exactly 29.1 kg breaks ``reserved ≤ on_hand``."""
    return Round(expression, KG_PLACES)


def _check_places(value: Decimal, places: int, *, field: str, row: int | None = None) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"{field} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite() or value.as_tuple().exponent < -places:
        raise DomainError(
            _("Use at most %(places)d decimal places.") % {"places": places},
            field=field,
            row=row,
        )


def _positive_kg(value: Decimal, *, field: str, row: int | None = None) -> None:
    _check_places(value, KG_PLACES, field=field, row=row)
    if value <= 0:
        raise DomainError(_("The weight must be more than 0 kg."), field=field, row=row)


def _moment(at: datetime | None) -> datetime:
    """When a service records what it does: now, or ``at`` for history entered afterwards
    (the demo's past weeks, a paper ledger typed in later). Never in the future."""
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at) or at > now:
        raise DomainError(_("A time recorded afterwards cannot be in the future."), field="at")
    return at


def next_codes(prefix: str, count: int) -> list[str]:
    """``count`` new codes ``PREFIX-0001``…, unique across processes (the counter row is locked
    by the UPDATE until the caller's transaction ends)."""
    sequence, _created = CodeSequence.objects.get_or_create(prefix=prefix)
    CodeSequence.objects.filter(pk=sequence.pk).update(last=F("last") + count)
    last = CodeSequence.objects.values_list("last", flat=True).get(pk=sequence.pk)
    return [f"{prefix}-{number:04d}" for number in range(last - count + 1, last + 1)]


def lock_lots(lot_ids: Sequence[int]) -> dict[int, Lot]:
    """Lock the given lots for the rest of the transaction, always in id order. One statement
    written once per number of lots (every pack and every allocation locks lots)."""
    ids = sorted(set(lot_ids))
    if not ids:
        return {}
    if not connection.in_atomic_block:
        raise TransactionManagementError("Lots are locked inside a transaction only.")
    return {lot.pk: lot for lot in select(Lot).fetch(_lock_lots_sql(len(ids)), ids)}


@functools.lru_cache(maxsize=64)
def _lock_lots_sql(count: int) -> str:
    key = select(Lot).column("", "id")  # qualified, as the ORM writes it
    return select(Lot).sql(f"{key} IN ({', '.join(['%s'] * count)})", order_by=key, lock=True)


def _lock_one(lot: Lot) -> Lot:
    locked = lock_lots([lot.pk]).get(lot.pk)
    if locked is None:
        raise DomainError(_("This lot no longer exists."), field="lot")
    return locked


def _record(
    lot: Lot,
    *,
    kind: str,
    kg_delta: Decimal,
    acting_user,
    reference: str = "",
    note: str = "",
    at: datetime | None = None,
) -> StockMovement:
    """Apply ``kg_delta`` to a locked lot's on-hand and append the ledger row for it (stamped
    ``at``, or now)."""
    on_hand_after = lot.on_hand_kg + kg_delta
    if kg_delta:
        Lot.objects.filter(pk=lot.pk).update(on_hand_kg=_kg(F("on_hand_kg") + kg_delta))
        lot.on_hand_kg = on_hand_after
    return StockMovement.objects.create(
        lot=lot,
        kind=kind,
        kg_delta=kg_delta,
        on_hand_after=on_hand_after,
        acting_user=acting_user,
        reference=reference,
        note=note,
        created_at=at or timezone.now(),
    )


# --- farmers ---------------------------------------------------------------------------------


def farmer_create(
    *, name: str, village: str, phone: str = "", county: str = "", acting_user
) -> Farmer:
    """Register a farmer at the intake desk. A phone number belongs to one farmer only."""
    name, village, phone = name.strip(), village.strip(), phone.strip()
    if not name:
        raise DomainError(_("Enter the farmer's name."), field="name")
    if not village:
        raise DomainError(_("Enter the farmer's village."), field="village")
    # Before full_clean: its check of the conditional unique constraint is not keyed by field.
    if phone and Farmer.objects.filter(phone=phone).exists():
        raise DomainError(_("Another farmer already has this phone number."), field="phone")
    farmer = Farmer(name=name, village=village, phone=phone, county=county.strip())
    try:
        farmer.full_clean()
    except ValidationError as exc:  # report the first field at fault
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(messages[0], field=field) from exc
    farmer.save()
    return farmer


# --- intake ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeRow:
    """One grade of a delivery as weighed: gross kg, crates × tare, price paid per kg."""

    grade: object  # inventory.models.Grade
    gross_kg: Decimal
    price_per_kg: Decimal
    crates: int = 0
    tare_per_crate_kg: Decimal = Decimal("0")

    @property
    def net_kg(self) -> Decimal:
        return self.gross_kg - self.crates * self.tare_per_crate_kg


def _default_location(product: Product) -> Location:
    locations = Location.objects.filter(is_active=True)
    location = locations.filter(storage=product.storage).first() or locations.first()
    if location is None:
        raise DomainError(_("Set up a warehouse location first."), field="location")
    return location


def _validate_intake_row(index: int, row: IntakeRow) -> None:
    _positive_kg(row.gross_kg, field="gross_kg", row=index)
    _check_places(row.tare_per_crate_kg, KG_PLACES, field="tare_per_crate_kg", row=index)
    _check_places(row.price_per_kg, MONEY_PLACES, field="price_per_kg", row=index)
    if row.crates < 0:
        raise DomainError(_("Crates cannot be negative."), field="crates", row=index)
    if row.tare_per_crate_kg < 0:
        raise DomainError(_("Tare cannot be negative."), field="tare_per_crate_kg", row=index)
    if row.net_kg <= 0:
        raise DomainError(
            _("The tare (%(tare)s kg) is not less than the gross weight (%(gross)s kg).")
            % {"tare": row.crates * row.tare_per_crate_kg, "gross": row.gross_kg},
            field="tare_per_crate_kg",
            row=index,
        )
    if row.price_per_kg < 0:
        raise DomainError(_("The price cannot be negative."), field="price_per_kg", row=index)


def _check_harvest_age(
    *, product: Product, harvest_date: date, day: date, confirmed: bool, acting_user
) -> None:
    """Refuse a harvest older than the product's shelf life on the day of intake, unless a
    manager confirms it (a paper ledger typed in late, produce taken to be written off)."""
    expiry = harvest_date + timedelta(days=product.shelf_life_days)
    if expiry >= day:
        return
    if not confirmed:
        raise DomainError(
            _(
                "Harvested %(days)d days ago, %(product)s keeps %(shelf)d days: these lots "
                "expired on %(expiry)s. Check the harvest date; only a manager can confirm "
                "an intake this old."
            )
            % {
                "days": (day - harvest_date).days,
                "product": product.name,
                "shelf": product.shelf_life_days,
                "expiry": expiry.isoformat(),
            },
            field="harvest_date",
            code="old_harvest",
        )
    if not has_role(acting_user, [Role.MANAGER]):
        raise DomainError(
            _("Only a manager can confirm an intake of expired produce."),
            field="confirm_old_harvest",
            code="forbidden",
        )


@transaction.atomic
def intake_record(
    *,
    farmer: Farmer,
    product: Product,
    rows: Sequence[IntakeRow],
    harvest_date: date,
    acting_user,
    location: Location | None = None,
    note: str = "",
    at: datetime | None = None,
    confirm_old_harvest: bool = False,
) -> Delivery:
    """Record one farmer's delivery: one lot per row (usually one per grade), each with an
    ``intake`` ledger row of its net kg. Expiry is harvest date + the product's shelf life.
    A harvest so old that the lots would be expired on the day of intake is refused
    (code ``old_harvest``) unless a manager confirms it (``confirm_old_harvest``): such lots
    are never allocated, only written off. Nothing is saved unless every row is valid.
    Announces the new stock (``stock_available``) once it commits."""
    if not farmer.is_active:
        raise DomainError(_("This farmer is no longer active."), field="farmer")
    if not product.is_active:
        raise DomainError(_("This product is no longer sold."), field="product")
    if location is not None and not location.is_active:
        raise DomainError(_("This location is not in use."), field="location")
    now = _moment(at)
    if harvest_date > timezone.localdate(now):
        raise DomainError(_("The harvest date cannot be in the future."), field="harvest_date")
    _check_harvest_age(
        product=product,
        harvest_date=harvest_date,
        day=timezone.localdate(now),
        confirmed=confirm_old_harvest,
        acting_user=acting_user,
    )
    if not rows:
        raise DomainError(_("Weigh at least one grade."), field="rows")
    for index, row in enumerate(rows):
        _validate_intake_row(index, row)

    location = location or _default_location(product)
    month = timezone.localtime(now).strftime("%y%m")
    (delivery_code,) = next_codes(f"R{month}", 1)
    delivery = Delivery.objects.create(
        code=delivery_code, farmer=farmer, received_at=now, received_by=acting_user, note=note
    )
    expiry = harvest_date + timedelta(days=product.shelf_life_days)
    lots = Lot.objects.bulk_create(
        [
            Lot(
                code=code,
                delivery=delivery,
                farmer=farmer,
                product=product,
                grade=row.grade,
                location=location,
                harvest_date=harvest_date,
                received_at=now,
                expiry_date=expiry,
                gross_kg=row.gross_kg,
                crates=row.crates,
                tare_per_crate_kg=row.tare_per_crate_kg,
                received_kg=row.net_kg,
                price_per_kg=row.price_per_kg,
                on_hand_kg=row.net_kg,
                note=note,
            )
            for code, row in zip(next_codes(f"L{month}", len(rows)), rows, strict=True)
        ]
    )
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                lot=lot,
                kind=MovementKind.INTAKE,
                kg_delta=lot.received_kg,
                on_hand_after=lot.received_kg,
                acting_user=acting_user,
                created_at=now,
                reference=f"delivery:{delivery.code}",
            )
            for lot in lots
        ]
    )
    announce_available(lot.pk for lot in lots)
    return delivery


# --- write-off, count, move ------------------------------------------------------------------


@transaction.atomic
def lot_write_off(
    *,
    lot: Lot,
    kg: Decimal,
    reason: str,
    acting_user,
    reference: str = "",
    at: datetime | None = None,
) -> Lot:
    """Take spoiled or damaged kilograms out of stock. Only unreserved kilograms can go:
    what orders hold stays until they release it. Locks the lot."""
    _positive_kg(kg, field="kg")
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Say why the produce is written off."), field="reason")
    locked = _lock_one(lot)
    if kg > locked.available_kg:
        raise DomainError(
            _(
                "Only %(available)s kg of lot %(lot)s can be written off "
                "(%(reserved)s kg is reserved for orders)."
            )
            % {
                "available": locked.available_kg,
                "lot": locked.code,
                "reserved": locked.reserved_kg,
            },
            field="kg",
        )
    _record(
        locked,
        kind=MovementKind.WRITE_OFF,
        kg_delta=-kg,
        acting_user=acting_user,
        reference=reference,
        note=reason,
        at=_moment(at),
    )
    return locked


@transaction.atomic
def lot_adjust(
    *, lot: Lot, counted_kg: Decimal, reason: str, acting_user, at: datetime | None = None
) -> Lot:
    """Set a lot's on-hand to what a stock count found, recording the difference. The count
    cannot fall below what orders have reserved. A count that finds more announces it
    (``stock_available``). Locks the lot."""
    _check_places(counted_kg, KG_PLACES, field="counted_kg")
    if counted_kg < 0:
        raise DomainError(_("A count cannot be negative."), field="counted_kg")
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Say why the count differs."), field="reason")
    locked = _lock_one(lot)
    delta = counted_kg - locked.on_hand_kg
    if delta == 0:
        raise DomainError(
            _("The count equals the stock on hand (%(kg)s kg): nothing to adjust.")
            % {"kg": locked.on_hand_kg},
            field="counted_kg",
        )
    if counted_kg < locked.reserved_kg:
        raise DomainError(
            _("%(reserved)s kg of this lot is reserved for orders: the count cannot be lower.")
            % {"reserved": locked.reserved_kg},
            field="counted_kg",
        )
    _record(
        locked,
        kind=MovementKind.ADJUSTMENT,
        kg_delta=delta,
        acting_user=acting_user,
        reference="count",
        note=reason,
        at=_moment(at),
    )
    if delta > 0:
        announce_available([locked.pk])
    return locked


@transaction.atomic
def lot_move(
    *, lot: Lot, location: Location, acting_user, note: str = "", at: datetime | None = None
) -> Lot:
    """Move a lot to another warehouse location (a zero-kg ledger row records it)."""
    if not location.is_active:
        raise DomainError(_("This location is not in use."), field="location")
    locked = _lock_one(lot)
    if locked.location_id == location.pk:
        raise DomainError(
            _("The lot is already at %(location)s.") % {"location": location}, field="location"
        )
    previous = locked.location
    Lot.objects.filter(pk=locked.pk).update(location=location)
    locked.location = location
    _record(
        locked,
        kind=MovementKind.MOVE,
        kg_delta=Decimal("0"),
        acting_user=acting_user,
        reference=f"location:{location.code}",
        note=(f"{previous.code} → {location.code} {note}").strip(),
        at=_moment(at),
    )
    return locked


# --- gift boxes ------------------------------------------------------------------------------

MAX_BOX_COMPONENTS = 20
MAX_BOX_UNITS = 1000  # of one component in one box


def sku_components_check(*, bundle: Sku, components: Sequence[tuple[Sku, int]]) -> Decimal:
    """Refuse (``DomainError``, ``row`` the component's index) what cannot be a gift box's
    content; return the box's net kg. The rules of ``sku_set_components``, for forms that
    check before they save."""
    if len(components) > MAX_BOX_COMPONENTS:
        raise DomainError(
            _("A gift box holds at most %(count)d SKUs.") % {"count": MAX_BOX_COMPONENTS},
            field="components",
        )
    if components and bundle.pk and SkuComponent.objects.filter(component=bundle).exists():
        raise DomainError(
            _("%(sku)s is inside a gift box: it cannot be a gift box itself.")
            % {"sku": bundle.merchant_code},
            field="components",
        )
    seen: set[tuple[int, int]] = set()
    total = ZERO_KG
    for index, (sku, quantity) in enumerate(components):
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise TypeError(f"quantity must be an int, not {type(quantity).__name__}")
        if not 1 <= quantity <= MAX_BOX_UNITS:
            raise DomainError(
                _("A component's quantity is from 1 to %(max)d.") % {"max": MAX_BOX_UNITS},
                field="quantity",
                row=index,
            )
        if sku.pk == bundle.pk:
            raise DomainError(_("A gift box cannot hold itself."), field="component", row=index)
        if sku.is_bundle:
            raise DomainError(
                _("%(sku)s is a gift box: a gift box cannot hold another.")
                % {"sku": sku.merchant_code},
                field="component",
                row=index,
            )
        pair = (sku.product_id, sku.grade_id)
        if pair in seen:
            raise DomainError(
                _(
                    "The box already holds a SKU of %(product)s %(grade)s: one per product "
                    "and grade."
                )
                % {"product": sku.product.name, "grade": sku.grade.name},
                field="component",
                row=index,
            )
        seen.add(pair)
        total += sku.net_kg * quantity
    return total


@transaction.atomic
def sku_set_components(*, bundle: Sku, components: Sequence[tuple[Sku, int]]) -> Sku:
    """Make ``bundle`` a gift box of the given ``(SKU, quantity)`` components, or, with none,
    a plain SKU again. A box's ``net_kg`` becomes the sum of its components' (what an order
    line of it weighs) and ``is_bundle`` follows.

    A box holds one SKU per product and grade (so a lot always says which component it
    serves), no other box and not itself; a SKU inside a box cannot become one
    (``sku_components_check``). Locks the bundle's row, so two editors do not interleave.
    Orders already allocated keep what they reserved."""
    locked = Sku.objects.select_for_update().filter(pk=bundle.pk).first()
    if locked is None:
        raise DomainError(_("This SKU no longer exists."), field="bundle")
    total = sku_components_check(bundle=locked, components=components)
    SkuComponent.objects.filter(bundle=locked).delete()
    SkuComponent.objects.bulk_create(
        [SkuComponent(bundle=locked, component=sku, quantity=qty) for sku, qty in components]
    )
    locked.is_bundle = bool(components)
    if components:
        locked.net_kg = total
    locked.save(update_fields=["is_bundle", "net_kg"])
    bundle.is_bundle, bundle.net_kg = locked.is_bundle, locked.net_kg
    return locked


# --- reservations: orders ask, inventory chooses the lots ------------------------------------


@dataclass(frozen=True)
class ReserveRequest:
    """Kilograms of one product and grade that one line of a document needs.

    ``fresh_until``: the last day the produce must still be good (the day the parcel arrives
    plus the days of life it must keep then); lots expiring before it are not taken. None:
    any lot not yet expired. Inventory knows no orders and no carriers: the caller says how
    fresh, inventory only compares dates."""

    product_id: int
    grade_id: int
    kg: Decimal
    fresh_until: date | None = None


@dataclass(frozen=True)
class Reservation:
    """Kilograms of one lot set aside for a request."""

    lot_id: int
    kg: Decimal


class InsufficientStock(DomainError):
    """Not enough available kilograms; nothing was reserved. ``shortages``: kilograms short
    per (product id, grade id); ``not_fresh``: of those pairs, kilograms that were available
    but in lots expiring before the request's ``fresh_until`` (they would not arrive fresh)."""

    def __init__(
        self,
        message: str,
        *,
        shortages: dict[tuple[int, int], Decimal],
        not_fresh: dict[tuple[int, int], Decimal] | None = None,
    ):
        super().__init__(message, field="kg", code="insufficient_stock")
        self.shortages = shortages
        self.not_fresh = not_fresh or {}


def _fefo_key(lot: Lot):
    return (lot.expiry_date, lot.received_at, lot.pk)


def _short(
    shortages: dict[tuple[int, int], Decimal], not_fresh: dict[tuple[int, int], Decimal]
) -> InsufficientStock:
    return InsufficientStock(
        _("Not enough stock: %(kg)s kg short.") % {"kg": sum(shortages.values())},
        shortages=shortages,
        not_fresh=not_fresh,
    )


@transaction.atomic
def stock_reserve(
    *, requests: Sequence[ReserveRequest], reference: str, at: datetime | None = None
) -> list[list[Reservation]]:
    """Reserve every request or none: for each, kilograms from lots of its product and grade,
    first expiry first (then oldest intake), split across lots when one is not enough.

    One document of ``stock_reserve_many``: its candidate lots are locked in one query, in
    lot-id order, availability is computed inside the lock and ``reserved_kg`` rises with
    ``F()``. Reservations are not ledger movements: on-hand is unchanged. Raises
    ``InsufficientStock`` (nothing changed) when any request falls short. Returns one list of
    reservations per request, in request order."""
    (outcome,) = stock_reserve_many(documents=[requests], at=at)
    if isinstance(outcome, InsufficientStock):
        raise outcome
    return outcome


@transaction.atomic
def stock_reserve_many(
    *, documents: Sequence[Sequence[ReserveRequest]], at: datetime | None = None
) -> list[list[list[Reservation]] | InsufficientStock]:
    """Reserve for many documents (orders) at once, each all or nothing, one after another in
    the given order: an earlier document is served first, and a document that cannot get every
    request in full reserves nothing, so what it would have taken stays for later ones.

    The candidate lots of every document (lots of the requested products and grades that have
    stock left and are not expired today) are locked in one query, in lot-id order, so two
    callers cannot deadlock; the first-expiry-first choice is made in Python against the
    locked quantities, skipping lots that expire before a request's ``fresh_until``, and
    ``reserved_kg`` of every touched lot rises by its total in one ``UPDATE`` with ``F()``,
    rounded to the gram. Reservations are not ledger movements: on-hand is unchanged.

    Expiry is judged on today, or on the day of ``at`` for history entered afterwards.
    Returns, per document, one list of reservations per request (request order), or the
    ``InsufficientStock`` (not raised) that says how much it was short."""
    for document in documents:
        for request in document:
            _positive_kg(request.kg, field="kg")
    pairs = {(r.product_id, r.grade_id) for document in documents for r in document}
    match = Q()
    for product_id, grade_id in pairs:
        match |= Q(product_id=product_id, grade_id=grade_id)
    today = timezone.localdate(_moment(at))
    candidates = (
        list(
            Lot.objects.select_for_update()
            .filter(match, on_hand_kg__gt=F("reserved_kg"), expiry_date__gte=today)
            .order_by("pk")
        )
        if pairs
        else []
    )
    by_pair: dict[tuple[int, int], list[Lot]] = {}
    for lot in sorted(candidates, key=_fefo_key):
        by_pair.setdefault((lot.product_id, lot.grade_id), []).append(lot)
    expiries = {pair: [lot.expiry_date for lot in lots] for pair, lots in by_pair.items()}
    available = {lot.pk: lot.available_kg for lot in candidates}
    # Per pair, the index of its first lot with anything left: lots only empty during a call.
    first_with_stock = dict.fromkeys(by_pair, 0)

    outcomes: list[list[list[Reservation]] | InsufficientStock] = []
    per_lot: dict[int, Decimal] = {}
    for document in documents:
        taken_here: dict[int, Decimal] = {}  # this document's tentative takes, by lot
        result: list[list[Reservation]] = []
        shortages: dict[tuple[int, int], Decimal] = {}
        not_fresh: dict[tuple[int, int], Decimal] = {}
        for request in document:
            pair = (request.product_id, request.grade_id)
            lots = by_pair.get(pair, [])
            start = first_with_stock.get(pair, 0)
            while start < len(lots) and available[lots[start].pk] <= 0:
                start += 1
            first_with_stock[pair] = start
            fresh = start
            if request.fresh_until is not None:  # lots are sorted by expiry: skip the early ones
                fresh = max(start, bisect_left(expiries.get(pair, []), request.fresh_until))
            needed = request.kg
            taken: list[Reservation] = []
            for lot in lots[fresh:]:
                if needed <= 0:
                    break
                kg = min(needed, available[lot.pk] - taken_here.get(lot.pk, 0))
                if kg > 0:
                    taken.append(Reservation(lot.pk, kg))
                    taken_here[lot.pk] = taken_here.get(lot.pk, Decimal("0")) + kg
                    needed -= kg
            if needed > 0:
                shortages[pair] = shortages.get(pair, Decimal("0")) + needed
                stale = sum(
                    (available[lot.pk] - taken_here.get(lot.pk, 0) for lot in lots[start:fresh]),
                    Decimal("0"),
                )
                if stale > 0:
                    not_fresh[pair] = not_fresh.get(pair, Decimal("0")) + stale
            result.append(taken)
        if shortages:
            outcomes.append(_short(shortages, not_fresh))
            continue
        for lot_id, kg in taken_here.items():
            available[lot_id] -= kg
            per_lot[lot_id] = per_lot.get(lot_id, Decimal("0")) + kg
        outcomes.append(result)

    if per_lot:
        added = Case(
            *(When(pk=lot_id, then=Value(kg)) for lot_id, kg in sorted(per_lot.items())),
            output_field=DecimalField(**KG),
        )
        Lot.objects.filter(pk__in=per_lot).update(reserved_kg=_kg(F("reserved_kg") + added))
    return outcomes


def _sum_by_lot(items: Sequence[Reservation]) -> dict[int, Decimal]:
    totals: dict[int, Decimal] = {}
    for item in items:
        _positive_kg(item.kg, field="kg")
        totals[item.lot_id] = totals.get(item.lot_id, Decimal("0")) + item.kg
    return totals


@transaction.atomic
def stock_release(*, reservations: Sequence[Reservation], reference: str) -> None:
    """Give reserved kilograms back (a cancelled order) and announce them
    (``stock_available``). Locks the lots in id order."""
    totals = _sum_by_lot(reservations)
    locked = lock_lots(list(totals))
    for lot_id in sorted(totals):
        lot = locked.get(lot_id)
        if lot is None or lot.reserved_kg < totals[lot_id]:
            raise DomainError(
                _("Lot %(lot)s does not hold that reservation (%(reference)s).")
                % {"lot": lot.code if lot else lot_id, "reference": reference},
                field="kg",
            )
    _lots_update(totals, reserved=-1)
    announce_available(totals)


def _lots_update(totals: dict[int, Decimal], *, reserved: int = 0, on_hand: int = 0) -> None:
    """One ``UPDATE`` of every lot in ``totals``: ``reserved_kg`` and/or ``on_hand_kg`` move by
    each lot's kilograms times the given sign, rounded to the gram. Nothing moves: no
    statement."""
    signs = (reserved, on_hand)
    if not totals or not any(signs):
        return
    if len(totals) == 1:
        # The common case (a pack from one lot): one statement written once per direction.
        ((lot_id, kg),) = totals.items()
        with connection.cursor() as cursor:
            cursor.execute(_one_lot_update_sql(signs), [kg] * sum(map(bool, signs)) + [lot_id])
        return
    amount = Case(
        *(When(pk=lot_id, then=Value(kg)) for lot_id, kg in sorted(totals.items())),
        output_field=DecimalField(**KG),
    )
    lots = Lot.objects.filter(pk__in=totals)
    changes = {}
    for column, sign in (("reserved_kg", reserved), ("on_hand_kg", on_hand)):
        if sign > 0:
            changes[column] = _kg(F(column) + amount)
        elif sign < 0:
            changes[column] = _kg(F(column) - amount)
    lots.update(**changes)


@functools.cache
def _one_lot_update_sql(signs: tuple[int, int]) -> str:
    """``_lots_update`` of one lot: ``reserved_kg`` and ``on_hand_kg`` moved by one amount
    each (a parameter per column that moves), rounded to the gram as ``_kg`` rounds."""
    moves = [
        f"{quoted(Lot, column)} = ROUND({quoted(Lot, column)} {'+' if sign > 0 else '-'} %s, "
        f"{KG_PLACES})"
        for column, sign in zip(("reserved_kg", "on_hand_kg"), signs, strict=True)
        if sign
    ]
    return f"UPDATE {quoted(Lot)} SET {', '.join(moves)} WHERE {quoted(Lot, 'id')} = %s"


@transaction.atomic(savepoint=False)
def stock_ship_out(
    *, items: Sequence[Reservation], reference: str, acting_user, at: datetime | None = None
) -> None:
    """Reserved kilograms leave the warehouse in a parcel: reserved and on-hand both fall, in
    one ``UPDATE``, and a ``ship_out`` ledger row is written per lot (one insert). Locks the
    lots in id order. Runs inside the caller's transaction (no savepoint of its own): a
    refusal rolls the caller back too. On PostgreSQL, a parcel from a few lots (every pack but
    the rarest) is one statement per lot, in id order: the lot's update, which locks it, and
    its ledger row."""
    totals = _sum_by_lot(items)
    now = _moment(at)
    if len(totals) <= FEW_ROWS and connection.vendor == "postgresql":
        user_id = getattr(acting_user, "pk", None)
        with connection.cursor() as cursor:
            for lot_id, kg in sorted(totals.items()):
                params = [kg, kg, lot_id, kg, MovementKind.SHIP_OUT, -kg, user_id, now, reference]
                cursor.execute(_ship_out_one_sql(), params)
                if cursor.fetchone() is None:
                    raise _not_reserved(lot_id, kg, reference)
        return
    locked = lock_lots(list(totals))
    for lot_id in sorted(totals):
        lot = locked.get(lot_id)
        kg = totals[lot_id]
        if lot is None or lot.reserved_kg < kg:
            raise _not_reserved(lot_id, kg, reference, code=lot.code if lot else "")
    _lots_update(totals, reserved=-1, on_hand=-1)
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                lot_id=lot_id,
                kind=MovementKind.SHIP_OUT,
                kg_delta=-kg,
                on_hand_after=locked[lot_id].on_hand_kg - kg,
                acting_user=acting_user,
                reference=reference,
                created_at=now,
            )
            for lot_id, kg in sorted(totals.items())
        ]
    )


def _not_reserved(lot_id: int, kg: Decimal, reference: str, *, code: str = "") -> DomainError:
    """The refusal of a ship-out that takes more than ``lot_id`` reserved, naming the lot by its
    code (read here when the caller has not read the lot)."""
    if not code:
        code = Lot.objects.filter(pk=lot_id).values_list("code", flat=True).first() or ""
    return DomainError(
        _("Lot %(lot)s has not reserved %(kg)s kg for %(reference)s.")
        % {"lot": code or lot_id, "kg": kg, "reference": reference},
        field="kg",
    )


@functools.cache
def _ship_out_one_sql() -> str:
    """``stock_ship_out`` of one lot on PostgreSQL: the lot's reserved and on-hand kilograms
    fall (rounded to the gram, as ``_kg`` rounds) only if it has reserved them, and its ledger
    row records what is left, in one statement. Its ``RETURNING`` names the lot, or nothing
    when it had not reserved enough (the caller refuses, rolling back)."""
    lot, movement = quoted(Lot), quoted(StockMovement)
    reserved, on_hand = quoted(Lot, "reserved_kg"), quoted(Lot, "on_hand_kg")
    written = "lot kind kg_delta on_hand_after acting_user created_at reference note".split()
    names = ", ".join(quoted(StockMovement, name) for name in written)
    return (
        f"WITH moved AS (UPDATE {lot} SET {reserved} = ROUND({reserved} - %s, {KG_PLACES}), "
        f"{on_hand} = ROUND({on_hand} - %s, {KG_PLACES}) "
        f"WHERE {lot}.{quoted(Lot, 'id')} = %s AND {reserved} >= %s "
        f"RETURNING {lot}.{quoted(Lot, 'id')} AS lot_id, {on_hand} AS on_hand_after) "
        f"INSERT INTO {movement} ({names}) "
        f"SELECT lot_id, %s, %s, on_hand_after, %s, %s, %s, '' FROM moved "
        f"RETURNING {quoted(StockMovement, 'lot')}"
    )


@transaction.atomic
def stock_return(
    *,
    lot_id: int,
    kg: Decimal,
    reference: str,
    acting_user,
    note: str = "",
    keep: bool = True,
) -> Lot:
    """Kilograms that left in a parcel come back into their lot (a ``return`` ledger row).
    Kept (``keep``), they are available again and announced (``stock_available``); not kept,
    they are written off at once (a ``write_off`` row, ``note`` its reason). Locks the lot."""
    _positive_kg(kg, field="kg")
    locked = lock_lots([lot_id]).get(lot_id)
    if locked is None:
        raise DomainError(_("This lot no longer exists."), field="lot")
    if not keep and not note.strip():
        raise DomainError(_("Say why it is written off."), field="reason")
    _record(
        locked,
        kind=MovementKind.RETURN,
        kg_delta=kg,
        acting_user=acting_user,
        reference=reference,
        note=note,
    )
    if keep:
        announce_available([locked.pk])
    else:
        _record(
            locked,
            kind=MovementKind.WRITE_OFF,
            kg_delta=-kg,
            acting_user=acting_user,
            reference=reference,
            note=note.strip(),
        )
    return locked


# --- farmers' payments -----------------------------------------------------------------------

PAYMENT_MAX = Decimal("9999999999.99")  # DECIMAL(12, 2)


@transaction.atomic
def farmer_payment_record(
    *,
    farmer: Farmer,
    paid_on: date,
    amount: Decimal,
    method: str,
    reference: str = "",
    note: str = "",
    acting_user,
    at: datetime | None = None,
):
    """Record money paid to a farmer for their produce. The amount is more than 0 with at most
    two decimal places; the day is not in the future. Paying more than the farmer is owed is
    allowed: it is an advance (a negative balance, shown as prepaid). A reference (a transfer's
    number) is recorded once per farmer, so the same payment cannot be entered twice. Locks the
    farmer's row, which serialises payments to one farmer."""
    _check_places(amount, MONEY_PLACES, field="amount")
    if amount <= 0:
        raise DomainError(_("The amount must be more than 0."), field="amount")
    if amount > PAYMENT_MAX:
        raise DomainError(_("The amount is too large."), field="amount")
    if not isinstance(paid_on, date):
        raise TypeError(f"paid_on must be a date, not {type(paid_on).__name__}")
    if paid_on > timezone.localdate():
        raise DomainError(_("The payment date cannot be in the future."), field="paid_on")
    if method not in PaymentMethod.values:
        raise DomainError(_("Choose how the farmer was paid."), field="method")
    reference, note = reference.strip(), note.strip()
    if len(reference) > FarmerPayment._meta.get_field("reference").max_length:
        raise DomainError(_("The reference is too long."), field="reference")
    if len(note) > FarmerPayment._meta.get_field("note").max_length:
        raise DomainError(_("The note is too long."), field="note")
    locked = Farmer.objects.select_for_update().filter(pk=farmer.pk).first()
    if locked is None:
        raise DomainError(_("This farmer no longer exists."), field="farmer")
    if reference and FarmerPayment.objects.filter(farmer=locked, reference=reference).exists():
        raise DomainError(
            _("A payment with the reference %(reference)s is already recorded for this farmer.")
            % {"reference": reference},
            field="reference",
            code="duplicate",
        )
    return FarmerPayment.objects.create(
        farmer=locked,
        paid_on=paid_on,
        amount=amount,
        method=method,
        reference=reference,
        note=note,
        recorded_by=acting_user,
        created_at=_moment(at),
    )
