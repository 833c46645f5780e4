"""Import pages: upload an export, map unknown columns, preview (a dry run), commit, follow
the progress, see the result and download the bad rows. Managers only."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError
from core.roles import ORDER_WRITERS, role_required
from orders.import_forms import CommitForm, MappingForm, UploadForm
from orders.importers import service
from orders.importers.presets import FIELD_LABELS, PRESETS
from orders.models import Channel, ImportBatch, ImportStatus

RUNNING = {ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.INTERRUPTED}


def _batch(pk: int) -> ImportBatch:
    return get_object_or_404(ImportBatch.objects.select_related("channel", "uploaded_by"), pk=pk)


def _default_channel():
    return Channel.objects.filter(code="kuaishou").values_list("pk", flat=True).first()


def _next_page(batch: ImportBatch):
    """Where a batch is shown, given how far it got."""
    if batch.status == ImportStatus.UPLOADED:
        return redirect("imports:mapping", pk=batch.pk)
    if batch.status == ImportStatus.PREVIEWED:
        return redirect("imports:preview", pk=batch.pk)
    if batch.status in RUNNING:
        return redirect("imports:progress", pk=batch.pk)
    return redirect("imports:result", pk=batch.pk)


@require_GET
@role_required(*ORDER_WRITERS)
def import_list(request):
    batches = ImportBatch.objects.select_related("channel", "uploaded_by")
    page = Paginator(batches, 20).get_page(request.GET.get("page"))
    return render(request, "imports/list.html", {"page": page})


@require_http_methods(["GET", "POST"])
@role_required(*ORDER_WRITERS)
def upload(request):
    last = ImportBatch.objects.filter(uploaded_by=request.user).only("channel_id").first()
    form = UploadForm(
        request.POST or None,
        request.FILES or None,
        initial={"channel": last.channel_id if last else _default_channel()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            batch = service.import_upload(
                channel=form.cleaned_data["channel"],
                uploaded=form.cleaned_data["file"],
                acting_user=request.user,
            )
        except DomainError as error:
            form.add_error("file" if error.field == "file" else None, error.message)
        else:
            return _next_page(batch)
    status = 400 if form.errors else 200
    return render(
        request,
        "imports/upload.html",
        {"form": form, "presets": PRESETS.values()},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@role_required(*ORDER_WRITERS)
def mapping(request, pk: int):
    """Each column of the file → one of our fields, or ignored. Saved for the channel."""
    batch = _batch(pk)
    if batch.status not in {ImportStatus.UPLOADED, ImportStatus.PREVIEWED}:
        return _next_page(batch)
    try:
        columns, samples = service.batch_columns(batch)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("imports:list")
    form = MappingForm(
        request.POST or None,
        headers=columns.header,
        initial_choices=columns.as_choices(),
        samples=samples,
    )
    if request.method == "POST" and form.is_valid():
        try:
            batch = service.import_map_columns(
                batch=batch, choices=form.choices(), acting_user=request.user
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("Column mapping saved for %(channel)s: the next export is read the same way.")
                % {"channel": batch.channel.name},
            )
            return redirect("imports:preview", pk=batch.pk)
    return render(
        request,
        "imports/mapping.html",
        {
            "batch": batch,
            "form": form,
            "missing": [FIELD_LABELS[name] for name in columns.missing],
            "unknown": columns.unknown,
        },
        status=400 if form.errors else 200,
    )


@require_GET
@role_required(*ORDER_WRITERS)
def preview(request, pk: int):
    batch = _batch(pk)
    if batch.status != ImportStatus.PREVIEWED:
        return _next_page(batch)
    return render(
        request,
        "imports/preview.html",
        {
            "batch": batch,
            "errors": batch.errors.all()[: service.PREVIEW_ERRORS],
            "sample": service.preview_sample(batch),
            "layout": PRESETS.get(batch.preset),
            "earlier": service.earlier_import(batch),
            "form": CommitForm(),
            "inline_rows": service.inline_rows(),
        },
    )


@require_POST
@role_required(*ORDER_WRITERS)
def commit(request, pk: int):
    batch = _batch(pk)
    form = CommitForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how to import."))
        return redirect("imports:preview", pk=batch.pk)
    try:
        batch = service.import_commit(
            batch=batch, mode=form.cleaned_data["mode"], acting_user=request.user
        )
    except DomainError as error:
        messages.error(request, error.message)
    return _next_page(_batch(batch.pk))


@require_GET
@role_required(*ORDER_WRITERS)
def progress(request, pk: int):
    batch = _batch(pk)
    if batch.status not in RUNNING:
        return _next_page(batch)
    return render(
        request,
        "imports/progress.html",
        {"batch": batch, "state": service.status_json(batch)},
    )


@require_GET
@role_required(*ORDER_WRITERS)
def status(request, pk: int):
    """The progress document the progress page polls."""
    batch = _batch(pk)
    body = service.status_json(batch)
    body["result_url"] = reverse("imports:result", args=[batch.pk])
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@role_required(*ORDER_WRITERS)
def result(request, pk: int):
    batch = _batch(pk)
    if batch.status not in service.FINISHED:
        return _next_page(batch)
    return render(
        request,
        "imports/result.html",
        {
            "batch": batch,
            "state": service.status_json(batch),
            "errors": batch.errors.all()[:50],
        },
    )


@require_POST
@role_required(*ORDER_WRITERS)
def resume(request, pk: int):
    """A failed import, resumed by the task worker where it stopped."""
    batch = _batch(pk)
    try:
        batch = service.import_resume(batch=batch, acting_user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The import is resumed: the orders written before are kept, the rest follow."),
        )
    return _next_page(_batch(batch.pk))


@require_GET
@role_required(*ORDER_WRITERS)
def errors_csv(request, pk: int):
    batch = _batch(pk)
    response = HttpResponse(service.errors_csv(batch), content_type="text/csv; charset=utf-8")
    stem = batch.file_name.rsplit(".", 1)[0] or "orders"
    response["Content-Disposition"] = _attachment(f"{stem}-errors.csv")
    response["Cache-Control"] = "private, no-store"
    return response


def _attachment(file_name: str) -> str:
    from urllib.parse import quote

    ascii_name = file_name.encode("ascii", "ignore").decode() or "errors.csv"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"
