"""The packing station: scan an order, confirm its items, weigh, pack; and the parcel's label
and packing slip as PDFs. Built for a barcode scanner, a scale and a thermal printer, no mouse:
every step ends with Enter. The page works without JavaScript (a checkbox per line);
``static/js/station.js`` adds item scanning and moves the focus along."""

import re
from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import DomainError
from core.pdf import pdf_response
from core.roles import SHIPPING_WORKERS, role_required
from orders.lifecycle import CLOSED, PACKABLE, PACKED_OR_LATER, expired_lots_refusal
from orders.models import Order, OrderStatus
from orders.selectors import expired_lots_held, orders_to_pack
from shipping.labels import label_data, render_labels
from shipping.models import Carrier, Parcel, PrintJobState, Wave, WaveOrder, WaybillNumber
from shipping.printing.forms import StationChoiceForm
from shipping.printing.services import labels_print
from shipping.printing.stations import station_for
from shipping.selectors import order_parcels
from shipping.services import (
    box_weight_check,
    expected_weight,
    parcel_labels_printed,
    parcel_pack,
)
from shipping.slips import render_slips, slip_data
from shipping.station_forms import PackForm, ScanOrderForm

# What a scale or a person types as a weight (a scanned code is anything else).
WEIGHT_LIKE = re.compile(r"\d{1,4}([.,]\d{0,3})?\s*(kg|公斤|千克)?", re.IGNORECASE)

# Per packer (their session): the carrier used last, the last parcel, the label to print now.
SESSION_CARRIER = "station_carrier"
SESSION_LAST_PARCEL = "station_last_parcel"
SESSION_AUTOPRINT = "station_autoprint"


def _orders_with_lines() -> QuerySet[Order]:
    return orders_to_pack().select_related("wave_order__wave__carrier")


def _wave(order: Order) -> Wave | None:
    try:
        return order.wave_order.wave
    except WaveOrder.DoesNotExist:
        return None


def _refusal(order: Order) -> str:
    """Why the order cannot be packed, or "" when it can."""
    values = {"order": order.external_no, "status": order.get_status_display()}
    if order.status in PACKABLE:
        expired = expired_lots_held(order)  # the same refusal as orders_pack's
        return (
            expired_lots_refusal((lot.code, lot.expiry_date) for lot in expired) if expired else ""
        )
    if order.status == OrderStatus.PACKED:
        return _("Order %(order)s is already packed.") % values
    if order.status in PACKED_OR_LATER:
        return _("Order %(order)s was packed before and is now %(status)s.") % values
    if order.status in CLOSED:
        return _("Order %(order)s is %(status)s: do not pack it.") % values
    return _("Order %(order)s is not allocated (%(status)s): no stock is reserved for it.") % values


def _merge_candidates(order: Order) -> list[Order]:
    """Other packable orders of the same wave to the same recipient, phone and full address:
    they may go into the same parcel."""
    wave = _wave(order)
    if wave is None:
        return []
    others = (
        _orders_with_lines()
        .filter(
            wave_order__wave=wave,
            status__in=PACKABLE,
            recipient_name=order.recipient_name,
            phone=order.phone,
        )
        .exclude(pk=order.pk)
        .order_by("wave_order__position")
    )
    return [other for other in others if other.full_address == order.full_address]


def _default_carrier(request, order: Order) -> int | None:
    """The wave's carrier, else the station's, else the one this packer used last, else the
    first active one that still has free waybill numbers (so an empty Enter gets a number),
    else any."""
    active = Carrier.objects.filter(is_active=True)
    wave = _wave(order)
    if wave is not None and wave.carrier_id and wave.carrier.is_active:
        return wave.carrier_id
    station = station_for(request)
    if station is not None and station.carrier_id and station.carrier.is_active:
        return station.carrier_id
    last = request.session.get(SESSION_CARRIER)
    if last and active.filter(pk=last).exists():
        return last
    free = WaybillNumber.objects.filter(carrier=OuterRef("pk"), taken_at__isnull=True)
    with_numbers = active.filter(Exists(free))
    return (
        with_numbers.values_list("pk", flat=True).first()
        or active.values_list("pk", flat=True).first()
    )


