"""Admin for shipping's master data. Carriers, printers and packing stations are kept here;
waybill pools, waves, parcels and print jobs are looked at, not changed: their numbers, status
and contents move only through the services (the pages and the API). A pool's privacy service
and a parcel's sorting code and virtual number are the exceptions: they are what the carrier
said, typed in."""

from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from shipping.models import (
    Carrier,
    HandoverBatch,
    HandoverScan,
    PackingStation,
    Parcel,
    ParcelItem,
    Printer,
    PrintJob,
    PrintJobParcel,
    ShipmentReport,
    TrackingEvent,
    Wave,
    WaveOrder,
    WaybillPool,
)


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "label_size",
        "privacy_service",
        "max_parcel_kg",
        "tracking_pattern",
        "is_active",
    ]
    list_editable = ["privacy_service", "max_parcel_kg", "is_active"]
    search_fields = ["code", "name"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WaybillPool)
class WaybillPoolAdmin(ReadOnlyAdmin):
    list_display = [
        "carrier",
        "file_name",
        "imported_by",
        "imported_at",
        "numbers",
        "free",
        "privacy_service",
    ]
    list_filter = ["carrier"]
    list_select_related = ["carrier", "imported_by"]
    fields = ["carrier", "file_name", "imported_by", "imported_at", "privacy_service"]
    readonly_fields = ["carrier", "file_name", "imported_by", "imported_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                number_count=Count("numbers"),
                free_count=Count("numbers", filter=Q(numbers__taken_at__isnull=True)),
            )
        )

    @admin.display(description=_("numbers"), ordering="number_count")
    def numbers(self, pool) -> int:
        return pool.number_count

    @admin.display(description=_("free"), ordering="free_count")
    def free(self, pool) -> int:
        return pool.free_count


class WaveOrderInline(ReadOnlyInline):
    model = WaveOrder
    fields = ["position", "order"]
    readonly_fields = fields


@admin.register(Wave)
class WaveAdmin(ReadOnlyAdmin):
    list_display = ["code", "status", "carrier", "created_by", "created_at"]
    list_filter = ["status", "carrier"]
    list_select_related = ["carrier", "created_by"]
    search_fields = ["code"]
    fields = ["code", "status", "carrier", "selection", "note", "created_by", "created_at"]
    readonly_fields = ["code", "status", "carrier", "selection", "created_by", "created_at"]
    inlines = [WaveOrderInline]


class ParcelItemInline(ReadOnlyInline):
    model = ParcelItem
    fields = ["line", "lot", "kg"]
    readonly_fields = fields


class TrackingEventInline(ReadOnlyInline):
    model = TrackingEvent
    fields = ["occurred_at", "status", "source", "description", "acting_user"]
    readonly_fields = fields


@admin.register(Parcel)
class ParcelAdmin(ReadOnlyAdmin):
    list_display = [
        "tracking_number",
        "carrier",
        "status",
        "weight_kg",
        "wave",
        "packed_by",
        "packed_at",
        "label_printed_at",
    ]
    list_filter = ["status", "carrier"]
    list_select_related = ["carrier", "wave", "packed_by"]
    search_fields = ["tracking_number"]
    date_hierarchy = "packed_at"
    fields = [
        "order",
        "wave",
        "carrier",
        "tracking_number",
        "sorting_code",
        "weight_kg",
        "expected_kg",
        "weight_warning",
        "weight_reason",
        "virtual_number",
        "status",
        "sequence",
        "parcel_count",
        "packed_by",
        "packed_at",
        "label_printed_at",
    ]
    # Only what the carrier said (sorting code, a privacy service's virtual number) may be
    # typed here; everything else is the services' to change.
    readonly_fields = [name for name in fields if name not in {"sorting_code", "virtual_number"}]
    inlines = [ParcelItemInline, TrackingEventInline]


# The waybill sources' admin lives beside their code.
from shipping.waybills import admin as waybills_admin  # noqa: E402, F401


@admin.register(ShipmentReport)
class ShipmentReportAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "channel",
        "method",
        "orders_count",
        "parcels_count",
        "created_by",
    ]
    list_filter = ["channel", "method"]
    list_select_related = ["channel", "created_by"]


@admin.register(Printer)
class PrinterAdmin(admin.ModelAdmin):
    list_display = ["name", "address", "language", "dpi", "label_size", "is_active"]
    list_filter = ["language", "is_active"]
    search_fields = ["name", "host", "cups_queue"]
    fieldsets = [
        (None, {"fields": ["name", "is_active"]}),
        (_("Connection"), {"fields": ["host", "port", "cups_queue"]}),
        (_("Labels"), {"fields": ["language", "dpi", "label_size", "zpl_graphics"]}),
    ]

    @admin.display(description=_("address"))
    def address(self, printer) -> str:
        return printer.address


@admin.register(PackingStation)
class PackingStationAdmin(admin.ModelAdmin):
    list_display = ["name", "printer", "carrier", "is_active"]
    list_select_related = ["printer", "carrier"]
    list_editable = ["printer", "carrier", "is_active"]


class PrintJobParcelInline(ReadOnlyInline):
    model = PrintJobParcel
    fields = ["position", "parcel"]
    readonly_fields = fields


@admin.register(PrintJob)
class PrintJobAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "state",
        "printer",
        "label_count",
        "labels_sent",
        "attempts",
        "wave",
        "created_by",
        "created_at",
        "sent_at",
    ]
    list_filter = ["state", "printer"]
    list_select_related = ["printer", "wave", "created_by"]
    date_hierarchy = "created_at"
    fields = [
        "printer",
        "wave",
        "state",
        "error",
        "label_count",
        "labels_sent",
        "attempts",
        "created_by",
        "created_at",
        "sent_at",
    ]
    readonly_fields = fields
    inlines = [PrintJobParcelInline]


class HandoverScanInline(ReadOnlyInline):
    model = HandoverScan
    fields = ["parcel", "scanned_at", "scanned_by"]
    readonly_fields = fields


@admin.register(HandoverBatch)
class HandoverBatchAdmin(ReadOnlyAdmin):
    list_display = ["code", "carrier", "courier_name", "started_at", "started_by", "closed_at"]
    list_filter = ["carrier"]
    list_select_related = ["carrier", "started_by"]
    search_fields = ["code", "courier_name", "scans__parcel__tracking_number"]
    fields = [
        "code",
        "carrier",
        "courier_name",
        "started_at",
        "started_by",
        "closed_at",
        "closed_by",
    ]
    readonly_fields = ["code", "carrier", "started_at", "started_by", "closed_at", "closed_by"]
    inlines = [HandoverScanInline]
