"""Handover to the carrier's pickup (scan each parcel out, then print the manifest) and
tracking updates from a carrier's file.

The parcels of one handover are kept in the session, not found again by "carrier + today":
a carrier may come twice a day, and two packers may hand over at once; the manifest must
list exactly the parcels this person scanned for this pickup, and nothing is stored beyond
the parcels' own tracking events."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orders.importers.reading import clean_header, read_table
from shipping import selectors, services
from shipping.manifest import manifest_data, render_manifest
from shipping.models import Carrier, Parcel, ParcelStatus
from shipping.wave_forms import HandoverCarrierForm, HandoverScanForm, TrackingUploadForm
from studio.errors import DomainError
from studio.roles import SHIPPING_WORKERS, role_required

SESSION_KEY = "shipping_handover"


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
    parcels = selectors.parcels_by_ids(parcel_ids)
    return render(
        request,
        "shipping/handover.html",
        {
            "carrier": carrier,
            "form": HandoverScanForm(),
            "parcels": list(reversed(parcels)),
            "count": len(parcels),
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
    response = HttpResponse(render_manifest(data), content_type="application/pdf")
    stamp = data.handed_over_at.strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'inline; filename="handover-{carrier.code}-{stamp}.pdf"'
    return response


@require_POST
@role_required(*SHIPPING_WORKERS)
def handover_finish(request):
    """Close this handover (the parcels stay shipped) and start again with the carrier."""
    request.session.pop(SESSION_KEY, None)
    return redirect("shipping:handover")


# --- tracking updates from a file ------------------------------------------------------------

COLUMN_NAMES = {
    "tracking_number": {"trackingnumber", "tracking", "trackingno", "waybill", "waybillno",
                        "运单号", "快递单号", "物流单号", "单号"},
    "status": {"status", "trackingstatus", "状态", "物流状态", "快递状态"},
    "time": {"time", "occurredat", "datetime", "date", "时间", "更新时间", "物流时间", "签收时间"},
    "description": {"description", "note", "detail", "描述", "备注", "物流信息", "详情"},
}  # fmt: skip
STATUS_WORDS = {
    "delivered": ParcelStatus.DELIVERED,
    "已签收": ParcelStatus.DELIVERED,
    "签收": ParcelStatus.DELIVERED,
    "exception": ParcelStatus.EXCEPTION,
    "异常": ParcelStatus.EXCEPTION,
    "问题件": ParcelStatus.EXCEPTION,
    "shipped": ParcelStatus.SHIPPED,
    "in transit": ParcelStatus.SHIPPED,
    "运输中": ParcelStatus.SHIPPED,
    "在途": ParcelStatus.SHIPPED,
}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")


@dataclass
class TrackingRowResult:
    row: int  # as the spreadsheet numbers it (the header is row 1)
    tracking_number: str
    outcome: str  # "updated", "unchanged" or "error"
    status: str = ""
    message: str = ""

    @property
    def status_label(self) -> str:
        return str(ParcelStatus(self.status).label) if self.status else ""


def _normalise(name: str) -> str:
    return "".join(clean_header(name).lower().replace("_", " ").split())


def _columns(header: list[str]) -> dict[str, int]:
    found = {}
    for index, name in enumerate(header):
        key = _normalise(name)
        for field, names in COLUMN_NAMES.items():
            if key in names and field not in found:
                found[field] = index
    missing = [field for field in ("tracking_number", "status", "time") if field not in found]
    if missing:
        raise DomainError(
            _("The file needs the columns tracking number, status and time (missing: %(names)s).")
            % {"names": ", ".join(missing)},
            field="file",
        )
    return found


def _parse_time(text: str) -> datetime:
    text = text.strip()
    moment = None
    for pattern in TIME_FORMATS:
        try:
            moment = datetime.strptime(text, pattern)
            break
        except ValueError:
            continue
    if moment is None:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise DomainError(
                _("“%(time)s” is not a date and time (e.g. 2026-11-20 14:30).") % {"time": text},
                field="time",
            ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _parse_status(text: str) -> str:
    status = STATUS_WORDS.get(" ".join(text.strip().lower().split()))
    if status is None:
        raise DomainError(
            _("Unknown status “%(status)s”: use delivered, exception or shipped.")
            % {"status": text},
            field="status",
        )
    return status


def tracking_file_apply(
    *, data: bytes, file_name: str, carrier: Carrier | None, acting_user
) -> list[TrackingRowResult]:
    """Each row of a tracking file through ``tracking_update``, each in its own transaction:
    a bad row is reported and the others still apply. The same file twice changes nothing."""
    table = read_table(data, file_name)
    columns = _columns(table.header)

    def cell(cells: list[str], field: str) -> str:
        index = columns.get(field)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    results = []
    for row_number, cells in table.rows:
        number = cell(cells, "tracking_number")
        try:
            if not number:
                raise DomainError(_("The tracking number is missing."))
            status = _parse_status(cell(cells, "status"))
            occurred_at = _parse_time(cell(cells, "time"))
            _parcel, changed = services.tracking_update(
                tracking_number=number,
                status=status,
                occurred_at=occurred_at,
                description=cell(cells, "description")[:200],
                carrier=carrier,
                acting_user=acting_user,
            )
        except DomainError as error:
            results.append(TrackingRowResult(row_number, number, "error", message=error.message))
        else:
            outcome = "updated" if changed else "unchanged"
            results.append(TrackingRowResult(row_number, number, outcome, status=status))
    return results


@require_http_methods(["GET", "POST"])
@role_required(*SHIPPING_WORKERS)
def tracking_upload(request):
    form = TrackingUploadForm(request.POST or None, request.FILES or None)
    results = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            results = tracking_file_apply(
                data=upload.read(),
                file_name=upload.name,
                carrier=form.cleaned_data.get("carrier"),
                acting_user=request.user,
            )
        except DomainError as error:
            form.add_error("file", error.message)
    counts = None
    if results is not None:
        counts = {
            outcome: sum(1 for r in results if r.outcome == outcome)
            for outcome in ("updated", "unchanged", "error")
        }
    return render(
        request,
        "shipping/tracking_upload.html",
        {
            "form": form,
            "results": results,
            "counts": counts,
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
