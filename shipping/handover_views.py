"""Handover to the carrier's pickup (scan each parcel out, then print the manifest) and
tracking updates from a carrier's file.

A handover is a stored batch (``HandoverBatch``), not a login's session: a carrier may come
twice a day, two packers may hand over at once, and a packer who goes on break leaves the
batch open for the next one. The manifest lists exactly the parcels of the batch."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError
from core.pdf import pdf_response
from core.roles import SHIPPING_WORKERS, role_required
from shipping import selectors, services
from shipping.manifest import manifest_data, render_manifest
from shipping.models import Carrier, HandoverBatch, Parcel
from shipping.wave_forms import HandoverCarrierForm, HandoverScanForm, TrackingUploadForm

HANDOVER_SHOWN = 50  # scans listed on a batch's page, newest first
BATCHES_SHOWN = 20  # open and recent closed batches listed on the handover page
TRACKING_ROWS_SHOWN = 200  # rows of a tracking file listed; beyond that, its errors only


# --- handover --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(*SHIPPING_WORKERS)
def handover(request):
    """The open batches (anyone may carry one on), the latest closed ones, and a form to start
    a batch for a carrier (POST)."""
    waiting = selectors.parcels_waiting_by_carrier()
    form = HandoverCarrierForm(request.POST or None, waiting=waiting)
    if request.method == "POST" and form.is_valid():
        batch = services.handover_batch_start(
            carrier=form.cleaned_data["carrier"],
            courier_name=form.cleaned_data["courier_name"],
            acting_user=request.user,
        )
        return redirect("shipping:handover_batch", code=batch.code)
    return render(
        request,
        "shipping/handover.html",
        {
            "carrier_form": form,
            "open_batches": list(selectors.handover_batches(open_=True)[:BATCHES_SHOWN]),
            "closed_batches": list(selectors.handover_batches(open_=False)[:BATCHES_SHOWN]),
            "waiting": sum(waiting.values()),
        },
        status=400 if form.errors else 200,
    )


def _batch(code: str) -> HandoverBatch:
    return get_object_or_404(
        HandoverBatch.objects.select_related("carrier", "started_by", "closed_by"), code=code
    )


@require_GET
@role_required(*SHIPPING_WORKERS)
def handover_batch(request, code: str):
    """One batch: scan parcels into it while it is open; the latest scans listed."""
    batch = _batch(code)
    parcels = selectors.handover_parcels(batch)
    count = parcels.count()
    # The latest scans only: a pickup of thousands of parcels is counted, not listed; the
    # manifest lists them all.
    shown = list(parcels.reverse()[:HANDOVER_SHOWN])
    return render(
        request,
        "shipping/handover_batch.html",
        {
            "batch": batch,
            "form": HandoverScanForm() if batch.is_open else None,
            "parcels": shown,
            "count": count,
            "earlier": count - len(shown),
            "waiting": selectors.parcels_waiting_by_carrier().get(batch.carrier_id, 0),
        },
    )


@require_POST
@role_required(*SHIPPING_WORKERS)
def handover_scan(request, code: str):
    batch = _batch(code)
    form = HandoverScanForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Scan or type a tracking number."))
        return redirect("shipping:handover_batch", code=batch.code)
    number = form.cleaned_data["tracking_number"].strip()
    try:
        _scanned_parcel(number, batch.carrier)
        services.handover_scan(tracking_number=number, batch=batch, acting_user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(number)s shipped: %(count)d in batch %(batch)s.")
            % {"number": number, "count": batch.scans.count(), "batch": batch.code},
        )
    return redirect("shipping:handover_batch", code=batch.code)


def _scanned_parcel(number: str, carrier: Carrier) -> Parcel:
    """The parcel of this carrier with that number; a clear error when it is another
    carrier's parcel."""
    try:
        return services.find_parcel(number, carrier)
    except DomainError as error:
        other = (
            Parcel.objects.filter(tracking_number=number)
            .exclude(carrier=carrier)
            .select_related("carrier")
            .first()
        )
        if other is None:
            raise
        raise DomainError(
            _("%(number)s is a %(other)s parcel, not %(carrier)s: keep it for its own pickup.")
            % {"number": number, "other": other.carrier.name, "carrier": carrier.name},
            field="tracking_number",
        ) from error


def batch_manifest_response(batch: HandoverBatch):
    """The manifest PDF of a batch: every parcel of it, in scan order."""
    starter = batch.started_by
    data = manifest_data(
        carrier=batch.carrier,
        parcels=list(selectors.handover_parcels(batch)),
        handed_over_by=starter.get_full_name() or starter.get_username(),
        at=batch.closed_at or batch.started_at,
        batch_code=batch.code,
        courier_name=batch.courier_name,
    )
    return pdf_response(render_manifest(data), f"handover-{batch.code}.pdf")


@require_GET
@role_required(*SHIPPING_WORKERS)
def handover_manifest(request, code: str):
    batch = _batch(code)
    if not batch.scans.exists():
        messages.error(request, _("Scan parcels first: the manifest lists this batch's."))
        return redirect("shipping:handover_batch", code=batch.code)
    return batch_manifest_response(batch)


@require_POST
@role_required(*SHIPPING_WORKERS)
def handover_finish(request, code: str):
    """Close the batch (its parcels stay shipped)."""
    batch = services.handover_batch_close(batch=_batch(code), acting_user=request.user)
    messages.success(request, _("Batch %(batch)s closed.") % {"batch": batch.code})
    return redirect("shipping:handover_batch", code=batch.code)


# --- tracking updates from a file ------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(*SHIPPING_WORKERS)
def tracking_upload(request):
    form = TrackingUploadForm(request.POST or None, request.FILES or None)
    results = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            results = services.tracking_file_apply(
                data=upload.read(),
                file_name=upload.name,
                carrier=form.cleaned_data.get("carrier"),
                acting_user=request.user,
            )
        except DomainError as error:
            form.add_error("file", error.message)
    counts = shown = None
    if results is not None:
        counts = {
            outcome: sum(1 for r in results if r.outcome == outcome)
            for outcome in ("updated", "unchanged", "error")
        }
        # A carrier's file of thousands of rows: the counts cover it, the table its errors.
        shown = results
        if len(results) > TRACKING_ROWS_SHOWN:
            shown = [r for r in results if r.outcome == "error"][:TRACKING_ROWS_SHOWN]
    return render(
        request,
        "shipping/tracking_upload.html",
        {
            "form": form,
            "results": shown,
            "counts": counts,
            "rows_hidden": len(results) - len(shown) if results is not None else 0,
        },
        status=400 if form.errors else 200,
    )


urlpatterns = [
    path("handover/", handover, name="handover"),
    path("handover/<str:code>/", handover_batch, name="handover_batch"),
    path("handover/<str:code>/scan/", handover_scan, name="handover_scan"),
    path("handover/<str:code>/manifest.pdf", handover_manifest, name="handover_manifest"),
    path("handover/<str:code>/close/", handover_finish, name="handover_finish"),
    path("tracking/", tracking_upload, name="tracking_upload"),
]
