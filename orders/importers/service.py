"""An import from upload to allocated orders: the ``ImportBatch`` lifecycle.

    upload ─► (mapping, when the columns are not all recognised) ─► preview (a dry run:
    counts and row errors, nothing written but the batch) ─► commit (choose the mode) ─►
    run (inline for small files, else the ``import_orders_file`` task) ─► done / rejected
                        │  its process stops: stopped — resuming (a task worker resumes it)
                        └─ an error, or stopped LEASE_MAX_ATTEMPTS times: failed — a manager
                           may resume it

``import_run`` reads the stored file again, checks every row against the database as it is
then, and writes new orders in chunks. "Import the good rows" commits chunk by chunk (the
page sees progress); "all or nothing" writes nothing when any row is bad and otherwise
commits every chunk in one transaction. Orders the platform closed are not created; if an
earlier import created them and they are not packed, they are cancelled (their stock goes
back). New orders are then allocated, oldest payment first, together with every other order
left waiting for stock (``orders.waiting``). Re-importing a file creates nothing twice: an
order number the channel already has is a duplicate.

A run holds the import's lease (``core.leases``), in the task worker or in the request that
runs a small file. If its process dies, the sweep of a task worker finds the lease stale and
queues the import again: the next run reads the file again, recognises the orders this import
already wrote (they are neither written again nor counted as duplicates), writes the rest and
allocates. A request never runs a large import, nor the allocation of many waiting orders.
"""

import csv
import hashlib
import io
import logging
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F
from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks_db.models import DBTaskResult

from core import leases
from core.db import analyze
from core.errors import DomainError
from core.exports import neutralise
from inventory.models import mask_phone
from orders.drafts import WRITE_CHUNK, goods_total
from orders.importers.presets import (
    ERROR_HEADERS,
    FIELD_LABELS,
    IGNORE,
    ColumnMap,
    map_columns,
    missing_fields,
)
from orders.importers.reading import (
    Table,
    clean_cell,
    collector_paused,
    max_upload_bytes,
    read_table,
)
from orders.importers.rows import (
    REFUNDED_STATUSES,
    OrderGroup,
    ParsedRow,
    RowReader,
    build_drafts,
    group_rows,
)
from orders.importers.writing import write_orders
from orders.lifecycle import CANCELLABLE, CLOSED
from orders.models import (
    Allocation,
    Channel,
    ImportBatch,
    ImportMode,
    ImportRowError,
    ImportStatus,
    Order,
    OrderLine,
    OrderStatus,
)
from orders.services import order_cancel
from orders.sessions import SessionMismatch
from orders.waiting import (
    ALLOCATION_LEASE,
    IMPORT_LEASE,
    UNFINISHED_IMPORTS,
    allocate_in_paid_order,
    import_lease_name,
    waiting_order_ids,
)

logger = logging.getLogger(__name__)


PREVIEW_ERRORS = 20
SAMPLE_ORDERS = 10
DEFAULT_INLINE_ROWS = 1000
# A request imports at most this many rows, whatever the setting says: about 3 s of work on a
# busy 2-core machine, far inside gunicorn's timeout.
INLINE_ROWS_CEILING = 5000
FINISHED = frozenset({ImportStatus.DONE, ImportStatus.REJECTED, ImportStatus.FAILED})


# on_progress(phase, done, total); phase is "check", "write" or "allocate".
Progress = Callable[[str, int, int], None]


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


def inline_rows() -> int:
    """Files with at most this many rows are imported in the request; larger ones by the
    task worker. Also the most waiting orders a request allocates."""
    setting = int(getattr(settings, "ORDER_IMPORT_INLINE_ROWS", DEFAULT_INLINE_ROWS))
    return min(setting, INLINE_ROWS_CEILING)


# --- the plan: what a file would do, without writing -----------------------------------------


@dataclass
class RowErrorData:
    row_number: int
    column: str
    reason: str
    raw: dict


@dataclass
class Plan:
    """Every row's fate, decided against the database as it is now."""

    table: Table
    columns: ColumnMap
    new: list[OrderGroup] = field(default_factory=list)
    # written by this very import before its process stopped: neither new nor duplicates
    written: list[OrderGroup] = field(default_factory=list)
    duplicates: list[OrderGroup] = field(default_factory=list)
    closed: list[OrderGroup] = field(default_factory=list)  # never created
    # (order id, the platform's status text) of earlier orders the platform has closed since
    to_cancel: list[tuple[int, str]] = field(default_factory=list)
    not_cancellable: list[str] = field(default_factory=list)  # closed, but already packed
    invalid: list[OrderGroup] = field(default_factory=list)
    orphans: list[ParsedRow] = field(default_factory=list)  # rows without an order number
    errors: list[RowErrorData] = field(default_factory=list)
    # Orders that name a live session but were paid outside its window (orders.sessions).
    session_mismatches: list[SessionMismatch] = field(default_factory=list)

    @property
    def rows_total(self) -> int:
        return len(self.table.rows)

    @property
    def invalid_rows(self) -> int:
        return len({error.row_number for error in self.errors})

    @property
    def new_lines(self) -> int:
        return sum(len(group.rows) for group in self.new)

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows_total,
            "created": len(self.new),
            "lines": self.new_lines,
            "duplicate": len(self.duplicates),
            "invalid": self.invalid_rows,
            "skipped": len(self.closed),
            "to_cancel": len(self.to_cancel),
        }


