"""Serializers of the inventory API.

Input serializers check types only (a number, a date, an id that exists); the business rules
(positive weights, decimal places, tare below gross, active farmer…) live in
``inventory.services`` and come back as a ``DomainError`` keyed by field.
"""

from copy import copy
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import RoleFieldsMixin
from core.errors import DomainError
from core.roles import FARMER_PHONE_READERS, FARMER_PRICE_READERS, SALES_READERS
from inventory.models import (
    Delivery,
    Farmer,
    Grade,
    Location,
    Lot,
    Product,
    Sku,
    SkuComponent,
    StockMovement,
)
from inventory.services import MAX_BOX_UNITS, sku_components_check, sku_set_components

# The columns are DECIMAL(12, 3) and DECIMAL(12, 2): larger numbers cannot be stored.
MAX_KG = Decimal("999999999.999")
MAX_MONEY = Decimal("9999999999.99")


def kg_input(**kwargs) -> serializers.DecimalField:
    """A weight as given: decimal places are left to the service, which names the field."""
    return serializers.DecimalField(max_digits=12, decimal_places=None, max_value=MAX_KG, **kwargs)


def money_input(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=12, decimal_places=None, max_value=MAX_MONEY, **kwargs
    )


def kg_output(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=3, read_only=True, **kwargs)


