"""Reads of orders shared by the API, pages and reports, with their related rows loaded once:
a list costs the same number of queries for 5 orders as for 500. The orders list page's
filters stay on indexed columns, so the list stays fast with 100,000 orders."""

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.db import select
from core.regions import NEEDS_REVIEW
from inventory.models import Lot
from orders.lifecycle import CLOSED
from orders.models import (
    Allocation,
    Channel,
    LiveSession,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
)

ZERO_MONEY = Value(Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=2))


def local_day_start(day: date) -> datetime:
    """Midnight of ``day`` in the studio's time zone (Asia/Shanghai): whole-day filters are
    written as a range from it, so the datetime column's index serves them."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def order_list() -> QuerySet[Order]:
    """Orders as a list shows them: channel and live session joined, lines with their SKU
    prefetched in one query per page. Newest payment first."""
    lines = OrderLine.objects.select_related("sku").order_by("id")
    return (
        Order.objects.select_related("channel", "live_session")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .order_by("-paid_at", "-id")
    )


def order_detail() -> QuerySet[Order]:
    """Orders with everything one order's view shows: lines with SKU, their allocations with
    lot and farmer, and the events with who made them (three prefetch queries in all)."""
    allocations = Allocation.objects.select_related("lot", "lot__farmer").order_by("id")
    lines = (
        OrderLine.objects.select_related("sku")
        .prefetch_related(Prefetch("allocations", queryset=allocations))
        .order_by("id")
    )
    events = OrderEvent.objects.select_related("acting_user").order_by("created_at", "id")
    return Order.objects.select_related("channel", "live_session", "import_batch").prefetch_related(
        Prefetch("lines", queryset=lines), Prefetch("events", queryset=events)
    )


def held_stock() -> QuerySet[Allocation]:
    """What orders hold (their allocations), each with its line's SKU and its lot's location
    and farmer: what a picker or packer needs to find it. First allocated first."""
    return Allocation.objects.select_related(
        "line__sku", "lot__location", "lot__farmer", "lot__product"
    ).order_by("id")


def orders_to_pack() -> QuerySet[Order]:
    """Orders as the packing station shows them: channel and live session joined, lines with
    their SKU and what each line holds (``held_stock``), in two prefetch queries."""
    lines = (
        OrderLine.objects.select_related("sku")
        .prefetch_related(Prefetch("allocations", queryset=held_stock()))
        .order_by("id")
    )
    return Order.objects.select_related("channel", "live_session").prefetch_related(
        Prefetch("lines", queryset=lines)
    )


def expired_lots_held(order: Order) -> list:
    """The lots past their expiry date that ``order`` holds produce of, read from what
    ``orders_to_pack`` prefetched (no query)."""
    return [
        allocation.lot
        for line in order.lines.all()
        for allocation in line.allocations.all()
        if allocation.lot.is_expired
    ]


def expired_held_by(*, orders: QuerySet[Order]) -> list:
    """The expired lots the given orders hold produce of (one query; ``orders`` may be a
    subquery), by code."""
    today = timezone.localdate()
    lots = Allocation.objects.filter(line__order__in=orders, lot__expiry_date__lt=today)
    return list(Lot.objects.filter(pk__in=lots.values("lot_id")).order_by("code"))


def orders_holding_expired() -> QuerySet[Order]:
    """Orders that still hold produce of an expired lot (they cannot be packed): allocate
    them again from fresh stock. First paid first."""
    today = timezone.localdate()
    held = Allocation.objects.filter(line__order=OuterRef("pk"), lot__expiry_date__lt=today)
    return order_list().filter(Exists(held)).order_by("paid_at", "pk")


def backorders_waiting() -> QuerySet[Order]:
    """Back-ordered orders with what each waits for, first paid first."""
    return order_list().filter(status=OrderStatus.BACKORDERED).order_by("paid_at", "pk")


def backorder_reasons() -> QuerySet:
    """How many back-orders wait for each reason, the most common first."""
    return (
        Order.objects.filter(status=OrderStatus.BACKORDERED)
        .values("backorder_reason")
        .annotate(n=Count("id"))
        .order_by("-n", "backorder_reason")
    )


def held_stock_by_lot(*, orders: QuerySet[Order]) -> QuerySet:
    """The kilograms the given orders still hold, summed per location, lot and SKU (one
    grouped query; ``orders`` may be a subquery), in that order: a pick list's rows."""
    return (
        Allocation.objects.filter(line__order__in=orders)
        .values(
            "lot__location__code",
            "lot__location__name",
            "lot__code",
            "lot__farmer__name",
            "line__sku__name",
            "line__sku__merchant_code",
            "line__sku__gtin",
            "line__sku__net_kg",
            "lot__expiry_date",
            # A gift box's rows name its component by the lot's product and grade.
            "line__sku_id",
            "line__sku__is_bundle",
            "lot__product_id",
            "lot__grade_id",
        )
        .annotate(kg=Sum("kg"))
        .order_by("lot__location__code", "lot__code", "line__sku__merchant_code")
    )


