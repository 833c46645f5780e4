"""After-sales by line: refunds (some units or kilograms of a line, with an amount), refunds
without a return (仅退款), returns (退货退款) and reshipments (补发).

One entry point takes an after-sale as plain values — ``after_sale_apply`` — and is what the
after-sales file importer (``orders.aftersale_files``) and the platform sync call; the order
page and the API record one through ``after_sale_record``. Both end in the same rules:

- **Before packing** (the order is still ``CANCELLABLE``) a refund cancels whole units of the
  line: their reservation goes back to the lots (``inventory.services.stock_release``) and
  allocation never reserves them again. When every unit of every line is cancelled the order
  becomes *refunded*.
- **After packing** a refund is recorded on the line; a 退货退款 expects the goods back
  (the return intake, ``shipping.services.parcel_return``, receives them through
  ``orders_goods_returned``). The order becomes *refunded* when every line is refunded in full
  (all its kilograms, or all its money), otherwise *partially refunded*.
- **A reshipment** sends units of a line again in a new parcel, without a new platform order:
  shipping packs it (``shipping.services.parcel_reship``) and asks ``orders_reship`` for the
  stock, reserved first expiry first and handed over as ``(line, lot, kg)`` items, as
  ``orders_pack`` does for an ordinary box.

A platform's after-sale number is applied once per order: applying the same values again
changes nothing (``unchanged``); a later state of the same number (申请中 → 退款成功) updates it.

Locks: the order first (``orders.lifecycle.lock_orders``), then inventory's lots.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from core.errors import DomainError
from inventory.models import Lot
from inventory.services import (
    InsufficientStock,
    Reservation,
    ReserveRequest,
    stock_release,
    stock_reserve_many,
)
from orders.lifecycle import (
    ALLOWED_TRANSITIONS,
    CANCELLABLE,
    CLOSED,
    KG_STEP,
    PACKED_OR_LATER,
    PackedItem,
    lock_orders,
    move_locked,
)
from orders.models import (
    AfterSale,
    AfterSaleKind,
    AfterSaleSource,
    AfterSaleState,
    Allocation,
    Channel,
    Order,
    OrderLine,
    OrderStatus,
    ReturnState,
)

CENT = Decimal("0.01")
ZERO = Decimal("0")
REFUND_KINDS = frozenset({AfterSaleKind.REFUND_ONLY, AfterSaleKind.RETURN_AND_REFUND})

# How platforms and their exports name the kinds and states (lower-cased English too).
KIND_WORDS = {
    "仅退款": AfterSaleKind.REFUND_ONLY,
    "退款": AfterSaleKind.REFUND_ONLY,
    "未发货仅退款": AfterSaleKind.REFUND_ONLY,
    "已发货仅退款": AfterSaleKind.REFUND_ONLY,
    "退货退款": AfterSaleKind.RETURN_AND_REFUND,
    "退货": AfterSaleKind.RETURN_AND_REFUND,
    "补发": AfterSaleKind.RESHIP,
    "补寄": AfterSaleKind.RESHIP,
    "refund_only": AfterSaleKind.REFUND_ONLY,
    "refund": AfterSaleKind.REFUND_ONLY,
    "return_and_refund": AfterSaleKind.RETURN_AND_REFUND,
    "return_refund": AfterSaleKind.RETURN_AND_REFUND,
    "return": AfterSaleKind.RETURN_AND_REFUND,
    "reship": AfterSaleKind.RESHIP,
}
SUCCEEDED_WORDS = frozenset(
    {"退款成功", "已退款", "退款完成", "售后完成", "售后成功", "refunded", "success", "succeeded"}
)
CLOSED_WORDS = frozenset(
    {
        "退款关闭",
        "售后关闭",
        "已关闭",
        "关闭",
        "已撤销",
        "撤销",
        "买家撤销",
        "已拒绝",
        "拒绝退款",
        "商家拒绝",
        "退款失败",
        "closed",
        "cancelled",
        "refused",
    }
)


@dataclass(frozen=True)
class LineFigures:
    """What is already refunded (money back) of a line, and what of it was cancelled before
    packing."""

    refunded_kg: Decimal = ZERO
    refunded_amount: Decimal = ZERO
    refunded_units: int = 0
    cancelled_kg: Decimal = ZERO
    cancelled_units: int = 0


@dataclass
class Applied:
    """What ``after_sale_apply`` did: ``created``, ``updated`` or ``unchanged``, the row, and
    a sentence for a person (the import preview shows it)."""

    outcome: str
    after_sale: AfterSale
    effect: str = ""


def _yuan(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def line_figures(line_ids) -> dict[int, LineFigures]:
    """Per line: refunded kilograms, money and units, and the cancelled part. One query."""
    sums: dict[int, dict] = defaultdict(
        lambda: {"rkg": ZERO, "ramt": ZERO, "ru": 0, "ckg": ZERO, "cu": 0}
    )
    for line_id, kg, amount, units, before in AfterSale.objects.filter(
        line_id__in=list(line_ids), state=AfterSaleState.REFUNDED, kind__in=REFUND_KINDS
    ).values_list("line_id", "kg", "amount", "units", "before_shipping"):
        each = sums[line_id]
        each["rkg"] += kg
        each["ramt"] += amount
        each["ru"] += units
        if before:
            each["ckg"] += kg
            each["cu"] += units
    return {
        line_id: LineFigures(s["rkg"], s["ramt"], s["ru"], s["ckg"], s["cu"])
        for line_id, s in sums.items()
    }


def cancelled_kg_by_line(line_ids) -> dict[int, Decimal]:
    """Kilograms of each line cancelled before packing: allocation leaves them out."""
    return {
        line_id: figures.cancelled_kg
        for line_id, figures in line_figures(line_ids).items()
        if figures.cancelled_kg
    }


def parse_kind(text: str) -> str:
    """Our kind for the platform's words: 仅退款, 退货退款, 补发/补寄, and their variants
    (已发货仅退款, 仅退款（未发货）); an exchange (换货) is refused."""
    words = str(text).strip().lower()
    kind = KIND_WORDS.get(words)
    if kind is None and "换" not in words:
        if "退货" in words:
            kind = AfterSaleKind.RETURN_AND_REFUND
        elif "退款" in words:
            kind = AfterSaleKind.REFUND_ONLY
        elif "补发" in words or "补寄" in words:
            kind = AfterSaleKind.RESHIP
    if kind is None:
        raise DomainError(
            _("“%(value)s” is not an after-sale kind (仅退款, 退货退款 or 补发).")
            % {"value": str(text)[:40]},
            field="kind",
        )
    return kind


def platform_state_of(words: str, *, succeeded: bool | None, closed: bool | None) -> str:
    """Our state for the platform's words (or its flags, when a connector has them)."""
    if closed:
        return AfterSaleState.CLOSED
    if succeeded:
        return AfterSaleState.REFUNDED
    text = words.strip().lower()
    if succeeded is None and text in SUCCEEDED_WORDS:
        return AfterSaleState.REFUNDED
    if closed is None and text in CLOSED_WORDS:
        return AfterSaleState.CLOSED
    return AfterSaleState.REQUESTED


