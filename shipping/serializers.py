"""Serializers of the shipping API.

No answer carries a recipient's full phone or street address: ``masked_phone`` and the
province, city and district only. The packing station page and the label are where they are
shown in full (README, "Who sees what").
"""

from decimal import Decimal

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory.serializers import CleanModelSerializer, kg_input
from orders.lifecycle import PackItem
from orders.models import Channel, LiveSession, Order
from orders.selectors import order_by_id
from shipping.labels import trace_url
from shipping.models import (
    Carrier,
    Parcel,
    ParcelItem,
    ParcelStatus,
    ShipmentReport,
    TrackingEvent,
    Wave,
    WaveOrder,
)
from shipping.waybills.services import carrier_for_packing

MAX_BATCH = 1000  # numbers or parcels in one handover, tracking or label request


def _carrier_field(
    queryset=None, field_class=serializers.SlugRelatedField, **kwargs
) -> serializers.SlugRelatedField:
    return field_class(
        slug_field="code",
        queryset=Carrier.objects.filter(is_active=True) if queryset is None else queryset,
        help_text=_("The carrier's code, e.g. sf."),
        error_messages={"does_not_exist": _("No active carrier has the code “{value}”.")},
        **kwargs,
    )


class PackingCarrierField(serializers.SlugRelatedField):
    """The active carrier of a code, read with whether a waybill service gives its numbers
    (``carrier_for_packing``: one statement written once, as a station packs all day)."""

    def to_internal_value(self, data):
        if not isinstance(data, str | int) or isinstance(data, bool):
            self.fail("invalid")
        carrier = carrier_for_packing(str(data))
        if carrier is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data))
        return carrier


# --- carriers and waybill pools --------------------------------------------------------------


class CarrierSerializer(CleanModelSerializer):
    class Meta:
        model = Carrier
        fields = [
            "id",
            "code",
            "name",
            "tracking_pattern",
            "label_size",
            "sender_name",
            "sender_phone",
            "sender_address",
            "privacy_service",
            "is_active",
        ]


class WaybillStockSerializer(serializers.ModelSerializer):
    """One carrier's waybill numbers: how many are free and how many were taken."""

    free = serializers.IntegerField(read_only=True)
    taken = serializers.IntegerField(read_only=True)

    class Meta:
        model = Carrier
        fields = ["id", "code", "name", "free", "taken"]
        read_only_fields = fields


class WaybillImportSerializer(serializers.Serializer):
    carrier = _carrier_field()
    numbers = serializers.ListField(
        child=serializers.CharField(max_length=60, allow_blank=True),
        required=False,
        max_length=200_000,
        help_text=_("The numbers, as a JSON list; or upload them as `file` instead."),
    )
    file = serializers.FileField(
        required=False,
        help_text=_("A text or CSV file, one number per line (the first column is read)."),
    )

    def validate(self, attrs):
        if bool(attrs.get("numbers")) == bool(attrs.get("file")):
            raise serializers.ValidationError(
                {"numbers": [_("Send either a list of numbers or a file, not both.")]}
            )
        return attrs


class WaybillImportResultSerializer(serializers.Serializer):
    pool = serializers.IntegerField(help_text=_("The new pool's id."))
    carrier = serializers.CharField()
    added = serializers.IntegerField()
    skipped = serializers.IntegerField(help_text=_("Numbers already known (or repeated)."))


# --- waves -----------------------------------------------------------------------------------


class WaveSerializer(serializers.ModelSerializer):
    carrier = serializers.CharField(
        source="carrier.code", read_only=True, allow_null=True, default=None
    )
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    order_count = serializers.IntegerField(read_only=True)
    parcel_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Wave
        fields = [
            "id",
            "code",
            "status",
            "status_display",
            "carrier",
            "selection",
            "note",
            "created_by",
            "created_at",
            "order_count",
            "parcel_count",
        ]
        read_only_fields = fields


class WaveOrderSerializer(serializers.ModelSerializer):
    order = serializers.IntegerField(source="order_id", read_only=True)
    external_no = serializers.CharField(source="order.external_no", read_only=True)
    status = serializers.CharField(source="order.status", read_only=True)
    province = serializers.CharField(source="order.province", read_only=True)

    class Meta:
        model = WaveOrder
        fields = ["position", "order", "external_no", "status", "province"]
        read_only_fields = fields


class WaveDetailSerializer(WaveSerializer):
    orders = WaveOrderSerializer(source="wave_orders", many=True, read_only=True)

    class Meta(WaveSerializer.Meta):
        fields = [*WaveSerializer.Meta.fields, "orders"]
        read_only_fields = fields


