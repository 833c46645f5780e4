"""Query-string filters for the inventory API (django-filter)."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from inventory.models import Delivery, Farmer, Location, Lot, Product, Sku
from inventory.selectors import LotFilters, lots_filtered


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
    code = filters.CharFilter(
        method="filter_code", label=_("GTIN or merchant code (any case), as scanned")
    )

    class Meta:
        model = Sku
        fields = ["product", "grade", "active", "merchant_code", "gtin", "code"]

    def filter_code(self, queryset, name, value):
        code = value.strip()
        return queryset.filter(Q(gtin=code) | Q(merchant_code__iexact=code))


class LotFilter(filters.FilterSet):
    has_stock = filters.BooleanFilter(method="filter_has_stock", label=_("Has kilograms on hand"))
    expiring_within = DaysFilter(
        method="filter_expiring_within",
        min_value=0,
        max_value=3650,
        label=_("Has stock and expires within this many days"),
    )

    class Meta:
        model = Lot
        fields = ["product", "grade", "farmer", "location", "code", "has_stock", "expiring_within"]

    def filter_queryset(self, queryset):
        """The same selector as the stock page narrows the lots (``selectors.lots_filtered``)."""
        data = self.form.cleaned_data
        has_stock = data.get("has_stock")

        def pk(name: str) -> int | None:
            return data[name].pk if data.get(name) else None

        filters = LotFilters(
            stock="" if has_stock is None else ("with" if has_stock else "without"),
            expiring_within=data.get("expiring_within"),
            product_id=pk("product"),
            grade_id=pk("grade"),
            farmer_id=pk("farmer"),
            location_id=pk("location"),
            code=data.get("code") or "",
        )
        return lots_filtered(filters, lots=queryset)

    # Declared for the form and the schema; filter_queryset above applies them all.
    def filter_has_stock(self, queryset, name, value):
        return queryset

    def filter_expiring_within(self, queryset, name, value):
        return queryset


class DeliveryFilter(filters.FilterSet):
    class Meta:
        model = Delivery
        fields = ["farmer", "code"]