def _line_of(order: Order, code: str) -> OrderLine:
    lines = list(order.lines.select_related("sku").order_by("pk"))
    code = str(code or "").strip()
    if not code:
        if len(lines) == 1:
            return lines[0]
        raise DomainError(
            _("Order %(order)s has %(count)s lines: name the merchant code of the line.")
            % {"order": order.external_no, "count": len(lines)},
            field="merchant_code",
        )
    found = [line for line in lines if line.sku.merchant_code.lower() == code.lower()]
    if not found and code.isdigit():
        found = [line for line in lines if line.sku_id == int(code) or line.pk == int(code)]
    if not found:
        raise DomainError(
            _("Order %(order)s has no line with merchant code %(code)s.")
            % {"order": order.external_no, "code": code[:40]},
            field="merchant_code",
        )
    return found[0]


def _quantity(
    line: OrderLine, figures: LineFigures, *, units: int | None, kg: Decimal | None, whole: bool
) -> tuple[int, Decimal]:
    """(units, kg) of an after-sale of ``line``. Units give kilograms (the last units take
    what is left, so rounding strands no gram); kilograms alone count no units; neither means
    what is left of the line. ``whole``: only whole units will do (a cancel before packing)."""
    left_units = line.quantity - figures.refunded_units
    left_kg = line.kg - figures.refunded_kg
    if units is None and kg is None:
        if left_kg <= 0 or left_units <= 0:
            raise DomainError(_("This line is already refunded in full."), field="units")
        return left_units, left_kg
    if units is not None:
        if units <= 0:
            raise DomainError(_("Give at least one unit."), field="units")
        if units > left_units:
            raise DomainError(
                _("Only %(units)s units of %(sku)s are left to refund.")
                % {"units": max(left_units, 0), "sku": line.sku.name},
                field="units",
            )
        if units == left_units:
            return units, left_kg
        return units, (line.kg * units / line.quantity).quantize(KG_STEP)
    if kg <= 0 or kg != kg.quantize(KG_STEP):
        raise DomainError(_("Give the kilograms with up to 3 decimals."), field="kg")
    if kg > left_kg:
        raise DomainError(
            _("At most %(kg)s kg of %(sku)s are left to refund.")
            % {"kg": max(left_kg, ZERO), "sku": line.sku.name},
            field="kg",
        )
    if whole:
        per_unit = line.kg / line.quantity
        count = kg / per_unit
        if count != count.to_integral_value():
            raise DomainError(
                _("Before packing a refund cancels whole units: give the number of units."),
                field="units",
            )
        return int(count), kg
    return 0, kg


