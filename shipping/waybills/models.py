"""Waybill sources per carrier, and every waybill number taken through them.

Imported at the bottom of ``shipping/models.py`` so Django finds these models in the
shipping app."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SourceKind(models.TextChoices):
    POOL = "pool", _("The studio's imported pools")
    DOUYIN = "douyin", _("Douyin shop electronic waybill (抖店电子面单)")


class WaybillSource(models.Model):
    """Where one carrier's numbers come from. A carrier without a source uses its pools."""

    carrier = models.OneToOneField(
        "shipping.Carrier",
        on_delete=models.CASCADE,
        related_name="waybill_source",
        verbose_name=_("carrier"),
    )
    kind = models.CharField(
        _("source"), max_length=10, choices=SourceKind.choices, default=SourceKind.POOL
    )
    account = models.ForeignKey(
        "orders.PlatformAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waybill_sources",
        verbose_name=_("platform account"),
        help_text=_("The shop whose electronic waybill service issues the numbers."),
    )
    logistics_code = models.CharField(
        _("service's carrier code"),
        max_length=40,
        blank=True,
        help_text=_("Empty: the platform's usual code for this carrier."),
    )
    other_order_channel = models.CharField(
        _("order channel code for other platforms' orders"),
        max_length=20,
        blank=True,
        help_text=_(
            "The service's 订单渠道来源编码 for orders from other channels; empty: only "
            "the account's own orders get numbers from it."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["carrier__code"]
        verbose_name = _("waybill source")
        verbose_name_plural = _("waybill sources")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="pool") | Q(account__isnull=False),
                name="waybill_source_api_has_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier}: {self.get_kind_display()}"


class IssuedWaybill(models.Model):
    """A waybill number taken through a source, with what the label must print."""

    carrier = models.ForeignKey(
        "shipping.Carrier", on_delete=models.PROTECT, related_name="+", verbose_name=_("carrier")
    )
    number = models.CharField(_("number"), max_length=40)
    kind = models.CharField(_("source"), max_length=10, choices=SourceKind.choices)
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="issued_waybills",
        verbose_name=_("order"),
    )
    pack_index = models.PositiveSmallIntegerField(_("parcel number"), default=1)
    sorting_code = models.CharField(_("sorting code (三段码)"), max_length=60, blank=True)
    short_address = models.CharField(_("destination mark (大头笔)"), max_length=60, blank=True)
    package_center = models.CharField(_("consolidation centre (集包地)"), max_length=60, blank=True)
    privacy = models.BooleanField(
        _("privacy label"),
        default=False,
        help_text=_("The service prints the recipient masked; the label masks it too."),
    )
    virtual_number = models.CharField(_("virtual phone number"), max_length=30, blank=True)
    taken_at = models.DateTimeField(_("taken at"), default=timezone.now)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        ordering = ["-taken_at", "-id"]
        verbose_name = _("issued waybill")
        verbose_name_plural = _("issued waybills")
        constraints = [
            models.UniqueConstraint(fields=["carrier", "number"], name="issued_waybill_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier_id}:{self.number}"