def _scan_page(request, *, scan_form=None, choices=(), status: int = 200) -> HttpResponse:
    """The station waiting for the next order, with the last parcel's printouts at hand."""
    autoprint = request.session.pop(SESSION_AUTOPRINT, None)
    last = request.session.get(SESSION_LAST_PARCEL)
    last_parcel = Parcel.objects.select_related("carrier").filter(pk=last).first() if last else None
    station = station_for(request)
    context = {
        "scan_form": scan_form or ScanOrderForm(),
        "choices": choices,
        "last_parcel": last_parcel,
        "autoprint": last_parcel is not None and autoprint == last_parcel.pk,
        "station": station,
        "station_form": StationChoiceForm(initial={"station": station}),
    }
    return render(request, "shipping/station.html", context, status=status)


def _scan_codes(line) -> list[str]:
    """What a scanner may read for this line: the SKU's barcode (a GTIN) where it has one, its
    merchant code, and the code of every lot held for the line (the tag on the crate)."""
    codes = [line.sku.gtin, line.sku.merchant_code]
    codes += [held.lot.code for held in line.allocations.all()]
    return list(dict.fromkeys(code for code in codes if code))


def _held_units(orders: Sequence[Order]) -> dict[int, int]:
    """Whole units each line still holds (0 when an earlier box took them all), from the
    lines and holdings ``orders_to_pack`` read; each line also gets what the station shows
    of it: ``held_units``, ``boxed_units``, ``unit_kg`` and ``scan_codes``."""
    held = {}
    for order in orders:
        for line in order.lines.all():
            kg = sum((each.kg for each in line.allocations.all()), Decimal("0"))
            units = int(kg * line.quantity / line.kg) if line.kg else 0
            line.held_units = held[line.pk] = units
            line.boxed_units = line.quantity - units
            line.unit_kg = (line.kg / line.quantity).quantize(Decimal("0.001"))
            line.scan_codes = " ".join(_scan_codes(line))
    return held


def _boxes(order: Order, carrier: Carrier | None, expected: Decimal) -> dict:
    """The order's boxes so far, this box's number and how many the order is planned in: the
    carrier's weight limit per parcel suggests it."""
    earlier = list(order_parcels(order.pk).select_related("carrier").order_by("pk"))
    limit = carrier.max_parcel_kg if carrier is not None else None
    suggested = 1
    if limit and expected > limit:
        suggested = int((expected / limit).to_integral_value(rounding=ROUND_CEILING))
    planned = max(suggested + len(earlier), earlier[-1].parcel_count if earlier else 1)
    return {
        "earlier": earlier,
        "number": len(earlier) + 1,
        "planned": planned,
        "suggested": suggested,
        "limit": limit,
    }


def _order_page(request, order: Order, form: PackForm | None = None) -> HttpResponse:
    candidates = form.candidates.values() if form else _merge_candidates(order)
    candidates = list(candidates)
    held = _held_units([order, *candidates])
    if form is None:
        form = PackForm(
            order=order,
            candidates=candidates,
            held=held,
            initial={"order": order.pk, "carrier": _default_carrier(request, order)},
        )
    carrier_id = form["carrier"].value()
    carrier = Carrier.objects.filter(pk=carrier_id).first() if str(carrier_id).isdigit() else None
    band = box_weight_check(order=order) or expected_weight([order])
    boxes = _boxes(order, carrier, band.expected_kg)
    merged = form.merged_ids()
    counted = form.counted()
    for each in (order, *candidates):
        for line in each.lines.all():
            line.counted = counted.get(line.pk, 0)
    context = {
        "scan_form": ScanOrderForm(),
        "order": order,
        "wave": _wave(order),
        "form": form,
        "band": band,
        "boxes": boxes,
        "carrier": carrier,
        "ask_reason": bool(form.is_bound and form["weight_reason"].value())
        or getattr(form, "weight_refused", False),
        "candidates": [
            {"order": each, "band": expected_weight([each]), "merged": each.pk in merged}
            for each in candidates
        ],
        "confirmed": form.confirmed_lines(),
    }
    return render(request, "shipping/station.html", context)


