"""The API of the reports: farmers' statements and balances, payments to farmers, and the
stock's health. The figures come from ``inventory.reports``, the same functions the pages and
the downloads use.

Managers get every farmer's money. Creators get each farmer's kilograms and the studio-wide
money totals: the per-farmer money fields are left out of their answers, not zeroed.
"""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import DomainError
from core.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from core.roles import (
    FARMER_MONEY_READERS,
    FARMER_PAYMENT_WRITERS,
    STATEMENT_READERS,
    STOCK_HEALTH_READERS,
    has_role,
)
from inventory import reports, services
from inventory.models import Farmer, FarmerPayment, PaymentMethod
from inventory.reports import Period
from inventory.selectors import farmer_payments
from inventory.serializers import kg_output, money_input


def money_output(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, **kwargs)


# --- periods ---------------------------------------------------------------------------------


class PeriodQuerySerializer(serializers.Serializer):
    """``month=2026-10``, or ``date_from`` and ``date_to`` (both included); neither: the
    report's default period."""

    month = serializers.RegexField(r"^\d{4}-\d{2}$", required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)

    def validate(self, attrs):
        date_from, date_to = attrs.get("date_from"), attrs.get("date_to")
        if bool(date_from) != bool(date_to):
            missing = "date_to" if date_from else "date_from"
            raise serializers.ValidationError(
                {missing: [_("Give both date_from and date_to, or month.")]}
            )
        try:
            if date_from:
                attrs["period"] = Period(date_from, date_to)
            elif attrs.get("month"):
                year, month = (int(part) for part in attrs["month"].split("-"))
                attrs["period"] = Period.month(year, month)
        except ValueError:
            raise serializers.ValidationError({"month": [_("Enter a month as YYYY-MM.")]}) from None
        except DomainError as error:
            raise serializers.ValidationError(error.as_dict()) from error
        return attrs


PERIOD_PARAMETERS = [
    OpenApiParameter("month", OpenApiTypes.STR, description="A calendar month, `2026-10`."),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="First day (with date_to)."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Last day, included."),
]


def period_from(request, default: Period) -> Period:
    query = PeriodQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data.get("period") or default


# --- statements and balances -----------------------------------------------------------------


class StatementFarmerSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="farmer_id")
    name = serializers.CharField(source="farmer_name")
    village = serializers.CharField()
    masked_phone = serializers.CharField()


class StatementLotSerializer(serializers.Serializer):
    lot_code = serializers.CharField()
    received_on = serializers.DateField()
    product = serializers.CharField()
    grade = serializers.CharField()
    kg = kg_output()
    price_per_kg = money_output()
    amount = money_output()


class StatementLotKgSerializer(StatementLotSerializer):
    """A lot as creators see it: no price, no amount."""

    price_per_kg = None
    amount = None


class StatementPaymentSerializer(serializers.Serializer):
    paid_on = serializers.DateField()
    amount = money_output()
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    method_label = serializers.CharField()
    reference = serializers.CharField()
    note = serializers.CharField()


class FarmerBalanceSerializer(serializers.Serializer):
    """A farmer's figures for a period. ``closing_balance`` = ``opening_balance`` +
    ``delivered_amount`` − ``paid``; below zero it is an advance (``prepaid``)."""

    farmer = StatementFarmerSerializer(source="*")
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    opening_balance = money_output()
    delivered_lots = serializers.IntegerField()
    delivered_kg = kg_output()
    delivered_amount = money_output()
    shipped_kg = kg_output(help_text="Left in parcels in the period, less returns.")
    written_off_kg = kg_output()
    paid = money_output()
    closing_balance = money_output()
    is_prepaid = serializers.BooleanField()


class FarmerBalanceKgSerializer(FarmerBalanceSerializer):
    """A farmer's figures as creators see them: kilograms only."""

    opening_balance = None
    delivered_amount = None
    paid = None
    closing_balance = None
    is_prepaid = None


class FarmerStatementSerializer(FarmerBalanceSerializer):
    lots = StatementLotSerializer(many=True)
    payments = StatementPaymentSerializer(many=True)


class FarmerStatementKgSerializer(FarmerBalanceKgSerializer):
    lots = StatementLotKgSerializer(many=True)


