"""What every app shares in the database: the ``Idempotency-Key`` of create calls, and the
leases of background work."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.units import WeightUnit


class IdempotencyKey(models.Model):
    """A create call's ``Idempotency-Key``: the same key and body replays the first response."""

    key = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    endpoint = models.CharField(max_length=200)
    body_sha256 = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "endpoint", "key"], name="core_idempotency_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.key


class Lease(models.Model):
    """A claim on one piece of background work: a task worker's own life, an import, the
    allocation of waiting orders. Its holder (one process: ``host:pid:token``) renews
    ``heartbeat_at`` from a thread while it works; a lease not renewed for
    ``LEASE_TIMEOUT_SECONDS`` belongs to a process that is gone. Both times are the
    database's, so the clocks of several machines never disagree. See ``core.leases``."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    holder = models.CharField(_("holder"), max_length=64)
    acquired_at = models.DateTimeField(_("acquired at"))
    heartbeat_at = models.DateTimeField(_("last heartbeat"), db_index=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("lease")
        verbose_name_plural = _("leases")

    def __str__(self) -> str:
        return self.name


class StudioSettings(models.Model):
    """The studio's own choices, one row (``load()`` gives the defaults before it is saved).
    Today: the unit the intake desk asks for and pages and printouts show (斤 or kg); storage
    stays kg (``core.units``)."""

    SINGLETON_PK = 1

    weight_unit = models.CharField(
        _("weight unit"),
        max_length=3,
        choices=WeightUnit.choices,
        default=WeightUnit.KG,
        help_text=_(
            "What the intake desk weighs in and what prices per unit, lot tags, statements "
            "and labels show. Weights are always stored in kg; 1 斤 = 0.5 kg."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("studio settings")
        verbose_name_plural = _("studio settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="studio_settings_singleton"),
        ]

    def __str__(self) -> str:
        return str(_("Studio settings"))

    def save(self, *args, **kwargs):
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "StudioSettings":
        """The one row; the defaults (not saved: reading writes nothing) when there is none
        yet. One query."""
        return cls.objects.filter(pk=cls.SINGLETON_PK).first() or cls(pk=cls.SINGLETON_PK)

    @property
    def unit(self) -> WeightUnit:
        return WeightUnit(self.weight_unit)
