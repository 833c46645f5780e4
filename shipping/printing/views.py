"""Printing pages: the print queue (each job's state, send again, a wave to a printer), which
station this laptop is, and a label as a bitmap page the browser prints from a hidden frame
when the station has no printer of its own."""

from io import BytesIO

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from PIL import Image

from core.errors import DomainError
from core.roles import SHIPPING_WORKERS, role_required
from shipping.labels import label_data, render_labels
from shipping.labels.render import PAGE_SIZES
from shipping.models import LabelSize, Parcel, PrintJob, PrintJobState
from shipping.printing.forms import (
    RetryForm,
    StationChoiceForm,
    WaveToPrinterForm,
    active_printers,
)
from shipping.printing.raster import rasterise
from shipping.printing.selectors import print_job_list
from shipping.printing.services import labels_print, print_job_retry
from shipping.printing.stations import remember_station, station_for
from shipping.selectors import ParcelFilters, parcels_filtered
from shipping.services import parcel_labels_printed

PAGE_SIZE = 30
BROWSER_DPI = 203  # the label's own grid: thermal printers behind a driver print it dot for dot


def _job_message(request, job: PrintJob) -> None:
    values = {"job": job.pk, "count": job.label_count, "printer": job.printer.name}
    if job.state == "sent":
        messages.success(
            request, _("Print job %(job)d: %(count)d labels sent to %(printer)s.") % values
        )
    elif job.state == "failed":
        messages.error(request, job.error)
    else:
        messages.info(
            request,
            _(
                "Print job %(job)d: %(count)d labels queued for %(printer)s; the task worker "
                "sends them."
            )
            % values,
        )


@require_http_methods(["GET", "POST"])
@role_required(*SHIPPING_WORKERS)
def print_jobs(request):
    """The print queue, newest first; POST sends a wave's labels, in wave order, to a printer."""
    if request.method == "POST":
        form = WaveToPrinterForm(request.POST)
        if form.is_valid():
            wave = form.cleaned_data["wave"]
            filters = ParcelFilters(wave_code=wave.code, unprinted=form.cleaned_data["unprinted"])
            parcels = list(parcels_filtered(filters).only("pk"))
            try:
                job = labels_print(
                    parcels=parcels,
                    printer=form.cleaned_data["printer"],
                    acting_user=request.user,
                    wave=wave,
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                _job_message(request, job)
                return redirect("shipping:print_jobs")
    else:
        form = WaveToPrinterForm(initial={"wave": request.GET.get("wave", "")})
    page = Paginator(print_job_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "shipping/print_jobs.html",
        {
            "page": page,
            "form": form,
            # read once for every failed job's "send again to" choice
            "printers": list(active_printers()),
            # a job on its way: the page looks again by itself
            "refresh": any(job.state == PrintJobState.QUEUED for job in page.object_list),
        },
        status=400 if form.errors else 200,
    )


@require_POST
@role_required(*SHIPPING_WORKERS)
def print_job_again(request, pk: int):
    """Send a failed job again (to another printer if one is chosen), or reprint a sent one."""
    job = get_object_or_404(PrintJob.objects.select_related("printer", "wave"), pk=pk)
    form = RetryForm(request.POST)
    printer = form.cleaned_data["printer"] if form.is_valid() else None
    try:
        job = print_job_retry(job=job, acting_user=request.user, printer=printer)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        _job_message(request, job)
    return redirect(request.POST.get("next") or "shipping:print_jobs")


@require_POST
@role_required(*SHIPPING_WORKERS)
def station_choose(request):
    """This laptop's packing station (and so its printer), remembered by the browser."""
    form = StationChoiceForm(request.POST)
    response = redirect("shipping:station")
    if form.is_valid():
        station = form.cleaned_data["station"]
        if station is None:
            messages.info(request, _("No station: labels print through the browser."))
        elif station.printer_id:
            messages.success(
                request,
                _("This laptop is %(station)s: labels go to %(printer)s.")
                % {"station": station.name, "printer": station.printer.name},
            )
        else:
            messages.success(
                request,
                _(
                    "This laptop is %(station)s: it has no printer, labels print through the "
                    "browser."
                )
                % {"station": station.name},
            )
        remember_station(response, station)
    return response


@require_POST
@role_required(*SHIPPING_WORKERS)
def label_to_station_printer(request, pk: int):
    """The parcel's label again, to this laptop's station printer (a torn or smudged label)."""
    parcel = get_object_or_404(Parcel, pk=pk)
    station = station_for(request)
    if station is None or station.printer is None:
        messages.error(request, _("This laptop's station has no printer."))
        return redirect("shipping:station")
    try:
        job = labels_print(parcels=[parcel], printer=station.printer, acting_user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        _job_message(request, job)
    return redirect("shipping:station")


# --- a label printed by the browser ----------------------------------------------------------


def _parcel(pk: int) -> Parcel:
    return get_object_or_404(Parcel.objects.select_related("order", "carrier"), pk=pk)


@require_GET
@role_required(*SHIPPING_WORKERS)
def label_png(request, pk: int):
    """The parcel's label as the thermal printer would print it: one bit a dot at 203 dpi,
    its size in the PNG so a driver prints it at the label's size. Marks it printed."""
    parcel = _parcel(pk)
    (bitmap,) = rasterise(render_labels([label_data(parcel)]), dpi=BROWSER_DPI)
    image = Image.fromarray(~bitmap.dots).convert("1")
    buffer = BytesIO()
    image.save(buffer, format="PNG", optimize=False, dpi=(BROWSER_DPI, BROWSER_DPI))
    parcel_labels_printed(parcel_ids=[parcel.pk])
    response = HttpResponse(buffer.getvalue(), content_type="image/png")
    response["Cache-Control"] = "private, no-store"  # the recipient's name, phone, address
    return response


@require_GET
@xframe_options_sameorigin  # framed by the station's own page, and by no other site
@role_required(*SHIPPING_WORKERS)
def label_print_page(request, pk: int):
    """A page holding only the label, its ``@page`` the label's exact size and no margin: the
    station loads it into a hidden frame and prints the frame (no new tab, no popup)."""
    parcel = _parcel(pk)
    size = (
        parcel.carrier.label_size
        if parcel.carrier.label_size in PAGE_SIZES
        else LabelSize.MM_100x150
    )
    width_mm, height_mm = (int(value) for value in size.split("x"))
    response = render(
        request,
        "shipping/label_print.html",
        {"parcel": parcel, "width_mm": width_mm, "height_mm": height_mm},
    )
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("print-jobs/", print_jobs, name="print_jobs"),
    path("print-jobs/<int:pk>/again/", print_job_again, name="print_job_again"),
    path("station/desk/", station_choose, name="station_choose"),
    path(
        "parcels/<int:pk>/label/to-printer/",
        label_to_station_printer,
        name="label_to_printer",
    ),
    path("parcels/<int:pk>/label/print/", label_print_page, name="label_print"),
    path("parcels/<int:pk>/label.png", label_png, name="label_png"),
]