class CleanModelSerializer(serializers.ModelSerializer):
    """Runs the model's own validation (field validators, unique and check constraints) before
    saving, so a rule the database enforces answers 400 instead of failing on save."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = copy(self.instance) if self.instance is not None else self.Meta.model()
        for name, value in attrs.items():
            setattr(instance, name, value)
        try:
            instance.full_clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from exc
        return attrs


# --- farmers ---------------------------------------------------------------------------------


class FarmerSerializer(serializers.ModelSerializer):
    """A farmer as lists and most roles see them: the phone number masked."""

    class Meta:
        model = Farmer
        fields = [
            "id",
            "name",
            "masked_phone",
            "village",
            "county",
            "adcode",
            "area_name",
            "trace_consent",
            "is_active",
            "created_at",
        ]
        read_only_fields = fields


class FarmerDetailSerializer(RoleFieldsMixin, CleanModelSerializer):
    """A farmer, one at a time: the full phone number for intake staff and managers only
    (they call the farmer); others get ``masked_phone``."""

    role_fields = {"phone": FARMER_PHONE_READERS}

    masked_phone = serializers.CharField(read_only=True)

    class Meta:
        model = Farmer
        fields = [
            "id",
            "name",
            "phone",
            "masked_phone",
            "village",
            "county",
            "adcode",
            "area_name",
            "trace_consent",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["id", "masked_phone", "area_name", "created_at"]


class FarmerCreateSerializer(serializers.Serializer):
    """What the intake desk knows about a new farmer."""

    name = serializers.CharField(max_length=50)
    village = serializers.CharField(max_length=50)
    phone = serializers.CharField(max_length=11, required=False, allow_blank=True, default="")
    county = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")


# --- master data -----------------------------------------------------------------------------


class ProductSerializer(CleanModelSerializer):
    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "category",
            "shelf_life_days",
            "min_days_on_arrival",
            "storage",
            "is_active",
        ]


class GradeSerializer(CleanModelSerializer):
    class Meta:
        model = Grade
        fields = ["id", "name", "rank"]


class LocationSerializer(CleanModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "code", "name", "storage", "is_active"]


class SkuComponentSerializer(serializers.ModelSerializer):
    """One SKU inside a gift box and how many of it one box holds."""

    component = serializers.PrimaryKeyRelatedField(
        queryset=Sku.objects.select_related("product", "grade")
    )
    merchant_code = serializers.CharField(source="component.merchant_code", read_only=True)
    name = serializers.CharField(source="component.name", read_only=True)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_BOX_UNITS)

    class Meta:
        model = SkuComponent
        fields = ["component", "merchant_code", "name", "quantity"]


class SkuSerializer(RoleFieldsMixin, CleanModelSerializer):
    """A sellable pack. With ``components`` it is a gift box (组合装/礼盒): an order line of it
    reserves each component from its own product's lots, and its ``net_kg`` is the sum of
    theirs (set by the server, whatever is sent). ``components: []`` makes it a plain SKU
    again; leaving ``components`` out keeps them as they are."""

    role_fields = {"price": SALES_READERS}  # packers and intake staff see no sales money

    product_name = serializers.CharField(source="product.name", read_only=True)
    grade_name = serializers.CharField(source="grade.name", read_only=True)
    components = SkuComponentSerializer(many=True, required=False)
    barcode_value = serializers.CharField(
        read_only=True,
        help_text="What the SKU's barcode carries: its GTIN when it has one, else its merchant "
        "code.",
    )

    class Meta:
        model = Sku
        fields = [
            "id",
            "merchant_code",
            "gtin",
            "barcode_value",
            "name",
            "product",
            "product_name",
            "grade",
            "grade_name",
            "net_kg",
            "price",
            "packaging_kg",
            "is_bundle",
            "components",
            "is_active",
        ]
        read_only_fields = ["is_bundle"]
        extra_kwargs = {
            "net_kg": {
                "required": False,
                "help_text": _("Net kg per unit; a gift box's is the sum of its parts."),
            }
        }

    def validate(self, attrs):
        components = attrs.pop("components", None)
        if components:
            bundle = self.instance or Sku()
            try:
                attrs["net_kg"] = sku_components_check(
                    bundle=bundle,
                    components=[(c["component"], c["quantity"]) for c in components],
                )
            except DomainError as error:
                field = "components" if error.row is None else f"components[{error.row}]"
                raise serializers.ValidationError({field: [error.message]}) from error
        elif self.instance is None and "net_kg" not in attrs:
            raise serializers.ValidationError(
                {"net_kg": [_("Give the net kg per unit, or the components of a gift box.")]}
            )
        attrs = super().validate(attrs)
        if components is not None:
            attrs["components"] = components
        return attrs

    def _save_components(self, sku: Sku, components) -> None:
        if components is not None:
            sku_set_components(
                bundle=sku, components=[(c["component"], c["quantity"]) for c in components]
            )

    @transaction.atomic
    def create(self, validated_data):
        components = validated_data.pop("components", None)
        sku = super().create(validated_data)
        self._save_components(sku, components)
        return sku

    @transaction.atomic
    def update(self, instance, validated_data):
        components = validated_data.pop("components", None)
        sku = super().update(instance, validated_data)
        self._save_components(sku, components)
        return sku


# --- lots and the ledger ---------------------------------------------------------------------


class LotSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    role_fields = {"price_per_kg": FARMER_PRICE_READERS}

    delivery_code = serializers.CharField(source="delivery.code", read_only=True)
    farmer_name = serializers.CharField(source="farmer.name", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    grade_name = serializers.CharField(source="grade.name", read_only=True)
    location_code = serializers.CharField(source="location.code", read_only=True)
    location_name = serializers.CharField(source="location.name", read_only=True)
    available_kg = kg_output()
    days_to_expiry = serializers.IntegerField(read_only=True)
    expired = serializers.BooleanField(source="is_expired", read_only=True)

    class Meta:
        model = Lot
        fields = [
            "id",
            "code",
            "delivery_code",
            "farmer",
            "farmer_name",
            "product",
            "product_name",
            "grade",
            "grade_name",
            "location",
            "location_code",
            "location_name",
            "harvest_date",
            "received_at",
            "expiry_date",
            "days_to_expiry",
            "expired",
            "gross_kg",
            "crates",
            "tare_per_crate_kg",
            "received_kg",
            "price_per_kg",
            "on_hand_kg",
            "reserved_kg",
            "available_kg",
            "note",
        ]
        read_only_fields = fields


class StockMovementSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    acting_user = serializers.CharField(
        source="acting_user.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "kind",
            "kind_display",
            "kg_delta",
            "on_hand_after",
            "acting_user",
            "created_at",
            "reference",
            "note",
        ]
        read_only_fields = fields


class LotWriteOffSerializer(serializers.Serializer):
    kg = kg_input(help_text=_("Kilograms to take out of stock (at most the available kg)."))
    reason = serializers.CharField(max_length=200, allow_blank=True)


class LotCountSerializer(serializers.Serializer):
    counted_kg = kg_input(help_text=_("The kilograms the count found on the shelf."))
    reason = serializers.CharField(max_length=200, allow_blank=True)


class LotMoveSerializer(serializers.Serializer):
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(),
        help_text=_("The id of the location to move the lot to (not its code)."),
    )
    note = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")


# --- intake ----------------------------------------------------------------------------------


class RowListSerializer(serializers.ListSerializer):
    """Row errors as a list with ``{}`` for good rows, the shape the service's errors take
    (``{"rows": [{}, {"gross_kg": ["…"]}]}``), whichever layer found the fault."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            detail = exc.detail
            if isinstance(detail, dict) and detail and all(isinstance(k, int) for k in detail):
                raise serializers.ValidationError(
                    [detail.get(index, {}) for index in range(max(detail) + 1)]
                ) from exc
            raise


