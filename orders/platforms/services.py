"""Writes about platform accounts and sync states: credentials entered by a manager, tokens
a platform handed back, and how a sync run went."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from orders.models import Channel
from orders.platforms.models import (
    SECRET_FIELDS,
    AddressChangeStatus,
    OrderAddressChange,
    Platform,
    PlatformAccount,
    SignMethod,
    SyncState,
)


@transaction.atomic
def platform_account_save(
    *,
    channel: Channel,
    platform: str,
    app_key: str,
    shop_id: str = "",
    sign_method: str = SignMethod.HMAC_SHA256,
    base_url: str = "",
    is_enabled: bool = False,
    secrets: dict[str, str] | None = None,
    clear: frozenset[str] = frozenset(),
    carrier_codes: dict[str, str] | None = None,
    acting_user,
) -> PlatformAccount:
    """Create or change a channel's platform account. Secrets are write-only: an empty value
    keeps the stored one, a name in ``clear`` removes it. Enabling an account that lacks a
    secret it needs is refused."""
    if platform not in Platform.values:
        raise DomainError(_("Choose the platform."), field="platform")
    if sign_method not in SignMethod.values:
        raise DomainError(_("Choose the signature method."), field="sign_method")
    app_key = app_key.strip()
    if is_enabled and not app_key:
        raise DomainError(_("An enabled account needs its app key."), field="app_key")
    account = PlatformAccount.objects.select_for_update().filter(
        channel=channel
    ).first() or PlatformAccount(channel=channel)
    account.platform = platform
    account.app_key = app_key
    account.shop_id = shop_id.strip()
    account.sign_method = sign_method
    account.base_url = base_url.strip()
    account.is_enabled = is_enabled
    if carrier_codes is not None:
        account.carrier_codes = {str(k): str(v) for k, v in carrier_codes.items() if v}
    for name in SECRET_FIELDS:
        value = (secrets or {}).get(name, "").strip()
        if value:
            setattr(account, name, value)
            if name == "access_token":
                account.token_expires_at = None
        elif name in clear:
            setattr(account, name, "")
    if is_enabled and not account.is_configured:
        raise DomainError(
            _(
                "The account cannot be enabled before its app secret and access token are set "
                "(and, for Kuaishou, its sign secret)."
            ),
            field="is_enabled",
        )
    account.updated_by = acting_user
    account.save()
    return account


@transaction.atomic
def platform_tokens_save(
    *,
    account: PlatformAccount,
    stale_access_token: str,
    access_token: str,
    refresh_token: str,
    expires_in: int | None,
) -> bool:
    """Keep the tokens a platform handed back after a refresh. The account row is locked and
    the token compared with the one the caller refreshed: when another process refreshed it
    meanwhile, its tokens stand and False is returned."""
    locked = PlatformAccount.objects.select_for_update().get(pk=account.pk)
    if locked.access_token != stale_access_token:
        account.refresh_from_db()
        return False
    locked.access_token = access_token
    if refresh_token:
        locked.refresh_token = refresh_token
    locked.token_expires_at = _expiry(expires_in)
    locked.save(update_fields=["access_token", "refresh_token", "token_expires_at", "updated_at"])
    account.refresh_from_db()
    return True


def _expiry(expires_in: int | None) -> datetime | None:
    if not expires_in:
        return None
    expires_in = int(expires_in)
    if expires_in > 10**9:  # a Unix time rather than a number of seconds
        return datetime.fromtimestamp(expires_in, tz=timezone.get_current_timezone())
    return timezone.now() + timedelta(seconds=expires_in)


def sync_state_for(channel: Channel, stream: str) -> SyncState:
    state, _created = SyncState.objects.get_or_create(channel=channel, stream=stream)
    return state


def sync_state_success(
    *, state: SyncState, cursor_time: datetime | None = None, cursor: str = "", result: str = ""
) -> SyncState:
    """Record a run that read everything up to ``cursor_time``; ``result`` says what it
    did (and what needs a person)."""
    now = timezone.now()
    if cursor_time is not None:
        state.cursor_time = cursor_time
    state.cursor = cursor[:200]
    state.last_result = result[:300]
    state.last_success_at = now
    state.failures = 0
    state.next_attempt_at = None
    state.save()
    return state


def sync_state_failure(
    *, state: SyncState, error: Exception, retry_at: datetime | None = None
) -> SyncState:
    """Record a failed run: the error (a platform error's message, never a secret) and when
    to try next — the breaker's time, or a backoff that doubles with each failure (up to an
    hour)."""
    now = timezone.now()
    state.failures += 1
    state.last_error = str(getattr(error, "message", error))[:300]
    state.last_error_at = now
    state.next_attempt_at = retry_at or now + timedelta(
        seconds=min(3600, 30 * 2 ** (state.failures - 1))
    )
    state.save()
    return state


@transaction.atomic
def address_change_resolve(*, change: OrderAddressChange, acting_user) -> OrderAddressChange:
    """A person dealt with an address change that arrived after packing (re-labelled the
    parcel, called the carrier, or decided nothing was needed)."""
    from_db = OrderAddressChange.objects.select_for_update().get(pk=change.pk)
    if from_db.status != AddressChangeStatus.NEEDS_ATTENTION:
        raise DomainError(_("This address change needs nothing more."), field="status")
    from_db.status = AddressChangeStatus.RESOLVED
    from_db.resolved_at = timezone.now()
    from_db.resolved_by = acting_user
    from_db.save(update_fields=["status", "resolved_at", "resolved_by"])
    return from_db