def _amount(
    line: OrderLine, figures: LineFigures, kg: Decimal, amount: Decimal | None, order: Order
) -> Decimal:
    """The refund's money: as given, or the line's price for those kilograms. The money
    refunded on a line never passes its amount plus the order's shipping fee."""
    if amount is None:
        amount = _yuan(line.amount * kg / line.kg)
    if amount < 0 or amount != amount.quantize(CENT):
        raise DomainError(_("Give the amount in yuan with up to 2 decimals."), field="amount")
    ceiling = line.amount + order.shipping_fee - figures.refunded_amount
    if amount > ceiling:
        raise DomainError(
            _("At most ¥%(amount)s of this line can still be refunded.")
            % {"amount": max(ceiling, ZERO)},
            field="amount",
        )
    return amount


def _release(order: Order, line: OrderLine, kg: Decimal) -> Decimal:
    """Give back ``kg`` of what ``line`` holds, from its last allocations first. Returns what
    was released; the caller refuses when the line held less (some units are packed)."""
    allocations = list(Allocation.objects.filter(line=line).order_by("-pk"))
    left = kg
    released: list[Reservation] = []
    for allocation in allocations:
        if left <= 0:
            break
        take = min(left, allocation.kg)
        released.append(Reservation(allocation.lot_id, take))
        if take == allocation.kg:
            allocation.delete()
        else:
            Allocation.objects.filter(pk=allocation.pk).update(kg=allocation.kg - take)
        left -= take
    if released:
        stock_release(
            reservations=sorted(released, key=lambda r: r.lot_id), reference=order.reference
        )
    return kg - left


def _settle(order: Order, *, acting_user, note: str) -> str:
    """Move the locked ``order`` to what its refunds make it: refunded when every line is
    refunded in full, partially refunded when some of it is (after packing); before packing
    only a whole cancel changes its status. Returns the status."""
    lines = list(order.lines.all())
    figures = line_figures(line.pk for line in lines)
    empty = LineFigures()

    def full(line: OrderLine) -> bool:
        each = figures.get(line.pk, empty)
        return each.refunded_kg >= line.kg or (
            line.amount > 0 and each.refunded_amount >= line.amount
        )

    target = order.status
    if order.status in CANCELLABLE:
        if all(figures.get(line.pk, empty).cancelled_kg >= line.kg for line in lines):
            if Allocation.objects.filter(line__order=order).exists():
                raise DomainError(_("Some of this order is packed: refund it line by line."))
            target = OrderStatus.REFUNDED
    elif order.status in PACKED_OR_LATER:
        if all(full(line) for line in lines):
            target = OrderStatus.REFUNDED
        elif any(
            figures.get(line.pk, empty).refunded_kg > figures.get(line.pk, empty).cancelled_kg
            for line in lines
        ):
            target = OrderStatus.PARTIALLY_REFUNDED
    if target != order.status and target in ALLOWED_TRANSITIONS[order.status]:
        move_locked(moves=[(order.pk, order.status, target, note)], acting_user=acting_user)
        order.status = target
    return order.status