class IntakeRowSerializer(serializers.Serializer):
    grade = serializers.PrimaryKeyRelatedField(queryset=Grade.objects.all())
    gross_kg = kg_input()
    crates = serializers.IntegerField(max_value=2_147_483_647, required=False, default=0)
    tare_per_crate_kg = kg_input(required=False, default=Decimal("0"))
    price_per_kg = money_input()

    class Meta:
        list_serializer_class = RowListSerializer


class IntakeCreateSerializer(serializers.Serializer):
    """One farmer's delivery as weighed: one row per grade, each becoming a lot."""

    farmer = serializers.PrimaryKeyRelatedField(queryset=Farmer.objects.all())
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    harvest_date = serializers.DateField()
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Location id; by default an active location suited to the product."),
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    confirm_old_harvest = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "Managers only: accept a harvest older than the product's shelf life (the lots "
            "are expired on arrival, never allocated, and listed for write-off). Without it "
            "such an intake is a 400 on harvest_date."
        ),
    )
    rows = IntakeRowSerializer(many=True)


class DeliveryLotSerializer(RoleFieldsMixin, serializers.ModelSerializer):
    role_fields = {"price_per_kg": FARMER_PRICE_READERS, "amount": FARMER_PRICE_READERS}

    product_name = serializers.CharField(source="product.name", read_only=True)
    grade_name = serializers.CharField(source="grade.name", read_only=True)
    location_code = serializers.CharField(source="location.code", read_only=True)
    net_kg = kg_output(source="received_kg")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = Lot
        fields = [
            "id",
            "code",
            "product",
            "product_name",
            "grade",
            "grade_name",
            "location_code",
            "gross_kg",
            "crates",
            "tare_per_crate_kg",
            "net_kg",
            "price_per_kg",
            "amount",
            "harvest_date",
            "expiry_date",
        ]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    farmer_name = serializers.CharField(source="farmer.name", read_only=True)
    received_by = serializers.CharField(source="received_by.username", read_only=True)
    lots = DeliveryLotSerializer(many=True, read_only=True)
    tags_url = serializers.SerializerMethodField()
    slip_url = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = [
            "id",
            "code",
            "farmer",
            "farmer_name",
            "received_at",
            "received_by",
            "note",
            "lots",
            "tags_url",
            "slip_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_tags_url(self, delivery: Delivery) -> str:
        return reverse("inventory:lot_tags", args=[delivery.pk])

    @extend_schema_field(OpenApiTypes.STR)
    def get_slip_url(self, delivery: Delivery) -> str:
        return reverse("inventory:intake_slip", args=[delivery.pk])
