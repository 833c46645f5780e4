"""The daily roll-up's tables (kept by ``orders.rollup``; registered through ``orders.models``).

Each table holds sums by local day of payment (the studio's time zone) and a key. The writers
only ever *insert* rows (``folded`` false): a change is a row of differences, so a writer
never waits for another on a shared row and takes no lock outside the lock order. The sum of
a key's rows is its figure; ``orders.rollup.rollup_fold`` (the task workers' sweep, and
``manage.py rollup_sales``) replaces a day's rows by one folded row per key.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.models import Sku

MONEY = {"max_digits": 14, "decimal_places": 2}
KG = {"max_digits": 14, "decimal_places": 3}


class SalesDay(models.Model):
    """Orders paid on ``day`` with this status, to this province: how many, their goods
    total; and money refunded on them (rows of status "" carry refunds only)."""

    day = models.DateField(_("day"))
    status = models.CharField(_("status"), max_length=20, blank=True)
    province = models.CharField(_("province"), max_length=20, blank=True)
    orders = models.IntegerField(_("orders"), default=0)
    goods_total = models.DecimalField(_("goods total"), default=Decimal("0"), **MONEY)
    refunds = models.DecimalField(_("refunds"), default=Decimal("0"), **MONEY)
    folded = models.BooleanField(_("folded"), default=False)

    class Meta:
        verbose_name = _("sales by day")
        verbose_name_plural = _("sales by day")
        indexes = [
            models.Index(fields=["day"], name="salesday_day_idx"),
            models.Index(fields=["day"], condition=Q(folded=False), name="salesday_unfolded_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.status} {self.province}: {self.orders}"


class SkuSalesDay(models.Model):
    """Lines of orders paid on ``day``, closed (cancelled or refunded) or not, of this SKU:
    units, kg, amount. What sold is the open rows: an order's steps after payment (allocated,
    packed, shipped…) do not change them, so packing an order writes no row here."""

    day = models.DateField(_("day"))
    closed = models.BooleanField(_("closed"), default=False)
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU"))
    units = models.IntegerField(_("units"), default=0)
    kg = models.DecimalField(_("kg"), default=Decimal("0"), **KG)
    amount = models.DecimalField(_("amount"), default=Decimal("0"), **MONEY)
    folded = models.BooleanField(_("folded"), default=False)

    class Meta:
        verbose_name = _("SKU sales by day")
        verbose_name_plural = _("SKU sales by day")
        indexes = [
            models.Index(fields=["day"], name="skusalesday_day_idx"),
            models.Index(
                fields=["day"], condition=Q(folded=False), name="skusalesday_unfolded_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {'closed' if self.closed else 'sold'} {self.sku_id}: {self.units}"


class ShipTimeDay(models.Model):
    """Orders paid on ``day`` that were shipped ``minutes`` after payment (the histogram
    behind the dashboard's median time to ship)."""

    day = models.DateField(_("day"))
    minutes = models.IntegerField(_("minutes"))
    orders = models.IntegerField(_("orders"), default=0)
    folded = models.BooleanField(_("folded"), default=False)

    class Meta:
        verbose_name = _("time to ship by day")
        verbose_name_plural = _("time to ship by day")
        indexes = [
            models.Index(fields=["day"], name="shiptimeday_day_idx"),
            models.Index(
                fields=["day"], condition=Q(folded=False), name="shiptimeday_unfolded_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.minutes} min: {self.orders}"
