"""Serializers of the inventory API.

Input serializers check types only (a number, a date, an id that exists); the business rules
(positive weights, decimal places, tare below gross, active farmer…) live in
``inventory.services`` and come back as a ``DomainError`` keyed by field.
"""

from copy import copy
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import RoleFieldsMixin
from core.roles import FARMER_PHONE_READERS, FARMER_PRICE_READERS, SALES_READERS
from inventory.models import (
    Delivery,
    Farmer,
    Grade,
    Location,
    Lot,
    Product,
    Sku,
    StockMovement,
)

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
        fields = ["id", "name", "category", "shelf_life_days", "storage", "is_active"]


class GradeSerializer(CleanModelSerializer):
    class Meta:
        model = Grade
        fields = ["id", "name", "rank"]


class LocationSerializer(CleanModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "code", "name", "storage", "is_active"]


class SkuSerializer(RoleFieldsMixin, CleanModelSerializer):
    role_fields = {"price": SALES_READERS}  # packers and intake staff see no sales money

    product_name = serializers.CharField(source="product.name", read_only=True)
    grade_name = serializers.CharField(source="grade.name", read_only=True)
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
            "is_active",
        ]


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
