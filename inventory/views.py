"""Inventory pages: the intake desk, a delivery with its printouts, stock and a lot's ledger.
Each view parses a form, calls one service or selector, and renders."""

from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError
from core.models import StudioSettings
from core.pdf import pdf_response
from core.roles import STOCK_READERS, STOCK_WRITERS, Role, has_role, role_required
from inventory import selectors, services
from inventory.forms import (
    CountForm,
    IntakeForm,
    IntakeRowFormSet,
    MoveForm,
    StockFilterForm,
    WriteOffForm,
)
from inventory.models import Delivery, Lot
from inventory.pdf import intake_slip_data, lot_tag_data, render_intake_slip, render_lot_tags

NEW_FARMER_FIELDS = {"name": "new_farmer_name", "village": "new_farmer_village"}
STOCK_PAGE_SIZE = 50
EXPIRING_DAYS = 2  # what the stock page's "expiring" filter means
LEDGER_PAGE_SIZE = 50


# --- intake desk -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(*STOCK_WRITERS)
def intake_desk(request):
    """Weigh a farmer's delivery: one row per grade. Nothing is saved unless all of it is."""
    form = IntakeForm(request.POST or None)
    # Weighed in the studio's unit; the row forms hand the services kilograms.
    unit = StudioSettings.load().unit
    rows = IntakeRowFormSet(request.POST or None, prefix="rows", form_kwargs={"unit": unit})
    if request.method == "POST" and form.is_valid() and rows.is_valid():
        filled = [(i, row.cleaned_data) for i, row in enumerate(rows) if row.cleaned_data]
        try:
            with transaction.atomic():
                delivery = _record_delivery(request, form, filled)
        except DomainError as error:
            _show_error(error, form, rows, filled)
        else:
            return redirect("inventory:delivery", pk=delivery.pk)
    return render(
        request,
        "inventory/intake.html",
        {
            "form": form,
            "rows": rows,
            "recent": selectors.recent_deliveries(limit=5),
            # Managers may accept a harvest older than its shelf life; the box shows once
            # such a harvest was refused (or was ticked).
            "can_confirm_old": has_role(request.user, [Role.MANAGER])
            and (form["harvest_date"].errors or form["confirm_old_harvest"].value()),
            "weight_unit": unit.value,  # read once: the context processor need not again
        },
    )


def _record_delivery(request, form: IntakeForm, filled: list) -> Delivery:
    data = form.cleaned_data
    farmer = data["farmer"]
    if form.adds_farmer:
        farmer = services.farmer_create(
            name=data["new_farmer_name"],
            village=data["new_farmer_village"],
            phone=data["new_farmer_phone"],
            acting_user=request.user,
        )
    return services.intake_record(
        farmer=farmer,
        product=data["product"],
        harvest_date=data["harvest_date"],
        location=data["location"],
        note=data["note"],
        rows=[
            services.IntakeRow(
                grade=row["grade"],
                gross_kg=row["gross_kg"],
                crates=row["crates"],
                tare_per_crate_kg=row["tare_per_crate_kg"],
                price_per_kg=row["price_per_kg"],
            )
            for _index, row in filled
        ],
        acting_user=request.user,
        confirm_old_harvest=data["confirm_old_harvest"],
    )


def _show_error(error: DomainError, form: IntakeForm, rows, filled: list) -> None:
    """Put a service's error beside the field it names: a grade row's field, the new
    farmer's fields, or the header."""
    if error.row is not None and error.row < len(filled):
        row_form = rows.forms[filled[error.row][0]]
        field = error.field if error.field in row_form.fields else None
        row_form.add_error(field, error.message)
        return
    field = error.field
    if form.adds_farmer and field in {"name", "village", "phone"}:
        field = NEW_FARMER_FIELDS.get(field, "new_farmer_phone")
    if field == "rows":
        rows.forms[0].add_error(None, error.message)
        return
    form.add_error(field if field in form.fields else None, error.message)


@require_GET
@role_required(*STOCK_WRITERS)
def delivery_detail(request, pk: int):
    delivery = get_object_or_404(selectors.delivery_with_lots(), pk=pk)
    lots = list(delivery.lots.all())
    totals = {
        "kg": sum((lot.received_kg for lot in lots), Decimal("0")),
        "amount": sum((lot.amount for lot in lots), Decimal("0")),
    }
    return render(
        request,
        "inventory/delivery.html",
        {"delivery": delivery, "lots": lots, "totals": totals},
    )


@require_GET
@role_required(*STOCK_WRITERS)
def delivery_lot_tags(request, pk: int):
    delivery = get_object_or_404(selectors.delivery_with_lots(), pk=pk)
    unit = StudioSettings.load().unit
    pdf = render_lot_tags([lot_tag_data(lot, unit=unit) for lot in delivery.lots.all()])
    return pdf_response(pdf, f"{delivery.code}-tags.pdf")


@require_GET
@role_required(*STOCK_WRITERS)
def delivery_slip(request, pk: int):
    # intake_slip_data reads the lots in one query of its own: prefetching them here is waste.
    delivery = get_object_or_404(Delivery.objects.select_related("farmer", "received_by"), pk=pk)
    return pdf_response(
        render_intake_slip(intake_slip_data(delivery, unit=StudioSettings.load().unit)),
        f"{delivery.code}.pdf",
    )


