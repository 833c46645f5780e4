"""Shipping: carriers and their waybill numbers, waves of orders picked together, parcels and
what went into them, tracking, and returns."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.models import KG, Lot
from orders.models import Channel, Order, OrderLine


class LabelSize(models.TextChoices):
    MM_100x150 = "100x150", _("100 × 150 mm")
    MM_76x130 = "76x130", _("76 × 130 mm")
    MM_100x180 = "100x180", _("100 × 180 mm")


class Carrier(models.Model):
    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=30)
    tracking_pattern = models.CharField(
        _("tracking number pattern"),
        max_length=100,
        blank=True,
        help_text=_("A regular expression; a number that does not match only warns."),
    )
    label_size = models.CharField(
        _("label size"), max_length=10, choices=LabelSize.choices, default=LabelSize.MM_100x150
    )
    sender_name = models.CharField(_("sender"), max_length=50, blank=True)
    sender_phone = models.CharField(_("sender phone"), max_length=20, blank=True)
    sender_address = models.CharField(_("sender address"), max_length=200, blank=True)
    privacy_service = models.BooleanField(
        _("privacy waybills"),
        default=False,
        help_text=_(
            "Its waybills come with a privacy service (隐私面单): the carrier keeps the "
            "recipient's details and labels print them masked. Off: labels print the "
            "recipient's full name, phone and address so the courier can deliver."
        ),
    )
    max_parcel_kg = models.DecimalField(
        _("most kg per parcel"),
        **KG,
        null=True,
        blank=True,
        help_text=_(
            "The carrier's weight limit for one parcel; an order heavier than this is packed "
            "in several boxes (the station suggests how many). Empty: no limit."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("carrier")
        verbose_name_plural = _("carriers")

    def __str__(self) -> str:
        return self.name


class WaybillPool(models.Model):
    """A file of waybill numbers a carrier issued to the studio."""

    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, related_name="pools", verbose_name=_("carrier")
    )
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    privacy_service = models.BooleanField(
        _("privacy waybills"),
        null=True,
        blank=True,
        help_text=_("Whether these numbers come with a privacy service; empty: as the carrier."),
    )

    class Meta:
        ordering = ["-imported_at"]
        verbose_name = _("waybill pool")
        verbose_name_plural = _("waybill pools")

    def __str__(self) -> str:
        return f"{self.carrier} {self.file_name}"


class WaybillNumber(models.Model):
    """One number of a pool. ``taken_at`` is set exactly once, under a row lock."""

    pool = models.ForeignKey(WaybillPool, on_delete=models.PROTECT, related_name="numbers")
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="waybills")
    number = models.CharField(_("number"), max_length=40)
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("waybill number")
        verbose_name_plural = _("waybill numbers")
        constraints = [
            models.UniqueConstraint(fields=["carrier", "number"], name="waybill_unique"),
        ]
        indexes = [
            models.Index(
                fields=["carrier", "id"],
                condition=Q(taken_at__isnull=True),
                name="waybill_free_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class WaveStatus(models.TextChoices):
    PICKING = "picking", _("Picking")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Wave(models.Model):
    """Orders picked together: one pick list, packed one by one."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=WaveStatus.choices, default=WaveStatus.PICKING
    )
    carrier = models.ForeignKey(
        Carrier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waves",
        verbose_name=_("carrier"),
        help_text=_("Preselected at the packing station for this wave's parcels."),
    )
    selection = models.JSONField(_("selection"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("wave")
        verbose_name_plural = _("waves")

    def __str__(self) -> str:
        return self.code


class WaveOrder(models.Model):
    """An order's place in a wave; an order is in at most one wave."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="wave_orders")
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="wave_order")
    position = models.PositiveIntegerField(_("position"))

    class Meta:
        ordering = ["wave", "position"]
        constraints = [
            models.UniqueConstraint(fields=["wave", "position"], name="wave_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.wave.code}#{self.position}"


class ParcelStatus(models.TextChoices):
    PACKED = "packed", _("Packed")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Exception")
    RETURNED = "returned", _("Returned")


P = ParcelStatus
PARCEL_TRANSITIONS: dict[str, frozenset[str]] = {
    P.PACKED: frozenset({P.SHIPPED}),
    P.SHIPPED: frozenset({P.DELIVERED, P.EXCEPTION, P.RETURNED}),
    P.EXCEPTION: frozenset({P.SHIPPED, P.DELIVERED, P.RETURNED}),
    P.DELIVERED: frozenset({P.RETURNED}),
    P.RETURNED: frozenset(),
}


def new_trace_token() -> str:
    return secrets.token_urlsafe(16)


class Parcel(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="parcels", verbose_name=_("order")
    )
    wave = models.ForeignKey(
        Wave,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="parcels",
        verbose_name=_("wave"),
    )
    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, related_name="parcels", verbose_name=_("carrier")
    )
    tracking_number = models.CharField(_("tracking number"), max_length=40)
    sorting_code = models.CharField(_("sorting code"), max_length=30, blank=True)
    weight_kg = models.DecimalField(_("weight kg"), **KG)
    status = models.CharField(
        _("status"), max_length=10, choices=ParcelStatus.choices, default=ParcelStatus.PACKED
    )
    sequence = models.PositiveSmallIntegerField(_("parcel number"), default=1)
    parcel_count = models.PositiveSmallIntegerField(_("parcels in the order"), default=1)
    packed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    packed_at = models.DateTimeField(_("packed at"), auto_now_add=True)
    label_printed_at = models.DateTimeField(_("label printed at"), null=True, blank=True)
    trace_token = models.CharField(max_length=32, unique=True, default=new_trace_token)
    weight_warning = models.CharField(_("weight warning"), max_length=200, blank=True)
    expected_kg = models.DecimalField(
        _("expected kg"),
        **KG,
        null=True,
        blank=True,
        help_text=_("What the box should weigh: net kg and packaging of what went in."),
    )
    weight_reason = models.CharField(
        _("weight confirmed because"),
        max_length=200,
        blank=True,
        help_text=_("Why the packer packed a box whose weight was outside the expected band."),
    )
    virtual_number = models.CharField(
        _("virtual number"),
        max_length=30,
        blank=True,
        help_text=_(
            "The number (with its extension) a privacy service gives the courier to call "
            "instead of the recipient's, e.g. 17012345678-1234."
        ),
    )
    reported_at = models.DateTimeField(
        _("reported to the platform"),
        null=True,
        blank=True,
        help_text=_("When its waybill number went to the order's platform (file or API)."),
    )
    report = models.ForeignKey(
        "ShipmentReport",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="parcels",
        verbose_name=_("ship-back report"),
    )

    class Meta:
        ordering = ["-packed_at", "-id"]
        verbose_name = _("parcel")
        verbose_name_plural = _("parcels")
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "tracking_number"], name="parcel_tracking_unique"
            ),
            models.CheckConstraint(condition=Q(weight_kg__gt=0), name="parcel_weight_positive"),
        ]
        indexes = [
            models.Index(fields=["status", "packed_at"], name="parcel_status_idx"),
            models.Index(
                fields=["label_printed_at"],
                condition=Q(label_printed_at__isnull=True),
                name="parcel_unprinted_idx",
            ),
            # Handed over, not yet reported to the platform: what a ship-back file takes.
            models.Index(
                fields=["order"],
                condition=Q(reported_at__isnull=True) & ~Q(status="packed"),
                name="parcel_unreported_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier.code}:{self.tracking_number}"


class ParcelItem(models.Model):
    """Kilograms of one lot, for one order line, that went into the box."""

    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="items")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="parcel_items")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="parcel_items")
    kg = models.DecimalField(_("kg"), **KG)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(kg__gt=0), name="parcel_item_kg_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.lot.code} {self.kg} kg"


class TrackingEvent(models.Model):
    """A parcel's status change or a carrier's scan, with who (if a person) and where from."""

    class Source(models.TextChoices):
        STATION = "station", _("Packing station")
        SCAN = "scan", _("Scan-out")
        FILE = "file", _("Tracking file")
        API = "api", _("API")
        RETURN = "return", _("Return intake")

    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(_("status"), max_length=10, choices=ParcelStatus.choices)
    occurred_at = models.DateTimeField(_("time"))
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    description = models.CharField(_("description"), max_length=200, blank=True)
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        constraints = [
            models.UniqueConstraint(
                fields=["parcel", "status", "occurred_at"], name="tracking_event_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parcel} {self.status} {self.occurred_at:%Y-%m-%d %H:%M}"


class ReturnDisposition(models.TextChoices):
    RESTOCK = "restock", _("Restocked into its lot")
    WRITE_OFF = "write_off", _("Written off")


class ReturnLine(models.Model):
    """What came back of one parcel item, and where it went."""

    item = models.ForeignKey(ParcelItem, on_delete=models.PROTECT, related_name="returns")
    kg = models.DecimalField(_("kg"), **KG)
    disposition = models.CharField(
        _("disposition"), max_length=10, choices=ReturnDisposition.choices
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(kg__gt=0), name="return_kg_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.item} ← {self.kg} kg ({self.disposition})"


# --- printers --------------------------------------------------------------------------------


class PrinterLanguage(models.TextChoices):
    ZPL = "zpl", _("ZPL (Zebra and compatibles)")
    TSPL = "tspl", _("TSPL (TSC, Xprinter, Gprinter, Deli…)")


class PrinterDpi(models.IntegerChoices):
    DPI_203 = 203, _("203 dpi (8 dots/mm)")
    DPI_300 = 300, _("300 dpi (12 dots/mm)")


class ZplGraphics(models.TextChoices):
    Z64 = "z64", _("Z64 (compressed; Zebra firmware)")
    HEX = "hex", _("Plain hexadecimal (any ZPL printer, 20× more bytes)")


DEFAULT_PRINTER_PORT = 9100


class Printer(models.Model):
    """A thermal label printer, reached over the network (raw TCP, usually port 9100) or
    through a CUPS queue on this server. Labels reach it as one bitmap per label in its
    language, drawn at its resolution."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    host = models.CharField(
        _("network address"),
        max_length=100,
        blank=True,
        help_text=_("The printer's IP address or host name, e.g. 192.168.1.50."),
    )
    port = models.PositiveIntegerField(_("port"), default=DEFAULT_PRINTER_PORT)
    cups_queue = models.CharField(
        _("CUPS queue"),
        max_length=100,
        blank=True,
        help_text=_("Instead of a network address: the queue's name on this server (lpstat -p)."),
    )
    language = models.CharField(
        _("language"), max_length=5, choices=PrinterLanguage.choices, default=PrinterLanguage.TSPL
    )
    dpi = models.PositiveSmallIntegerField(
        _("resolution"), choices=PrinterDpi.choices, default=PrinterDpi.DPI_203
    )
    label_size = models.CharField(
        _("label size"), max_length=10, choices=LabelSize.choices, default=LabelSize.MM_100x150
    )
    zpl_graphics = models.CharField(
        _("ZPL graphics"),
        max_length=3,
        choices=ZplGraphics.choices,
        default=ZplGraphics.Z64,
        help_text=_("Only for ZPL. Choose plain hexadecimal if Z64 labels come out blank."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("printer")
        verbose_name_plural = _("printers")
        constraints = [
            models.CheckConstraint(
                condition=(Q(host="") & ~Q(cups_queue="")) | (~Q(host="") & Q(cups_queue="")),
                name="printer_one_connection",
            ),
            models.CheckConstraint(
                condition=Q(port__gte=1, port__lte=65535), name="printer_port_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        """Where the printer is, as staff read it: ``192.168.1.50:9100`` or ``cups:Zebra``."""
        return f"cups:{self.cups_queue}" if self.cups_queue else f"{self.host}:{self.port}"


class PackingStation(models.Model):
    """A packing desk: its printer and the carrier its parcels usually go with. A laptop
    remembers which desk it stands at (a cookie), whoever logs in on it."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    printer = models.ForeignKey(
        Printer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stations",
        verbose_name=_("printer"),
        help_text=_("Empty: labels print through the browser's print dialog."),
    )
    carrier = models.ForeignKey(
        Carrier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("default carrier"),
        help_text=_("Preselected for orders whose wave names no carrier."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("packing station")
        verbose_name_plural = _("packing stations")

    def __str__(self) -> str:
        return self.name


class PrintJobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class PrintJob(models.Model):
    """Labels of some parcels sent to a printer, in order: one from the packing station, or a
    wave's in wave order. A failed job keeps its reason and can be sent again."""

    printer = models.ForeignKey(
        Printer, on_delete=models.PROTECT, related_name="jobs", verbose_name=_("printer")
    )
    parcels = models.ManyToManyField(
        Parcel, through="PrintJobParcel", related_name="print_jobs", verbose_name=_("parcels")
    )
    wave = models.ForeignKey(
        Wave,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="print_jobs",
        verbose_name=_("wave"),
    )
    label_count = models.PositiveIntegerField(_("labels"))
    labels_sent = models.PositiveIntegerField(_("labels sent"), default=0)
    state = models.CharField(
        _("state"), max_length=10, choices=PrintJobState.choices, default=PrintJobState.QUEUED
    )
    error = models.CharField(_("error"), max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty: sent from the shell (manage.py print_labels --printer)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("print job")
        verbose_name_plural = _("print jobs")
        constraints = [
            models.CheckConstraint(
                condition=Q(labels_sent__lte=models.F("label_count")),
                name="print_job_sent_within_count",
            ),
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="print_job_state_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.printer} ({self.label_count})"


class PrintJobParcel(models.Model):
    """A parcel's place in a print job."""

    job = models.ForeignKey(PrintJob, on_delete=models.CASCADE, related_name="job_parcels")
    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="print_job_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.position}"


# Waybill sources live beside their code; importing them here registers them with the
# shipping app.
from shipping.waybills.models import IssuedWaybill, SourceKind, WaybillSource  # noqa: E402, F401


class ShipmentReport(models.Model):
    """One ship-back (回传) of a channel's handed-over parcels to its platform: a bulk-shipping
    file exported for upload, or a push through the platform's API."""

    class Method(models.TextChoices):
        FILE = "file", _("Upload file")
        API = "api", _("Platform API")

    channel = models.ForeignKey(
        Channel,
        on_delete=models.PROTECT,
        related_name="shipment_reports",
        verbose_name=_("channel"),
    )
    method = models.CharField(_("method"), max_length=4, choices=Method.choices)
    layout = models.CharField(_("layout"), max_length=20, blank=True)
    file = models.FileField(_("file"), upload_to="shipments/%Y/%m/", blank=True)
    since = models.DateTimeField(_("handed over since"), null=True, blank=True)
    again = models.BooleanField(
        _("already reported included"),
        default=False,
        help_text=_("A re-export: parcels reported before are in it too."),
    )
    orders_count = models.PositiveIntegerField(_("orders"), default=0)
    parcels_count = models.PositiveIntegerField(_("parcels"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("ship-back report")
        verbose_name_plural = _("ship-back reports")

    def __str__(self) -> str:
        return f"{self.channel} {self.created_at:%Y-%m-%d %H:%M} ({self.parcels_count})"


class HandoverBatch(models.Model):
    """One pickup by a carrier's courier: the parcels scanned out to them, from the first scan
    to the signed manifest. Stored, not kept in a login's session: a packer who goes on break
    leaves it open and another carries on."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, related_name="handovers", verbose_name=_("carrier")
    )
    courier_name = models.CharField(_("courier's name"), max_length=50, blank=True)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("closed by"),
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("handover batch")
        verbose_name_plural = _("handover batches")

    def __str__(self) -> str:
        return self.code

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class HandoverScan(models.Model):
    """A parcel scanned into a handover batch: each parcel is handed over once."""

    batch = models.ForeignKey(HandoverBatch, on_delete=models.PROTECT, related_name="scans")
    parcel = models.OneToOneField(Parcel, on_delete=models.PROTECT, related_name="handover_scan")
    scanned_at = models.DateTimeField(_("scanned"), auto_now_add=True)
    scanned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )

    class Meta:
        ordering = ["batch", "scanned_at", "id"]
        verbose_name = _("handover scan")
        verbose_name_plural = _("handover scans")

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.parcel_id}"
