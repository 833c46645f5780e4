"""Reads of orders shared by the API, pages and reports, with their related rows loaded once:
a list costs the same number of queries for 5 orders as for 500."""

from decimal import Decimal

from django.db.models import Count, DecimalField, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from orders.models import (
    Allocation,
    Channel,
    LiveSession,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
)

# Orders that no longer count as sales.
NOT_SOLD = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)
ZERO_MONEY = Value(Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=2))


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


def live_session_list() -> QuerySet[LiveSession]:
    """Live sessions, newest first, each annotated in the same query with ``order_count`` (all
    its orders) and ``gross_sales`` (goods total of its orders not cancelled or refunded)."""
    return (
        LiveSession.objects.select_related("channel")
        .annotate(
            order_count=Count("orders"),
            gross_sales=Coalesce(
                Sum("orders__goods_total", filter=~Q(orders__status__in=NOT_SOLD)), ZERO_MONEY
            ),
        )
        .order_by("-starts_at", "-id")
    )


def channel_list(*, active_only: bool = False) -> QuerySet[Channel]:
    channels = Channel.objects.order_by("code")
    return channels.filter(is_active=True) if active_only else channels