def _refund_effects(order: Order, sale: AfterSale, *, acting_user) -> str:
    """What a refund that just became effective does to the locked order; a sentence."""
    note = _("After-sale %(id)s") % {"id": sale.platform_refund_id or sale.pk}
    if sale.before_shipping:
        released = _release(order, sale.line, sale.kg)
        if released < sale.kg and order.status in {OrderStatus.PICKING}:
            raise DomainError(
                _("Some of these units are packed already: refund them after shipping."),
                field="units",
            )
        status = _settle(order, acting_user=acting_user, note=note)
        if status == OrderStatus.REFUNDED:
            return _("Refunded before packing: the order is refunded, its stock released.")
        return _("Refunded before packing: %(units)s × %(sku)s cancelled, stock released.") % {
            "units": sale.units,
            "sku": sale.line.sku.name,
        }
    status = _settle(order, acting_user=acting_user, note=note)
    text = _("Refund of ¥%(amount)s recorded; the order is %(status)s.") % {
        "amount": sale.amount,
        "status": OrderStatus(status).label,
    }
    if sale.return_state == ReturnState.EXPECTED:
        text += " " + _("The goods are expected back.")
    return text


def _create(
    order: Order,
    line: OrderLine,
    *,
    kind: str,
    state: str,
    units: int | None,
    kg: Decimal | None,
    amount: Decimal | None,
    reason: str,
    platform_refund_id: str = "",
    platform_state: str = "",
    source: str,
    acting_user,
) -> Applied:
    """A new after-sale of the locked ``order``'s ``line``, and its effects."""
    if order.status in CLOSED:
        # Already cancelled or refunded as a whole (by the order import, say): kept for the
        # record and for idempotency, changing nothing — if it fits the line at all.
        if (units or 0) > line.quantity or (kg or ZERO) > line.kg:
            raise DomainError(
                _("Line %(sku)s has %(units)s units, %(kg)s kg.")
                % {"sku": line.sku.name, "units": line.quantity, "kg": line.kg},
                field="kg" if kg else "units",
            )
        sale = AfterSale.objects.create(
            order=order,
            line=line,
            kind=kind,
            state=state,
            units=max(units or 0, 0),
            kg=kg if kg and kg > 0 else line.kg,
            amount=amount if amount is not None and amount >= 0 else ZERO,
            reason=reason[:200],
            platform_refund_id=platform_refund_id,
            platform_state=platform_state[:30],
            source=source,
            created_by=acting_user,
        )
        return Applied(
            "created",
            sale,
            _("The order is already %(status)s: recorded, nothing changed.")
            % {"status": order.get_status_display()},
        )
    figures = line_figures([line.pk]).get(line.pk, LineFigures())
    before = order.status in CANCELLABLE
    if kind == AfterSaleKind.RESHIP:
        raise DomainError(
            _("A reshipment is packed at the order's reship page, not recorded here."),
            field="kind",
        )
    units, kg = _quantity(line, figures, units=units, kg=kg, whole=before)
    amount = _amount(line, figures, kg, amount, order)
    expects = (
        kind == AfterSaleKind.RETURN_AND_REFUND
        and not before
        and state in {AfterSaleState.REQUESTED, AfterSaleState.REFUNDED}
    )
    sale = AfterSale.objects.create(
        order=order,
        line=line,
        kind=kind,
        state=state,
        units=units,
        kg=kg,
        amount=amount,
        before_shipping=before and state == AfterSaleState.REFUNDED,
        return_state=ReturnState.EXPECTED if expects else ReturnState.NONE,
        reason=reason[:200],
        platform_refund_id=platform_refund_id,
        platform_state=platform_state[:30],
        source=source,
        created_by=acting_user,
    )
    sale.line = line
    if state == AfterSaleState.REFUNDED:
        return Applied("created", sale, _refund_effects(order, sale, acting_user=acting_user))
    if state == AfterSaleState.REQUESTED:
        return Applied("created", sale, _("Requested on the platform: nothing changes yet."))
    return Applied("created", sale, _("Closed on the platform: nothing changes."))


