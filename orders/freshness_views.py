"""Managers' pages of freshness: which orders wait and for what (back-orders with their
reasons, orders holding produce of an expired lot, allocated again from here), and the
transit table allocation reads (``orders.transit``)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError
from core.roles import ORDER_WRITERS, role_required
from orders import selectors, services
from orders.models import Order, TransitTime
from orders.transit import studio_province, transit_overview, transit_time_delete, transit_time_set

PAGE_SIZE = 50
MAX_TRANSIT_DAYS = 30


@require_GET
@role_required(*ORDER_WRITERS)
def waiting(request):
    """Back-orders grouped by what they wait for, then one by one (first paid first), and the
    orders the pick list and the station refuse for an expired lot."""
    page = Paginator(selectors.backorders_waiting(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/waiting.html",
        {
            "reasons": list(selectors.backorder_reasons()[:20]),
            "page": page,
            "expired": list(selectors.orders_holding_expired()[:PAGE_SIZE]),
        },
    )


@require_POST
@role_required(*ORDER_WRITERS)
def reallocate(request, pk: int):
    order = get_object_or_404(Order, pk=pk)
    try:
        services.order_reallocate(order=order, acting_user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Order %(number)s is allocated again from fresh stock.")
            % {"number": order.external_no},
        )
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("orders:waiting")


def _days(text: str) -> int | None:
    text = (text or "").strip()
    if not text.isdigit() or int(text) > MAX_TRANSIT_DAYS:
        return None
    return int(text)


@require_http_methods(["GET", "POST"])
@role_required(*ORDER_WRITERS)
def transit(request):
    """Days to every province with any carrier (a row each, the default shown beside it),
    then the carriers' own rows. POST ``save`` takes every province's days; ``add`` a
    carrier's row; ``delete`` removes one."""
    if request.method == "POST":
        _transit_post(request)
        return redirect("orders:transit")
    overview, carrier_rows = transit_overview()
    return render(
        request,
        "orders/transit.html",
        {
            "origin": studio_province(),
            "overview": overview,
            "carrier_rows": carrier_rows,
            "max_days": MAX_TRANSIT_DAYS,
        },
    )


def _transit_post(request) -> None:
    action = request.POST.get("action")
    try:
        if action == "delete":
            row = get_object_or_404(TransitTime, pk=request.POST.get("row") or 0)
            transit_time_delete(row=row)
            messages.success(request, _("Row removed: the default applies again."))
        elif action == "add":
            days = _days(request.POST.get("days", ""))
            if days is None or not request.POST.get("carrier_code", "").strip():
                raise DomainError(
                    _("Give a carrier's code and 0–%(max)d days.") % {"max": MAX_TRANSIT_DAYS},
                    field="days",
                )
            transit_time_set(
                province=request.POST.get("province", ""),
                carrier_code=request.POST.get("carrier_code", ""),
                days=days,
                acting_user=request.user,
            )
            messages.success(request, _("Transit days saved."))
        else:
            changed = _save_all(request)
            messages.success(request, _("Transit days saved: %(n)d changed.") % {"n": changed})
    except DomainError as error:
        messages.error(request, error.message)


@transaction.atomic
def _save_all(request) -> int:
    """Every province's days with any carrier from the form, all or none."""
    overview, _rows = transit_overview()
    changed = 0
    for item in overview:
        days = _days(request.POST.get(f"days-{item.province}", ""))
        if days is None:
            raise DomainError(
                _("%(province)s: give 0–%(max)d days.")
                % {"province": item.short, "max": MAX_TRANSIT_DAYS},
                field="days",
            )
        if days != item.days:
            transit_time_set(province=item.province, days=days, acting_user=request.user)
            changed += 1
    return changed