@require_http_methods(["GET", "POST"])
@role_required(*SHIPPING_WORKERS)
def station(request):
    """GET ``?order=<number>`` loads an order (a choice when two channels share the number);
    POST packs it."""
    if request.method == "POST":
        return _pack(request)
    if "order" not in request.GET:
        return _scan_page(request)
    scan = ScanOrderForm(request.GET)
    if not scan.is_valid():
        return _scan_page(request, scan_form=scan)
    found = _orders_with_lines().filter(external_no=scan.cleaned_data["order"])
    if scan.cleaned_data["channel"]:
        found = found.filter(channel__code=scan.cleaned_data["channel"])
    found = list(found.order_by("channel__code")[:10])
    if not found:
        scan.add_error(
            "order",
            _("No order has the number %(number)s.") % {"number": scan.cleaned_data["order"]},
        )
        return _scan_page(request, scan_form=scan)
    if len(found) > 1:
        return _scan_page(request, scan_form=scan, choices=found)
    (order,) = found
    refusal = _refusal(order)
    if refusal:
        scan.add_error("order", refusal)
        return _scan_page(request, scan_form=scan)
    return _order_page(request, order)


def _pack(request) -> HttpResponse:
    order_id = request.POST.get("order", "")
    if not order_id.isdigit():
        raise Http404
    order = get_object_or_404(_orders_with_lines(), pk=int(order_id))
    refusal = _refusal(order)
    if refusal:
        scan = ScanOrderForm({"order": order.external_no, "channel": order.channel.code})
        scan.is_valid()
        scan.add_error("order", refusal)
        return _scan_page(request, scan_form=scan)
    candidates = _merge_candidates(order)
    held = _held_units([order, *candidates])
    scanned = _scan_in_weight(request, [order, *candidates], held)
    if scanned is not None:
        form = PackForm(scanned, order=order, candidates=candidates, held=held)
        form.full_clean()
        form.errors.clear()  # nothing was wrong: the next step is the weight
        return _order_page(request, order, form)
    form = PackForm(request.POST, order=order, candidates=candidates, held=held)
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = parcel_pack(
                order=order,
                carrier=data["carrier"],
                weight_kg=data["weight_kg"],
                tracking_number=data["tracking_number"],
                sorting_code=data["sorting_code"],
                merge=data["merge_orders"],
                items=data["items"],
                weight_reason=data["weight_reason"],
                parcel_count=data["boxes"],
                acting_user=request.user,
            )
        except DomainError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, error.message)
            form.weight_refused = error.code == "weight_outside_band"
        else:
            parcel = result.parcel
            request.session[SESSION_CARRIER] = parcel.carrier_id
            request.session[SESSION_LAST_PARCEL] = parcel.pk
            _print_label(request, parcel)
            values = {
                "order": order.external_no,
                "carrier": parcel.carrier.name,
                "number": parcel.tracking_number,
                "box": f"{parcel.sequence}/{parcel.parcel_count}",
                "next": parcel.sequence + 1,
            }
            if not result.complete:
                messages.success(
                    request,
                    _(
                        "Box %(box)s of order %(order)s closed: %(carrier)s %(number)s. "
                        "Now scan what goes into box %(next)s."
                    )
                    % values,
                )
            elif parcel.parcel_count > 1:
                messages.success(
                    request,
                    _("Order %(order)s packed, last box %(box)s: %(carrier)s %(number)s.") % values,
                )
            else:
                messages.success(
                    request, _("Order %(order)s packed: %(carrier)s %(number)s.") % values
                )
            for warning in result.warnings:
                messages.warning(request, warning)
            if not result.complete:  # the next box of the same order
                query = urlencode({"order": order.external_no, "channel": order.channel.code})
                return redirect(f"{reverse('shipping:station')}?{query}")
            return redirect("shipping:station")
    return _order_page(request, order, form)


