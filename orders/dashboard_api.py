"""The sales dashboard as JSON: the same ``orders.reports`` figures the page shows and the
downloads carry. Money and kilograms are strings (as everywhere in the API), percentages
strings with one decimal; counts are numbers."""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.roles import SALES_READERS
from orders.dashboard_forms import CompareForm, DashboardForm, form_errors


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, **kwargs)


def _kg() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=15, decimal_places=3, read_only=True)


def _percent(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=5, decimal_places=1, read_only=True, **kwargs)


class DashboardSessionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    host = serializers.CharField(read_only=True)
    channel = serializers.CharField(source="channel.code", read_only=True)
    channel_name = serializers.CharField(source="channel.name", read_only=True)
    starts_at = serializers.DateTimeField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True)


class SalesSummarySerializer(serializers.Serializer):
    orders = serializers.IntegerField(read_only=True, help_text=_("Orders not cancelled/refunded."))
    cancelled = serializers.IntegerField(read_only=True, help_text=_("Cancelled or refunded."))
    cancel_percent = _percent(allow_null=True, help_text=_("cancelled ÷ all orders, in %."))
    refunded_amount = _money(
        help_text=_(
            "Money back to buyers: refunded orders' goods totals and the refunds by line of "
            "the others."
        )
    )
    refund_percent = _percent(
        allow_null=True,
        help_text=_("refunded_amount ÷ goods totals of the orders not cancelled, in %."),
    )
    units = serializers.IntegerField(read_only=True)
    kg = _kg()
    gross_sales = _money(help_text=_("Goods totals of the sold orders (shipping fee excluded)."))
    average_order_value = _money(allow_null=True)
    backlog = serializers.IntegerField(read_only=True, help_text=_("Sold, not shipped yet."))
    median_hours_to_ship = serializers.DecimalField(
        max_digits=8,
        decimal_places=1,
        read_only=True,
        allow_null=True,
        help_text=_("Median hours from payment to the order's shipped event."),
    )
    shipped_measured = serializers.IntegerField(
        read_only=True, help_text=_("Shipped orders behind that median.")
    )


class SkuSalesSerializer(serializers.Serializer):
    merchant_code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    units = serializers.IntegerField(read_only=True)
    kg = _kg()
    amount = _money(help_text=_("Unit price × quantity of the lines."))
    percent = _percent(help_text=_("Share of all SKUs' amount, in %."))


class ProvinceSalesSerializer(serializers.Serializer):
    province = serializers.CharField(read_only=True)
    orders = serializers.IntegerField(read_only=True)
    gross_sales = _money()
    percent = _percent(help_text=_("Share of gross sales, in %."))


class TimelinePointSerializer(serializers.Serializer):
    at = serializers.DateTimeField(read_only=True, help_text=_("Start of the minute/hour/day."))
    minute = serializers.IntegerField(read_only=True, help_text=_("Minutes since the start."))
    orders = serializers.IntegerField(read_only=True)
    gross_sales = _money()


class FunnelStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(
        choices=["paid", "allocated", "packed", "shipped", "delivered"], read_only=True
    )
    label = serializers.CharField(read_only=True)
    orders = serializers.IntegerField(read_only=True)
    percent = _percent(allow_null=True, help_text=_("Share of paid orders, in %."))


class SalesDashboardSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=["live_session", "day", "range"], read_only=True)
    live_session = DashboardSessionSerializer(read_only=True, allow_null=True)
    date_from = serializers.DateField(read_only=True)
    date_to = serializers.DateField(read_only=True)
    step = serializers.ChoiceField(choices=["minute", "hour", "day"], read_only=True)
    is_live = serializers.BooleanField(read_only=True)
    refresh_seconds = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("Ask again after this long (live only).")
    )
    generated_at = serializers.DateTimeField(read_only=True)
    summary = SalesSummarySerializer(read_only=True)
    skus = SkuSalesSerializer(many=True, read_only=True)
    provinces = ProvinceSalesSerializer(many=True, read_only=True)
    timeline = TimelinePointSerializer(many=True, read_only=True)
    funnel = FunnelStageSerializer(many=True, read_only=True)
    bucket_minutes = serializers.IntegerField(
        read_only=True,
        help_text=_(
            "Minutes per timeline point of a live session: 1, more for a very long session "
            "(at most 480 points)."
        ),
    )
    outside_window = serializers.IntegerField(
        read_only=True,
        help_text=_(
            "A live session's sold orders paid outside its window and grace: in the figures, "
            "not on the timeline."
        ),
    )


