"""Admin for master data. Lots and the ledger are read-only here: quantities change only
through the intake desk, the API or the services behind them."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from inventory import services
from inventory.models import (
    Delivery,
    Farmer,
    FarmerPayment,
    Grade,
    Location,
    Lot,
    Product,
    Sku,
    SkuComponent,
    StockMovement,
)


@admin.register(Farmer)
class FarmerAdmin(admin.ModelAdmin):
    list_display = ["name", "village", "county", "masked_phone", "trace_consent", "is_active"]
    list_filter = ["is_active", "trace_consent", "village"]
    search_fields = ["name", "village", "phone"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "category",
        "shelf_life_days",
        "min_days_on_arrival",
        "storage",
        "is_active",
    ]
    list_filter = ["storage", "is_active", "category"]
    search_fields = ["name"]


@admin.register(Grade)
class GradeAdmin(admin.ModelAdmin):
    list_display = ["name", "rank"]


class SkuComponentFormSet(BaseInlineFormSet):
    """A gift box's components, checked by the service's rules before anything is saved."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        components = [
            (form.cleaned_data["component"], form.cleaned_data["quantity"])
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("component")
        ]
        try:
            services.sku_components_check(bundle=self.instance, components=components)
        except DomainError as error:
            raise ValidationError(error.message) from error


class SkuComponentInline(admin.TabularInline):
    model = SkuComponent
    fk_name = "bundle"
    formset = SkuComponentFormSet
    extra = 0
    autocomplete_fields = ["component"]
    verbose_name = gettext_lazy("component (this SKU is then a gift box)")
    verbose_name_plural = gettext_lazy("gift box components")


@admin.register(Sku)
class SkuAdmin(admin.ModelAdmin):
    list_display = [
        "merchant_code",
        "gtin",
        "name",
        "product",
        "grade",
        "net_kg",
        "price",
        "is_bundle",
        "is_active",
    ]
    list_filter = ["product", "grade", "is_bundle", "is_active"]
    search_fields = ["merchant_code", "gtin", "name"]
    list_select_related = ["product", "grade"]
    inlines = [SkuComponentInline]
    readonly_fields = ["is_bundle"]

    def save_related(self, request, form, formsets, change):
        """Components saved by the inline go through ``sku_set_components`` again, which
        keeps ``is_bundle`` and ``net_kg`` (their sum) in step."""
        super().save_related(request, form, formsets, change)
        sku = form.instance
        components = [
            (part.component, part.quantity)
            for part in SkuComponent.objects.filter(bundle=sku).select_related("component")
        ]
        services.sku_set_components(bundle=sku, components=components)


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "storage", "is_active"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StockMovementInline(admin.TabularInline):
    model = StockMovement
    fields = ["created_at", "kind", "kg_delta", "on_hand_after", "acting_user", "reference", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin):
    list_display = [
        "code", "product", "grade", "farmer", "location", "expiry_date",
        "on_hand_kg", "reserved_kg",
    ]  # fmt: skip
    list_filter = ["product", "grade", "location"]
    search_fields = ["code", "farmer__name"]
    list_select_related = ["product", "grade", "farmer", "location"]
    inlines = [StockMovementInline]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["code", "farmer", "received_at", "received_by"]
    search_fields = ["code", "farmer__name"]
    list_select_related = ["farmer", "received_by"]


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "lot", "kind", "kg_delta", "on_hand_after", "acting_user"]
    list_filter = ["kind"]
    search_fields = ["lot__code", "reference"]
    list_select_related = ["lot__product", "lot__grade", "acting_user"]


class FarmerPaymentForm(forms.ModelForm):
    """The rules of ``services.farmer_payment_record`` that the model alone does not hold."""

    class Meta:
        model = FarmerPayment
        fields = ["farmer", "paid_on", "amount", "method", "reference", "note"]

    def clean(self):
        data = super().clean()
        if data.get("paid_on") and data["paid_on"] > timezone.localdate():
            self.add_error("paid_on", _("The payment date cannot be in the future."))
        reference, farmer = (data.get("reference") or "").strip(), data.get("farmer")
        if reference and farmer:
            same = FarmerPayment.objects.filter(farmer=farmer, reference=reference)
            if same.exclude(pk=self.instance.pk).exists():
                self.add_error(
                    "reference",
                    _(
                        "A payment with the reference %(reference)s is already recorded for "
                        "this farmer."
                    )
                    % {"reference": reference},
                )
        return data


@admin.register(FarmerPayment)
class FarmerPaymentAdmin(admin.ModelAdmin):
    """Payments are recorded on the statements page or here; who recorded one is the user
    saving it, never a choice."""

    form = FarmerPaymentForm

    list_display = ["paid_on", "farmer", "amount", "method", "reference", "recorded_by"]
    list_filter = ["method", "paid_on"]
    search_fields = ["farmer__name", "reference", "note"]
    list_select_related = ["farmer", "recorded_by"]
    autocomplete_fields = ["farmer"]
    date_hierarchy = "paid_on"
    readonly_fields = ["recorded_by", "created_at"]
    fields = ["farmer", "paid_on", "amount", "method", "reference", "note", *readonly_fields]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)
