"""Handover to the carrier's pickup (scan each parcel out, then print the manifest) and
tracking updates from a carrier's file.

The parcels of one handover are kept in the session, not found again by "carrier + today":
a carrier may come twice a day, and two packers may hand over at once; the manifest must
list exactly the parcels this person scanned for this pickup, and nothing is stored beyond
the parcels' own tracking events."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError
from core.pdf import pdf_response
from core.roles import SHIPPING_WORKERS, role_required
from shipping import selectors, services
from shipping.manifest import manifest_data, render_manifest
from shipping.models import Carrier, Parcel
from shipping.wave_forms import HandoverCarrierForm, HandoverScanForm, TrackingUploadForm

SESSION_KEY = "shipping_handover"
HANDOVER_SHOWN = 50  # scans listed on the handover page, newest first
TRACKING_ROWS_SHOWN = 200  # rows of a tracking file listed; beyond that, its errors only


# --- handover --------------------------------------------------------------------------------


def _current(request) -> tuple[Carrier | None, list[int], str]:
    """The carrier, parcel ids (in scan order) and start time of this session's handover."""
    state = request.session.get(SESSION_KEY) or {}
    carrier = Carrier.objects.filter(pk=state.get("carrier")).first() if state else None
    if carrier is None:
        return None, [], ""
    return carrier, list(state.get("parcels", [])), state.get("started_at", "")


def _save(request, carrier: Carrier, parcel_ids: list[int], started_at: str) -> None:
    request.session[SESSION_KEY] = {
        "carrier": carrier.pk,
        "parcels": parcel_ids,
        "started_at": started_at,
    }


@require_http_methods(["GET", "POST"])
@role_required(*SHIPPING_WORKERS)
def handover(request):
    """Choose the carrier (POST), then scan; the list below shows what was scanned."""
    carrier, parcel_ids, started_at = _current(request)
    if request.method == "POST":
        form = HandoverCarrierForm(request.POST)
        if form.is_valid():
            if carrier is None or carrier != form.cleaned_data["carrier"] or not parcel_ids:
                _save(request, form.cleaned_data["carrier"], [], timezone.now().isoformat())
            return redirect("shipping:handover")
        return render(request, "shipping/handover.html", {"carrier_form": form}, status=400)
    if carrier is None:
        return render(request, "shipping/handover.html", {"carrier_form": HandoverCarrierForm()})
    # The latest scans only: a pickup of thousands of parcels is counted, not listed; the
    # manifest lists them all.
    shown = selectors.parcels_by_ids(parcel_ids[-HANDOVER_SHOWN:])
    return render(
        request,
        "shipping/handover.html",
        {
            "carrier": carrier,
            "form": HandoverScanForm(),
            "parcels": list(reversed(shown)),
            "count": len(parcel_ids),
            "earlier": len(parcel_ids) - len(shown),
            "started_at": parse_datetime(started_at) if started_at else None,
            "carriers": Carrier.objects.filter(is_active=True).order_by("code"),
        },
    )


@require_POST
@role_required(*SHIPPING_WORKERS)
def handover_scan(request):
    carrier, parcel_ids, started_at = _current(request)
    if carrier is None:
        messages.error(request, _("Choose the carrier first."))
        return redirect("shipping:handover")
    form = HandoverScanForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Scan or type a tracking number."))
        return redirect("shipping:handover")
    number = form.cleaned_data["tracking_number"].strip()
    try:
        parcel = _scanned_parcel(number, carrier)
        if parcel.pk in parcel_ids:
            messages.warning(
                request, _("%(number)s is already in this handover.") % {"number": number}
            )
            return redirect("shipping:handover")
        services.handover_scan(tracking_number=number, carrier=carrier, acting_user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        parcel_ids.append(parcel.pk)
        _save(request, carrier, parcel_ids, started_at)
        messages.success(
            request,
            _("%(number)s shipped (%(count)d in this handover).")
            % {"number": number, "count": len(parcel_ids)},
        )
    return redirect("shipping:handover")


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


@require_GET
@role_required(*SHIPPING_WORKERS)
def handover_manifest(request):
    carrier, parcel_ids, _started_at = _current(request)
    if carrier is None or not parcel_ids:
        messages.error(request, _("Scan parcels first: the manifest lists this handover's."))
        return redirect("shipping:handover")
    parcels = selectors.parcels_by_ids(parcel_ids)
    user = request.user
    data = manifest_data(
        carrier=carrier, parcels=parcels, handed_over_by=user.get_full_name() or user.username
    )
    stamp = data.handed_over_at.strftime("%Y%m%d-%H%M")
    return pdf_response(render_manifest(data), f"handover-{carrier.code}-{stamp}.pdf")


@require_POST
@role_required(*SHIPPING_WORKERS)
def handover_finish(request):
    """Close this handover (the parcels stay shipped) and start again with the carrier."""
    request.session.pop(SESSION_KEY, None)
    return redirect("shipping:handover")


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
    path("handover/scan/", handover_scan, name="handover_scan"),
    path("handover/manifest.pdf", handover_manifest, name="handover_manifest"),
    path("handover/finish/", handover_finish, name="handover_finish"),
    path("tracking/", tracking_upload, name="tracking_upload"),
]
