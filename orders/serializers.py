"""Serializers of the orders API.

No answer carries a full phone number or the street address: ``masked_phone`` and the
province, city and district only. The packing station page and the label are where a
recipient's full phone and address are shown (README, "Who sees what"). Money (prices,
totals) goes only to the roles that read sales (``RoleFieldsMixin``).
"""

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import RoleFieldsMixin
from core.roles import SALES_READERS
from inventory.models import Sku
from inventory.serializers import MAX_KG, MAX_MONEY, RowListSerializer
from orders.drafts import MAX_QUANTITY
from orders.importers.rows import Bad, parse_order_number, parse_phone
from orders.models import (
    Allocation,
    Channel,
    LiveSession,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
)
from orders.sessions import session_grace, session_takes, session_window_text


def _as_field_error(parse, value):
    """Run one of the import's cell parsers, so a value the import would refuse is refused
    here too, with the same reason."""
    try:
        return parse(value)
    except Bad as exc:
        raise serializers.ValidationError(exc.reason) from exc


def money_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


# --- channels and live sessions --------------------------------------------------------------


class ChannelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["id", "code", "name", "is_active"]
        read_only_fields = fields


class LiveSessionSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    role_fields = {"gross_sales": SALES_READERS}

    channel = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Channel.objects.filter(is_active=True),
        help_text=_("The channel's code, e.g. kuaishou."),
        error_messages={"does_not_exist": _("No active channel has the code “{value}”.")},
    )
    channel_name = serializers.CharField(source="channel.name", read_only=True)
    order_count = serializers.IntegerField(
        read_only=True, help_text=_("All the session's orders: sold_count + cancelled_count.")
    )
    sold_count = serializers.IntegerField(
        read_only=True,
        help_text=_("Orders that count as sales (not cancelled or refunded), as the dashboard."),
    )
    cancelled_count = serializers.IntegerField(
        read_only=True, help_text=_("Orders cancelled or refunded.")
    )
    gross_sales = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        read_only=True,
        help_text=_("Goods total of the session's orders that were not cancelled or refunded."),
    )

    class Meta:
        model = LiveSession
        fields = [
            "id",
            "channel",
            "channel_name",
            "title",
            "host",
            "room",
            "starts_at",
            "ends_at",
            "order_count",
            "sold_count",
            "cancelled_count",
            "gross_sales",
        ]
        read_only_fields = [
            "id",
            "channel_name",
            "order_count",
            "sold_count",
            "cancelled_count",
            "gross_sales",
        ]

    def validate(self, attrs):
        instance = self.instance
        starts_at = attrs.get("starts_at", instance.starts_at if instance else None)
        ends_at = attrs.get("ends_at", instance.ends_at if instance else None)
        if starts_at and ends_at and ends_at <= starts_at:
            raise serializers.ValidationError(
                {"ends_at": [_("A live session must end after it starts.")]}
            )
        channel = attrs.get("channel")
        if (
            instance is not None
            and channel is not None
            and channel.pk != instance.channel_id
            and instance.orders.exists()
        ):
            raise serializers.ValidationError(
                {"channel": [_("This live session has orders: its channel cannot change.")]}
            )
        return attrs


# --- orders: output --------------------------------------------------------------------------


class OrderLineBriefSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.merchant_code", read_only=True)
    sku_name = serializers.CharField(source="sku.name", read_only=True)

    class Meta:
        model = OrderLine
        fields = ["sku", "sku_name", "quantity"]
        read_only_fields = fields


class OrderSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    """An order as lists show it: masked phone, no street address, lines summarised; its
    money only for those who read sales."""

    role_fields = {"goods_total": SALES_READERS, "shipping_fee": SALES_READERS}

    channel = serializers.CharField(source="channel.code", read_only=True)
    channel_name = serializers.CharField(source="channel.name", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    live_session_title = serializers.CharField(
        source="live_session.title", read_only=True, allow_null=True, default=None
    )
    masked_phone = serializers.CharField(read_only=True)
    total_kg = serializers.SerializerMethodField()
    units = serializers.SerializerMethodField()
    lines = OrderLineBriefSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "channel",
            "channel_name",
            "external_no",
            "status",
            "status_display",
            "backorder_reason",
            "platform_status",
            "live_session",
            "live_session_title",
            "recipient_name",
            "masked_phone",
            "province",
            "city",
            "district",
            "adcode",
            "address_status",
            "paid_at",
            "goods_total",
            "shipping_fee",
            "units",
            "total_kg",
            "lines",
            "shipment_reported_at",
            "created_at",
        ]
        read_only_fields = fields

    # Both sums run over the prefetched lines: no query per order.
    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=3))
    def get_total_kg(self, order: Order) -> str:
        total = sum((line.kg for line in order.lines.all()), Decimal("0"))
        return f"{total:.3f}"

    @extend_schema_field(OpenApiTypes.INT)
    def get_units(self, order: Order) -> int:
        return sum(line.quantity for line in order.lines.all())


class AllocationSerializer(serializers.ModelSerializer):
    lot_code = serializers.CharField(source="lot.code", read_only=True)
    farmer_name = serializers.CharField(source="lot.farmer.name", read_only=True)
    expiry_date = serializers.DateField(source="lot.expiry_date", read_only=True)

    class Meta:
        model = Allocation
        fields = ["lot_code", "kg", "farmer_name", "expiry_date"]
        read_only_fields = fields


class OrderLineSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    role_fields = {"unit_price": SALES_READERS, "amount": SALES_READERS}

    sku = serializers.CharField(source="sku.merchant_code", read_only=True)
    sku_name = serializers.CharField(source="sku.name", read_only=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    allocations = AllocationSerializer(many=True, read_only=True)

    class Meta:
        model = OrderLine
        fields = ["id", "sku", "sku_name", "quantity", "unit_price", "amount", "kg", "allocations"]
        read_only_fields = fields


class OrderEventSerializer(serializers.ModelSerializer):
    # The first event (the order's creation) comes from no status: "".
    from_status = serializers.ChoiceField(
        choices=OrderStatus.choices, allow_blank=True, read_only=True
    )
    acting_user = serializers.CharField(
        source="acting_user.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = OrderEvent
        fields = ["from_status", "to_status", "acting_user", "created_at", "note"]
        read_only_fields = fields


class OrderDetailSerializer(OrderSerializer):
    """One order with its lines, allocations and events; phone masked, no street address."""

    lines = OrderLineSerializer(many=True, read_only=True)
    events = OrderEventSerializer(many=True, read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = [
            *OrderSerializer.Meta.fields,
            "phone_masked_by_platform",
            "buyer_note",
            "import_batch",
            "events",
            "updated_at",
        ]
        read_only_fields = fields


class AllocateResultSerializer(serializers.Serializer):
    result = serializers.ChoiceField(
        choices=["allocated", "backordered"],
        help_text=_("Whether every line got its kilograms, or the order waits for stock."),
    )
    order = OrderDetailSerializer()


# --- orders: input ---------------------------------------------------------------------------


class OrderLineInputSerializer(serializers.Serializer):
    sku = serializers.SlugRelatedField(
        slug_field="merchant_code",
        queryset=Sku.objects.select_related("product", "grade"),
        help_text=_("The SKU's merchant code, e.g. MT-5J-TJ."),
        error_messages={"does_not_exist": _("No SKU has the merchant code “{value}”.")},
    )
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_price = money_field(min_value=Decimal("0"), max_value=MAX_MONEY)

    class Meta:
        list_serializer_class = RowListSerializer

    def validate(self, attrs):
        if attrs["sku"].net_kg * attrs["quantity"] > MAX_KG:
            raise serializers.ValidationError({"quantity": [_("This quantity is too large.")]})
        return attrs


class OrderCreateSerializer(serializers.Serializer):
    """An order entered by hand or sent by another system (phone and WeChat orders)."""

    channel = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Channel.objects.filter(is_active=True),
        help_text=_("The channel's code, e.g. kuaishou."),
        error_messages={"does_not_exist": _("No active channel has the code “{value}”.")},
    )
    external_no = serializers.CharField(
        max_length=40, help_text=_("The order number, unique within the channel.")
    )
    recipient_name = serializers.CharField(max_length=50)
    phone = serializers.CharField(
        max_length=20,
        help_text=_("11-digit mobile number, or the platform's mask such as 138****1234."),
    )
    province = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "Any form (浙江, 浙江省); may be left out when address_detail holds the whole "
            "address. Stored as the national divisions' name."
        ),
    )
    city = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    district = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    address_detail = serializers.CharField(
        max_length=300,
        help_text=_("The street address, or the whole address when the parts above are empty."),
    )
    buyer_note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    paid_at = serializers.DateTimeField(
        help_text=_("ISO 8601; without an offset the time is read in Asia/Shanghai.")
    )
    shipping_fee = money_field(
        min_value=Decimal("0"), max_value=MAX_MONEY, required=False, default=Decimal("0")
    )
    live_session = serializers.PrimaryKeyRelatedField(
        queryset=LiveSession.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=_(
            "Live session id; by default the channel's session whose window holds the paid time."
        ),
    )
    lines = OrderLineInputSerializer(many=True, allow_empty=False)
    allocate = serializers.BooleanField(
        required=False,
        default=True,
        help_text=_("Reserve stock at once (the default); short stock makes it back-ordered."),
    )

    def validate_external_no(self, value: str) -> str:
        return _as_field_error(parse_order_number, value)

    def validate_phone(self, value: str) -> str:
        phone, _masked = _as_field_error(parse_phone, value)
        return phone

    def validate(self, attrs):
        # A phone that passed ``parse_phone`` holds asterisks only if the platform masked it.
        attrs["phone_masked_by_platform"] = "*" in attrs["phone"]
        session = attrs.get("live_session")
        if session is not None and session.channel_id != attrs["channel"].pk:
            raise serializers.ValidationError(
                {"live_session": [_("This live session belongs to another channel.")]}
            )
        if session is not None and not session_takes(session, attrs["paid_at"], session_grace()):
            raise serializers.ValidationError(
                {
                    "live_session": [
                        _(
                            "The order was paid at %(paid)s, outside this live session's "
                            "window (%(window)s)."
                        )
                        % {
                            "paid": timezone.localtime(attrs["paid_at"]).strftime("%Y-%m-%d %H:%M"),
                            "window": session_window_text(session),
                        }
                    ]
                }
            )
        total = sum((line["unit_price"] * line["quantity"] for line in attrs["lines"]), Decimal(0))
        if total > MAX_MONEY:
            raise serializers.ValidationError({"lines": [_("The order's total is too large.")]})
        return attrs


class OrderAddressSerializer(serializers.Serializer):
    """A manager's correction of an address that could not be read."""

    province = serializers.CharField(max_length=20, help_text=_("Any form: 浙江 or 浙江省."))
    city = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    district = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    address_detail = serializers.CharField(max_length=300)


class OrderCancelSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
