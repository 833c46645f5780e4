"""Reads for the platform pages and API, each a fixed number of queries."""

from django.db.models import QuerySet

from orders.models import Channel
from orders.platforms.models import (
    AddressChangeStatus,
    CircuitBreaker,
    OrderAddressChange,
    PlatformCall,
    SyncState,
)

ATTENTION_SHOWN = 50


def platform_calls(*, channel_code: str = "", outcome: str = "") -> QuerySet[PlatformCall]:
    calls = PlatformCall.objects.select_related("channel")
    if channel_code:
        calls = calls.filter(channel__code=channel_code)
    if outcome:
        calls = calls.filter(outcome=outcome)
    return calls


def platforms_overview() -> dict:
    """Every channel with its account, sync states and breaker; waybill breakers; the
    address changes waiting for a person (the newest ``ATTENTION_SHOWN``)."""
    channels = list(
        Channel.objects.filter(is_active=True).select_related("platform_account").order_by("code")
    )
    states: dict[int, list[SyncState]] = {}
    for state in SyncState.objects.order_by("stream"):
        states.setdefault(state.channel_id, []).append(state)
    breakers = {breaker.key: breaker for breaker in CircuitBreaker.objects.all()}
    rows = [
        {
            "channel": channel,
            "account": getattr(channel, "platform_account", None),
            "states": states.get(channel.pk, []),
            "breaker": breakers.get(f"platform:{channel.code}"),
        }
        for channel in channels
    ]
    waiting = OrderAddressChange.objects.filter(status=AddressChangeStatus.NEEDS_ATTENTION)
    return {
        "rows": rows,
        "waybill_breakers": [
            b for key, b in sorted(breakers.items()) if key.startswith("waybill:")
        ],
        "attention": list(waiting.select_related("order__channel")[:ATTENTION_SHOWN]),
        "attention_count": waiting.count(),
    }