def _update(order: Order, sale: AfterSale, *, state: str, platform_state: str, amount, acting_user):
    """A known after-sale number seen again: the same state changes nothing; requested →
    refunded takes effect now; requested → closed closes it."""
    amount_changed = amount is not None and amount != sale.amount
    if state == sale.state and platform_state[:30] == sale.platform_state and not amount_changed:
        return Applied("unchanged", sale, _("Already applied: nothing changed."))
    fields = ["platform_state", "updated_at"]
    sale.platform_state = platform_state[:30]
    effect = _("Platform state updated.")
    if sale.state == AfterSaleState.REQUESTED and state == AfterSaleState.REFUNDED:
        if order.status in CLOSED:
            sale.state = state
            fields.append("state")
            effect = _("The order is already %(status)s: recorded, nothing changed.") % {
                "status": order.get_status_display()
            }
        else:
            line = OrderLine.objects.select_related("sku").get(pk=sale.line_id)
            figures = line_figures([line.pk]).get(line.pk, LineFigures())
            before = order.status in CANCELLABLE
            units = sale.units or None
            units, kg = _quantity(
                line, figures, units=units, kg=None if units else sale.kg, whole=before
            )
            sale.units, sale.kg, sale.state = units, kg, state
            sale.amount = _amount(line, figures, kg, amount if amount is not None else None, order)
            sale.before_shipping = before
            if before:
                sale.return_state = ReturnState.NONE
            fields += ["units", "kg", "state", "amount", "before_shipping", "return_state"]
            sale.save(update_fields=fields)
            sale.line = line
            return Applied("updated", sale, _refund_effects(order, sale, acting_user=acting_user))
    elif sale.state == AfterSaleState.REQUESTED and state == AfterSaleState.CLOSED:
        sale.state = state
        fields.append("state")
        if sale.return_state == ReturnState.EXPECTED:
            sale.return_state = ReturnState.NONE
            fields.append("return_state")
        effect = _("Closed on the platform: nothing changes.")
    elif sale.state == AfterSaleState.REFUNDED and amount_changed and order.status not in CLOSED:
        line = OrderLine.objects.select_related("sku").get(pk=sale.line_id)
        others = line_figures([line.pk]).get(line.pk, LineFigures())
        without = LineFigures(
            others.refunded_kg - sale.kg,
            others.refunded_amount - sale.amount,
            others.refunded_units - sale.units,
        )
        sale.amount = _amount(line, without, sale.kg, amount, order)
        fields.append("amount")
        sale.save(update_fields=fields)
        _settle(order, acting_user=acting_user, note=sale.platform_refund_id)
        return Applied("updated", sale, _("Refund amount updated."))
    sale.save(update_fields=fields)
    return Applied("updated", sale, effect)


def find_order(channel: Channel | str, order_no: str) -> Order:
    if not isinstance(channel, Channel):
        found = Channel.objects.filter(code=str(channel).strip()).first()
        if found is None:
            raise DomainError(
                _("There is no channel %(code)s.") % {"code": str(channel)[:20]}, field="channel"
            )
        channel = found
    order_no = str(order_no or "").strip().lstrip("\t'")
    if not order_no:
        raise DomainError(_("The order number is missing."), field="order_no")
    order_id = (
        Order.objects.filter(channel=channel, external_no=order_no)
        .values_list("pk", flat=True)
        .first()
    )
    if order_id is None:
        raise DomainError(
            _("Order %(order)s is not in %(channel)s.")
            % {"order": order_no[:40], "channel": channel.name},
            field="order_no",
        )
    return Order(pk=order_id, channel=channel, external_no=order_no)


@transaction.atomic
def after_sale_apply(
    *,
    channel: Channel | str,
    order_no: str,
    kind: str,
    line_code: str = "",
    units: int | None = None,
    kg: Decimal | None = None,
    amount: Decimal | None = None,
    platform_refund_id: str = "",
    platform_state: str = "",
    succeeded: bool | None = None,
    closed: bool | None = None,
    reason: str = "",
    source: str = AfterSaleSource.PLATFORM,
    acting_user=None,
) -> Applied:
    """Apply one after-sale a platform reports, given as plain values: the channel (or its
    code), the order number, the line's merchant code (or SKU id; empty for a one-line
    order), the kind (``AfterSaleKind`` or the platform's words: 仅退款, 退货退款), units or
    kilograms (neither: what is left of the line), the amount (None: the line's price for
    those kilograms), the platform's after-sale number and state (退款成功 / 退款关闭 / …, or
    the ``succeeded``/``closed`` flags a connector reads). The after-sales file importer and
    the platform sync both call this.

    Idempotent by (order, platform number): the same values again are ``unchanged``.
    Refuses bad input with ``DomainError`` naming the field (``order_no``,
    ``merchant_code``, ``kind``, ``units``, ``kg``, ``amount``). Locks the order, then
    the lots of a cancelled line."""
    kind = parse_kind(kind)
    state = platform_state_of(platform_state, succeeded=succeeded, closed=closed)
    found = find_order(channel, order_no)
    order = lock_orders([found.pk], related=("channel",))[found.pk]
    number = str(platform_refund_id or "").strip()[:64]
    if number:
        existing = AfterSale.objects.filter(order=order, platform_refund_id=number).first()
        if existing is not None:
            return _update(
                order,
                existing,
                state=state,
                platform_state=platform_state or "",
                amount=amount,
                acting_user=acting_user,
            )
    line = _line_of(order, line_code)
    if state == AfterSaleState.CLOSED and not number:
        raise DomainError(_("A closed after-sale without a number changes nothing."), field="state")
    return _create(
        order,
        line,
        kind=kind,
        state=state,
        units=units,
        kg=kg,
        amount=amount,
        reason=reason,
        platform_refund_id=number,
        platform_state=platform_state or "",
        source=source,
        acting_user=acting_user,
    )


