"""An order before it is saved, and the one set of rules every new order meets.

Orders are created one way: an API body, a form or a row of an imported file is first made into
an ``OrderDraft``; ``draft_errors`` checks it against the rules below; then a writer saves it —
``orders.services.orders_create`` with ``bulk_create``, or the importer's ``COPY`` writer on
PostgreSQL. Both writers take the goods total, each line's kilograms and the first event's note
from the functions here, and write in chunks of ``WRITE_CHUNK`` orders. What a file's cells
must look like to be read at all (a number, a date) is the importer's business
(``orders.importers.rows``); what an order must be is decided here.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from core.errors import DomainError
from inventory.models import Sku
from orders.addresses import address_normalise_draft
from orders.models import LiveSession, Order

# Orders written per chunk, by both writers: one transaction per chunk when an import keeps
# its good rows, and the batch size of every bulk insert.
WRITE_CHUNK = 2000

ORDER_NUMBER = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_\-]{0,39}$")
# A mobile number; a platform's privacy number may add an extension (17012345678-1234).
PHONE = re.compile(r"^1[3-9]\d{9}(?:-\d{1,6})?$")
# As a platform masks it: 138****1234, with an extension where the platform adds one.
PHONE_MASK = re.compile(r"^1\d{2}\*{4}\d{4}(?:-\d{1,6})?$")
MAX_QUANTITY = 100_000
MAX_MONEY = Decimal("9999999999.99")
CENT = Decimal("0.01")
ZERO = Decimal("0")
# Longest text each order value may hold (the model's column sizes).
TEXT_LIMITS = tuple(
    (name, Order._meta.get_field(name).max_length)
    for name in (
        "recipient_name",
        "province",
        "city",
        "district",
        "address_detail",
        "raw_address",
        "buyer_note",
        "platform_status",
    )
)


@dataclass
class LineDraft:
    sku: Sku
    quantity: int
    unit_price: Decimal


@dataclass
class OrderDraft:
    """An order as read from a file, a form or an API body, before it is saved."""

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


def _money_problem(value: Decimal) -> str:
    if not value.is_finite() or value < 0 or value > MAX_MONEY:
        return _("“%(value)s” is not an amount of money.") % {"value": value}
    if value != value.quantize(CENT):
        return _("“%(value)s” has more than 2 decimal places.") % {"value": value}
    return ""


def draft_errors(draft: OrderDraft) -> list[DomainError]:
    """Everything wrong with a draft, each a ``DomainError`` naming its field (and, for a
    line, its index as ``row``); empty when the draft may be saved. The draft's address is
    read onto the national divisions first (``orders.addresses``; once per draft): an address
    that cannot be read to its district is no error — it waits for a manager's review."""
    address_normalise_draft(draft)
    errors: list[DomainError] = []

    def wrong(message: str, name: str, row: int | None = None) -> None:
        errors.append(DomainError(message, field=name, row=row))

    number = draft.external_no
    if not number:
        wrong(_("The order number is missing."), "external_no")
    elif not ORDER_NUMBER.match(number):
        wrong(_("“%(value)s” is not an order number.") % {"value": number[:60]}, "external_no")
    if not draft.recipient_name:
        wrong(_("The recipient's name is missing."), "recipient_name")
    if not draft.phone:
        wrong(_("The phone number is missing."), "phone")
    elif not (PHONE.match(draft.phone) or PHONE_MASK.match(draft.phone)):
        wrong(
            _("“%(value)s” is neither an 11-digit mobile number nor a masked one like 138****1234.")
            % {"value": draft.phone[:30]},
            "phone",
        )
    if not draft.address_detail:  # a province alone is no address
        wrong(_("The address is missing."), "address_detail")
    for name, limit in TEXT_LIMITS:
        value = getattr(draft, name)
        if len(value) > limit:
            wrong(
                _("Longer than %(limit)d characters (%(length)d).")
                % {"limit": limit, "length": len(value)},
                name,
            )
    if draft.paid_at is None or draft.paid_at.tzinfo is None:
        wrong(_("The paid time is missing."), "paid_at")
    for name in ("shipping_fee", "goods_total"):
        value = getattr(draft, name)
        if value is not None and (problem := _money_problem(value)):
            wrong(problem, name)
    if not draft.lines:
        wrong(_("An order needs at least one line."), "lines")
    for index, line in enumerate(draft.lines):
        if not 1 <= line.quantity <= MAX_QUANTITY:
            wrong(
                _("The quantity must be a whole number of at least 1, not “%(value)s”.")
                % {"value": line.quantity},
                "quantity",
                index,
            )
        if problem := _money_problem(line.unit_price):
            wrong(problem, "unit_price", index)
        if not line.sku.is_active:
            wrong(
                _("SKU %(code)s is not sold any more.") % {"code": line.sku.merchant_code},
                "sku",
                index,
            )
    return errors


def check_draft(draft: OrderDraft) -> None:
    """Raise the first of ``draft_errors``, if any."""
    errors = draft_errors(draft)
    if errors:
        raise errors[0]


def goods_total(draft: OrderDraft) -> Decimal:
    """The draft's goods total: as the platform gave it, else the sum of its lines."""
    if draft.goods_total is not None:
        return draft.goods_total
    return sum((line.unit_price * line.quantity for line in draft.lines), ZERO)


def line_kg(line: LineDraft) -> Decimal:
    """A line's kilograms: quantity × its SKU's net kg."""
    return line.sku.net_kg * line.quantity


def created_note(*, imported: bool) -> str:
    """The note of a new order's first event."""
    return _("Imported") if imported else _("Created")


def live_session_for(channel, paid_at: datetime) -> LiveSession | None:
    """The channel's live session whose time window holds ``paid_at`` (the latest-started one
    when windows overlap)."""
    return (
        LiveSession.objects.filter(channel=channel, starts_at__lte=paid_at, ends_at__gte=paid_at)
        .order_by("-starts_at")
        .first()
    )
