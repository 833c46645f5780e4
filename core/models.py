"""What every app shares in the database: the ``Idempotency-Key`` of create calls, and the
leases of background work."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
