"""Admin for master data. Lots and the ledger are read-only here: quantities change only
through the intake desk, the API or the services behind them."""

from django.contrib import admin

from inventory.models import Delivery, Farmer, Grade, Location, Lot, Product, Sku, StockMovement


@admin.register(Farmer)
class FarmerAdmin(admin.ModelAdmin):
    list_display = ["name", "village", "county", "masked_phone", "trace_consent", "is_active"]
    list_filter = ["is_active", "trace_consent", "village"]
    search_fields = ["name", "village", "phone"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "shelf_life_days", "storage", "is_active"]
    list_filter = ["storage", "is_active", "category"]
    search_fields = ["name"]


@admin.register(Grade)
class GradeAdmin(admin.ModelAdmin):
    list_display = ["name", "rank"]


@admin.register(Sku)
class SkuAdmin(admin.ModelAdmin):
    list_display = ["merchant_code", "name", "product", "grade", "net_kg", "price", "is_active"]
    list_filter = ["product", "grade", "is_active"]
    search_fields = ["merchant_code", "name"]
    list_select_related = ["product", "grade"]


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