class ComparePointSerializer(serializers.Serializer):
    minute = serializers.IntegerField(read_only=True)
    a_orders = serializers.IntegerField(read_only=True, allow_null=True)
    a_gross_sales = _money(allow_null=True)
    b_orders = serializers.IntegerField(read_only=True, allow_null=True)
    b_gross_sales = _money(allow_null=True)


class SalesComparisonSerializer(serializers.Serializer):
    a = SalesDashboardSerializer(read_only=True)
    b = SalesDashboardSerializer(read_only=True)
    minutes = ComparePointSerializer(many=True, read_only=True)


BAD_PARAMETERS = OpenApiResponse(description="A parameter is wrong; the body is keyed by it.")


def _date_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.DATE, description=description)


def dashboard_cache_key(params) -> str:
    """The cache key of one dashboard answer. Every sales reader gets the same figures (the
    serializer does not depend on the role), so the key holds what changes the JSON: the
    parameters the form reads (others are ignored, as the form ignores them), the active
    language (the funnel's labels are translated) and time zone (times are local)."""
    parts = [f"{name}={params.get(name, '')}" for name in DashboardForm.base_fields]
    parts += [translation.get_language() or "", timezone.get_current_timezone_name()]
    digest = hashlib.sha256("&".join(parts).encode()).hexdigest()[:32]
    return f"orders:dashboard:v1:{digest}"


class SalesDashboardView(APIView):
    read_roles = SALES_READERS

    @extend_schema(
        summary="Sales dashboard",
        description="Orders, units, kg, gross sales, average order value, cancel/refund rate, "
        "SKUs, provinces, the timeline (per minute for a live session, per hour for a day, "
        "per day for a range; empty buckets are zeros), the fulfilment funnel, the backlog and "
        "the median hours from payment to shipping. Give one of: `live_session`, `date`, or "
        "`date_from` with `date_to` (local days in Asia/Shanghai, both included, at most 366 "
        "days). Nothing: the live session that started last (today if there is none). While "
        "a live session is on, `is_live` is true and `refresh_seconds` says when to ask again. "
        "The same question within a few seconds (`DASHBOARD_CACHE_SECONDS`, 10 by default) "
        "gets the same answer, `generated_at` included.",
        parameters=[
            OpenApiParameter("live_session", OpenApiTypes.INT, description="A live session's id."),
            _date_parameter("date", "One day."),
            _date_parameter("date_from", "First day of a range."),
            _date_parameter("date_to", "Last day of a range."),
        ],
        responses={200: SalesDashboardSerializer, 400: BAD_PARAMETERS},
    )
    def get(self, request):
        seconds = getattr(settings, "DASHBOARD_CACHE_SECONDS", 10)
        key = dashboard_cache_key(request.query_params) if seconds else None
        if key is not None:
            cached = cache.get(key)
            if cached is not None:
                return Response(cached)
        form = DashboardForm(request.query_params)
        if not form.is_valid():
            return Response(form_errors(form), status=400)
        data = SalesDashboardSerializer(form.dashboard()).data
        if key is not None:
            cache.set(key, data, seconds)
        return Response(data)


class SalesCompareView(APIView):
    read_roles = SALES_READERS

    @extend_schema(
        summary="Compare two live sessions",
        description="Both sessions' dashboards and their timelines side by side, aligned by "
        "minutes since each session's start; a minute one session did not have is null.",
        parameters=[
            OpenApiParameter("a", OpenApiTypes.INT, required=True, description="A live session."),
            OpenApiParameter("b", OpenApiTypes.INT, required=True, description="Another one."),
        ],
        responses={200: SalesComparisonSerializer, 400: BAD_PARAMETERS},
    )
    def get(self, request):
        form = CompareForm(request.query_params)
        if not form.is_valid():
            return Response(form_errors(form), status=400)
        return Response(SalesComparisonSerializer(form.comparison()).data)
