"""What every app's API shares in the database: the ``Idempotency-Key`` of create calls."""

from django.conf import settings
from django.db import models


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
