"""After-sales pages: record a refund from the order page, and import a platform's
after-sales file (upload → preview → import → result). Managers only."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError
from core.roles import ORDER_WRITERS, role_required
from orders import aftersale_files
from orders.aftersale_forms import AfterSalesUploadForm, RefundForm
from orders.aftersales import after_sale_record
from orders.models import AfterSaleImport, Order, OrderLine


@require_POST
@role_required(*ORDER_WRITERS)
def order_refund(request, pk: int):
    """A manager records a refund (仅退款 or 退货退款) of one line of the order."""
    order = get_object_or_404(Order, pk=pk)
    lines = list(OrderLine.objects.filter(order=order).select_related("sku"))
    form = RefundForm(request.POST, lines=lines)
    if form.is_valid():
        data = form.cleaned_data
        line = next(line for line in lines if line.pk == data["line"])
        try:
            applied = after_sale_record(
                order=order,
                line=line,
                kind=data["kind"],
                units=data["units"],
                kg=data["kg"],
                amount=data["amount"],
                reason=data["reason"],
                acting_user=request.user,
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, applied.effect)
    else:
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        messages.error(request, " ".join(errors))
    return redirect("orders:detail", pk=order.pk)


@require_http_methods(["GET", "POST"])
@role_required(*ORDER_WRITERS)
def upload(request):
    form = AfterSalesUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = aftersale_files.after_sales_upload(
                channel=data["channel"],
                uploaded=data["file"],
                layout=data["layout"],
                mode=data["mode"],
                acting_user=request.user,
            )
        except DomainError as error:
            form.add_error("file" if error.field == "file" else None, error.message)
        else:
            return redirect("imports:after_sales_detail", pk=batch.pk)
    recent = Paginator(AfterSaleImport.objects.select_related("channel"), 20).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "imports/after_sales_upload.html",
        {"form": form, "layouts": aftersale_files.LAYOUTS.values(), "recent": recent},
        status=400 if form.errors else 200,
    )


def _outcomes() -> dict[str, str]:
    return {
        "created": pgettext("after-sale outcome", "New"),
        "updated": _("Updated"),
        "unchanged": _("Unchanged"),
        "error": _("Error"),
    }


@require_GET
@role_required(*ORDER_WRITERS)
def detail(request, pk: int):
    batch = get_object_or_404(AfterSaleImport.objects.select_related("channel"), pk=pk)
    labels = _outcomes()
    rows = [row | {"label": labels.get(row.get("outcome"), "")} for row in batch.results]
    counts = [(labels.get(outcome, outcome), count) for outcome, count in batch.counts.items()]
    return render(
        request,
        "imports/after_sales_detail.html",
        {"batch": batch, "rows": rows, "counts": counts},
    )


@require_POST
@role_required(*ORDER_WRITERS)
def commit(request, pk: int):
    batch = get_object_or_404(AfterSaleImport, pk=pk)
    try:
        batch = aftersale_files.after_sales_commit(batch=batch, acting_user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if batch.status == AfterSaleImport.Status.REJECTED:
            messages.error(request, _("Rows have errors: nothing was imported (all or nothing)."))
        else:
            messages.success(request, _("The after-sales file is imported."))
    return redirect("imports:after_sales_detail", pk=batch.pk)
