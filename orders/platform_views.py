"""Pages for managers: each channel's platform account (credentials entered write-only),
where each sync stands, the breakers, address changes waiting for a person, and the log
of every call."""

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from core.roles import PLATFORM_MANAGERS, role_required
from orders.models import Channel
from orders.platform_forms import PlatformAccountForm
from orders.platforms import selectors
from orders.platforms.models import SECRET_FIELDS, CallOutcome, OrderAddressChange
from orders.platforms.services import address_change_resolve, platform_account_save
from orders.tasks import platform_sync_enqueue


@role_required(*PLATFORM_MANAGERS)
def platform_list(request):
    return render(request, "orders/platforms/list.html", selectors.platforms_overview())


@require_http_methods(["GET", "POST"])
@role_required(*PLATFORM_MANAGERS)
def platform_account(request, code):
    channel = get_object_or_404(Channel, code=code)
    account = getattr(channel, "platform_account", None)
    initial = {"platform": "kuaishou" if code.startswith("kuaishou") else "douyin"}
    if account is not None:
        initial = {
            "platform": account.platform,
            "app_key": account.app_key,
            "shop_id": account.shop_id,
            "sign_method": account.sign_method,
            "base_url": account.base_url,
            "is_enabled": account.is_enabled,
            "carrier_codes": json.dumps(account.carrier_codes, ensure_ascii=False)
            if account.carrier_codes
            else "",
        }
    form = PlatformAccountForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            platform_account_save(
                channel=channel,
                platform=data["platform"],
                app_key=data["app_key"],
                shop_id=data["shop_id"],
                sign_method=data["sign_method"],
                base_url=data["base_url"],
                is_enabled=data["is_enabled"],
                secrets={name: data[name] for name in SECRET_FIELDS},
                clear=frozenset(data["clear"]),
                carrier_codes=data["carrier_codes"],
                acting_user=request.user,
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Saved. Secrets are stored encrypted."))
            return redirect("platforms:list")
    sources = {name: account.secret_source(name) for name in SECRET_FIELDS} if account else {}
    return render(
        request,
        "orders/platforms/account.html",
        {"channel": channel, "form": form, "account": account, "sources": sources},
    )


@role_required(*PLATFORM_MANAGERS)
def call_list(request):
    channel = request.GET.get("channel", "")
    outcome = request.GET.get("outcome", "")
    calls = selectors.platform_calls(channel_code=channel, outcome=outcome)
    page = Paginator(calls, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/platforms/calls.html",
        {
            "page": page,
            "channels": Channel.objects.filter(platform_account__isnull=False),
            "outcomes": CallOutcome.choices,
            "channel": channel,
            "outcome": outcome,
        },
    )


@require_POST
@role_required(*PLATFORM_MANAGERS)
def address_change_done(request, pk):
    change = get_object_or_404(OrderAddressChange, pk=pk)
    try:
        address_change_resolve(change=change, acting_user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("platforms:list")


@require_POST
@role_required(*PLATFORM_MANAGERS)
def sync_now(request, code):
    """Queue a sync run of the channel for the task worker now, streams waiting after a
    failure included; the breaker still decides whether anything is sent."""
    channel = get_object_or_404(Channel, code=code)
    account = getattr(channel, "platform_account", None)
    if account is None or not account.is_enabled:
        messages.error(
            request, _("%(channel)s has no enabled account.") % {"channel": channel.name}
        )
    elif platform_sync_enqueue(channel, force=True):
        messages.success(
            request,
            _("Sync of %(channel)s queued: the task worker runs it within seconds.")
            % {"channel": channel.name},
        )
    else:
        messages.info(
            request, _("A sync of %(channel)s is already queued.") % {"channel": channel.name}
        )
    return redirect("platforms:list")
