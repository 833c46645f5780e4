"""Ship-back (回传): the file each platform takes to mark its orders shipped, for packers and
managers. The rules live in ``shipping.shipments``."""

from datetime import datetime, time

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import DomainError
from core.roles import SHIPPING_WORKERS, role_required
from shipping import selectors
from shipping.models import ShipmentReport
from shipping.shipment_forms import ShipmentExportForm
from shipping.shipments import shipments_export

REPORTS_PER_PAGE = 20
SESSION_LEFT_OUT = "shipments_left_out"


@require_http_methods(["GET", "POST"])
@role_required(*SHIPPING_WORKERS)
def shipments(request):
    """What waits to be reported, per channel; export a file; the files made before."""
    form = ShipmentExportForm(request.POST or None, initial={"channel": request.GET.get("channel")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        since = data["since"]
        try:
            export = shipments_export(
                channel=data["channel"],
                acting_user=request.user,
                since=timezone.make_aware(datetime.combine(since, time.min)) if since else None,
                again=data["again"],
                fmt=data["format"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("%(parcels)d parcels of %(orders)d orders are in the file for %(channel)s.")
                % {
                    "parcels": export.report.parcels_count,
                    "orders": export.report.orders_count,
                    "channel": data["channel"].name,
                },
            )
            request.session[SESSION_LEFT_OUT] = [
                [row.order_no, row.carrier_name, row.tracking_number, row.parcel, row.parcels]
                for row in export.left_out[:200]
            ]
            return redirect(f"{request.path}?report={export.report.pk}")
    reports = Paginator(selectors.shipment_reports(), REPORTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    fresh = request.GET.get("report")
    return render(
        request,
        "shipping/shipments.html",
        {
            "form": form,
            "waiting": selectors.shipments_waiting(),
            "page": reports,
            "fresh": int(fresh) if fresh and fresh.isdigit() else None,
            "left_out": request.session.pop(SESSION_LEFT_OUT, []) if fresh else [],
        },
        status=400 if form.errors else 200,
    )


@require_GET
@role_required(*SHIPPING_WORKERS)
def shipment_file(request, pk: int):
    """A ship-back file as it was made (download it again, upload it again)."""
    report = get_object_or_404(ShipmentReport, pk=pk)
    if not report.file:
        raise Http404
    response = FileResponse(
        report.file.open("rb"), as_attachment=True, filename=report.file.name.rsplit("/", 1)[-1]
    )
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("shipments/", shipments, name="shipments"),
    path("shipments/<int:pk>/file", shipment_file, name="shipment_file"),
]
