"""Print jobs: labels of parcels to a printer, recorded so a failure is seen and sent again.

``labels_print`` is what the packing station calls right after a pack commits (one label, sent
while the request waits, within a few seconds even when the printer is dead) and what batch
printing calls for a wave (in wave order; more than ``IN_REQUEST_LIMIT`` labels go to the task
worker). Sending happens after the job's transaction commits, never inside it: a job that
rolled back sends nothing, and no row lock is held while a printer is slow.
"""

import logging
from collections.abc import Iterator, Sequence
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from shipping.labels import labels_data
from shipping.models import (
    Parcel,
    Printer,
    PrintJob,
    PrintJobParcel,
    PrintJobState,
    Wave,
)
from shipping.printing.stream import CHUNK, PrinterFormat, printer_labels
from shipping.printing.transport import PrinterAddress, PrinterError, send
from shipping.services import parcel_labels_printed

__all__ = [
    "IN_REQUEST_LIMIT",
    "labels_print",
    "print_job_retry",
    "print_job_send",
    "print_job_send_task",
    "printer_address",
    "printer_format",
]

IN_REQUEST_LIMIT = 20  # labels sent while the request waits; a larger job goes to the worker
MAX_LABELS = 5000  # one job; a larger batch is several
# A job still queued after this long lost its sender (a worker that died): it may be sent
# again. A sender that was only slow then finds its attempt taken and sends nothing.
STUCK_AFTER = timedelta(minutes=15)

logger = logging.getLogger(__name__)


def printer_address(printer: Printer) -> PrinterAddress:
    return PrinterAddress(
        name=printer.name, host=printer.host, port=printer.port, cups_queue=printer.cups_queue
    )


def printer_format(printer: Printer) -> PrinterFormat:
    return PrinterFormat(
        language=printer.language,
        dpi=printer.dpi,
        size=printer.label_size,
        zpl_graphics=printer.zpl_graphics,
    )


def _check_printer(printer: Printer) -> None:
    if not printer.is_active:
        raise DomainError(
            _("Printer %(printer)s is switched off in the settings.") % {"printer": printer.name},
            field="printer",
        )


def labels_print(
    *,
    parcels: Sequence[Parcel],
    printer: Printer,
    acting_user,
    wave: Wave | None = None,
    wait: bool = False,
) -> PrintJob:
    """Queue the labels of ``parcels``, in the order given, for ``printer`` and send them as
    soon as the job is committed: in this request up to ``IN_REQUEST_LIMIT`` labels, or any
    number with ``wait`` (the returned job then says ``sent`` or ``failed`` with the reason),
    else in the task worker (the job says ``queued`` until it is done). ``acting_user`` is
    None from the shell. A parcel given twice prints twice."""
    _check_printer(printer)
    if not parcels:
        raise DomainError(_("No parcel to print."), field="parcels")
    if len(parcels) > MAX_LABELS:
        raise DomainError(
            _("At most %(count)d labels in one print job.") % {"count": MAX_LABELS},
            field="parcels",
        )
    with transaction.atomic():
        job = PrintJob.objects.create(
            printer=printer, wave=wave, label_count=len(parcels), created_by=acting_user
        )
        PrintJobParcel.objects.bulk_create(
            [
                PrintJobParcel(job=job, parcel_id=parcel.pk, position=position)
                for position, parcel in enumerate(parcels, start=1)
            ],
            batch_size=1000,
        )
    _dispatch(job, wait=wait)
    return job


def _dispatch(job: PrintJob, *, wait: bool = False) -> None:
    """Send the job now (small, or ``wait``) or through the worker (large), once it is
    committed. The attempt it is sent for goes with it: only one sender takes it."""
    if wait or job.label_count - job.labels_sent <= IN_REQUEST_LIMIT:
        transaction.on_commit(lambda: print_job_send(job=job))
    else:
        attempt = job.attempts
        transaction.on_commit(lambda: print_job_send_task.enqueue(job.pk, attempt))


def _claim(job: PrintJob, attempt: int) -> bool:
    """Take the queued job for this sender: the attempt after ``attempt``, if nobody took
    that attempt meanwhile (a compare-and-set on the row)."""
    claimed = PrintJob.objects.filter(
        pk=job.pk, state=PrintJobState.QUEUED, attempts=attempt
    ).update(attempts=F("attempts") + 1)
    if claimed:
        job.attempts = attempt + 1
    return bool(claimed)


def _progress(job: PrintJob, labels: Iterator[bytes]) -> Iterator[bytes]:
    """The labels, writing down how many went through every ``CHUNK`` of them: the print
    queue shows a large job's progress, and a retry starts where the printer stopped."""
    start = job.labels_sent
    for index, label in enumerate(labels):
        if index and index % CHUNK == 0:
            PrintJob.objects.filter(pk=job.pk).update(labels_sent=start + index)
        yield label


