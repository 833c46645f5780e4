"""Admin for waybill sources (which carrier takes numbers from where) and issued numbers."""

from django.contrib import admin

from shipping.waybills.models import IssuedWaybill, WaybillSource


@admin.register(WaybillSource)
class WaybillSourceAdmin(admin.ModelAdmin):
    list_display = ["carrier", "kind", "account", "logistics_code", "is_active"]
    list_filter = ["kind", "is_active"]


@admin.register(IssuedWaybill)
class IssuedWaybillAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "carrier",
        "kind",
        "order",
        "sorting_code",
        "privacy",
        "taken_at",
        "cancelled_at",
    ]
    list_filter = ["kind", "privacy", "carrier"]
    search_fields = ["number"]
    raw_id_fields = ["order"]
    list_select_related = ["carrier", "order__channel"]

    def has_change_permission(self, request, obj=None):
        return False
