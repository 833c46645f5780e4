"""Admin for platform accounts, sync states, breakers, the call log and address changes.
Secrets are never shown here and not edited here: the Platforms page takes them
write-only. The call log is read-only."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from orders.platforms.models import (
    SECRET_FIELDS,
    CircuitBreaker,
    OrderAddressChange,
    PlatformAccount,
    PlatformCall,
    SyncState,
)


@admin.register(PlatformAccount)
class PlatformAccountAdmin(admin.ModelAdmin):
    list_display = ["channel", "platform", "app_key", "is_enabled", "token_expires_at"]
    list_filter = ["platform", "is_enabled"]
    exclude = SECRET_FIELDS
    readonly_fields = ["secrets", "token_expires_at", "updated_at", "updated_by"]

    @admin.display(description=_("Secrets (enter them on the Platforms page)"))
    def secrets(self, account):
        return ", ".join(f"{name}: {account.secret_source(name)}" for name in SECRET_FIELDS)


@admin.register(SyncState)
class SyncStateAdmin(admin.ModelAdmin):
    list_display = [
        "channel",
        "stream",
        "cursor_time",
        "last_success_at",
        "last_error_at",
        "next_attempt_at",
        "failures",
        "last_result",
    ]
    list_filter = ["stream"]


@admin.register(CircuitBreaker)
class CircuitBreakerAdmin(admin.ModelAdmin):
    list_display = ["key", "state", "failures", "open_until", "changed_at"]
    list_filter = ["state"]


@admin.register(PlatformCall)
class PlatformCallAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "platform",
        "channel",
        "method",
        "http_status",
        "platform_code",
        "duration_ms",
        "attempt",
        "outcome",
    ]
    list_filter = ["platform", "outcome"]
    search_fields = ["method", "request_id"]
    list_select_related = ["channel"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OrderAddressChange)
class OrderAddressChangeAdmin(admin.ModelAdmin):
    list_display = ["order", "status", "order_status", "received_at", "resolved_at"]
    list_filter = ["status"]
    list_select_related = ["order__channel"]
    raw_id_fields = ["order"]
    readonly_fields = ["received_at"]