FILTERED_WAVE_LIMIT = 500


class WaveCreateSerializer(serializers.Serializer):
    """Which allocated orders make the wave: a list of ids, or filters with a limit."""

    orders = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=20_000,
        help_text=_("Order ids. Without them the filters below choose the orders."),
    )
    live_session = serializers.PrimaryKeyRelatedField(
        queryset=LiveSession.objects.all(), required=False, allow_null=True, default=None
    )
    channel = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Channel.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        error_messages={"does_not_exist": _("No channel has the code “{value}”.")},
    )
    sku = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("A merchant code.")
    )
    province = serializers.CharField(required=False, allow_blank=True, default="")
    limit = serializers.IntegerField(
        min_value=1,
        max_value=20_000,
        required=False,
        help_text=_(
            "At most this many orders, oldest payment first (500 when only filters are given)."
        ),
    )
    carrier = _carrier_field(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        """A wave is chosen on purpose: order ids, a filter, or how many of the oldest. An
        empty request would otherwise take every allocated order."""
        chosen = (
            attrs.get("orders")
            or attrs.get("live_session")
            or attrs.get("channel")
            or attrs.get("sku", "").strip()
            or attrs.get("province", "").strip()
            or "limit" in attrs
        )
        if not chosen:
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        _(
                            "Choose the orders: order ids, a filter (live session, channel, "
                            "SKU, province) or how many of the oldest (limit)."
                        )
                    ]
                },
                code="required",
            )
        attrs.setdefault("limit", FILTERED_WAVE_LIMIT)
        return attrs


# --- parcels ---------------------------------------------------------------------------------


class TrackingEventSerializer(serializers.ModelSerializer):
    acting_user = serializers.CharField(
        source="acting_user.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = TrackingEvent
        fields = ["status", "occurred_at", "source", "description", "acting_user"]
        read_only_fields = fields


class ParcelItemSerializer(serializers.ModelSerializer):
    order = serializers.IntegerField(source="line.order_id", read_only=True)
    sku = serializers.CharField(source="line.sku.merchant_code", read_only=True)
    sku_name = serializers.CharField(source="line.sku.name", read_only=True)
    lot_code = serializers.CharField(source="lot.code", read_only=True)
    farmer_name = serializers.CharField(source="lot.farmer.name", read_only=True)
    village = serializers.CharField(source="lot.farmer.village", read_only=True)
    harvest_date = serializers.DateField(source="lot.harvest_date", read_only=True)
    returned_kg = serializers.SerializerMethodField()

    class Meta:
        model = ParcelItem
        fields = [
            "id",
            "order",
            "sku",
            "sku_name",
            "lot_code",
            "farmer_name",
            "village",
            "harvest_date",
            "kg",
            "returned_kg",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=3))
    def get_returned_kg(self, item: ParcelItem) -> str:
        total = sum((r.kg for r in item.returns.all()), Decimal("0"))
        return f"{total:.3f}"


def label_path(parcel: Parcel) -> str:
    return reverse("api:parcels-label", args=[parcel.pk])


def absolute_url(request, path: str) -> str:
    """``path`` on the server the request came to; on the public address without one."""
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.SHANHUO_PUBLIC_URL + path


