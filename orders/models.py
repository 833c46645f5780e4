"""Orders: sales channels, live sessions, orders and their lines, the kilograms inventory
reserved for each line, the order's event history, and order imports."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.regions import NEEDS_REVIEW, AddressMatch, canonical_province, provinces, validate_adcode
from inventory.models import KG, MONEY, Lot, Sku, mask_phone


class Channel(models.Model):
    """Where orders come from: 快手, 抖音, 微信/电话 …"""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=30)
    is_active = models.BooleanField(_("active"), default=True)
    column_mapping = models.JSONField(
        _("column mapping"),
        default=dict,
        blank=True,
        help_text=_("Export header → field, saved from the import mapping screen."),
    )
    # A plain code, not a foreign key: carriers belong to shipping, above orders.
    carrier_code = models.CharField(
        _("usual carrier"),
        max_length=20,
        blank=True,
        help_text=_(
            "The code of the carrier this channel's orders usually go with (e.g. sf): "
            "allocation reads the transit days for it. Empty: any carrier."
        ),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("sales channel")
        verbose_name_plural = _("sales channels")

    def __str__(self) -> str:
        return self.name


class LiveSession(models.Model):
    """One livestream: orders paid during its time window belong to it."""

    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="live_sessions", verbose_name=_("channel")
    )
    title = models.CharField(_("title"), max_length=100)
    host = models.CharField(
        _("host"), max_length=50, help_text=_("The creator, or a villager using a shared room.")
    )
    room = models.CharField(_("room"), max_length=30, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("live session")
        verbose_name_plural = _("live sessions")
        indexes = [models.Index(fields=["channel", "starts_at"], name="live_channel_start_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="live_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title}（{self.host}）"


class OrderStatus(models.TextChoices):
    NEW = "new", _("New")
    ALLOCATED = "allocated", _("Allocated")
    BACKORDERED = "backordered", _("Back-ordered")
    PICKING = "picking", _("Picking")
    PACKED = "packed", _("Packed")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    # Some of it refunded after it was packed (a line, some kilograms, some money): still a
    # sale. All of it refunded: refunded (orders.aftersales decides which).
    PARTIALLY_REFUNDED = "part_refund", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")


class Order(models.Model):
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="orders", verbose_name=_("channel")
    )
    external_no = models.CharField(_("order number"), max_length=40)
    status = models.CharField(
        _("status"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.NEW
    )
    platform_status = models.CharField(_("platform status"), max_length=30, blank=True)
    live_session = models.ForeignKey(
        LiveSession,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("live session"),
    )
    recipient_name = models.CharField(_("recipient"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20)
    phone_masked_by_platform = models.BooleanField(_("phone masked by platform"), default=False)
    # Province, city and district are the national divisions' canonical names, read from the
    # address as received (core.regions); an address that could not be read is flagged.
    province = models.CharField(_("province"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    district = models.CharField(_("district"), max_length=30, blank=True)
    address_detail = models.CharField(_("address"), max_length=300)
    raw_address = models.CharField(_("address as received"), max_length=400, blank=True)
    adcode = models.CharField(
        _("area code"),
        max_length=6,
        blank=True,
        default="",
        db_default="",  # writers that COPY rows without it leave it empty
        validators=[validate_adcode],
        help_text=_("The national code of the district, or of the finest division read."),
    )
    address_status = models.CharField(
        _("address check"),
        max_length=10,
        choices=AddressMatch.choices,
        default=AddressMatch.UNMATCHED,
        db_default=AddressMatch.UNMATCHED,
    )
    buyer_note = models.CharField(_("buyer note"), max_length=500, blank=True)
    paid_at = models.DateTimeField(_("paid at"))
    goods_total = models.DecimalField(_("goods total"), default=Decimal("0"), **MONEY)
    shipping_fee = models.DecimalField(_("shipping fee"), default=Decimal("0"), **MONEY)
    backorder_reason = models.CharField(
        _("waiting for"),
        max_length=200,
        blank=True,
        default="",
        db_default="",  # writers that COPY rows without it leave it empty
        help_text=_("Why a back-ordered order waits: the stock it lacks, in plain words."),
    )
    import_batch = models.ForeignKey(
        "ImportBatch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("import"),
    )
    shipment_reported_at = models.DateTimeField(
        _("shipment reported"),
        null=True,
        blank=True,
        help_text=_(
            "When the platform was told the order's parcels and waybill numbers "
            "(a bulk-shipping file or the platform's API)."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-paid_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_no"], name="order_unique_per_channel"
            ),
            models.CheckConstraint(
                condition=Q(goods_total__gte=0), name="order_total_not_negative"
            ),
            models.CheckConstraint(condition=Q(shipping_fee__gte=0), name="order_fee_not_negative"),
        ]
        indexes = [
            models.Index(fields=["status", "paid_at"], name="order_status_paid_idx"),
            models.Index(fields=["paid_at"], name="order_paid_idx"),
            models.Index(fields=["province"], name="order_province_idx"),
            models.Index(fields=["live_session", "paid_at"], name="order_live_paid_idx"),
            # The managers' list of addresses to review: a few orders among many.
            models.Index(
                fields=["-paid_at"],
                condition=Q(address_status__in=sorted(NEEDS_REVIEW)),
                name="order_address_review_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel.code}:{self.external_no}"

    @property
    def masked_phone(self) -> str:
        return self.phone if self.phone_masked_by_platform else mask_phone(self.phone)

    @property
    def address_needs_review(self) -> bool:
        return self.address_status in NEEDS_REVIEW

    @property
    def region(self) -> str:
        """浙江省杭州市西湖区; a municipality once (北京市朝阳区)."""
        city = "" if self.city == self.province else self.city
        return f"{self.province}{city}{self.district}"

    @property
    def full_address(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.address_detail}"

    @property
    def reference(self) -> str:
        """How inventory's ledger and reservations name this order."""
        return f"order:{self.pk}"


