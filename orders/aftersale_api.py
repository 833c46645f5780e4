"""The after-sales API (managers): list and read after-sales by line, and record one the
platform reports (``orders.aftersales.after_sale_apply``, the same entry point as the
after-sales file and the platform sync). Reshipments are packed at the shipping page."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from core.api import RoleFieldsMixin
from core.errors import DomainError
from core.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from core.roles import Role
from orders.aftersales import after_sale_apply
from orders.api import BAD_INPUT, domain_error_response
from orders.models import AfterSale, AfterSaleSource

MANAGERS = frozenset({Role.MANAGER})


class AfterSaleSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    role_fields = {"amount": MANAGERS}
    order_no = serializers.CharField(source="order.external_no", read_only=True)
    channel = serializers.CharField(source="order.channel.code", read_only=True)
    merchant_code = serializers.CharField(source="line.sku.merchant_code", read_only=True)

    class Meta:
        model = AfterSale
        fields = [
            "id",
            "order",
            "order_no",
            "channel",
            "line",
            "merchant_code",
            "kind",
            "state",
            "units",
            "kg",
            "amount",
            "before_shipping",
            "return_state",
            "returned_kg",
            "reason",
            "platform_refund_id",
            "platform_state",
            "source",
            "parcel_reference",
            "created_at",
        ]
        read_only_fields = fields


class AfterSaleApplySerializer(serializers.Serializer):
    channel = serializers.SlugField(help_text=_("The channel's code, e.g. kuaishou."))
    order_no = serializers.CharField(max_length=40)
    merchant_code = serializers.CharField(
        max_length=40,
        required=False,
        default="",
        allow_blank=True,
        help_text=_("The line's merchant code; empty for an order of one line."),
    )
    kind = serializers.CharField(
        max_length=20, help_text=_("refund_only, return_refund, or the platform's 仅退款/退货退款.")
    )
    units = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    kg = serializers.DecimalField(
        max_digits=12,
        decimal_places=3,
        min_value=Decimal("0.001"),
        required=False,
        allow_null=True,
        default=None,
    )
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Empty: the line's price for those units or kilograms."),
    )
    platform_refund_id = serializers.CharField(
        max_length=64, required=False, default="", allow_blank=True
    )
    platform_state = serializers.CharField(
        max_length=30,
        required=False,
        default="退款成功",
        help_text=_("The platform's words: 退款成功 (default), 退款关闭, or a state in between."),
    )
    reason = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class AfterSaleAppliedSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["created", "updated", "unchanged"])
    effect = serializers.CharField()
    after_sale = AfterSaleSerializer()


@extend_schema_view(
    list=extend_schema(
        summary="List after-sales",
        description="Refunds, returns and reshipments by order line, newest first. Filter by "
        "`order`, `kind`, `state`, `return_state`.",
    ),
    retrieve=extend_schema(summary="One after-sale"),
)
class AfterSaleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AfterSaleSerializer
    read_roles = MANAGERS
    write_roles = MANAGERS
    filterset_fields = ["order", "kind", "state", "return_state"]
    ordering_fields = ["created_at", "amount"]
    queryset = AfterSale.objects.select_related("order__channel", "line__sku").order_by(
        "-created_at", "-id"
    )

    @extend_schema(
        summary="Record an after-sale",
        description="A refund (仅退款) or a return and refund (退货退款) of one line, as the "
        "platform reports it. Before packing the units are cancelled and their stock "
        "released; after packing the refund is recorded and the order becomes partially "
        "refunded or refunded. The same `platform_refund_id` again changes nothing "
        '(`"unchanged"`); a later state of it updates it. Bad input is a 400 keyed by field.',
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=AfterSaleApplySerializer,
        responses={
            201: AfterSaleAppliedSerializer,
            200: AfterSaleAppliedSerializer,
            400: BAD_INPUT,
            409: OpenApiResponse(description="The order's state forbids it."),
        },
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = AfterSaleApplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            applied = after_sale_apply(
                channel=data["channel"],
                order_no=data["order_no"],
                line_code=data["merchant_code"],
                kind=data["kind"],
                units=data["units"],
                kg=data["kg"],
                amount=data["amount"],
                platform_refund_id=data["platform_refund_id"],
                platform_state=data["platform_state"],
                reason=data["reason"],
                source=AfterSaleSource.MANUAL,
                acting_user=request.user,
            )
        except DomainError as exc:
            return domain_error_response(exc)
        body = AfterSaleAppliedSerializer(
            {
                "outcome": applied.outcome,
                "effect": applied.effect,
                "after_sale": applied.after_sale,
            },
            context=self.get_serializer_context(),
        ).data
        created = applied.outcome == "created"
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
