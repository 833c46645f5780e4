"""What Shanhuo keeps about the platforms it talks to: each channel's account (credentials,
encrypted), where each sync stands, the circuit breakers, a log of every call, and the
address changes a platform reported.

Imported at the bottom of ``orders/models.py`` so Django finds these models in the orders
app.
"""

import os

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedTextField, Secret


class Platform(models.TextChoices):
    DOUYIN = "douyin", _("Douyin shop (抖店)")
    KUAISHOU = "kuaishou", _("Kuaishou shop (快手小店)")


class SignMethod(models.TextChoices):
    HMAC_SHA256 = "hmac-sha256", "HMAC-SHA256"
    MD5 = "md5", "MD5"


# Where each platform answers, from its documentation.
DEFAULT_BASE_URLS = {
    Platform.DOUYIN: "https://openapi-fxg.jinritemai.com",
    Platform.KUAISHOU: "https://openapi.kwaixiaodian.com",
}
SECRET_FIELDS = ("app_secret", "sign_secret", "access_token", "refresh_token")


class PlatformAccount(models.Model):
    """One channel's connection to its platform's open API. Secrets are encrypted at rest
    (``core.crypto``) or taken from the environment, never shown again once saved."""

    channel = models.OneToOneField(
        "orders.Channel",
        on_delete=models.CASCADE,
        related_name="platform_account",
        verbose_name=_("channel"),
    )
    platform = models.CharField(_("platform"), max_length=12, choices=Platform.choices)
    app_key = models.CharField(_("app key"), max_length=64, blank=True)
    app_secret = EncryptedTextField(_("app secret"), blank=True, default="")
    sign_secret = EncryptedTextField(
        _("sign secret"),
        blank=True,
        default="",
        help_text=_("Kuaishou only: the signSecret shown beside the app secret."),
    )
    access_token = EncryptedTextField(_("access token"), blank=True, default="")
    refresh_token = EncryptedTextField(_("refresh token"), blank=True, default="")
    token_expires_at = models.DateTimeField(_("token expires at"), null=True, blank=True)
    shop_id = models.CharField(_("shop ID"), max_length=40, blank=True)
    sign_method = models.CharField(
        _("signature method"),
        max_length=12,
        choices=SignMethod.choices,
        default=SignMethod.HMAC_SHA256,
    )
    base_url = models.URLField(
        _("API address"),
        blank=True,
        help_text=_("Empty: the platform's official address."),
    )
    is_enabled = models.BooleanField(_("enabled"), default=False)
    carrier_codes = models.JSONField(
        _("carrier codes"),
        default=dict,
        blank=True,
        help_text=_(
            "Shanhuo carrier code → the platform's code, where it differs from the built-in list."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        ordering = ["channel__code"]
        verbose_name = _("platform account")
        verbose_name_plural = _("platform accounts")

    def __str__(self) -> str:
        return f"{self.channel} ({self.get_platform_display()})"

    @property
    def api_base_url(self) -> str:
        return (self.base_url or DEFAULT_BASE_URLS[self.platform]).rstrip("/")

    def env_name(self, field_name: str) -> str:
        code = self.channel.code.upper().replace("-", "_")
        return f"SHANHUO_PLATFORM_{code}_{field_name.upper()}"

    def secret(self, field_name: str) -> Secret:
        """A secret from the environment if set there, else the stored one (decrypted)."""
        from_env = os.environ.get(self.env_name(field_name), "").strip()
        if from_env:
            return Secret(from_env)
        return getattr(self, field_name) or Secret("")

    def secret_source(self, field_name: str) -> str:
        """Where a secret comes from, for the manager's page: environment, stored,
        unreadable (stored with a key no longer configured) or missing."""
        if os.environ.get(self.env_name(field_name), "").strip():
            return "environment"
        value = getattr(self, field_name)
        if getattr(value, "unreadable", False):
            return "unreadable"
        return "stored" if value else "missing"

    @property
    def is_configured(self) -> bool:
        needed = ["app_secret", "access_token"]
        if self.platform == Platform.KUAISHOU:
            needed.append("sign_secret")
        return bool(self.app_key) and all(self.secret(name) for name in needed)


class SyncStream(models.TextChoices):
    ORDERS = "orders", _("Orders")
    AFTER_SALES = "after_sales", _("After-sales")
    SHIPMENTS = "shipments", _("Shipments pushed")


class SyncState(models.Model):
    """Where one stream of one channel stands: up to when it has read, when it last worked,
    the last error, and when to try next."""

    channel = models.ForeignKey(
        "orders.Channel",
        on_delete=models.CASCADE,
        related_name="sync_states",
        verbose_name=_("channel"),
    )
    stream = models.CharField(_("stream"), max_length=12, choices=SyncStream.choices)
    cursor_time = models.DateTimeField(
        _("read up to"),
        null=True,
        blank=True,
        help_text=_("Changes up to this time have been read."),
    )
    cursor = models.CharField(
        _("page cursor"),
        max_length=200,
        blank=True,
        help_text=_("The platform's page marker inside an unfinished window."),
    )
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    last_result = models.CharField(
        _("last run"),
        max_length=300,
        blank=True,
        help_text=_("What the last run did, and what in it needs a person."),
    )

    class Meta:
        ordering = ["channel__code", "stream"]
        verbose_name = _("sync state")
        verbose_name_plural = _("sync states")
        constraints = [
            models.UniqueConstraint(fields=["channel", "stream"], name="sync_state_once"),
        ]

    def __str__(self) -> str:
        return f"{self.channel.code}:{self.stream}"


class BreakerState(models.TextChoices):
    CLOSED = "closed", _("Closed (calls go through)")
    OPEN = "open", _("Open (calls wait)")
    HALF_OPEN = "half_open", _("Half-open (one trial call)")


class CircuitBreaker(models.Model):
    """A circuit breaker kept in the database, so every web process and task worker sees the
    same one. ``key`` names what it guards: ``platform:<channel>`` or ``waybill:<carrier>``."""

    key = models.CharField(_("key"), max_length=60, unique=True)
    state = models.CharField(
        _("state"), max_length=10, choices=BreakerState.choices, default=BreakerState.CLOSED
    )
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    open_until = models.DateTimeField(_("open until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("circuit breaker")
        verbose_name_plural = _("circuit breakers")

    def __str__(self) -> str:
        return f"{self.key}: {self.state}"


class CallOutcome(models.TextChoices):
    OK = "ok", _("OK")
    REJECTED = "rejected", _("Rejected by the platform")
    TOKEN_EXPIRED = "token_expired", _("Token expired")
    AUTH_REVOKED = "auth_revoked", _("Authorisation revoked")
    RATE_LIMITED = "rate_limited", _("Rate limited")
    TIMEOUT = "timeout", _("Timed out")
    UNAVAILABLE = "unavailable", _("Platform unavailable")
    BAD_ANSWER = "bad_answer", _("Unreadable answer")
    BREAKER_OPEN = "breaker_open", _("Not sent: breaker open")


class PlatformCall(models.Model):
    """One HTTP call to a platform or waybill service, as it went. Holds no secret and no
    buyer data: the method name, the status, the platform's code and request ID, how long
    it took and which attempt it was."""

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    platform = models.CharField(_("platform"), max_length=12, choices=Platform.choices)
    channel = models.ForeignKey(
        "orders.Channel",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("channel"),
    )
    purpose = models.CharField(
        _("for"), max_length=40, blank=True, help_text=_("e.g. order sync, waybill for 中通")
    )
    method = models.CharField(_("method"), max_length=80)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    platform_code = models.CharField(_("platform code"), max_length=60, blank=True)
    request_id = models.CharField(_("request ID"), max_length=80, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    outcome = models.CharField(_("outcome"), max_length=14, choices=CallOutcome.choices)
    message = models.CharField(_("message"), max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("platform call")
        verbose_name_plural = _("platform calls")
        indexes = [
            models.Index(fields=["channel", "-created_at"], name="platform_call_channel_idx"),
            models.Index(
                fields=["-created_at"],
                condition=~Q(outcome="ok"),
                name="platform_call_failed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform} {self.method} {self.outcome}"


class AddressChangeStatus(models.TextChoices):
    APPLIED = "applied", _("Applied to the order")
    NEEDS_ATTENTION = "attention", _("Needs a person: already packed")
    RESOLVED = "resolved", _("Resolved")


class OrderAddressChange(models.Model):
    """An address the platform reported for an order after it was imported: applied when the
    order was not packed yet, otherwise kept here for a person to act on."""

    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.CASCADE,
        related_name="address_changes",
        verbose_name=_("order"),
    )
    status = models.CharField(_("status"), max_length=10, choices=AddressChangeStatus.choices)
    recipient_name = models.CharField(_("recipient"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20)
    phone_masked_by_platform = models.BooleanField(default=False)
    province = models.CharField(_("province"), max_length=20)
    city = models.CharField(_("city"), max_length=30, blank=True)
    district = models.CharField(_("district"), max_length=30, blank=True)
    address_detail = models.CharField(_("address"), max_length=300)
    previous_address = models.CharField(_("previous address"), max_length=400)
    order_status = models.CharField(_("order status then"), max_length=12)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("address change")
        verbose_name_plural = _("address changes")
        indexes = [
            models.Index(
                fields=["received_at"],
                condition=Q(status="attention"),
                name="address_change_attention_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.status}"

    @property
    def full_address(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.address_detail}"