def print_job_send(*, job: PrintJob) -> PrintJob:
    """Send a queued job's labels not sent yet, in order, over one connection. Afterwards the
    job is ``sent`` (its parcels stamped printed) or ``failed`` with the printer's trouble in
    words and how many labels went through. Never raises for a printer's failure."""
    attempt = job.attempts  # the attempt this sender was dispatched for
    job.refresh_from_db()
    if job.state != PrintJobState.QUEUED or not _claim(job, attempt):
        return job
    printer = job.printer
    ids = list(
        job.job_parcels.order_by("position").values_list("parcel_id", flat=True)[job.labels_sent :]
    )
    if not ids:  # the printer took every label before it failed: nothing is left to send
        _finish(job, PrintJobState.SENT, labels_sent=job.label_count, error="")
        return job
    labels = labels_data([Parcel(pk=pk) for pk in ids])
    chunks = printer_labels(labels, printer_format(printer), chunk=min(CHUNK, len(labels)))
    try:
        sent = send(printer_address(printer), _progress(job, chunks))
    except PrinterError as error:
        done = job.labels_sent + error.sent
        message = str(error)
        if job.labels_sent or error.sent:
            message = _(
                "%(message)s %(done)d of %(count)d labels were sent; sending again goes "
                "on from there."
            ) % {"message": message, "done": done, "count": job.label_count}
        _finish(job, PrintJobState.FAILED, labels_sent=done, error=message[:300])
        parcel_labels_printed(parcel_ids=ids[: error.sent])
        return job
    except Exception as error:  # a label that cannot be drawn must not leave the job queued
        logger.exception("print job %s failed", job.pk)
        message = _("The labels could not be drawn (%(error)s).") % {"error": error}
        done = PrintJob.objects.values_list("labels_sent", flat=True).get(pk=job.pk)
        _finish(job, PrintJobState.FAILED, labels_sent=done, error=message[:300])
        return job
    _finish(job, PrintJobState.SENT, labels_sent=job.labels_sent + sent, error="")
    parcel_labels_printed(parcel_ids=ids)
    return job


@task()
def print_job_send_task(job_id: int, attempt: int) -> dict:
    """``print_job_send`` in the task worker (``manage.py db_worker``), for large jobs: the
    page that asked returns at once, the print queue shows progress and outcome. The job
    row, not the task's result, is the record."""
    job = PrintJob.objects.select_related("printer").get(pk=job_id)
    job.attempts = attempt
    job = print_job_send(job=job)
    return {"job": job.pk, "state": job.state, "labels_sent": job.labels_sent}


def _finish(job: PrintJob, state: str, *, labels_sent: int, error: str) -> None:
    job.state, job.labels_sent, job.error = state, labels_sent, error
    fields = ["state", "labels_sent", "error"]
    if state == PrintJobState.SENT:
        job.sent_at = timezone.now()
        fields.append("sent_at")
    job.save(update_fields=fields)


@transaction.atomic
def _requeue(*, job: PrintJob, printer: Printer | None) -> PrintJob:
    locked = PrintJob.objects.select_for_update().get(pk=job.pk)
    stuck = (
        locked.state == PrintJobState.QUEUED and locked.created_at < timezone.now() - STUCK_AFTER
    )
    if locked.state != PrintJobState.FAILED and not stuck:
        raise DomainError(
            _(
                "Print job %(job)d is %(state)s: only a failed job, or one queued for over "
                "15 minutes, is sent again."
            )
            % {"job": locked.pk, "state": PrintJobState(locked.state).label},
            field="state",
            code="not_failed",
        )
    fields = ["state", "error"]
    if printer is not None and printer.pk != locked.printer_id:
        # Another printer has printed none of it: all the labels go.
        locked.printer, locked.labels_sent = printer, 0
        fields += ["printer", "labels_sent"]
    locked.state, locked.error = PrintJobState.QUEUED, ""
    locked.save(update_fields=fields)
    return locked


def print_job_retry(*, job: PrintJob, acting_user, printer: Printer | None = None) -> PrintJob:
    """Print a job's labels again. A failed job is sent again (from the label where the
    printer stopped; all of them on another ``printer``), and so is one queued for longer than
    ``STUCK_AFTER`` (its worker died); a sent job is a reprint: a new job of the same parcels,
    by ``acting_user``. A job queued more recently is refused: it is on its way.
    Returns the job that was sent (or queued for the worker)."""
    _check_printer(printer or job.printer)
    if job.state == PrintJobState.SENT:
        parcel_ids = job.job_parcels.order_by("position").values_list("parcel_id", flat=True)
        return labels_print(
            parcels=[Parcel(pk=pk) for pk in parcel_ids],
            printer=printer or job.printer,
            acting_user=acting_user,
            wave=job.wave,
        )
    requeued = _requeue(job=job, printer=printer)
    _dispatch(requeued)
    return requeued