def _scan_in_weight(request, orders: Sequence[Order], held: dict[int, int]):
    """A line's code that came in as the weight (a scanner typing into the weight field, the
    page without JavaScript): one more unit of that line, the weight left empty. Returns the
    data to show the order again with, or None when the weight is no code."""
    raw = request.POST.get("weight_kg", "").strip()
    if not raw or WEIGHT_LIKE.fullmatch(raw):
        return None
    for order in orders:
        for line in order.lines.all():
            if raw.lower() not in {code.lower() for code in line.scan_codes.split()}:
                continue
            data = request.POST.copy()
            counted = PackForm(data, order=orders[0], held=held).counted().get(line.pk, 0)
            data[f"units_{line.pk}"] = str(min(held.get(line.pk, 0), counted + 1))
            data.setlist("lines", [v for v in data.getlist("lines") if v != str(line.pk)])
            if int(data[f"units_{line.pk}"]) == held.get(line.pk):
                data.appendlist("lines", str(line.pk))
            data["weight_kg"] = ""
            text = _("That was a code, not a weight: %(sku)s counted as a scan (%(n)s / %(of)s).")
            count = data[f"units_{line.pk}"]
            messages.info(request, text % {"sku": line.sku.name, "n": count, "of": held[line.pk]})
            return data
    return None


def _print_label(request, parcel: Parcel) -> None:
    """The label, at once: to the station's printer (the packer hears it print, or reads why
    not), else through the browser — the next page prints it from a hidden frame."""
    station = station_for(request)
    printer = station.printer if station is not None else None
    if printer is None or not printer.is_active:
        request.session[SESSION_AUTOPRINT] = parcel.pk
        return
    job = labels_print(parcels=[parcel], printer=printer, acting_user=request.user)
    if job.state == PrintJobState.FAILED:
        messages.error(
            request,
            _("Label not printed: %(error)s Send it again from the print queue.")
            % {"error": job.error},
        )
    elif job.state == PrintJobState.SENT:
        messages.info(request, _("Label sent to %(printer)s.") % {"printer": printer.name})
    else:  # the request's transaction is still open: it goes when that commits
        messages.info(request, _("Label queued for %(printer)s.") % {"printer": printer.name})


# --- printouts -------------------------------------------------------------------------------


@require_GET
@role_required(*SHIPPING_WORKERS)
def parcel_label(request, pk: int):
    """The parcel's shipping label at its carrier's size. The first fetch marks it printed."""
    parcel = get_object_or_404(Parcel.objects.select_related("carrier"), pk=pk)
    pdf = render_labels([label_data(parcel)], size=parcel.carrier.label_size)
    parcel_labels_printed(parcel_ids=[parcel.pk])
    return pdf_response(pdf, f"label-{parcel.tracking_number}.pdf")


@require_GET
@role_required(*SHIPPING_WORKERS)
def parcel_slip(request, pk: int):
    """The packing slip that goes into the box, at the label's size."""
    parcel = get_object_or_404(Parcel.objects.select_related("carrier"), pk=pk)
    pdf = render_slips([slip_data(parcel)], size=parcel.carrier.label_size)
    return pdf_response(pdf, f"slip-{parcel.tracking_number}.pdf")


urlpatterns = [
    path("station/", station, name="station"),
    path("parcels/<int:pk>/label.pdf", parcel_label, name="station_label"),
    path("parcels/<int:pk>/slip.pdf", parcel_slip, name="station_slip"),
]