def _existing(channel: Channel, numbers: list[str]) -> dict[str, tuple[int, str, int | None]]:
    """{order number: (id, status, import batch id)} of the channel's orders among
    ``numbers``."""
    if not numbers:
        return {}
    if connection.vendor == "postgresql":
        # One query with an array: an IN list of tens of thousands of placeholders costs
        # more to build and parse than the lookup itself.
        table = connection.ops.quote_name(Order._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT external_no, id, status, import_batch_id FROM {table} "
                "WHERE channel_id = %s AND external_no = ANY(%s)",
                [channel.pk, numbers],
            )
            return {number: tuple(rest) for number, *rest in cursor.fetchall()}
    found = {}
    for start in range(0, len(numbers), 2000):
        chunk = numbers[start : start + 2000]
        found.update(
            (number, (pk, status, batch_id))
            for number, pk, status, batch_id in Order.objects.filter(
                channel=channel, external_no__in=chunk
            ).values_list("external_no", "pk", "status", "import_batch_id")
        )
    return found


def plan_import(
    *, channel: Channel, table: Table, columns: ColumnMap, batch_id: int | None = None
) -> Plan:
    """Read every row and decide: new, duplicate, closed on the platform, or bad. With
    ``batch_id`` (a run, maybe resumed), orders that batch wrote already are ``written``."""
    if not columns.complete:
        raise DomainError(
            _("These fields have no column: %(fields)s.")
            % {"fields": ", ".join(str(FIELD_LABELS[name]) for name in columns.missing)},
            field="mapping",
            code="needs_mapping",
        )
    reader = RowReader(table=table, columns=columns, channel=channel)
    with collector_paused():
        groups, orphans = group_rows(reader.read())
        mismatches = build_drafts(channel, groups)
    plan = Plan(table=table, columns=columns, orphans=orphans, session_mismatches=mismatches)
    existing = _existing(channel, [group.external_no for group in groups])
    for group in groups:
        found = existing.get(group.external_no)
        if group.closed:
            plan.closed.append(group)
            if found and found[1] in CANCELLABLE:
                plan.to_cancel.append((found[0], group.platform_status))
            elif found and found[1] not in CLOSED:
                plan.not_cancellable.append(group.external_no)
        elif group.draft is None:
            plan.invalid.append(group)
        elif found and batch_id is not None and found[2] == batch_id:
            plan.written.append(group)
        elif found:
            plan.duplicates.append(group)
        else:
            plan.new.append(group)
    bad_rows = [row for group in plan.invalid for row in group.rows] + orphans
    for row in sorted(bad_rows, key=lambda r: r.number):
        raw = table.raw(row.cells)
        for field_name, reason in row.errors:
            plan.errors.append(
                RowErrorData(
                    row_number=row.number,
                    column=reader.column_name(field_name) if field_name else "",
                    reason=reason,
                    raw=raw,
                )
            )
    return plan


def _columns_for(channel: Channel, table: Table) -> ColumnMap:
    return map_columns(table.header, channel_code=channel.code, saved=channel.column_mapping)


def _read_batch_file(batch: ImportBatch, *, max_rows: int | None = None) -> Table:
    with batch.file.open("rb") as stored:
        data = stored.read()
    return read_table(data, batch.file_name, max_rows=max_rows)


# --- upload, mapping, preview ----------------------------------------------------------------


def _read_upload(uploaded) -> bytes:
    size = getattr(uploaded, "size", None)
    limit = max_upload_bytes()
    if size is not None and size > limit:
        raise DomainError(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": round(size / 1048576, 1), "limit": round(limit / 1048576, 1)},
            field="file",
            code="too_large",
        )
    return uploaded.read(limit + 1)


def import_upload(*, channel: Channel, uploaded, acting_user) -> ImportBatch:
    """Store an uploaded export as a new batch and preview it. Refuses (``DomainError`` on
    "file") what is not a readable CSV/XLSX of orders; nothing is stored then. When the
    columns cannot all be recognised the batch waits for the mapping screen (``uploaded``).
    The rows are checked outside any transaction: a large file holds no lock meanwhile."""
    data = _read_upload(uploaded)
    file_name = PurePath(getattr(uploaded, "name", "") or "orders.csv").name[:200]
    table = read_table(data, file_name)
    batch = ImportBatch(
        channel=channel,
        file_name=file_name,
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=acting_user,
        encoding=table.encoding,
        rows_total=len(table.rows),
    )
    batch.file.save(file_name, ContentFile(data), save=False)
    columns = _columns_for(channel, table)
    batch.preset = columns.preset.code
    batch.save()
    if columns.complete:
        try:
            _store_preview(batch, plan_import(channel=channel, table=table, columns=columns))
        except Exception as exc:
            _mark_failed(batch.pk, exc)
            raise
    return batch