@transaction.atomic
def after_sale_record(
    *,
    order: Order,
    line: OrderLine,
    kind: str,
    units: int | None = None,
    kg: Decimal | None = None,
    amount: Decimal | None = None,
    reason: str = "",
    acting_user,
) -> Applied:
    """A manager records a refund the platform (or the studio) has made: 仅退款 or 退货退款
    of some units or kilograms of ``line``, with its amount. Takes effect at once (see the
    module's rules). Locks the order, then the lots of a cancelled line."""
    if line.order_id != order.pk:
        raise DomainError(_("That line is not one of this order's lines."), field="line")
    kind = parse_kind(kind)
    if not reason.strip() and kind == AfterSaleKind.REFUND_ONLY:
        raise DomainError(_("Say why the money goes back."), field="reason")
    locked = lock_orders([order.pk], related=("channel",))[order.pk]
    line = OrderLine.objects.select_related("sku").get(pk=line.pk)
    applied = _create(
        locked,
        line,
        kind=kind,
        state=AfterSaleState.REFUNDED,
        units=units,
        kg=kg,
        amount=amount,
        reason=reason.strip(),
        source=AfterSaleSource.MANUAL,
        acting_user=acting_user,
    )
    order.status = locked.status
    return applied


# --- what shipping asks ----------------------------------------------------------------------


@transaction.atomic(savepoint=False)
def orders_goods_returned(
    *, returns: list[tuple[int, Decimal]], acting_user, reference: str
) -> list[AfterSale]:
    """Goods came back in a parcel (the return intake): ``returns`` are ``(line id, kg)``.
    Each line's kilograms first fill the after-sales that expect a return of it; what is left
    is a new 退货退款 refunded at the line's price for those kilograms. Each order then becomes
    refunded (all of it) or partially refunded. Locks the orders (the caller may hold them)."""
    lines = {
        line.pk: line
        for line in OrderLine.objects.select_related("sku").filter(
            pk__in={line_id for line_id, _kg in returns}
        )
    }
    locked = lock_orders({line.order_id for line in lines.values()}, related=("channel",))
    touched: list[AfterSale] = []
    by_line: dict[int, Decimal] = defaultdict(Decimal)
    for line_id, kg in returns:
        by_line[line_id] += kg
    for line_id in sorted(by_line):
        line, kg = lines[line_id], by_line[line_id]
        order = locked[line.order_id]
        for sale in AfterSale.objects.filter(line=line, return_state=ReturnState.EXPECTED).order_by(
            "pk"
        ):
            take = min(kg, sale.kg - sale.returned_kg)
            if take <= 0:
                continue
            sale.returned_kg += take
            if sale.returned_kg >= sale.kg:
                sale.return_state = ReturnState.RECEIVED
            sale.parcel_reference = reference[:40]
            sale.save(update_fields=["returned_kg", "return_state", "parcel_reference"])
            touched.append(sale)
            kg -= take
        if kg <= 0 or order.status in CLOSED:
            continue
        figures = line_figures([line.pk]).get(line.pk, LineFigures())
        kg = min(kg, line.kg - figures.refunded_kg)
        if kg <= 0:
            continue
        amount = min(
            _yuan(line.amount * kg / line.kg), max(line.amount - figures.refunded_amount, ZERO)
        )
        touched.append(
            AfterSale.objects.create(
                order=order,
                line=line,
                kind=AfterSaleKind.RETURN_AND_REFUND,
                state=AfterSaleState.REFUNDED,
                kg=kg,
                amount=amount,
                return_state=ReturnState.RECEIVED,
                returned_kg=kg,
                source=AfterSaleSource.RETURN_INTAKE,
                parcel_reference=reference[:40],
                created_by=acting_user,
            )
        )
    for order_id in sorted(locked):
        _settle(locked[order_id], acting_user=acting_user, note=reference)
    return touched


