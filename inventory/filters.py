"""Query-string filters for the inventory API (django-filter)."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from inventory.models import Delivery, Farmer, Location, Lot, Product, Sku


@extend_schema_field(OpenApiTypes.INT)
class DaysFilter(filters.NumberFilter):
    """A whole number of days (``NumberFilter`` would accept ``2.5``)."""

    field_class = forms.IntegerField


class FarmerFilter(filters.FilterSet):
    active = filters.BooleanFilter(field_name="is_active", label=_("Active"))
    village = filters.CharFilter(label=_("Village"))
    q = filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Name contains"))

    class Meta:
        model = Farmer
        fields = ["active", "village", "q"]


class ProductFilter(filters.FilterSet):
    active = filters.BooleanFilter(field_name="is_active", label=_("Active"))

    class Meta:
        model = Product
        fields = ["active", "category", "storage"]


class LocationFilter(filters.FilterSet):
    active = filters.BooleanFilter(field_name="is_active", label=_("Active"))

    class Meta:
        model = Location
        fields = ["active", "storage"]


class SkuFilter(filters.FilterSet):
    active = filters.BooleanFilter(field_name="is_active", label=_("Active"))

    class Meta:
        model = Sku
        fields = ["product", "grade", "active", "merchant_code"]


class LotFilter(filters.FilterSet):
    has_stock = filters.BooleanFilter(method="filter_has_stock", label=_("Has kilograms on hand"))
    expiring_within = DaysFilter(
        method="filter_expiring_within",
        min_value=0,
        label=_("Has stock and expires within this many days"),
    )

    class Meta:
        model = Lot
        fields = ["product", "grade", "farmer", "location", "code", "has_stock", "expiring_within"]

    def filter_has_stock(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.with_stock() if value else queryset.filter(on_hand_kg=0)

    def filter_expiring_within(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.expiring_within(value)


class DeliveryFilter(filters.FilterSet):
    class Meta:
        model = Delivery
        fields = ["farmer", "code"]