def sold(prefix: str = "") -> Q:
    """The one rule of what a sale is, wherever orders are counted (live session pages, the
    dashboard, compare): an order that was not cancelled or refunded. ``prefix`` reaches
    Order from a related model (``"orders__"``)."""
    return ~Q(**{f"{prefix}status__in": CLOSED})


def live_session_list() -> QuerySet[LiveSession]:
    """Live sessions, newest first, each annotated in the same query with ``sold_count`` (its
    orders that count as sales, as the dashboard counts them), ``cancelled_count`` (cancelled
    or refunded), ``order_count`` (both) and ``gross_sales`` (goods total of the sales)."""
    return (
        LiveSession.objects.select_related("channel")
        .annotate(
            order_count=Count("orders"),
            sold_count=Count("orders", filter=sold("orders__")),
            gross_sales=Coalesce(Sum("orders__goods_total", filter=sold("orders__")), ZERO_MONEY),
        )
        .annotate(cancelled_count=F("order_count") - F("sold_count"))
        .order_by("-starts_at", "-id")
    )


def channel_list(*, active_only: bool = False) -> QuerySet[Channel]:
    channels = Channel.objects.order_by("code")
    return channels.filter(is_active=True) if active_only else channels


@dataclass(frozen=True)
class OrderFilters:
    """What the orders list can be narrowed by; empty values do not filter."""

    status: str = ""
    channel_id: int | None = None
    live_session_id: int | None = None
    paid_from: date | None = None
    paid_to: date | None = None
    province: str = ""
    merchant_code: str = ""
    q: str = ""
    address_review: bool = False  # only addresses that could not be read to the district


def orders_filtered(filters: OrderFilters, *, with_status: bool = True) -> QuerySet[Order]:
    """Orders narrowed by ``filters``. Paid dates are whole local days (``paid_to`` included),
    written as a range so the ``paid_at`` indexes serve them. ``with_status=False`` leaves the
    status out, for the counts shown on the status tabs."""
    orders = order_list()
    if with_status and filters.status:
        orders = orders.filter(status=filters.status)
    if filters.channel_id:
        orders = orders.filter(channel_id=filters.channel_id)
    if filters.live_session_id:
        orders = orders.filter(live_session_id=filters.live_session_id)
    if filters.paid_from:
        orders = orders.filter(paid_at__gte=local_day_start(filters.paid_from))
    if filters.paid_to:
        orders = orders.filter(paid_at__lt=local_day_start(filters.paid_to) + timedelta(days=1))
    if filters.province:
        orders = orders.filter(province=filters.province)
    if filters.address_review:
        orders = orders.filter(address_status__in=sorted(NEEDS_REVIEW))
    if filters.merchant_code:
        lines = OrderLine.objects.filter(
            order=OuterRef("pk"), sku__merchant_code=filters.merchant_code
        )
        orders = orders.filter(Exists(lines))
    return orders_search(orders, filters.q)


def orders_search(orders: QuerySet[Order], q: str) -> QuerySet[Order]:
    """The orders list's search box, on the page and in the API alike: text with a digit is an
    order number, matched whole; other text is the start of the recipient's name."""
    q = q.strip()
    if q and any(char.isdigit() for char in q):
        # Matched one channel at a time, so the (channel, number) unique index finds it among
        # 100,000 orders at once.
        return orders.filter(external_no=q, channel_id__in=Channel.objects.values("pk"))
    if q:
        return orders.filter(recipient_name__startswith=q)
    return orders


def status_counts(orders: QuerySet[Order]) -> dict[str, int]:
    """How many of ``orders`` are in each status, in one grouped query."""
    rows = (
        orders.order_by()
        .prefetch_related(None)
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return dict(rows)


def live_session_sku_sums(session: LiveSession) -> QuerySet:
    """Units, kilograms and amount sold per SKU in one live session (cancelled and refunded
    orders left out), best sellers first."""
    amount = ExpressionWrapper(
        F("unit_price") * F("quantity"), output_field=DecimalField(max_digits=14, decimal_places=2)
    )
    return (
        OrderLine.objects.filter(sold("order__"), order__live_session=session)
        .values("sku__merchant_code", "sku__name")
        .annotate(
            units=Sum("quantity"),
            kg=Sum("kg"),
            amount=Sum(amount),
            orders=Count("order", distinct=True),
        )
        .order_by("-units", "sku__merchant_code")
    )


def order_by_id(order_id: int) -> Order | None:
    """The order with this id, if there is one: a read written once as SQL, for the packing
    station's every scan (the query builder would cost more than the query)."""
    found = select(Order).fetch(_order_by_id_sql(), [order_id])
    return found[0] if found else None


@functools.cache
def _order_by_id_sql() -> str:
    return select(Order).sql(f"{select(Order).column('', 'id')} = %s")