class BalanceTotalsSerializer(serializers.Serializer):
    farmers = serializers.IntegerField()
    opening_balance = money_output()
    delivered_lots = serializers.IntegerField()
    delivered_kg = kg_output()
    delivered_amount = money_output()
    shipped_kg = kg_output()
    written_off_kg = kg_output()
    paid = money_output()
    closing_balance = money_output()
    to_pay = money_output(help_text="The sum of the positive balances: what the studio owes.")
    prepaid = money_output(help_text="The sum of the advances (negative balances).")


class FarmerBalancesSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    farmers = FarmerBalanceSerializer(many=True)
    totals = BalanceTotalsSerializer()


class FarmerBalancesKgSerializer(FarmerBalancesSerializer):
    farmers = FarmerBalanceKgSerializer(many=True)


MONEY_NOTE = (
    "Managers get every field. Creators get the kilograms only: the money fields of one "
    "farmer (opening_balance, delivered_amount, paid, closing_balance, is_prepaid, a lot's "
    "price_per_kg and amount, payments) are left out. Default period: last calendar month."
)


def _sees_money(request) -> bool:
    return has_role(request.user, FARMER_MONEY_READERS)


class FarmerStatementView(APIView):
    read_roles = STATEMENT_READERS

    @extend_schema(
        summary="One farmer's statement for a period",
        description=MONEY_NOTE,
        parameters=PERIOD_PARAMETERS,
        responses={200: FarmerStatementSerializer, 400: OpenApiResponse(description="Bad dates")},
    )
    def get(self, request, pk: int):
        farmer = get_object_or_404(Farmer, pk=pk)
        period = period_from(request, Period.last_month())
        statement = reports.farmer_statement(
            farmer=farmer, date_from=period.date_from, date_to=period.date_to
        )
        serializer = (
            FarmerStatementSerializer if _sees_money(request) else FarmerStatementKgSerializer
        )
        return Response(serializer(statement).data)


class FarmerBalancesView(APIView):
    read_roles = STATEMENT_READERS

    @extend_schema(
        summary="Every farmer's balance for a period, and the studio's totals",
        description="Farmers with a delivery, a shipment, a write-off or a payment in the "
        "period, or money owed either way. " + MONEY_NOTE + " The totals carry the money for "
        "both roles.",
        parameters=PERIOD_PARAMETERS,
        responses={200: FarmerBalancesSerializer, 400: OpenApiResponse(description="Bad dates")},
    )
    def get(self, request):
        period = period_from(request, Period.last_month())
        rows = reports.farmer_balances(date_from=period.date_from, date_to=period.date_to)
        body = {
            "date_from": period.date_from,
            "date_to": period.date_to,
            "farmers": rows,
            "totals": reports.balance_totals(rows),
        }
        serializer = (
            FarmerBalancesSerializer if _sees_money(request) else FarmerBalancesKgSerializer
        )
        return Response(serializer(body).data)


# --- payments --------------------------------------------------------------------------------