def batch_columns(batch: ImportBatch) -> tuple[ColumnMap, dict[str, str]]:
    """How the batch's file is read now (its channel's saved mapping included), and the
    first row's value of each column, to help whoever chooses the mapping."""
    table = _read_batch_file(batch, max_rows=1)
    first = table.rows[0][1] if table.rows else []
    samples = {
        header: clean_cell(first[index]) if index < len(first) else ""
        for index, header in enumerate(table.header)
    }
    return _columns_for(batch.channel, table), samples


def import_map_columns(*, batch: ImportBatch, choices: dict[str, str], acting_user) -> ImportBatch:
    """Save the mapping screen's choice ({header: field, or "" to ignore}) on the batch's
    channel, where every later import of that channel finds it, and preview again."""
    _refuse_unless(batch, {ImportStatus.UPLOADED, ImportStatus.PREVIEWED})
    chosen = [value for value in choices.values() if value != IGNORE]
    unknown = [value for value in chosen if value not in FIELD_LABELS]
    if unknown:
        raise DomainError(
            _("“%(field)s” is not a field orders can be read into.") % {"field": unknown[0]},
            field="mapping",
        )
    twice = [name for name, n in Counter(chosen).items() if n > 1]
    if twice:
        raise DomainError(
            _("Two columns are set to “%(field)s”: choose one.")
            % {"field": FIELD_LABELS[twice[0]]},
            field="mapping",
        )
    missing = missing_fields(chosen)
    if missing:
        raise DomainError(
            _("Choose a column for: %(fields)s.")
            % {"fields": ", ".join(str(FIELD_LABELS[name]) for name in missing)},
            field="mapping",
            code="needs_mapping",
        )
    with transaction.atomic():
        channel = Channel.objects.select_for_update().get(pk=batch.channel_id)
        channel.column_mapping = {**(channel.column_mapping or {}), **choices}
        channel.save(update_fields=["column_mapping"])
    batch.channel = channel
    table = _read_batch_file(batch)
    columns = _columns_for(channel, table)
    batch.preset = columns.preset.code
    _store_preview(batch, plan_import(channel=channel, table=table, columns=columns))
    return batch


@transaction.atomic
def _save_errors(batch: ImportBatch, plan: Plan) -> None:
    batch.errors.all().delete()
    ImportRowError.objects.bulk_create(
        [
            ImportRowError(
                batch=batch,
                row_number=error.row_number,
                column=error.column[:60],
                reason=error.reason[:300],
                raw=error.raw,
            )
            for error in plan.errors
        ],
        batch_size=1000,
    )


@transaction.atomic
def _store_preview(batch: ImportBatch, plan: Plan) -> None:
    """Keep a dry run's counts and errors on the batch, unless it moved on meanwhile."""
    locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    _refuse_unless(locked, {ImportStatus.UPLOADED, ImportStatus.PREVIEWED})
    counts = plan.counts()
    batch.status = ImportStatus.PREVIEWED
    batch.dry_run = True
    batch.rows_total = plan.rows_total
    batch.rows_done = 0
    batch.created_count = counts["created"]
    batch.duplicate_count = counts["duplicate"]
    batch.invalid_count = counts["invalid"]
    batch.skipped_count = counts["skipped"]
    batch.message = _preview_message(plan)
    batch.save()
    _save_errors(batch, plan)


def _session_notes(plan: Plan, limit: int = 3) -> list[str]:
    """ "54 orders name 朱家坪蜜桃开园直播 but were paid on 2026-06-18, outside its window …"."""
    notes = [
        ngettext(
            "%(n)d order names %(title)s but was paid on %(day)s, outside its window "
            "(%(window)s): it was not attached to it.",
            "%(n)d orders name %(title)s but were paid on %(day)s, outside its window "
            "(%(window)s): they were not attached to it.",
            mismatch.orders,
        )
        % {
            "n": mismatch.orders,
            "title": mismatch.title,
            "day": mismatch.paid_on.isoformat(),
            "window": mismatch.window,
        }
        for mismatch in plan.session_mismatches[:limit]
    ]
    more = plan.session_mismatches[limit:]
    if more:
        notes.append(
            _("%(n)d more orders name a live session outside its window.")
            % {"n": sum(mismatch.orders for mismatch in more)}
        )
    return notes


