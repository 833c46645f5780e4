from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core import leases
from core.models import Lease, StudioSettings


@admin.register(Lease)
class LeaseAdmin(admin.ModelAdmin):
    """Who holds which background work, for a person on call: read-only (the sweep drops
    stale leases; deleting a live one would make its holder stop)."""

    list_display = ["name", "kind", "holder", "acquired_at", "heartbeat_at", "is_stale"]
    list_filter = ["kind"]
    search_fields = ["name", "holder"]

    @admin.display(boolean=True, description=_("stale"))
    def is_stale(self, lease: Lease) -> bool:
        return not leases.live_leases().filter(pk=lease.pk).exists()

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StudioSettings)
class StudioSettingsAdmin(admin.ModelAdmin):
    """The one row of the studio's settings: changed, never added twice nor deleted."""

    list_display = ["__str__", "weight_unit", "updated_at"]
    fields = ["weight_unit"]

    def has_add_permission(self, request) -> bool:
        return not StudioSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
