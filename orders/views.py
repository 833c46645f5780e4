"""Orders pages: the orders list with its status tabs, one order with its allocations and
history, and live sessions. Each view parses a form, calls one service or selector, renders."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError
from core.roles import (
    LIVE_SESSION_WRITERS,
    ORDER_READERS,
    ORDER_WRITERS,
    SHIPPING_WORKERS,
    has_role,
    role_required,
)
from orders import addresses, selectors, services
from orders.aftersale_forms import RefundForm
from orders.forms import PROVINCES, AddressForm, CancelForm, LiveSessionForm, OrderFilterForm
from orders.lifecycle import (
    ALLOCATABLE,
    BACKLOG,
    CANCELLABLE,
    CLOSED,
    HOLDS_STOCK,
    PACKABLE,
    PACKED_OR_LATER,
    expired_lots_refusal,
)
from orders.models import LiveSession, Order, OrderStatus

PAGE_SIZE = 50


def _query_without(request, *names: str) -> str:
    query = request.GET.copy()
    for name in ("page", *names):
        query.pop(name, None)
    return query.urlencode()


# --- orders ----------------------------------------------------------------------------------


@require_GET
@role_required(*ORDER_READERS)
def order_list(request):
    """Orders, newest payment first, 50 a page. The status tabs count the orders the other
    filters leave, in one grouped query; that also gives the paginator its total."""
    form = OrderFilterForm(request.GET or None)
    filters = form.filters()
    counts = selectors.status_counts(selectors.orders_filtered(filters, with_status=False))
    total = sum(counts.values())
    paginator = Paginator(selectors.orders_filtered(filters), PAGE_SIZE)
    paginator.count = counts.get(filters.status, 0) if filters.status else total
    page = paginator.get_page(request.GET.get("page"))
    tabs = [{"value": "", "label": _("All"), "count": total, "active": not filters.status}]
    tabs += [
        {
            "value": value,
            "label": label,
            "count": counts.get(value, 0),
            "active": filters.status == value,
        }
        for value, label in OrderStatus.choices
    ]
    return render(
        request,
        "orders/list.html",
        {
            "form": form,
            "tabs": tabs,
            "page": page,
            "query": _query_without(request),
            "tab_query": _query_without(request, "status"),
            "provinces": PROVINCES,
            "filtered": any(
                value for key, value in vars(filters).items() if key != "status" and value
            ),
        },
    )


def _order_or_404(pk: int) -> Order:
    return get_object_or_404(selectors.order_detail(), pk=pk)


def _detail_page(request, order: Order, *, address_form: AddressForm | None = None, status=200):
    can_act = has_role(request.user, ORDER_WRITERS)
    can_correct = can_act and order.status in BACKLOG
    if can_correct and address_form is None:
        address_form = AddressForm(
            initial={
                "province": order.province,
                "city": "" if order.city == order.province else order.city,
                "district": order.district,
                # The street is for the job of reading an address no district was found in:
                # an order whose address was read keeps it masked here (DESIGN.md).
                "address_detail": order.address_detail if order.address_needs_review else "",
            }
        )
    lines = list(order.lines.all())
    return render(
        request,
        "orders/detail.html",
        {
            "order": order,
            "lines": lines,
            # After-sales by line: managers record refunds (and see their money); packers and
            # managers reship a line of an order that has left.
            "after_sales": list(order.after_sales.select_related("line__sku", "created_by")),
            "refund_form": (
                RefundForm(lines=lines) if can_act and order.status not in CLOSED else None
            ),
            "can_reship": has_role(request.user, SHIPPING_WORKERS)
            and order.status in PACKED_OR_LATER,
            "can_see_refunds": can_act,
            "events": list(order.events.all()),
            # The full phone and street are shown only where the job needs them: on the
            # label and at the packing station (DESIGN.md); this page links there. A manager
            # correcting an address that could not be read sees the text as received.
            "can_pack": has_role(request.user, SHIPPING_WORKERS) and order.status in PACKABLE,
            "can_allocate": can_act and order.status in ALLOCATABLE,
            "can_cancel": can_act and order.status in CANCELLABLE,
            "expired_refusal": _expired_refusal(order),
            "cancel_form": CancelForm(),
            "address_form": address_form if can_correct else None,
            "provinces": PROVINCES,
        },
        status=status,
    )


def _expired_refusal(order: Order) -> str:
    """The station's refusal when the order holds an expired lot (from the prefetched lots)."""
    expired = selectors.expired_lots_held(order)
    return expired_lots_refusal((lot.code, lot.expiry_date) for lot in expired) if expired else ""