def _preview_message(plan: Plan) -> str:
    parts = _session_notes(plan)
    if plan.to_cancel:
        parts.append(
            _("%(n)d earlier orders were closed on the platform and will be cancelled.")
            % {"n": len(plan.to_cancel)}
        )
    if plan.not_cancellable:
        parts.append(
            _("%(n)d orders closed on the platform are already packed: check them by hand.")
            % {"n": len(plan.not_cancellable)}
        )
    return " ".join(parts)[:500]


@dataclass
class SampleOrder:
    external_no: str
    state: str  # new, duplicate, closed, invalid
    recipient_name: str = ""
    masked_phone: str = ""
    place: str = ""
    paid_at: object = None
    lines: list[dict] = field(default_factory=list)  # code, name, quantity
    total: object = None
    live_session: str = ""


def preview_sample(batch: ImportBatch, *, limit: int = SAMPLE_ORDERS) -> list[SampleOrder]:
    """The first orders of the file as they would be imported, read from the file's head."""
    table = _read_batch_file(batch, max_rows=limit * 30)
    columns = _columns_for(batch.channel, table)
    if not columns.complete:
        return []
    plan = plan_import(channel=batch.channel, table=table, columns=columns)
    states = {}
    for state, groups in (
        ("new", plan.new),
        ("duplicate", plan.duplicates),
        ("closed", plan.closed),
        ("invalid", plan.invalid),
    ):
        for group in groups:
            states[group.external_no] = (state, group)
    ordered = sorted(states.values(), key=lambda item: item[1].first_row)
    if table.truncated and len(ordered) > limit:
        ordered = ordered[:-1]  # the last one may have lost lines to the cut
    sample = []
    for state, group in ordered[:limit]:
        item = SampleOrder(external_no=group.external_no, state=state)
        draft = group.draft
        if draft is not None:
            item.recipient_name = draft.recipient_name
            item.masked_phone = (
                draft.phone if draft.phone_masked_by_platform else mask_phone(draft.phone)
            )
            city = "" if draft.city == draft.province else draft.city
            item.place = f"{draft.province}{city}{draft.district}"
            item.paid_at = draft.paid_at
            item.lines = [
                {"code": line.sku.merchant_code, "name": line.sku.name, "quantity": line.quantity}
                for line in draft.lines
            ]
            item.total = goods_total(draft)
            item.live_session = draft.live_session.title if draft.live_session else ""
        sample.append(item)
    return sample


def earlier_import(batch: ImportBatch) -> ImportBatch | None:
    """A finished import of the very same file into the same channel, if there was one."""
    return (
        ImportBatch.objects.filter(
            channel_id=batch.channel_id, sha256=batch.sha256, status=ImportStatus.DONE
        )
        .exclude(pk=batch.pk)
        .order_by("-created_at")
        .first()
    )


# --- commit and run --------------------------------------------------------------------------


def _refuse_unless(batch: ImportBatch, allowed: set[str]) -> None:
    if batch.status not in allowed:
        raise DomainError(
            _("This import is %(status)s: it cannot do that now.")
            % {"status": batch.get_status_display()},
            field="status",
            code="wrong_state",
        )


def import_commit(
    *,
    batch: ImportBatch,
    mode: str,
    acting_user,
    run_now: bool | None = None,
    on_progress: Progress | None = None,
    allocate: bool = True,
) -> ImportBatch:
    """Import a previewed batch in ``mode``. A small file (at most ``inline_rows()`` rows) is
    imported in this request, under the import's lease; a larger one is queued for the task
    worker in the transaction that records the choice, so a queued import always has its
    task. ``run_now=True`` (the command line) runs a file of any size here, ``False`` queues
    any."""
    if mode not in ImportMode.values:
        raise DomainError(_("Choose how to import."), field="mode")
    inline = batch.rows_total <= inline_rows() if run_now is None else run_now
    if not inline:
        with transaction.atomic():
            _start(batch.pk, mode, ImportStatus.QUEUED)
            _enqueue(batch.pk)
        return ImportBatch.objects.select_related("channel", "uploaded_by").get(pk=batch.pk)
    try:
        with leases.hold(import_lease_name(batch.pk), kind=IMPORT_LEASE) as lease:
            with transaction.atomic():
                _start(batch.pk, mode, ImportStatus.RUNNING)
            return _execute(
                batch.pk,
                lease,
                on_progress or _no_progress,
                allocate=allocate,
                in_request=run_now is None,
            )
    except leases.LeaseBusy:
        raise DomainError(
            _("This import is running already."), field="status", code="wrong_state"
        ) from None


def _start(batch_id: int, mode: str, status: str) -> None:
    locked = ImportBatch.objects.select_for_update().get(pk=batch_id)
    _refuse_unless(locked, {ImportStatus.PREVIEWED})
    locked.mode = mode
    locked.dry_run = False
    locked.status = status
    locked.rows_done = 0
    locked.message = ""
    locked.attempts = 1 if status == ImportStatus.RUNNING else 0
    locked.save(update_fields=["mode", "dry_run", "status", "rows_done", "message", "attempts"])


