"""What the warehouse holds: farmers, products, grades, sellable SKUs, locations, lots, and
the stock ledger. Lot quantities change only through ``inventory.services``."""

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.barcodes import EAN13, gtin_check_digit
from core.regions import region_name, validate_adcode

KG = {"max_digits": 12, "decimal_places": 3}
MONEY = {"max_digits": 12, "decimal_places": 2}
ZERO_KG = Decimal("0.000")

phone_validator = RegexValidator(r"^1[3-9]\d{9}$", _("Enter an 11-digit mobile number."))


def validate_gtin(value: str) -> None:
    """An EAN-13 (GTIN-13): 13 digits with the right check digit."""
    if not EAN13.match(value):
        raise ValidationError(_("A GTIN (EAN-13) has 13 digits."), code="gtin_length")
    expected = gtin_check_digit(value[:12])
    if int(value[12]) != expected:
        raise ValidationError(
            _("The check digit of %(gtin)s is wrong: it should end in %(digit)d."),
            params={"gtin": value, "digit": expected},
            code="gtin_check_digit",
        )


def mask_phone(phone: str) -> str:
    """138****1234: what lists and exports show instead of a full phone number."""
    if not phone:
        return ""
    if len(phone) >= 7:
        return f"{phone[:3]}****{phone[-4:]}"
    return "*" * len(phone)


class Storage(models.TextChoices):
    COLD = "cold", _("Cold")
    AMBIENT = "ambient", _("Ambient")


