"""The return intake at the warehouse door.

A returned parcel is scanned, each item's kilograms are weighed back and either restocked
into their original lot or written off (``shipping.services.parcel_return``); the page then
shows what the ledger recorded.
"""

from decimal import Decimal

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import DomainError
from core.roles import RETURN_WORKERS, role_required
from inventory.models import MovementKind, StockMovement
from shipping.models import Parcel, ParcelItem, ReturnLine
from shipping.return_forms import (
    ReturnFindForm,
    ReturnItemFormSet,
)
from shipping.services import ReturnRow, find_parcel, parcel_return


@require_GET
@role_required(*RETURN_WORKERS)
def return_find(request):
    """Scan the tracking number of a parcel that came back."""
    form = ReturnFindForm(request.GET or None)
    if form.is_bound and form.is_valid():
        try:
            parcel = find_parcel(form.cleaned_data["tracking_number"])
        except DomainError as error:
            form.add_error("tracking_number", error.message)
        else:
            return redirect("shipping:return_parcel", pk=parcel.pk)
    return render(request, "shipping/return_find.html", {"form": form})


def _items(parcel: Parcel) -> list[ParcelItem]:
    items = (
        parcel.items.select_related("line__sku", "lot__product", "lot__farmer")
        .prefetch_related(Prefetch("returns", queryset=ReturnLine.objects.order_by("id")))
        .order_by("id")
    )
    result = list(items)
    for item in result:
        item.returned_kg = sum((r.kg for r in item.returns.all()), Decimal("0"))
        item.returnable_kg = item.kg - item.returned_kg
    return result


def _ledger(parcel: Parcel):
    return (
        StockMovement.objects.filter(
            reference=f"parcel:{parcel.pk}",
            kind__in=[MovementKind.RETURN, MovementKind.WRITE_OFF],
        )
        .select_related("lot", "acting_user")
        .order_by("created_at", "id")
    )


def _rows(formset, items: list[ParcelItem]) -> list[ReturnRow] | None:
    """Rows for the service, or None when the form does not match the parcel any more."""
    by_id = {item.pk: item for item in items}
    rows = []
    for form in formset:
        data = form.cleaned_data
        item = by_id.get(data.get("item"))
        if item is None:
            return None
        if data.get("kg"):
            rows.append(
                ReturnRow(
                    item=item,
                    kg=data["kg"],
                    disposition=data["disposition"],
                    reason=data["reason"].strip(),
                )
            )
    return rows


@require_http_methods(["GET", "POST"])
@role_required(*RETURN_WORKERS)
def return_parcel(request, pk: int):
    """Weigh back what came in the returned parcel, item by item."""
    parcel = get_object_or_404(Parcel.objects.select_related("carrier"), pk=pk)
    items = _items(parcel)
    initial = [{"item": item.pk} for item in items]
    formset = ReturnItemFormSet(request.POST or None, initial=initial, prefix="items")
    status = 200
    if request.method == "POST":
        if formset.is_valid():
            rows = _rows(formset, items)
            if rows is None:
                messages.error(request, _("The parcel changed meanwhile: check and send again."))
                return redirect("shipping:return_parcel", pk=parcel.pk)
            try:
                parcel_return(parcel=parcel, rows=rows, acting_user=request.user)
            except DomainError as error:
                _show_error(formset, error)
                status = 400
            else:
                total = sum((row.kg for row in rows), Decimal("0"))
                messages.success(
                    request,
                    _("%(kg)s kg received back from parcel %(number)s.")
                    % {"kg": total, "number": parcel.tracking_number},
                )
                return redirect("shipping:return_parcel", pk=parcel.pk)
        else:
            status = 400
    return render(
        request,
        "shipping/return_parcel.html",
        {
            "parcel": parcel,
            "rows": list(zip(items, formset.forms, strict=True)),
            "formset": formset,
            "ledger": _ledger(parcel),
            "can_return": any(item.returnable_kg > 0 for item in items),
        },
        status=status,
    )


def _show_error(formset, error: DomainError) -> None:
    if error.row is None:
        formset._non_form_errors = formset.error_class([error.message])
        return
    # The service counts only the rows that had kilograms; find that form again.
    filled = [form for form in formset if form.cleaned_data.get("kg")]
    form = filled[error.row] if error.row < len(filled) else None
    field = error.field if form is not None and error.field in form.fields else None
    if form is None:
        formset._non_form_errors = formset.error_class([error.message])
    else:
        form.add_error(field, error.message)


urlpatterns = [
    path("returns/", return_find, name="return_find"),
    path("returns/<int:pk>/", return_parcel, name="return_parcel"),
]
