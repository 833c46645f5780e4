"""Reads behind the orders pages that the shared selectors do not cover: the orders list's
filters (on indexed columns, so the list stays fast with 100,000 orders), its status counts,
and a live session's sums per SKU."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    QuerySet,
    Sum,
)
from django.utils import timezone

from orders import selectors
from orders.models import Channel, LiveSession, Order, OrderLine
from orders.selectors import NOT_SOLD


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


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def orders_filtered(filters: OrderFilters, *, with_status: bool = True) -> QuerySet[Order]:
    """Orders narrowed by ``filters``. Paid dates are whole local days (``paid_to`` included),
    written as a range so the ``paid_at`` indexes serve them. ``with_status=False`` leaves the
    status out, for the counts shown on the status tabs."""
    orders = selectors.order_list()
    if with_status and filters.status:
        orders = orders.filter(status=filters.status)
    if filters.channel_id:
        orders = orders.filter(channel_id=filters.channel_id)
    if filters.live_session_id:
        orders = orders.filter(live_session_id=filters.live_session_id)
    if filters.paid_from:
        orders = orders.filter(paid_at__gte=_day_start(filters.paid_from))
    if filters.paid_to:
        orders = orders.filter(paid_at__lt=_day_start(filters.paid_to) + timedelta(days=1))
    if filters.province:
        orders = orders.filter(province=filters.province)
    if filters.merchant_code:
        lines = OrderLine.objects.filter(
            order=OuterRef("pk"), sku__merchant_code=filters.merchant_code
        )
        orders = orders.filter(Exists(lines))
    if filters.q and any(char.isdigit() for char in filters.q):
        # An order number: matched whole, one channel at a time, so the (channel, number)
        # unique index finds it among 100,000 orders at once.
        orders = orders.filter(external_no=filters.q, channel_id__in=Channel.objects.values("pk"))
    elif filters.q:
        orders = orders.filter(recipient_name__startswith=filters.q)
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
        OrderLine.objects.filter(order__live_session=session)
        .exclude(order__status__in=NOT_SOLD)
        .values("sku__merchant_code", "sku__name")
        .annotate(
            units=Sum("quantity"),
            kg=Sum("kg"),
            amount=Sum(amount),
            orders=Count("order", distinct=True),
        )
        .order_by("-units", "sku__merchant_code")
    )
