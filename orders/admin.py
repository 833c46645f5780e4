"""Admin for orders' master data. Orders are looked at and their contact details corrected
here; their status, lines and stock change only through ``orders.services`` (the pages and
the API), so those parts are read-only and orders are neither added nor deleted here."""

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from orders.models import (
    AfterSale,
    AfterSaleImport,
    Channel,
    ImportBatch,
    LiveSession,
    Order,
    OrderEvent,
    OrderLine,
    SalesDay,
    ShipTimeDay,
    SkuSalesDay,
    TransitTime,
)

# A file with thousands of bad rows is read from its error CSV, not from this page.
ERRORS_SHOWN = 50


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "carrier_code", "is_active"]
    list_editable = ["is_active"]
    search_fields = ["code", "name"]


@admin.register(TransitTime)
class TransitTimeAdmin(admin.ModelAdmin):
    """Days to a province, per carrier or for any; provinces without a row use the default
    from the studio's province (``orders.transit``; the managers' page shows both)."""

    list_display = ["province", "carrier_code", "days", "updated_by", "updated_at"]
    list_editable = ["days"]
    list_filter = ["carrier_code"]
    search_fields = ["province"]
    readonly_fields = ["updated_by", "updated_at"]

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(LiveSession)
class LiveSessionAdmin(admin.ModelAdmin):
    list_display = ["title", "channel", "host", "room", "starts_at", "ends_at"]
    list_filter = ["channel"]
    list_select_related = ["channel"]
    search_fields = ["title", "host", "room"]
    date_hierarchy = "starts_at"


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["sku", "quantity", "unit_price", "kg"]
    readonly_fields = fields


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["created_at", "from_status", "to_status", "acting_user", "note"]
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "external_no",
        "channel",
        "status",
        "recipient_name",
        "province",
        "paid_at",
        "goods_total",
    ]
    list_filter = ["status", "channel", "address_status"]
    list_select_related = ["channel"]
    search_fields = ["=external_no", "recipient_name"]
    # Counting 100,000 orders twice per page is the slow part of a large changelist.
    show_full_result_count = False
    raw_id_fields = ["live_session"]
    readonly_fields = [
        "channel",
        "external_no",
        "status",
        "backorder_reason",
        "platform_status",
        "paid_at",
        "goods_total",
        "shipping_fee",
        "import_batch",
        # Read onto the national divisions; corrected on the order's page, which checks them.
        "province",
        "city",
        "district",
        "adcode",
        "address_status",
        "created_at",
        "updated_at",
        "masked_phone",
        "masked_address",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("channel", "external_no"),
                    ("status", "platform_status"),
                    "backorder_reason",
                    "live_session",
                    "paid_at",
                    ("goods_total", "shipping_fee"),
                    "import_batch",
                ]
            },
        ),
        (
            _("Recipient"),
            {
                "fields": [
                    "recipient_name",
                    # The full phone and street are for the packing station and the label
                    # only (README, "Who sees what").
                    ("masked_phone", "phone_masked_by_platform"),
                    ("province", "city", "district"),
                    ("adcode", "address_status"),
                    "masked_address",
                    "buyer_note",
                ]
            },
        ),
        (_("Record"), {"fields": [("created_at", "updated_at")]}),
    ]
    inlines = [OrderLineInline, OrderEventInline]

    @admin.display(description=_("Address"))
    def masked_address(self, order: Order) -> str:
        return f"{order.province}{order.city}{order.district} ****"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = [
        "file_name",
        "channel",
        "status",
        "created_count",
        "duplicate_count",
        "invalid_count",
        "skipped_count",
        "uploaded_by",
        "created_at",
    ]
    list_filter = ["status", "channel"]
    list_select_related = ["channel", "uploaded_by"]
    search_fields = ["file_name", "sha256"]
    readonly_fields = ["first_errors"]

    @admin.display(description=_("first errors"))
    def first_errors(self, batch: ImportBatch):
        errors = batch.errors.order_by("row_number", "id")[:ERRORS_SHOWN]
        return (
            format_html_join(
                mark_safe("<br>"),
                "{}: {} — {}",
                ((e.row_number, e.column or "—", e.reason) for e in errors),
            )
            or "—"
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# The platform connectors' admin lives beside their code.
from orders.platforms import admin as platforms_admin  # noqa: E402, F401


@admin.register(AfterSale)
class AfterSaleAdmin(admin.ModelAdmin):
    """Read-only: after-sales change stock and orders, so they are made through
    ``orders.aftersales`` (the order page, the after-sales file, the API)."""

    list_display = [
        "order",
        "line",
        "kind",
        "state",
        "units",
        "kg",
        "amount",
        "return_state",
        "platform_refund_id",
        "source",
        "created_at",
    ]
    list_filter = ["kind", "state", "return_state", "source", "before_shipping"]
    list_select_related = ["order__channel", "line__sku"]
    search_fields = ["order__external_no", "platform_refund_id"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AfterSaleImport)
class AfterSaleImportAdmin(admin.ModelAdmin):
    list_display = ["file_name", "channel", "layout", "status", "rows_total", "created_at"]
    list_filter = ["status", "channel", "layout"]
    readonly_fields = [f.name for f in AfterSaleImport._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


class RollupAdmin(admin.ModelAdmin):
    """The daily roll-up (orders.rollup), to look at: only its writers and
    ``manage.py rollup_sales`` change it."""

    date_hierarchy = "day"
    list_filter = ["folded"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SalesDay)
class SalesDayAdmin(RollupAdmin):
    list_display = ["day", "status", "province", "orders", "goods_total", "refunds", "folded"]
    list_filter = ["status", "folded"]
    search_fields = ["province"]


@admin.register(SkuSalesDay)
class SkuSalesDayAdmin(RollupAdmin):
    list_display = ["day", "closed", "sku", "units", "kg", "amount", "folded"]
    list_filter = ["closed", "folded"]
    list_select_related = ["sku"]


@admin.register(ShipTimeDay)
class ShipTimeDayAdmin(RollupAdmin):
    list_display = ["day", "minutes", "orders", "folded"]