class ParcelSerializer(serializers.ModelSerializer):
    """A parcel as lists show it: the recipient's phone masked, no street address."""

    carrier = serializers.CharField(source="carrier.code", read_only=True)
    carrier_name = serializers.CharField(source="carrier.name", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    wave = serializers.CharField(source="wave.code", read_only=True, allow_null=True, default=None)
    order = serializers.IntegerField(source="order_id", read_only=True)
    order_no = serializers.CharField(source="order.external_no", read_only=True)
    channel = serializers.CharField(source="order.channel.code", read_only=True)
    recipient_name = serializers.CharField(source="order.recipient_name", read_only=True)
    masked_phone = serializers.CharField(source="order.masked_phone", read_only=True)
    province = serializers.CharField(source="order.province", read_only=True)
    city = serializers.CharField(source="order.city", read_only=True)
    district = serializers.CharField(source="order.district", read_only=True)
    packed_by = serializers.CharField(source="packed_by.username", read_only=True)

    class Meta:
        model = Parcel
        fields = [
            "id",
            "carrier",
            "carrier_name",
            "tracking_number",
            "sorting_code",
            "status",
            "status_display",
            "weight_kg",
            "expected_kg",
            "weight_warning",
            "weight_reason",
            "sequence",
            "parcel_count",
            "wave",
            "order",
            "order_no",
            "channel",
            "recipient_name",
            "masked_phone",
            "province",
            "city",
            "district",
            "packed_by",
            "packed_at",
            "label_printed_at",
        ]
        read_only_fields = fields


class ParcelBriefSerializer(ParcelSerializer):
    """A new parcel as a station needs it (``Prefer: return=minimal``): the same keys and values
    as the full parcel, only fewer of them."""

    class Meta(ParcelSerializer.Meta):
        fields = [
            "id",
            "carrier",
            "tracking_number",
            "sorting_code",
            "status",
            "weight_kg",
            "expected_kg",
            "weight_warning",
            "sequence",
            "parcel_count",
            "order",
        ]
        read_only_fields = fields


class ParcelDetailSerializer(ParcelSerializer):
    """One parcel with what went into it (lots, farmers) and its tracking events."""

    items = ParcelItemSerializer(many=True, read_only=True)
    events = TrackingEventSerializer(many=True, read_only=True)
    label_url = serializers.SerializerMethodField()
    trace_url = serializers.SerializerMethodField()

    class Meta(ParcelSerializer.Meta):
        fields = [*ParcelSerializer.Meta.fields, "label_url", "trace_url", "items", "events"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_label_url(self, parcel: Parcel) -> str:
        return absolute_url(self.context.get("request"), label_path(parcel))

    @extend_schema_field(OpenApiTypes.URI)
    def get_trace_url(self, parcel: Parcel) -> str:
        """The public address printed in the label's QR code (SHANHUO_PUBLIC_URL)."""
        return trace_url(parcel.trace_token)


class PackItemSerializer(serializers.Serializer):
    line = serializers.IntegerField(min_value=1, help_text=_("The order line's id."))
    units = serializers.IntegerField(min_value=1, max_value=9999)


class PackSerializer(serializers.Serializer):
    """What the Pack button sends."""

    order = serializers.CharField(
        max_length=40,
        help_text=_("The order's id; or, with `channel`, its order number on that channel."),
    )
    channel = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Channel.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("The channel's code, when `order` is an order number."),
        error_messages={"does_not_exist": _("No channel has the code “{value}”.")},
    )
    # Read with whether a waybill service gives its numbers: packing asks nothing more.
    carrier = _carrier_field(field_class=PackingCarrierField)
    weight_kg = kg_input(min_value=Decimal("0.001"))
    tracking_number = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("A scanned number; empty takes the carrier's next free waybill number."),
    )
    sorting_code = serializers.CharField(
        max_length=30, required=False, allow_blank=True, default=""
    )
    merge = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        max_length=50,
        help_text=_("Ids of other orders to the same recipient and address, packed together."),
    )
    items = PackItemSerializer(
        many=True,
        required=False,
        allow_null=True,
        default=None,
        max_length=200,
        help_text=_(
            "Units of the order's lines for this box, when the order goes into several boxes; "
            "leave out to pack everything the order still holds."
        ),
    )
    weight_reason = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "Why a weight outside the expected band is right; without it such a weight is "
            "refused (400, code `weight_outside_band`)."
        ),
    )
    parcel_count = serializers.IntegerField(
        min_value=1,
        max_value=99,
        required=False,
        allow_null=True,
        default=None,
        help_text=_("How many boxes the order is planned in (the label's “1/2”)."),
    )

    def _find(self, ref: str, channel: Channel | None) -> Order:
        ref = ref.strip()
        orders = Order.objects.all()
        if channel is not None:
            found = orders.filter(channel=channel, external_no=ref).first()
        elif ref.isdigit() and len(ref) <= 18:
            found = order_by_id(int(ref))
        else:
            found = None
        if found is None:
            raise serializers.ValidationError({"order": [_("No such order.")]})
        return found

    def validate(self, attrs):
        attrs["order"] = self._find(attrs["order"], attrs["channel"])
        ids = sorted(set(attrs["merge"]) - {attrs["order"].pk})
        merge = list(Order.objects.filter(pk__in=ids)) if ids else []
        if len(merge) != len(ids):
            raise serializers.ValidationError({"merge": [_("No such order.")]})
        attrs["merge"] = merge
        if attrs["items"] is not None:
            attrs["items"] = [PackItem(item["line"], item["units"]) for item in attrs["items"]]
        return attrs


class PackResultSerializer(serializers.Serializer):
    parcel = ParcelDetailSerializer(
        help_text=_("With `Prefer: return=minimal`, only the keys of a brief parcel.")
    )
    warnings = serializers.ListField(child=serializers.CharField())
    label_url = serializers.URLField()


class ParcelIdsSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=False,
        max_length=MAX_BATCH,
        help_text=_("Parcel ids; the labels come in this order, one per page."),
    )


class HandoverSerializer(serializers.Serializer):
    tracking_numbers = serializers.ListField(
        child=serializers.CharField(max_length=40), allow_empty=False, max_length=MAX_BATCH
    )
    carrier = _carrier_field(required=False, allow_null=True, default=None)


class ItemResultSerializer(serializers.Serializer):
    tracking_number = serializers.CharField()
    result = serializers.ChoiceField(
        choices=["shipped", "applied", "unchanged", "refused"],
        help_text=_("What became of this number."),
    )
    status = serializers.ChoiceField(
        choices=ParcelStatus.choices, allow_null=True, help_text=_("The parcel's status now.")
    )
    code = serializers.CharField(required=False, help_text=_("Why it was refused."))
    detail = serializers.CharField(required=False)


class BatchResultSerializer(serializers.Serializer):
    results = ItemResultSerializer(many=True)


TRACKING_STATUS_CHOICES = [
    (s.value, s.label)
    for s in (ParcelStatus.SHIPPED, ParcelStatus.DELIVERED, ParcelStatus.EXCEPTION)
]


class TrackingUpdateItemSerializer(serializers.Serializer):
    tracking_number = serializers.CharField(max_length=40)
    status = serializers.ChoiceField(choices=TRACKING_STATUS_CHOICES)
    time = serializers.DateTimeField(
        help_text=_("ISO 8601; without an offset the time is read in Asia/Shanghai.")
    )
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    carrier = _carrier_field(required=False, allow_null=True, default=None)


class TrackingUpdatesSerializer(serializers.Serializer):
    updates = TrackingUpdateItemSerializer(many=True, allow_empty=False, max_length=MAX_BATCH)


# --- ship-back -------------------------------------------------------------------------------


class ShipmentRowSerializer(serializers.Serializer):
    order_no = serializers.CharField()
    carrier_code = serializers.CharField()
    carrier_name = serializers.CharField()
    tracking_number = serializers.CharField()
    parcel = serializers.IntegerField()
    parcels = serializers.IntegerField()


class ShipmentReportSerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.code", read_only=True)
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True, default=None
    )
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = ShipmentReport
        fields = [
            "id",
            "channel",
            "method",
            "layout",
            "since",
            "again",
            "orders_count",
            "parcels_count",
            "created_by",
            "created_at",
            "file_url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_file_url(self, report: ShipmentReport) -> str | None:
        """The file's path on this server (relative), or null for a push through the API."""
        return reverse("api:shipment-reports-file", args=[report.pk]) if report.file else None


class ShipmentExportSerializer(serializers.Serializer):
    channel = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Channel.objects.filter(is_active=True),
        help_text=_("The channel's code, e.g. kuaishou."),
    )
    since = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Only parcels handed over on or after this day (Asia/Shanghai)."),
    )
    again = serializers.BooleanField(
        required=False, default=False, help_text=_("Include parcels reported before.")
    )
    format = serializers.ChoiceField(
        choices=["xlsx", "csv"],
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Empty: the file type the platform takes (Excel for 快手 and 抖店)."),
    )


class ShipmentExportResultSerializer(serializers.Serializer):
    report = ShipmentReportSerializer()
    left_out = ShipmentRowSerializer(
        many=True,
        help_text=_(
            "Parcels not in the file: the platform's file takes one number per order, the "
            "others go through its API or by hand."
        ),
    )


class ReshipSerializer(serializers.Serializer):
    """A reshipment (补发): units of one line of an order that has left, in a new parcel."""

    order = serializers.PrimaryKeyRelatedField(
        queryset=Order.objects.all(), help_text=_("The order's id.")
    )
    line = serializers.IntegerField(min_value=1, help_text=_("The order line's id."))
    units = serializers.IntegerField(min_value=1, max_value=100_000)
    carrier = _carrier_field()
    weight_kg = kg_input(min_value=Decimal("0.001"))
    tracking_number = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("A scanned number; empty takes the carrier's next free waybill number."),
    )
    reason = serializers.CharField(max_length=200)

    def validate(self, data):
        line = data["order"].lines.filter(pk=data["line"]).select_related("sku").first()
        if line is None:
            raise serializers.ValidationError(
                {"line": _("That line is not one of this order's lines.")}
            )
        data["line"] = line
        return data