# --- stock and lots --------------------------------------------------------------------------


@require_GET
@role_required(*STOCK_READERS)
def stock(request):
    """Stock per product and grade, and the lots behind it, first expiry first."""
    filters = StockFilterForm(request.GET or None)
    lots = selectors.lots_filtered(_lot_filters(filters))
    page = Paginator(lots, STOCK_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "inventory/stock.html",
        {
            "filters": filters,
            "summary": selectors.stock_summary(lots=lots),
            "page": page,
            "query": query.urlencode(),
        },
    )


def _lot_filters(form: StockFilterForm) -> selectors.LotFilters:
    """The stock page's choices as the selector's filters: lots holding kilograms unless
    empty ones are asked for; "expiring" means within two days."""
    if not form.is_valid():
        return selectors.LotFilters()
    data = form.cleaned_data

    def pk(name: str) -> int | None:
        return data[name].pk if data[name] else None

    return selectors.LotFilters(
        stock="" if data["empty"] else "with",
        expiring_within=EXPIRING_DAYS if data["expiring"] else None,
        product_id=pk("product"),
        grade_id=pk("grade"),
        location_id=pk("location"),
        q=data["q"],
    )


def _lot_page(request, lot: Lot, *, status: int = 200, **forms):
    can_change = has_role(request.user, STOCK_WRITERS)
    # The ledger a page at a time, oldest first; without a page asked for, the latest page.
    ledger = Paginator(selectors.lot_history(lot=lot), LEDGER_PAGE_SIZE)
    context = {
        "lot": lot,
        "movements": ledger.get_page(request.GET.get("page") or ledger.num_pages),
        "can_change": can_change,
    }
    if can_change:
        context |= {
            "write_off_form": forms.get("write_off_form") or WriteOffForm(prefix="w"),
            "count_form": forms.get("count_form") or CountForm(prefix="c"),
            "move_form": forms.get("move_form") or MoveForm(prefix="m"),
        }
    return render(request, "inventory/lot.html", context, status=status)


def _get_lot(code: str) -> Lot:
    return get_object_or_404(selectors.lot_list(), code=code)


@require_GET
@role_required(*STOCK_READERS)
def lot_detail(request, code: str):
    return _lot_page(request, _get_lot(code))


@require_GET
@role_required(*STOCK_WRITERS)
def lot_tag(request, code: str):
    lot = _get_lot(code)
    return pdf_response(
        render_lot_tags([lot_tag_data(lot, unit=StudioSettings.load().unit)]), f"{lot.code}.pdf"
    )


def _lot_action(
    request, code: str, form_class, prefix: str, context_name: str, act
) -> HttpResponse:
    """Shared shape of the lot page's three forms: validate, call the service, show the
    error at its field or go back to the lot with a message."""
    lot = _get_lot(code)
    form = form_class(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            message = act(lot, form.cleaned_data)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, message)
            return redirect("inventory:lot", code=lot.code)
    return _lot_page(request, lot, status=400, **{context_name: form})


@require_POST
@role_required(*STOCK_WRITERS)
def lot_write_off_view(request, code: str):
    def act(lot, data):
        services.lot_write_off(
            lot=lot, kg=data["kg"], reason=data["reason"], acting_user=request.user
        )
        return _("%(kg)s kg written off.") % {"kg": data["kg"]}

    return _lot_action(request, code, WriteOffForm, "w", "write_off_form", act)


# --- expired stock ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.MANAGER)
def expired_stock(request):
    """Lots past their expiry date that still hold kilograms, for the manager to write off:
    POST ``lot`` writes off all of it that no order holds (``lot_write_off``)."""
    if request.method == "POST":
        lot = get_object_or_404(Lot, code=request.POST.get("lot", ""))
        try:
            services.lot_write_off(
                lot=lot,
                kg=lot.available_kg,
                reason=_("Expired on %(day)s") % {"day": lot.expiry_date.isoformat()},
                reference="expired",
                acting_user=request.user,
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("%(kg)s kg of lot %(lot)s written off.")
                % {"kg": lot.available_kg, "lot": lot.code},
            )
        return redirect("inventory:expired")
    lots = list(selectors.expired_lots())
    return render(
        request,
        "inventory/expired.html",
        {
            "lots": lots,
            "total_kg": sum((lot.on_hand_kg for lot in lots), Decimal("0")),
            "held": any(lot.reserved_kg for lot in lots),
        },
    )


@require_POST
@role_required(*STOCK_WRITERS)
def lot_adjust_view(request, code: str):
    def act(lot, data):
        services.lot_adjust(
            lot=lot, counted_kg=data["counted_kg"], reason=data["reason"], acting_user=request.user
        )
        return _("Stock set to the count: %(kg)s kg.") % {"kg": data["counted_kg"]}

    return _lot_action(request, code, CountForm, "c", "count_form", act)


@require_POST
@role_required(*STOCK_WRITERS)
def lot_move_view(request, code: str):
    def act(lot, data):
        services.lot_move(
            lot=lot, location=data["location"], note=data["note"], acting_user=request.user
        )
        return _("Moved to %(location)s.") % {"location": data["location"]}

    return _lot_action(request, code, MoveForm, "m", "move_form", act)