class TransitTime(models.Model):
    """Days a parcel travels from the studio to a province, with one carrier or any. Rows
    override the defaults computed from the studio's province (``orders.transit``)."""

    province = models.CharField(
        _("province"), max_length=20, help_text=_("The full name, e.g. 新疆维吾尔自治区.")
    )
    carrier_code = models.CharField(
        _("carrier code"),
        max_length=20,
        blank=True,
        default="",
        help_text=_("A carrier's code (sf, zto …); empty for any carrier."),
    )
    days = models.PositiveSmallIntegerField(
        _("days in transit"), validators=[MaxValueValidator(30)]
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        ordering = ["province", "carrier_code"]
        verbose_name = _("transit time")
        verbose_name_plural = _("transit times")
        constraints = [
            models.UniqueConstraint(
                fields=["province", "carrier_code"], name="transit_province_carrier_unique"
            ),
            models.CheckConstraint(condition=Q(days__lte=30), name="transit_days_at_most_30"),
        ]

    def __str__(self) -> str:
        return f"{self.province} {self.carrier_code or '*'}: {self.days}"

    def clean(self) -> None:
        """A province is stored by its full name (新疆 → 新疆维吾尔自治区); a carrier's code in
        lower case."""
        name = canonical_province(self.province)
        if name not in {region.name for region in provinces()}:
            raise ValidationError({"province": _("Name a province, e.g. 新疆 or 浙江省.")})
        self.province = name
        self.carrier_code = self.carrier_code.strip().lower()


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    sku = models.ForeignKey(
        Sku, on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("SKU")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    kg = models.DecimalField(_("kg"), help_text=_("Quantity × the SKU's net kg."), **KG)

    class Meta:
        ordering = ["id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(kg__gt=0), name="line_kg_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="line_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.sku.name} × {self.quantity}"

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


class Allocation(models.Model):
    """Kilograms of one lot that inventory reserved for one order line."""

    line = models.ForeignKey(
        OrderLine, on_delete=models.CASCADE, related_name="allocations", verbose_name=_("line")
    )
    lot = models.ForeignKey(
        Lot, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("lot")
    )
    kg = models.DecimalField(_("kg"), **KG)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [
            models.CheckConstraint(condition=Q(kg__gt=0), name="allocation_kg_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.lot.code} {self.kg} kg"


class OrderEvent(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("order")
    )
    from_status = models.CharField(
        _("from"), max_length=12, choices=OrderStatus.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=12, choices=OrderStatus.choices)
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty when the system made the change (e.g. stock arrived)."),
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        indexes = [
            # The sales dashboard's time from payment to shipping: one small entry per
            # shipped order instead of a scan of every event.
            models.Index(
                fields=["order"],
                include=["created_at"],
                condition=Q(to_status="shipped"),
                name="order_event_shipped_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '∅'} → {self.to_status}"


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", _("All or nothing")
    KEEP_GOOD = "keep_good", _("Import the good rows")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    PREVIEWED = "previewed", _("Previewed")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    # The process running it stopped (killed, out of memory, its machine off): a task worker
    # resumes it where it stopped (orders.importers.service.sweep_imports).
    INTERRUPTED = "interrupted", _("Stopped — resuming")
    DONE = "done", _("Done")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed")


class ImportBatch(models.Model):
    """One uploaded export file and what became of it."""

    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="imports", verbose_name=_("channel")
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    file_name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    mode = models.CharField(
        _("mode"), max_length=16, choices=ImportMode.choices, default=ImportMode.KEEP_GOOD
    )
    dry_run = models.BooleanField(_("dry run"), default=False)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    preset = models.CharField(_("layout"), max_length=20, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    duplicate_count = models.PositiveIntegerField(_("duplicates"), default=0)
    invalid_count = models.PositiveIntegerField(_("invalid rows"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0)
    message = models.CharField(_("message"), max_length=500, blank=True)
    task_id = models.CharField(_("task"), max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(
        _("runs started"),
        default=0,
        help_text=_(
            "Runs started since the import was committed or resumed; one that stops is "
            "resumed until LEASE_MAX_ATTEMPTS runs have started."
        ),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order import")
        verbose_name_plural = _("order imports")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def progress_percent(self) -> int:
        if not self.rows_total:
            return 100 if self.status in {ImportStatus.DONE, ImportStatus.REJECTED} else 0
        return min(100, round(100 * self.rows_done / self.rows_total))


class ImportRowError(models.Model):
    batch = models.ForeignKey(
        ImportBatch, on_delete=models.CASCADE, related_name="errors", verbose_name=_("import")
    )
    row_number = models.PositiveIntegerField(
        _("row"), help_text=_("As the spreadsheet numbers it: the header is row 1.")
    )
    column = models.CharField(_("column"), max_length=60, blank=True)
    reason = models.CharField(_("reason"), max_length=300)
    raw = models.JSONField(_("row as read"), default=dict)

    class Meta:
        ordering = ["row_number", "id"]
        verbose_name = _("import row error")
        verbose_name_plural = _("import row errors")

    def __str__(self) -> str:
        return f"{self.row_number} {self.column}: {self.reason}"


class AfterSaleKind(models.TextChoices):
    REFUND_ONLY = "refund_only", _("Refund only")  # 仅退款: the goods stay with the buyer
    RETURN_AND_REFUND = "return_refund", _("Return and refund")  # 退货退款
    RESHIP = "reship", _("Reshipment")  # 补发: a new parcel, no new platform order


class AfterSaleState(models.TextChoices):
    REQUESTED = "requested", _("Requested")  # asked for on the platform, no money back yet
    REFUNDED = "refunded", _("Refunded")  # the money went back to the buyer
    CLOSED = "closed", _("Closed")  # withdrawn or refused: changes nothing
    TO_SHIP = "to_ship", _("To reship")
    RESHIPPED = "reshipped", _("Reshipped")


class ReturnState(models.TextChoices):
    NONE = "none", _("No return")
    EXPECTED = "expected", _("Return expected")
    RECEIVED = "received", _("Returned")


class AfterSaleSource(models.TextChoices):
    MANUAL = "manual", _("Order page or API")
    FILE = "file", _("After-sales file")
    PLATFORM = "platform", _("Platform sync")
    RETURN_INTAKE = "return", _("Return intake")


class AfterSale(models.Model):
    """One after-sale of one order line: a refund (some units or kilograms, with an amount),
    a return of goods, or a reshipment. Written only by ``orders.aftersales``."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="after_sales", verbose_name=_("order")
    )
    line = models.ForeignKey(
        OrderLine, on_delete=models.CASCADE, related_name="after_sales", verbose_name=_("line")
    )
    kind = models.CharField(_("kind"), max_length=14, choices=AfterSaleKind.choices)
    state = models.CharField(_("state"), max_length=10, choices=AfterSaleState.choices)
    units = models.PositiveIntegerField(
        _("units"), default=0, help_text=_("Whole units, when the after-sale counts units.")
    )
    kg = models.DecimalField(_("kg"), **KG)
    amount = models.DecimalField(_("amount"), default=Decimal("0"), **MONEY)
    before_shipping = models.BooleanField(
        _("before shipping"),
        default=False,
        help_text=_("Refunded before the order was packed: these units were cancelled."),
    )
    return_state = models.CharField(
        _("return"), max_length=10, choices=ReturnState.choices, default=ReturnState.NONE
    )
    returned_kg = models.DecimalField(_("kg returned"), default=Decimal("0"), **KG)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    platform_refund_id = models.CharField(
        _("platform after-sale number"),
        max_length=64,
        blank=True,
        help_text=_("The platform's 售后单号/退款单号: the same number is applied once."),
    )
    platform_state = models.CharField(_("platform state"), max_length=30, blank=True)
    source = models.CharField(
        _("source"), max_length=10, choices=AfterSaleSource.choices, default=AfterSaleSource.MANUAL
    )
    parcel_reference = models.CharField(
        _("parcel"),
        max_length=40,
        blank=True,
        help_text=_("The reshipment's parcel, or the returned parcel (parcel:<id>)."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("after-sale")
        verbose_name_plural = _("after-sales")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "platform_refund_id"],
                condition=~Q(platform_refund_id=""),
                name="after_sale_platform_once",
            ),
            models.CheckConstraint(condition=Q(kg__gt=0), name="after_sale_kg_positive"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="after_sale_amount_not_neg"),
            models.CheckConstraint(
                condition=Q(returned_kg__gte=0) & Q(returned_kg__lte=models.F("kg")),
                name="after_sale_returned_within_kg",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "created_at"], name="after_sale_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_id} {self.kind} {self.kg} kg"


class AfterSaleImport(models.Model):
    """One uploaded after-sales export (售后/退款 file), its preview and what it did."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        DONE = "done", _("Done")
        REJECTED = "rejected", _("Rejected")

    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="+", verbose_name=_("channel")
    )
    file = models.FileField(_("file"), upload_to="after-sales/%Y/%m/")
    file_name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    layout = models.CharField(_("layout"), max_length=20)
    mode = models.CharField(
        _("mode"), max_length=16, choices=ImportMode.choices, default=ImportMode.KEEP_GOOD
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PREVIEWED
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    counts = models.JSONField(_("outcomes"), default=dict, blank=True)
    results = models.JSONField(
        _("rows as applied"),
        default=list,
        blank=True,
        help_text=_("Per row: its number, order, outcome, column and message."),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("after-sales import")
        verbose_name_plural = _("after-sales imports")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


# The platform connectors' models live beside their code; importing them here registers them
# with the orders app.
from orders.platforms.models import (  # noqa: E402, F401
    AddressChangeStatus,
    CircuitBreaker,
    OrderAddressChange,
    PlatformAccount,
    PlatformCall,
    SyncState,
)

# The daily roll-up of sales (orders.rollup keeps it; the 30-day dashboard reads it).
from orders.rollup_models import SalesDay, ShipTimeDay, SkuSalesDay  # noqa: E402, F401