class FarmerPaymentSerializer(serializers.ModelSerializer):
    farmer_name = serializers.CharField(source="farmer.name", read_only=True)
    method_label = serializers.CharField(source="get_method_display", read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.get_username", read_only=True)

    class Meta:
        model = FarmerPayment
        fields = [
            "id",
            "farmer",
            "farmer_name",
            "paid_on",
            "amount",
            "method",
            "method_label",
            "reference",
            "note",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields


class FarmerPaymentCreateSerializer(serializers.Serializer):
    """Types only; the rules (more than 0, two decimal places, not in the future, a
    reference once per farmer) answer 400 from the service, keyed by field."""

    farmer = serializers.PrimaryKeyRelatedField(queryset=Farmer.objects.all())
    paid_on = serializers.DateField()
    amount = money_input()
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    reference = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class FarmerPaymentFilter(filters.FilterSet):
    date_from = filters.DateFilter(field_name="paid_on", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="paid_on", lookup_expr="lte")

    class Meta:
        model = FarmerPayment
        fields = ["farmer", "method", "date_from", "date_to"]


@extend_schema_view(
    list=extend_schema(summary="List payments to farmers", description="Newest first."),
    retrieve=extend_schema(summary="One payment"),
    create=extend_schema(
        summary="Record a payment to a farmer",
        description="Paying more than the farmer is owed is allowed (an advance: a negative "
        "balance). Refused with 400: an amount ≤ 0 or with more than two decimal places, a "
        "date in the future, a reference already recorded for the farmer.",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=FarmerPaymentCreateSerializer,
        responses={201: FarmerPaymentSerializer, 400: OpenApiResponse(description="By field")},
    ),
)
class FarmerPaymentViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = farmer_payments()
    serializer_class = FarmerPaymentSerializer
    filterset_class = FarmerPaymentFilter
    ordering_fields = ["paid_on", "amount", "created_at"]
    read_roles = FARMER_MONEY_READERS
    write_roles = FARMER_PAYMENT_WRITERS

    def get_serializer_class(self):
        if self.action == "create":
            return FarmerPaymentCreateSerializer
        return FarmerPaymentSerializer

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = FarmerPaymentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = services.farmer_payment_record(
            **serializer.validated_data, acting_user=request.user
        )
        payment = self.get_queryset().get(pk=payment.pk)
        return Response(FarmerPaymentSerializer(payment).data, status=status.HTTP_201_CREATED)


# --- stock health ----------------------------------------------------------------------------


class BucketSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    lots = serializers.IntegerField()
    kg = kg_output()


class LotAtRiskSerializer(serializers.Serializer):
    lot_code = serializers.CharField()
    product = serializers.CharField()
    grade = serializers.CharField()
    farmer = serializers.CharField()
    village = serializers.CharField()
    location = serializers.CharField()
    expiry_date = serializers.DateField()
    days_to_expiry = serializers.IntegerField(help_text="Negative: already expired.")
    available_kg = kg_output()
    reserved_kg = kg_output()


class SpoilageSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="key")
    name = serializers.CharField()
    village = serializers.CharField(source="detail")
    write_offs = serializers.IntegerField()
    kg = kg_output()
    value = money_output(help_text="Cost at the lots' intake prices.")
    received_kg = kg_output(help_text="Received in the period.")
    rate = serializers.DecimalField(
        max_digits=7,
        decimal_places=1,
        read_only=True,
        allow_null=True,
        help_text="Written off ÷ received in the period, percent.",
    )


class CoverSerializer(serializers.Serializer):
    merchant_code = serializers.CharField()
    sku_name = serializers.CharField()
    product = serializers.CharField()
    grade = serializers.CharField()
    net_kg = kg_output()
    available_kg = kg_output()
    units_available = serializers.IntegerField()
    sold_kg = kg_output(help_text="Shipped less returned in the window, plus reserved now.")
    daily_kg = kg_output()
    days = serializers.DecimalField(
        max_digits=12,
        decimal_places=1,
        read_only=True,
        allow_null=True,
        help_text="null: nothing sold, the stock does not run down.",
    )


class StockHealthSerializer(serializers.Serializer):
    today = serializers.DateField()
    spoilage_from = serializers.DateField(source="spoilage_period.date_from")
    spoilage_to = serializers.DateField(source="spoilage_period.date_to")
    sales_window_days = serializers.IntegerField()
    lots_in_stock = serializers.IntegerField()
    kg_in_stock = kg_output()
    at_risk_kg = kg_output()
    spoiled_kg = kg_output()
    spoiled_value = money_output()
    age = BucketSerializer(many=True)
    expiry = BucketSerializer(many=True)
    at_risk = LotAtRiskSerializer(many=True)
    spoilage_by_product = SpoilageSerializer(many=True)
    spoilage_by_farmer = SpoilageSerializer(many=True)
    cover = CoverSerializer(many=True)


class StockHealthView(APIView):
    read_roles = STOCK_HEALTH_READERS

    @extend_schema(
        summary="Stock health",
        description="Lots in stock by age (days since intake) and by days to expiry; the "
        "available kilograms of lots that expire within 2 days; write-offs of the spoilage "
        "period (`month`, or `date_from` and `date_to`; default the last 30 days) by product "
        "and by farmer; days of cover per SKU at the pace of the last 7 days.",
        parameters=PERIOD_PARAMETERS,
        responses={200: StockHealthSerializer},
    )
    def get(self, request):
        period = period_from(request, Period.last_days(reports.SPOILAGE_DAYS))
        health = reports.stock_health(spoilage_from=period.date_from, spoilage_to=period.date_to)
        return Response(StockHealthSerializer(health).data)
