"""Wave pages: choose allocated orders into a wave, follow its packing, print its pick list;
and batch label printing (a wave, a filter, or the labels not yet printed)."""

from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.tasks import TaskResultStatus
from django.tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import leases
from core.errors import DomainError
from core.pdf import pdf_response
from core.roles import SHIPPING_READERS, SHIPPING_WORKERS, has_role, role_required
from orders.forms import PROVINCES
from orders.lifecycle import PACKED_OR_LATER, expired_lots_refusal
from orders.models import Order
from orders.selectors import expired_held_by
from shipping import selectors, tasks
from shipping.models import Wave
from shipping.picklist import pick_list_data, render_pick_list
from shipping.services import wave_create
from shipping.wave_forms import LabelBatchForm, WaveForm

PAGE_SIZE = 30
WAVE_ORDERS_PAGE_SIZE = 50
STATION_PATH = "/shipping/station/"


# --- waves -----------------------------------------------------------------------------------


@require_GET
@role_required(*SHIPPING_READERS)
def wave_list(request):
    page = Paginator(selectors.wave_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "shipping/wave_list.html",
        {"page": page, "can_act": has_role(request.user, SHIPPING_WORKERS)},
    )


@require_http_methods(["GET", "POST"])
@role_required(*SHIPPING_WORKERS)
def wave_new(request):
    """The form counts what matches when "Count" is pressed; "Create wave" makes the wave of
    the oldest matching orders, up to the limit."""
    form = WaveForm(request.POST or None)
    matched = None
    if request.method == "POST" and form.is_valid():
        selection = form.selection()
        candidates = selectors.wave_candidates(selection)
        if "create" in request.POST:
            try:
                wave = wave_create(
                    orders=list(candidates[: selection.limit]),
                    acting_user=request.user,
                    carrier=form.cleaned_data.get("carrier"),
                    selection=selection.as_json(),
                    note=form.cleaned_data.get("note", ""),
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                count = wave.wave_orders.count()
                messages.success(
                    request,
                    _("Wave %(code)s: %(count)d orders are now picking.")
                    % {"code": wave.code, "count": count},
                )
                return redirect("shipping:wave_detail", code=wave.code)
        matched = candidates.count()
        selected = min(matched, selection.limit)
    return render(
        request,
        "shipping/wave_new.html",
        {
            "form": form,
            "matched": matched,
            "selected": selected if matched is not None else None,
            "provinces": PROVINCES,
        },
        status=400 if form.errors else 200,
    )


def _wave_or_404(code: str) -> Wave:
    return get_object_or_404(Wave.objects.select_related("carrier", "created_by"), code=code)


@require_GET
@role_required(*SHIPPING_READERS)
def wave_detail(request, code: str):
    """A wave's progress, counted in the database, and its orders in pick order, a page at a
    time: a wave of thousands of orders is not one long page."""
    wave = get_object_or_404(selectors.wave_list(), code=code)
    paginator = Paginator(selectors.wave_orders(wave), WAVE_ORDERS_PAGE_SIZE)
    paginator.count = wave.order_count
    page = paginator.get_page(request.GET.get("page"))
    counts = selectors.wave_parcel_counts(wave)
    total, packed = wave.order_count, wave.packed_count
    return render(
        request,
        "shipping/wave_detail.html",
        {
            "wave": wave,
            "page": page,
            "orders": page,
            "packed": packed,
            "total": total,
            "percent": round(100 * packed / total) if total else 0,
            "parcel_count": counts["parcels"],
            "unprinted": counts["unprinted"],
            "packed_states": PACKED_OR_LATER,
            "station_path": STATION_PATH,
            "can_act": has_role(request.user, SHIPPING_WORKERS),
            "expired_refusal": _expired_refusal(wave),
        },
    )


def _expired_refusal(wave: Wave) -> str:
    """The pick list's refusal of expired lots, shown on the wave's page too."""
    lots = expired_held_by(orders=Order.objects.filter(wave_order__wave=wave))
    return expired_lots_refusal((lot.code, lot.expiry_date) for lot in lots) if lots else ""


@require_GET
@role_required(*SHIPPING_READERS)
def wave_picklist(request, code: str):
    wave = _wave_or_404(code)
    return pdf_response(render_pick_list(pick_list_data(wave)), f"{wave.code}-picklist.pdf")


# --- batch labels ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(*SHIPPING_WORKERS)
def wave_labels(request):
    """Labels of the chosen parcels as one PDF, in pick order. Small batches come back in the
    response; larger ones go to the task worker and this page follows them."""
    if request.method == "GET":
        form = LabelBatchForm(initial=request.GET.dict())  # e.g. ?wave=W2611-0001
    else:
        form = LabelBatchForm(request.POST)
    if form.is_bound and form.is_valid():
        ids = list(selectors.parcels_filtered(form.filters()).values_list("pk", flat=True))
        if not ids:
            form.add_error(None, _("No parcel matches: nothing to print."))
        elif len(ids) <= tasks.IN_REQUEST_LIMIT:
            pdf = tasks.labels_pdf(ids)
            return pdf_response(pdf, f"labels-{len(ids)}.pdf")
        else:
            task_id = tasks.label_batch_enqueue(ids)
            return redirect("shipping:wave_labels_status", task_id=task_id)
    return render(
        request,
        "shipping/wave_labels.html",
        {"form": form, "limit": tasks.IN_REQUEST_LIMIT},
        status=400 if form.errors else 200,
    )


def _label_task(task_id: str):
    try:
        return tasks.print_label_batch.get_result(task_id)
    except (TaskResultDoesNotExist, TaskResultMismatch) as exc:
        raise Http404 from exc


TASK_STATES = {
    TaskResultStatus.READY: "queued",
    TaskResultStatus.RUNNING: "running",
    TaskResultStatus.SUCCESSFUL: "done",
    TaskResultStatus.FAILED: "failed",
}


def _label_state(result) -> str:
    """The batch as the page tells it: "resuming" when the worker drawing it stopped (its
    task runs on a worker that is gone, or was queued again after that) — never a batch
    "running" for ever."""
    if result.status == TaskResultStatus.READY and result.worker_ids:
        return "resuming"
    if result.status == TaskResultStatus.RUNNING and leases.task_orphaned(result.id):
        return "resuming"
    return TASK_STATES[result.status]


@require_GET
@role_required(*SHIPPING_WORKERS)
def wave_labels_status(request, task_id: str):
    result = _label_task(task_id)
    state = _label_state(result)
    return render(
        request,
        "shipping/wave_labels_status.html",
        {
            "task_id": task_id,
            "state": state,
            "count": len(result.args[0]) if result.args else 0,
            "enqueued_at": result.enqueued_at,
            "finished": result.is_finished,
        },
    )


@require_POST
@role_required(*SHIPPING_WORKERS)
def wave_labels_resume(request, task_id: str):
    """A failed batch: its parcels go to the task worker again, as a new batch."""
    _label_task(task_id)
    try:
        new_id = tasks.label_batch_resume(task_id)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("shipping:wave_labels_status", task_id=task_id)
    return redirect("shipping:wave_labels_status", task_id=new_id)


@require_GET
@role_required(*SHIPPING_WORKERS)
def wave_labels_download(request, task_id: str):
    result = _label_task(task_id)
    if result.status != TaskResultStatus.SUCCESSFUL:
        raise Http404
    name = result.return_value.get("path", "")
    if not name.startswith(tasks.STORAGE_PREFIX) or not default_storage.exists(name):
        raise Http404
    return FileResponse(
        default_storage.open(name, "rb"),
        content_type="application/pdf",
        filename=f"labels-{result.return_value.get('count', 0)}.pdf",
        as_attachment=False,
    )


urlpatterns = [
    path("waves/", wave_list, name="wave_list"),
    path("waves/new/", wave_new, name="wave_create"),
    path("waves/<str:code>/", wave_detail, name="wave_detail"),
    path("waves/<str:code>/picklist.pdf", wave_picklist, name="wave_picklist"),
    path("labels/batch/", wave_labels, name="wave_labels"),
    path("labels/batch/<str:task_id>/", wave_labels_status, name="wave_labels_status"),
    path("labels/batch/<str:task_id>/pdf", wave_labels_download, name="wave_labels_download"),
    path("labels/batch/<str:task_id>/resume", wave_labels_resume, name="wave_labels_resume"),
]