@dataclass
class Reshipment:
    """What ``orders_reship`` set aside for a new parcel: the after-sale and its items."""

    order: Order
    after_sale: AfterSale
    items: list[PackedItem]


@transaction.atomic(savepoint=False)
def orders_reship(
    *, order: Order, line: OrderLine, units: int, reason: str, acting_user
) -> Reshipment:
    """Send ``units`` of ``line`` again (补发: spoiled or lost in transit), without a new
    platform order: their kilograms are taken from the lots first expiry first and handed
    back as ``(line, lot, kg)`` items for the parcel, which the caller (shipping) packs and
    ships out in the same transaction, then names with ``after_sale_reshipped``. The order
    must have left already (packed or later); its status does not change.

    Locks the order, then (inside ``stock_reserve_many``) the candidate lots."""
    if line.order_id != order.pk:
        raise DomainError(_("That line is not one of this order's lines."), field="line")
    if not reason.strip():
        raise DomainError(_("Say why it is sent again."), field="reason")
    locked = lock_orders([order.pk], related=("channel",))[order.pk]
    if locked.status not in PACKED_OR_LATER:
        raise DomainError(
            _("Order %(order)s is %(status)s: only an order that has left can be reshipped.")
            % {"order": locked.external_no, "status": locked.get_status_display()},
            field="order",
            code="forbidden_transition",
        )
    line = OrderLine.objects.select_related("sku").get(pk=line.pk)
    if units <= 0 or units > line.quantity:
        raise DomainError(
            _("Reship between 1 and %(units)s units.") % {"units": line.quantity},
            field="units",
        )
    kg = (line.kg * units / line.quantity).quantize(KG_STEP)
    (outcome,) = stock_reserve_many(
        documents=[[ReserveRequest(line.sku.product_id, line.sku.grade_id, kg)]]
    )
    if isinstance(outcome, InsufficientStock):
        raise DomainError(
            _("Not enough stock to reship: %(reason)s") % {"reason": outcome.message},
            field="units",
            code="insufficient_stock",
        )
    sale = AfterSale.objects.create(
        order=locked,
        line=line,
        kind=AfterSaleKind.RESHIP,
        state=AfterSaleState.TO_SHIP,
        units=units,
        kg=kg,
        reason=reason.strip()[:200],
        source=AfterSaleSource.MANUAL,
        created_by=acting_user,
    )
    lots = Lot.objects.select_related("farmer").in_bulk([r.lot_id for r in outcome[0]])
    items = [PackedItem(line, lots[r.lot_id], r.kg) for r in outcome[0]]
    return Reshipment(order=locked, after_sale=sale, items=items)


def after_sale_reshipped(*, after_sale: AfterSale, parcel_reference: str) -> None:
    """The reshipment's parcel is packed: name it on the after-sale."""
    AfterSale.objects.filter(pk=after_sale.pk, state=AfterSaleState.TO_SHIP).update(
        state=AfterSaleState.RESHIPPED, parcel_reference=parcel_reference[:40]
    )
    after_sale.state = AfterSaleState.RESHIPPED
    after_sale.parcel_reference = parcel_reference[:40]


def refunded_money(order_filter: Q, *, whole_orders: bool = True) -> Decimal:
    """Money refunded on the orders ``order_filter`` selects (a ``Q`` on ``Order``): a
    refunded order's whole goods total (left out with ``whole_orders=False``, for a caller
    that has it already), and the refunds by line of the others — partially refunded ones
    and orders that still went out after some units were refunded before packing."""
    whole = None
    if whole_orders:
        whole = Order.objects.filter(order_filter, status=OrderStatus.REFUNDED).aggregate(
            total=Sum("goods_total")
        )["total"]
    part = AfterSale.objects.filter(
        state=AfterSaleState.REFUNDED,
        kind__in=REFUND_KINDS,
        order__in=Order.objects.filter(order_filter).exclude(status__in=CLOSED).values("pk"),
    ).aggregate(total=Sum("amount"))["total"]
    return (whole or ZERO) + (part or ZERO)