def _enqueue(batch_id: int) -> None:
    """Queue the import's task. Called inside the transaction that moves the batch, so the
    batch and its task commit together (the task table is in the same database)."""
    result = import_orders_file.enqueue(batch_id)
    ImportBatch.objects.filter(pk=batch_id).update(task_id=str(result.id)[:64])


def import_run(
    *, batch_id: int, on_progress: Progress = _no_progress, allocate: bool = True
) -> ImportBatch:
    """Do a queued import, or resume a stopped one: check, write what is not written yet,
    cancel what the platform closed, allocate (unless ``allocate`` is False: the new orders
    then stay new, and the sweep allocates them later with every waiting order). Claims the
    import's lease first, so two processes never run the same one: the second returns the
    batch as it is. A failure marks the batch failed (what was committed by then stays: it is
    complete orders only, and a resumed run recognises them)."""
    try:
        with leases.hold(import_lease_name(batch_id), kind=IMPORT_LEASE) as lease:
            if _claim(batch_id):
                return _execute(batch_id, lease, on_progress, allocate=allocate, in_request=False)
    except leases.LeaseBusy:
        pass
    return ImportBatch.objects.select_related("channel", "uploaded_by").get(pk=batch_id)


def _claim(batch_id: int) -> bool:
    """Move a queued or stopped batch to running, under its lease (a batch still "running"
    here was run by a process that is gone: this one took its stale lease). A batch started
    ``LEASE_MAX_ATTEMPTS`` times already is failed instead: something kills its runs."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status not in UNFINISHED_IMPORTS:
            return False
        if batch.attempts >= leases.max_attempts():
            _fail_stopped(batch)
            return False
        batch.status = ImportStatus.RUNNING
        batch.attempts += 1
        batch.save(update_fields=["status", "attempts"])
    return True


def _fail_stopped(batch: ImportBatch) -> None:
    batch.status = ImportStatus.FAILED
    batch.finished_at = timezone.now()
    batch.message = (
        _(
            "The import stopped %(n)d times because the process running it ended (out of "
            "memory, a restart?). The orders written so far are kept: resume it once the "
            "cause is dealt with."
        )
        % {"n": batch.attempts}
    )[:500]
    batch.save(update_fields=["status", "finished_at", "message"])
    logger.error("Import %s stopped %d times: failed", batch.pk, batch.attempts)


def _execute(
    batch_id: int, lease: leases.Held, on_progress: Progress, *, allocate: bool, in_request: bool
) -> ImportBatch:
    batch = ImportBatch.objects.select_related("channel", "uploaded_by").get(pk=batch_id)
    try:
        _run(batch, lease, on_progress, allocate=allocate, in_request=in_request)
    except leases.LeaseLost:
        logger.warning("Import %s: another process took its lease over; this run stops", batch_id)
    except Exception as exc:
        _mark_failed(batch_id, exc)
        raise
    batch.refresh_from_db()
    return batch


def _mark_failed(batch_id: int, exc: Exception) -> None:
    logger.exception("Import %s failed", batch_id)
    ImportBatch.objects.filter(pk=batch_id).update(
        status=ImportStatus.FAILED,
        finished_at=timezone.now(),
        message=(_("The import failed: %(error)s") % {"error": exc})[:500],
    )


def _run(
    batch: ImportBatch,
    lease: leases.Held,
    on_progress: Progress,
    *,
    allocate: bool,
    in_request: bool,
) -> None:
    channel = batch.channel
    on_progress("check", 0, batch.rows_total)
    table = _read_batch_file(batch)
    plan = plan_import(
        channel=channel, table=table, columns=_columns_for(channel, table), batch_id=batch.pk
    )
    settled = plan.rows_total - plan.new_lines
    counts = plan.counts()
    ImportBatch.objects.filter(pk=batch.pk).update(
        rows_total=plan.rows_total,
        rows_done=settled,
        created_count=len(plan.written),
        duplicate_count=counts["duplicate"],
        invalid_count=counts["invalid"],
        skipped_count=counts["skipped"],
    )
    _save_errors(batch, plan)
    on_progress("write", settled, plan.rows_total)

    if plan.errors and batch.mode == ImportMode.ALL_OR_NOTHING:
        _finish(
            batch,
            ImportStatus.REJECTED,
            _(
                "%(n)d bad rows: nothing was imported (all or nothing). Fix the rows in the "
                "errors file and upload it again."
            )
            % {"n": plan.invalid_rows},
        )
        return

    def progress(done: int) -> None:
        on_progress("write", done, plan.rows_total)

    if batch.mode == ImportMode.ALL_OR_NOTHING:
        with transaction.atomic():
            created = _write_new(batch, plan, settled, progress, lease)
    else:
        created = _write_new(batch, plan, settled, progress, lease)
    analyze(Order, OrderLine, rows=created)  # before allocation plans its reads of them
    created += len(plan.written)

    lease.check()
    cancelled = _cancel_closed(batch, plan)
    allocation = {"allocated": 0, "backordered": 0, "others": 0}
    if allocate:
        served = _allocate(batch, lease, on_progress, in_request=in_request)
        if served is None:
            _allocation_to_worker(batch)
            return
        outcome = _outcome(allocation_counts(batch))
        # Waves, pick lists and packing read these next, within seconds.
        analyze(Order, Allocation, rows=outcome["allocated"] + outcome["backordered"])
        allocation = {
            "allocated": outcome["allocated"],
            "backordered": outcome["backordered"],
            "others": served["others"],
        }
    _finish(batch, ImportStatus.DONE, _summary(plan, created, cancelled, allocation))


def _write_new(batch: ImportBatch, plan: Plan, done: int, progress, lease: leases.Held) -> int:
    """Write the plan's new orders chunk by chunk, each chunk in its own transaction (a
    savepoint when the caller holds one), checking the lease before each. An order number
    that another import took since the plan was made turns into a duplicate instead of
    failing the chunk."""
    created = 0
    for start in range(0, len(plan.new), WRITE_CHUNK):
        lease.check()
        groups = plan.new[start : start + WRITE_CHUNK]
        rows = sum(len(group.rows) for group in groups)
        for attempt in (1, 2):
            try:
                with transaction.atomic():
                    written = write_orders(
                        channel=batch.channel,
                        drafts=[group.draft for group in groups],
                        import_batch=batch,
                        acting_user=batch.uploaded_by,
                    )
                    ImportBatch.objects.filter(pk=batch.pk).update(
                        rows_done=F("rows_done") + rows,
                        created_count=F("created_count") + written.orders,
                    )
                break
            except IntegrityError:
                taken = _existing(batch.channel, [group.external_no for group in groups])
                if attempt == 2 or not taken:
                    raise
                groups = [group for group in groups if group.external_no not in taken]
                ImportBatch.objects.filter(pk=batch.pk).update(
                    duplicate_count=F("duplicate_count") + len(taken)
                )
        created += written.orders
        done += rows
        progress(done)
    return created


def _cancel_closed(batch: ImportBatch, plan: Plan) -> int:
    """Cancel earlier orders the platform has closed since; their stock goes back."""
    cancelled = 0
    orders = Order.objects.in_bulk([order_id for order_id, _status in plan.to_cancel])
    for order_id, platform_status in plan.to_cancel:
        order = orders[order_id]
        try:
            with transaction.atomic():
                refunded = platform_status.lower() in REFUNDED_STATUSES
                order_cancel(
                    order=order,
                    acting_user=batch.uploaded_by,
                    note=_("Closed on the platform (%(status)s).") % {"status": platform_status},
                    to=OrderStatus.REFUNDED if refunded else OrderStatus.CANCELLED,
                )
                Order.objects.filter(pk=order_id).update(platform_status=platform_status)
        except DomainError:
            plan.not_cancellable.append(order.external_no)
            continue
        cancelled += 1
    return cancelled


def _allocate(
    batch: ImportBatch, lease: leases.Held, on_progress: Progress, *, in_request: bool
) -> dict[str, int] | None:
    """Allocate the batch's new orders together with every other order waiting for stock
    (``orders.waiting``), first paid first served, ``ALLOCATE_CHUNK`` orders per transaction,
    under the allocation lease. In a task worker it waits for that lease (its holder serves
    the same orders); a request does not wait, nor allocate more than ``inline_rows()``
    orders: it returns None and the task worker takes over. Returns the counts of this pass
    and ``others``, how many waiting orders of elsewhere it served."""
    try:
        with leases.hold(
            ALLOCATION_LEASE, kind=ALLOCATION_LEASE, wait=None if in_request else math.inf
        ) as allocation:
            order_ids = waiting_order_ids(batch=batch)
            if in_request and len(order_ids) > inline_rows():
                return None
            own = Order.objects.filter(import_batch=batch, status=OrderStatus.NEW).count()
            total = len(order_ids)
            on_progress("allocate", 0, total)

            def progress(done: int) -> None:
                lease.check()
                on_progress("allocate", done, total)

            counts = allocate_in_paid_order(
                order_ids, acting_user=batch.uploaded_by, lease=allocation, on_progress=progress
            )
    except leases.LeaseBusy:
        return None
    return {**counts, "others": max(0, total - own)}


def _allocation_to_worker(batch: ImportBatch) -> None:
    """The orders are written but their allocation is too much for a request: queue the
    import for the task worker, whose run writes nothing more and allocates."""
    with transaction.atomic():
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportStatus.QUEUED,
            attempts=0,
            message=_(
                "The orders are written. Many orders wait for stock, so the task worker "
                "allocates them, first paid first served."
            ),
        )
        _enqueue(batch.pk)


def _summary(plan: Plan, created: int, cancelled: int, allocation: dict[str, int]) -> str:
    if created:
        parts = [
            _("%(created)d orders created: %(allocated)d allocated, %(backordered)d back-ordered.")
            % {"created": created, **allocation}
        ]
    else:
        parts = [_("No new orders.")]
    if allocation.get("others"):
        parts.append(
            _(
                "%(n)d earlier orders that were waiting for stock were allocated with them, "
                "first paid first served."
            )
            % {"n": allocation["others"]}
        )
    if plan.duplicates:
        parts.append(
            _("%(n)d orders were imported before and were left as they are.")
            % {"n": len(plan.duplicates)}
        )
    if cancelled:
        parts.append(
            _("%(n)d earlier orders cancelled because the platform closed them.") % {"n": cancelled}
        )
    if plan.not_cancellable:
        parts.append(
            _("%(n)d orders closed on the platform are already packed: check them by hand.")
            % {"n": len(plan.not_cancellable)}
        )
    if plan.errors:
        parts.append(
            _("%(n)d bad rows were left out: fix them in the errors file and upload it again.")
            % {"n": plan.invalid_rows}
        )
    parts += _session_notes(plan, limit=1)
    return " ".join(parts)[:500]


def _finish(batch: ImportBatch, status: str, message: str) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=status,
        finished_at=timezone.now(),
        message=message[:500],
        rows_done=F("rows_total"),
    )


# --- reading the outcome ---------------------------------------------------------------------


def allocation_counts(batch: ImportBatch) -> dict[str, int]:
    """How the batch's orders stand now, by status."""
    rows = (
        Order.objects.filter(import_batch=batch)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {status: n for status, n in rows}


def _outcome(by_status: dict[str, int]) -> dict[str, int]:
    """The batch's orders by where allocation left them (they move on later)."""
    created = sum(by_status.values())
    waiting = by_status.get(OrderStatus.NEW, 0)
    backordered = by_status.get(OrderStatus.BACKORDERED, 0)
    closed = by_status.get(OrderStatus.CANCELLED, 0) + by_status.get(OrderStatus.REFUNDED, 0)
    return {
        "created": created,
        "allocated": created - waiting - backordered - closed,
        "backordered": backordered,
        "waiting": waiting,
    }


def import_stalled(batch: ImportBatch) -> bool:
    """Running, but no live process holds its lease: its process stopped, and a task
    worker's sweep will queue it again (within ``LEASE_SWEEP_SECONDS``)."""
    return batch.status == ImportStatus.RUNNING and not leases.is_live(import_lease_name(batch.pk))


def import_resumable(batch: ImportBatch) -> bool:
    """A committed import that failed: a manager may resume it (``import_resume``)."""
    return batch.status == ImportStatus.FAILED and not batch.dry_run


def status_json(batch: ImportBatch) -> dict:
    """The small progress document the pages poll and the API returns. ``resuming``: its
    process stopped and a task worker resumes it (never a bar frozen at 75 %); ``resumable``:
    it failed, and a manager may resume it."""
    by_status = allocation_counts(batch) if batch.status != ImportStatus.PREVIEWED else {}
    outcome = _outcome(by_status)
    created, waiting = outcome["created"], outcome["waiting"]
    if batch.status == ImportStatus.RUNNING:
        phase = "allocate" if batch.rows_done >= batch.rows_total and created else "write"
    else:
        phase = batch.status
    resuming = batch.status == ImportStatus.INTERRUPTED or import_stalled(batch)
    resumable = import_resumable(batch)
    if resuming:
        display = ImportStatus.INTERRUPTED.label
    elif resumable:
        display = _("Failed — can be resumed")
    else:
        display = batch.get_status_display()
    return {
        "id": batch.pk,
        "status": batch.status,
        "status_display": str(display),
        "phase": phase,
        "finished": batch.status in FINISHED,
        "resuming": resuming,
        "resumable": resumable,
        "attempts": batch.attempts,
        "mode": batch.mode,
        "file_name": batch.file_name,
        "channel": batch.channel.code,
        "layout": batch.preset,
        "encoding": batch.encoding,
        "rows_total": batch.rows_total,
        "rows_done": batch.rows_done,
        "percent": batch.progress_percent,
        "created": batch.created_count,
        "duplicate": batch.duplicate_count,
        "invalid": batch.invalid_count,
        "skipped": batch.skipped_count,
        # Orders of this import by where allocation left them (they move on later).
        "allocated": outcome["allocated"],
        "backordered": outcome["backordered"],
        "waiting_allocation": waiting,
        "allocation_percent": round(100 * (created - waiting) / created) if created else 0,
        "message": batch.message,
        "created_at": batch.created_at.isoformat() if batch.created_at else None,
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
    }


def errors_csv(batch: ImportBatch) -> bytes:
    """The bad rows, with the original columns plus 错误 (reasons), 行号 (row) and 列
    (columns), as UTF-8 with a BOM so Excel opens it. Cells that start like a formula get an
    apostrophe, and long numbers stay text."""
    errors = list(batch.errors.order_by("row_number", "id"))
    try:
        header = _read_batch_file(batch, max_rows=0).header
    except (DomainError, OSError, ValueError):
        header = []
    keys: list[str] = []
    for error in errors:
        for key in error.raw:
            if key not in keys:
                keys.append(key)
    columns = [name for name in header if name] or keys
    columns += [key for key in keys if key not in columns]
    by_row: dict[int, list[ImportRowError]] = {}
    for error in errors:
        by_row.setdefault(error.row_number, []).append(error)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(name) for name in [*columns, *ERROR_HEADERS]])
    for number, row_errors in by_row.items():
        raw = row_errors[0].raw
        reasons = "；".join(dict.fromkeys(error.reason for error in row_errors))
        where = "、".join(dict.fromkeys(error.column for error in row_errors if error.column))
        cells = [_keep_digits(str(raw.get(name, ""))) for name in columns]
        writer.writerow([neutralise(cell) for cell in [*cells, reasons, str(number), where]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _keep_digits(value: str) -> str:
    """A long run of digits gets a leading tab, as platforms do, so Excel keeps it text."""
    if len(value) >= 12 and value.isdigit():
        return "\t" + value
    return value


# --- stopped imports: the sweep and a manager's resume ---------------------------------------


def _task_waiting_or_running(task_id: str) -> bool:
    if not task_id:
        return False
    return DBTaskResult.objects.filter(
        pk=task_id, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
    ).exists()


def sweep_imports() -> int:
    """Find the imports whose run stopped — queued, running or stopped, with no live process
    holding their lease and no task waiting or running for them — and queue each again for
    the task worker ("stopped — resuming"), or fail it ("failed — resume") once
    ``LEASE_MAX_ATTEMPTS`` runs have started. A batch whose task is queued again already
    (``core.leases.requeue_orphaned_tasks``) is only marked stopped. Each batch is locked with
    ``SKIP LOCKED``: a batch that another sweep or a starting run holds is left to it.
    Returns how many were recovered."""
    recovered = 0
    candidates = ImportBatch.objects.filter(status__in=UNFINISHED_IMPORTS).values_list(
        "pk", flat=True
    )
    for batch_id in list(candidates):
        if leases.is_live(import_lease_name(batch_id)):
            continue
        with transaction.atomic():
            batch = (
                ImportBatch.objects.select_for_update(skip_locked=True)
                .filter(pk=batch_id, status__in=UNFINISHED_IMPORTS)
                .first()
            )
            if batch is None or leases.is_live(import_lease_name(batch_id)):
                continue
            if _task_waiting_or_running(batch.task_id):
                if (
                    batch.status == ImportStatus.RUNNING
                    and not DBTaskResult.objects.filter(
                        pk=batch.task_id, status=TaskResultStatus.RUNNING
                    ).exists()
                ):
                    _mark_interrupted(batch)
                    recovered += 1
                continue
            if batch.attempts >= leases.max_attempts():
                _fail_stopped(batch)
            else:
                _mark_interrupted(batch)
                _enqueue(batch.pk)
            recovered += 1
    return recovered


def _mark_interrupted(batch: ImportBatch) -> None:
    logger.warning("Import %s stopped (its process is gone): queued to resume", batch.pk)
    batch.status = ImportStatus.INTERRUPTED
    batch.message = _(
        "Stopped: the process running it ended. A task worker resumes it where it stopped; "
        "the orders written so far are kept."
    )
    batch.save(update_fields=["status", "message"])


def import_resume(*, batch: ImportBatch, acting_user) -> ImportBatch:
    """Resume a committed import that failed, in the task worker: the orders it wrote are
    kept (and recognised, not counted as duplicates), the rest are written, and the waiting
    orders allocated first paid first served. Anything else is refused (``wrong_state``).
    Never runs in the request: a resumed import may be large."""
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if not import_resumable(locked):
            raise DomainError(
                _("Only an import that failed after it was committed can be resumed."),
                field="status",
                code="wrong_state",
            )
        name = acting_user.get_short_name() or acting_user.get_username()
        locked.status = ImportStatus.QUEUED
        locked.attempts = 0
        locked.finished_at = None
        locked.message = (_("Resumed by %(user)s.") % {"user": name})[:500]
        locked.save(update_fields=["status", "attempts", "finished_at", "message"])
        _enqueue(locked.pk)
    logger.info("Import %s resumed by %s", batch.pk, acting_user.get_username())
    return ImportBatch.objects.select_related("channel", "uploaded_by").get(pk=batch.pk)


@task()
def import_orders_file(batch_id: int) -> dict:
    """The task worker's side of ``import_commit``: run the queued import (``import_run``):
    write the new orders, cancel what the platform closed, allocate. Progress is kept on the
    batch."""
    return status_json(import_run(batch_id=batch_id))