class Farmer(models.Model):
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=11, validators=[phone_validator], blank=True)
    village = models.CharField(_("village"), max_length=50)
    county = models.CharField(_("county"), max_length=50, blank=True)
    # Checked against the national divisions (core.regions), as orders' addresses are.
    adcode = models.CharField(
        _("area code"),
        max_length=6,
        blank=True,
        validators=[validate_adcode],
        help_text=_("The national code of the farmer's county, e.g. 371321 for 沂南县."),
    )
    trace_consent = models.BooleanField(
        _("name on trace page"),
        default=False,
        help_text=_("The farmer agreed that buyers may see their name on the trace page."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["village", "name"]
        verbose_name = _("farmer")
        verbose_name_plural = _("farmers")
        constraints = [
            models.UniqueConstraint(
                fields=["phone"], condition=~Q(phone=""), name="farmer_phone_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.village}）"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def area_name(self) -> str:
        """山东省临沂市沂南县 for 371321; "" without a known code."""
        return region_name(self.adcode)


class Product(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    category = models.CharField(_("category"), max_length=30, blank=True)
    shelf_life_days = models.PositiveIntegerField(
        _("shelf life (days)"), validators=[MinValueValidator(1)]
    )
    storage = models.CharField(
        _("storage"), max_length=10, choices=Storage.choices, default=Storage.AMBIENT
    )
    min_days_on_arrival = models.PositiveSmallIntegerField(
        _("days of life on arrival"),
        default=0,
        help_text=_(
            "The days of shelf life a parcel must still have when the buyer receives it: "
            "allocation takes no lot that would arrive with less."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(
                condition=Q(shelf_life_days__gte=1), name="product_shelf_life_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Grade(models.Model):
    name = models.CharField(_("name"), max_length=20, unique=True)
    rank = models.PositiveSmallIntegerField(
        _("rank"), default=0, help_text=_("Lower ranks are better grades.")
    )

    class Meta:
        ordering = ["rank", "name"]
        verbose_name = _("grade")
        verbose_name_plural = _("grades")

    def __str__(self) -> str:
        return self.name


class Sku(models.Model):
    """A sellable pack: one product and grade, a fixed net weight per unit."""

    merchant_code = models.CharField(_("merchant code"), max_length=40, unique=True)
    gtin = models.CharField(
        _("GTIN (EAN-13)"),
        max_length=13,
        blank=True,
        default="",
        validators=[validate_gtin],
        help_text=_(
            "The barcode printed on the pack, when it has one. Without it the SKU's "
            "stickers carry the merchant code."
        ),
    )
    name = models.CharField(_("name"), max_length=100)
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="skus", verbose_name=_("product")
    )
    grade = models.ForeignKey(
        Grade, on_delete=models.PROTECT, related_name="skus", verbose_name=_("grade")
    )
    net_kg = models.DecimalField(_("net kg per unit"), **KG)
    price = models.DecimalField(_("price"), **MONEY)
    packaging_kg = models.DecimalField(_("packaging kg"), default=ZERO_KG, **KG)
    weight_tolerance_kg = models.DecimalField(
        _("weight tolerance kg"),
        default=Decimal("0.200"),
        help_text=_(
            "The packing station warns when a parcel weighs more or less than this "
            "away from net + packaging."
        ),
        **KG,
    )
    # A gift box (组合装/礼盒): made of other SKUs (``components``), kept in step with them by
    # ``inventory.services.sku_set_components`` together with ``net_kg`` (their sum).
    is_bundle = models.BooleanField(
        _("gift box"),
        default=False,
        editable=False,
        help_text=_("Made of other SKUs: an order of it reserves each of them."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["merchant_code"]
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        constraints = [
            models.CheckConstraint(condition=Q(net_kg__gt=0), name="sku_net_kg_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="sku_price_not_negative"),
            models.CheckConstraint(
                condition=Q(packaging_kg__gte=0), name="sku_packaging_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(weight_tolerance_kg__gte=0), name="sku_tolerance_not_negative"
            ),
            models.UniqueConstraint(
                fields=["gtin"],
                condition=~Q(gtin=""),
                name="sku_gtin_unique",
                violation_error_message=_("Another SKU has this GTIN."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_code} {self.name}"

    @property
    def barcode_value(self) -> str:
        """What the SKU's barcode carries: its GTIN when it has one, else its merchant code."""
        return self.gtin or self.merchant_code

    def clean(self) -> None:
        super().clean()
        if self.gtin:
            others = Sku.objects.exclude(pk=self.pk)
            # The database's constraint says so too, but only for the whole form.
            if others.filter(gtin=self.gtin).exists():
                raise ValidationError({"gtin": _("Another SKU has this GTIN.")})
            if others.filter(merchant_code__iexact=self.gtin).exists():
                message = _("This GTIN is another SKU's merchant code: a scan would be unclear.")
                raise ValidationError({"gtin": message})


class SkuComponent(models.Model):
    """One SKU inside a gift box, with how many of it one box holds (2 × 蜜桃 2.5 kg + 1 ×
    蜂蜜 500 g). A box holds one SKU per product and grade, and no box holds another box."""

    bundle = models.ForeignKey(
        Sku, on_delete=models.CASCADE, related_name="components", verbose_name=_("gift box")
    )
    component = models.ForeignKey(
        Sku, on_delete=models.PROTECT, related_name="in_bundles", verbose_name=_("component")
    )
    quantity = models.PositiveSmallIntegerField(
        _("quantity"), default=1, validators=[MinValueValidator(1)]
    )

    class Meta:
        ordering = ["bundle", "id"]
        verbose_name = _("gift box component")
        verbose_name_plural = _("gift box components")
        constraints = [
            models.UniqueConstraint(
                fields=["bundle", "component"], name="sku_component_once_per_bundle"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="sku_component_quantity_positive"
            ),
            models.CheckConstraint(
                condition=~Q(bundle=models.F("component")), name="sku_component_not_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.component.name}"

    @property
    def kg(self) -> Decimal:
        """Net kilograms of this component in one box."""
        return self.component.net_kg * self.quantity


class Location(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50)
    storage = models.CharField(
        _("storage"), max_length=10, choices=Storage.choices, default=Storage.AMBIENT
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CodeSequence(models.Model):
    """Counters behind human codes such as ``L2611-0042`` (one row per prefix)."""

    prefix = models.CharField(max_length=20, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}:{self.last}"


class Delivery(models.Model):
    """One farmer's delivery at the weighing table: the 收货单. It may hold several lots."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    farmer = models.ForeignKey(
        Farmer, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("farmer")
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("received by"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return self.code


class LotQuerySet(models.QuerySet):
    def with_stock(self):
        return self.filter(on_hand_kg__gt=0)

    def expiring_within(self, days: int):
        limit = timezone.localdate() + timedelta(days=days)
        return self.with_stock().filter(expiry_date__lte=limit)

    def expired(self, today=None):
        """Lots with stock whose expiry date is over (the expiry day itself is still good)."""
        return self.with_stock().filter(expiry_date__lt=today or timezone.localdate())


class Lot(models.Model):
    """Produce of one farmer, product and grade, received together. The cached ``on_hand_kg``
    equals the sum of the lot's ledger; ``reserved_kg`` is what orders hold of it."""

    code = models.CharField(_("lot code"), max_length=20, unique=True)
    delivery = models.ForeignKey(
        Delivery, on_delete=models.PROTECT, related_name="lots", verbose_name=_("delivery")
    )
    farmer = models.ForeignKey(
        Farmer, on_delete=models.PROTECT, related_name="lots", verbose_name=_("farmer")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="lots", verbose_name=_("product")
    )
    grade = models.ForeignKey(
        Grade, on_delete=models.PROTECT, related_name="lots", verbose_name=_("grade")
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="lots", verbose_name=_("location")
    )
    harvest_date = models.DateField(_("harvest date"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    expiry_date = models.DateField(_("expiry date"))
    gross_kg = models.DecimalField(_("gross kg"), **KG)
    crates = models.PositiveIntegerField(_("crates"), default=0)
    tare_per_crate_kg = models.DecimalField(_("tare per crate kg"), default=ZERO_KG, **KG)
    received_kg = models.DecimalField(_("received kg"), **KG)
    price_per_kg = models.DecimalField(_("price per kg"), **MONEY)
    on_hand_kg = models.DecimalField(_("on-hand kg"), **KG)
    reserved_kg = models.DecimalField(_("reserved kg"), default=ZERO_KG, **KG)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = LotQuerySet.as_manager()

    class Meta:
        ordering = ["expiry_date", "received_at", "id"]
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        indexes = [
            # First-expiry-first-out: the lots of one product and grade, by expiry.
            models.Index(fields=["product", "grade", "expiry_date"], name="lot_fefo_idx"),
            models.Index(fields=["expiry_date"], name="lot_expiry_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(received_kg__gt=0), name="lot_received_positive"),
            models.CheckConstraint(condition=Q(on_hand_kg__gte=0), name="lot_on_hand_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved_kg__gte=0), name="lot_reserved_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(reserved_kg__lte=models.F("on_hand_kg")),
                name="lot_reserved_within_on_hand",
            ),
            models.CheckConstraint(condition=Q(price_per_kg__gte=0), name="lot_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.product} {self.grade}"

    @property
    def available_kg(self) -> Decimal:
        return self.on_hand_kg - self.reserved_kg

    @property
    def amount(self) -> Decimal:
        """What the studio owes the farmer for this lot at intake, rounded half up to the fen."""
        return (self.received_kg * self.price_per_kg).quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def days_to_expiry(self) -> int:
        return (self.expiry_date - timezone.localdate()).days

    @property
    def expiring_soon(self) -> bool:
        return self.days_to_expiry <= 2

    @property
    def is_expired(self) -> bool:
        """Past its expiry date: never allocated, picked or packed again, only written off."""
        return self.expiry_date < timezone.localdate()

    @property
    def days_expired(self) -> int:
        return -self.days_to_expiry


class MovementKind(models.TextChoices):
    INTAKE = "intake", _("Intake")
    SHIP_OUT = "ship_out", _("Shipped out")
    RETURN = "return", _("Return")
    WRITE_OFF = "write_off", _("Write-off")
    ADJUSTMENT = "adjustment", _("Count adjustment")
    MOVE = "move", _("Move")


class AppendOnlyError(Exception):
    pass


class StockMovementQuerySet(models.QuerySet):
    """The ledger refuses bulk changes too; a database trigger backs this up."""

    def update(self, **kwargs):
        raise AppendOnlyError("The stock ledger is append-only: movements are never changed.")

    def delete(self):
        raise AppendOnlyError("The stock ledger is append-only: movements are never deleted.")


class StockMovement(models.Model):
    """The stock ledger: append-only. A lot's on-hand is the sum of its movements' deltas.
    A move between locations is recorded with a zero delta; every other kind changes kg."""

    lot = models.ForeignKey(
        Lot, on_delete=models.PROTECT, related_name="movements", verbose_name=_("lot")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=MovementKind.choices)
    kg_delta = models.DecimalField(_("kg change"), **KG)
    on_hand_after = models.DecimalField(_("on-hand after"), **KG)
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    reference = models.CharField(_("reference"), max_length=50, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = StockMovementQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="move", kg_delta=0) | (~Q(kind="move") & ~Q(kg_delta=0))),
                name="movement_delta_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(on_hand_after__gte=0), name="movement_on_hand_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lot.code} {self.get_kind_display()} {self.kg_delta:+}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("The stock ledger is append-only: movements are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The stock ledger is append-only: movements are never deleted.")


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    BANK_TRANSFER = "bank", _("Bank transfer")
    WECHAT = "wechat", _("WeChat")
    ALIPAY = "alipay", _("Alipay")


class FarmerPayment(models.Model):
    """Money the studio paid a farmer for produce. A farmer's balance is what their lots are
    worth at intake (``Lot.amount``) less these payments; a payment beyond it is an advance."""

    farmer = models.ForeignKey(
        Farmer, on_delete=models.PROTECT, related_name="payments", verbose_name=_("farmer")
    )
    paid_on = models.DateField(_("paid on"))
    amount = models.DecimalField(_("amount"), **MONEY)
    method = models.CharField(
        _("method"), max_length=10, choices=PaymentMethod.choices, default=PaymentMethod.CASH
    )
    reference = models.CharField(
        pgettext_lazy("payment", "reference"),
        max_length=60,
        blank=True,
        help_text=_("The transfer's number or the receipt's, if there is one."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-paid_on", "-id"]
        verbose_name = _("farmer payment")
        verbose_name_plural = _("farmer payments")
        indexes = [models.Index(fields=["farmer", "paid_on"], name="payment_farmer_day_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.farmer.name} {self.paid_on} {self.amount}"
