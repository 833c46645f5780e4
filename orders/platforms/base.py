"""One interface for a platform: pull orders changed in a time window (page by page), push a
shipment (one order, one or more parcels), pull after-sales, and the platform's carrier
codes. ``DouyinConnector`` and ``KuaishouConnector`` implement it; ``connector_for`` picks
the one for a channel.

Pulled orders come back as ``PulledOrder``: the order's number, its platform status and,
for an order that is paid and open, an ``orders.drafts.OrderDraft`` built with the same
cell rules as an imported file (``orders.importers.rows``) — the caller creates the orders
(``orders.services.orders_create``), so there is one path into orders. An order that cannot
become a draft (an unknown merchant code, an unreadable phone) carries its reasons instead.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _

from inventory.models import Sku
from orders.drafts import LineDraft, OrderDraft, draft_errors
from orders.importers.rows import parse_phone
from orders.models import Channel
from orders.platforms.client import PlatformApi
from orders.platforms.errors import PlatformRejected
from orders.platforms.models import PlatformAccount

CENT = Decimal("0.01")


class PulledStatus:
    UNPAID = "unpaid"  # not paid yet: nothing to do
    OPEN = "open"  # paid, waiting to be shipped
    SHIPPED = "shipped"  # shipped (or delivered, or finished) on the platform
    CLOSED = "closed"  # cancelled or closed before shipping


@dataclass
class PulledOrder:
    external_no: str
    status: str
    platform_status: str
    updated_at: datetime | None
    draft: OrderDraft | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class OrderPage:
    orders: list[PulledOrder]
    next_page: str | None  # None: the window is read to its end


@dataclass
class ShipmentParcel:
    carrier_code: str  # Shanhuo's ``shipping.Carrier.code``
    waybill_number: str
    items: list[tuple[str, int]] = field(default_factory=list)  # (merchant code, quantity)


@dataclass
class Shipment:
    order_no: str
    parcels: list[ShipmentParcel]


@dataclass
class ShipmentReceipt:
    order_no: str
    parcels: int
    platform_ids: list[str] = field(default_factory=list)


class AfterSaleKind:
    REFUND_ONLY = "refund_only"
    RETURN_AND_REFUND = "return_and_refund"
    EXCHANGE = "exchange"
    OTHER = "other"


@dataclass
class PulledAfterSale:
    after_sale_id: str
    order_no: str
    kind: str
    status: str  # the platform's words
    succeeded: bool  # the money went back to the buyer
    closed: bool  # withdrawn, refused or failed
    refund_amount: Decimal
    quantity: int
    merchant_code: str
    shipped: bool  # the goods had left when it was asked for
    updated_at: datetime | None


@dataclass
class AfterSalePage:
    after_sales: list[PulledAfterSale]
    next_page: str | None


def fen(value) -> Decimal:
    """Platforms count money in fen (分): yuan with 2 places."""
    return (Decimal(int(value or 0)) / 100).quantize(CENT)


class PlatformConnector:
    """What every platform connector offers. ``window`` is the longest time span one query
    may cover; ``iter_orders`` splits a longer span and walks the pages."""

    platform = ""
    api_class: type[PlatformApi] = PlatformApi
    window = timedelta(days=1)
    after_sale_window = timedelta(days=1)
    # Shanhuo carrier code (shipping/migrations/0002_carriers.py) -> the platform's code.
    carrier_codes: dict[str, str] = {}

    def __init__(self, account: PlatformAccount, *, api: PlatformApi | None = None, **options):
        self.account = account
        self.channel: Channel = account.channel
        self.api = api or self.api_class(account, **options)

    def close(self) -> None:
        self.api.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- the interface ---------------------------------------------------------------------

    def pull_orders(self, *, since: datetime, until: datetime, page: str = "") -> OrderPage:
        raise NotImplementedError

    def push_shipment(self, shipment: Shipment) -> ShipmentReceipt:
        raise NotImplementedError

    def pull_after_sales(
        self, *, since: datetime, until: datetime, page: str = ""
    ) -> AfterSalePage:
        raise NotImplementedError

    def platform_carrier(self, carrier_code: str) -> str:
        """The platform's code for a Shanhuo carrier: the account's own list first, then
        the built-in one. Unknown carriers are refused before anything is sent."""
        code = self.account.carrier_codes.get(carrier_code) or self.carrier_codes.get(carrier_code)
        if not code:
            raise PlatformRejected(
                _(
                    "%(platform)s has no code for the carrier %(carrier)s: add it to the "
                    "channel's carrier codes."
                )
                % {"platform": self.platform, "carrier": carrier_code},
                platform=self.platform,
            )
        return str(code)

    # --- helpers ---------------------------------------------------------------------------

    def windows(self, since: datetime, until: datetime, span: timedelta):
        start = since
        while start < until:
            end = min(until, start + span)
            yield start, end
            start = end

    def iter_orders(self, *, since: datetime, until: datetime) -> Iterator[PulledOrder]:
        for start, end in self.windows(since, until, self.window):
            page = ""
            while True:
                result = self.pull_orders(since=start, until=end, page=page)
                yield from result.orders
                if result.next_page is None:
                    break
                page = result.next_page

    def iter_after_sales(self, *, since: datetime, until: datetime) -> Iterator[PulledAfterSale]:
        for start, end in self.windows(since, until, self.after_sale_window):
            page = ""
            while True:
                result = self.pull_after_sales(since=start, until=end, page=page)
                yield from result.after_sales
                if result.next_page is None:
                    break
                page = result.next_page

    def skus_for(self, codes: set[str]) -> dict[str, Sku]:
        codes = {code for code in codes if code}
        found = {
            sku.merchant_code: sku
            for sku in Sku.objects.select_related("product", "grade").filter(
                merchant_code__in=codes
            )
        }
        missing = codes - set(found)
        if missing:  # exports and platforms change the case of codes now and then
            folded = {code.upper(): code for code in missing}
            for sku in Sku.objects.select_related("product", "grade").filter(
                merchant_code__in=[code.upper() for code in missing]
                + [code.lower() for code in missing]
            ):
                original = folded.get(sku.merchant_code.upper())
                if original:
                    found[original] = sku
        return found


def draft_or_problems(
    order: PulledOrder,
    *,
    recipient_name: str,
    phone: str,
    province: str,
    city: str,
    district: str,
    address_detail: str,
    paid_at: datetime | None,
    buyer_note: str,
    shipping_fee: Decimal,
    goods_total: Decimal | None,
    lines: list[tuple[str, int, Decimal]],
    skus: dict[str, Sku],
) -> None:
    """Set ``order.draft``, or ``order.problems``: the rules every new order meets
    (``orders.drafts.draft_errors``), as an imported row or an API body meets them."""
    problems = order.problems
    phone, masked = parse_phone(phone)
    line_drafts = []
    for code, quantity, unit_price in lines:
        sku = skus.get(code)
        if not code:
            problems.append(_("The merchant code is missing."))
        elif sku is None:
            problems.append(_("No SKU has the merchant code “%(code)s”.") % {"code": code})
        else:
            line_drafts.append(LineDraft(sku=sku, quantity=quantity, unit_price=unit_price))
    raw_address = f"{province}{city}{district}{address_detail}"
    draft = OrderDraft(
        external_no=order.external_no,
        recipient_name=recipient_name,
        phone=phone,
        phone_masked_by_platform=masked,
        province=province,
        city=city,
        district=district,
        address_detail=address_detail,
        raw_address=raw_address,
        buyer_note=buyer_note[:500],
        paid_at=paid_at,
        lines=line_drafts,
        shipping_fee=shipping_fee,
        goods_total=goods_total,
        platform_status=order.platform_status,
    )
    for error in draft_errors(draft):
        if error.field == "lines" and lines:
            continue  # every line had an unknown code: said above already
        problems.append(error.message)
    if not problems:
        order.draft = draft
