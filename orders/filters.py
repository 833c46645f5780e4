"""Query-string filters for the orders API (django-filter)."""

from datetime import timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from core.filters import IdFilter
from core.regions import NEEDS_REVIEW, AddressMatch, canonical_province
from orders.models import LiveSession, Order, OrderLine, OrderStatus
from orders.selectors import local_day_start, orders_search


class OrderFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(
        choices=OrderStatus.choices, label=_("Status (repeat the parameter for several)")
    )
    channel = filters.CharFilter(field_name="channel__code", label=_("Channel code"))
    live_session = IdFilter(field_name="live_session_id", label=_("Live session id"))
    # Whole days in the studio's time zone, written as a range on paid_at so its index serves.
    paid_after = filters.DateFilter(
        method="filter_paid_after", label=_("Paid on or after this day (Asia/Shanghai)")
    )
    paid_before = filters.DateFilter(
        method="filter_paid_before", label=_("Paid on or before this day (Asia/Shanghai)")
    )
    province = filters.CharFilter(method="filter_province", label=_("Province (any form)"))
    address_status = filters.MultipleChoiceFilter(
        choices=AddressMatch.choices, label=_("Address check (repeat the parameter for several)")
    )
    address_review = filters.BooleanFilter(
        method="filter_address_review", label=_("Address needs review (true) or not (false)")
    )
    sku = filters.CharFilter(method="filter_sku", label=_("Has a line of this merchant code"))
    q = filters.CharFilter(
        method="filter_q", label=_("Order number, or the start of the recipient's name")
    )

    class Meta:
        model = Order
        fields = [
            "status",
            "channel",
            "live_session",
            "paid_after",
            "paid_before",
            "province",
            "address_status",
            "address_review",
            "sku",
            "q",
        ]

    def filter_paid_after(self, queryset, name, value):
        return queryset.filter(paid_at__gte=local_day_start(value))

    def filter_paid_before(self, queryset, name, value):
        return queryset.filter(paid_at__lt=local_day_start(value + timedelta(days=1)))

    def filter_province(self, queryset, name, value):
        return queryset.filter(province=canonical_province(value))

    def filter_address_review(self, queryset, name, value):
        if value is None:
            return queryset
        review = Q(address_status__in=sorted(NEEDS_REVIEW))
        return queryset.filter(review if value else ~review)

    def filter_sku(self, queryset, name, value):
        # EXISTS rather than a join: an order with two lines of the SKU is listed once.
        lines = OrderLine.objects.filter(order=OuterRef("pk"), sku__merchant_code=value)
        return queryset.filter(Exists(lines))

    def filter_q(self, queryset, name, value):
        return orders_search(queryset, value)


class LiveSessionFilter(filters.FilterSet):
    channel = filters.CharFilter(field_name="channel__code", label=_("Channel code"))
    host = filters.CharFilter(label=_("Host"))
    starts_after = filters.DateFilter(
        method="filter_starts_after", label=_("Starts on or after this day (Asia/Shanghai)")
    )
    starts_before = filters.DateFilter(
        method="filter_starts_before", label=_("Starts on or before this day (Asia/Shanghai)")
    )

    class Meta:
        model = LiveSession
        fields = ["channel", "host", "starts_after", "starts_before"]

    def filter_starts_after(self, queryset, name, value):
        return queryset.filter(starts_at__gte=local_day_start(value))

    def filter_starts_before(self, queryset, name, value):
        return queryset.filter(starts_at__lt=local_day_start(value + timedelta(days=1)))