@require_GET
@role_required(*ORDER_READERS)
def order_detail(request, pk: int):
    return _detail_page(request, _order_or_404(pk))


@require_POST
@role_required(*ORDER_WRITERS)
def order_address_view(request, pk: int):
    """A manager sets the region and street of an address that could not be read."""
    order = _order_or_404(pk)
    form = AddressForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            addresses.order_address_correct(
                order=order,
                province=data["province"],
                city=data["city"],
                district=data["district"],
                detail=data["address_detail"],
                acting_user=request.user,
            )
        except DomainError as error:
            if error.field in form.fields:
                form.add_error(error.field, error.message)
            else:
                messages.error(request, error.message)
                return redirect("orders:detail", pk=order.pk)
        else:
            messages.success(
                request,
                _("The address of order %(number)s is confirmed: %(region)s.")
                % {"number": order.external_no, "region": order.region},
            )
            return redirect("orders:detail", pk=order.pk)
    return _detail_page(request, _order_or_404(pk), address_form=form, status=400)


@require_POST
@role_required(*ORDER_WRITERS)
def order_allocate_view(request, pk: int):
    order = get_object_or_404(Order, pk=pk)
    try:
        allocated = services.order_allocate(order=order, acting_user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if allocated:
            messages.success(
                request,
                _("Order %(number)s is allocated: its kilograms are reserved.")
                % {"number": order.external_no},
            )
        else:
            messages.warning(
                request,
                _(
                    "Not enough stock for order %(number)s: it waits as a back-order and is "
                    "allocated when stock arrives."
                )
                % {"number": order.external_no},
            )
    return redirect("orders:detail", pk=order.pk)


@require_POST
@role_required(*ORDER_WRITERS)
def order_cancel_view(request, pk: int):
    order = get_object_or_404(Order, pk=pk)
    form = CancelForm(request.POST)
    note = form.cleaned_data["note"].strip() if form.is_valid() else ""
    held_stock = order.status in HOLDS_STOCK
    try:
        services.order_cancel(order=order, acting_user=request.user, note=note)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        message = _("Order %(number)s is cancelled.") % {"number": order.external_no}
        if held_stock:
            message += " " + _("Its reserved kilograms are back in stock.")
        messages.success(request, message)
    return redirect("orders:detail", pk=order.pk)


# --- live sessions ---------------------------------------------------------------------------


@require_GET
@role_required(*ORDER_READERS)
def live_list(request):
    page = Paginator(selectors.live_session_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/live_list.html",
        {"page": page, "can_edit": has_role(request.user, LIVE_SESSION_WRITERS)},
    )


@require_GET
@role_required(*ORDER_READERS)
def live_detail(request, pk: int):
    session = get_object_or_404(selectors.live_session_list(), pk=pk)
    orders = selectors.order_list().filter(live_session=session)
    paginator = Paginator(orders, PAGE_SIZE)
    paginator.count = session.order_count
    return render(
        request,
        "orders/live_detail.html",
        {
            "session": session,
            "page": paginator.get_page(request.GET.get("page")),
            "query": "",
            "sku_sums": list(selectors.live_session_sku_sums(session)),
            "can_edit": has_role(request.user, LIVE_SESSION_WRITERS),
        },
    )


def _live_form_page(request, form: LiveSessionForm, session: LiveSession | None):
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(
            request,
            (
                _("Live session “%(title)s” saved.")
                if session
                else _("Live session “%(title)s” added.")
            )
            % {"title": saved.title},
        )
        return redirect("orders:live_detail", pk=saved.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "orders/live_form.html", {"form": form, "session": session}, status=status
    )


@require_http_methods(["GET", "POST"])
@role_required(*LIVE_SESSION_WRITERS)
def live_create(request):
    return _live_form_page(request, LiveSessionForm(request.POST or None), None)


@require_http_methods(["GET", "POST"])
@role_required(*LIVE_SESSION_WRITERS)
def live_edit(request, pk: int):
    session = get_object_or_404(LiveSession, pk=pk)
    return _live_form_page(
        request, LiveSessionForm(request.POST or None, instance=session), session
    )
