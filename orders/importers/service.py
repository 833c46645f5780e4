"""An import from upload to allocated orders: the ``ImportBatch`` lifecycle.

    upload ─► (mapping, when the columns are not all recognised) ─► preview (a dry run:
    counts and row errors, nothing written but the batch) ─► commit (choose the mode) ─►
    run (inline for small files, else the ``import_orders_file`` task) ─► done / rejected

``import_run`` reads the stored file again, checks every row against the database as it is
then, and writes new orders in chunks. "Import the good rows" commits chunk by chunk (the
page sees progress); "all or nothing" writes nothing when any row is bad and otherwise
commits every chunk in one transaction. Orders the platform closed are not created; if an
earlier import created them and they are not packed, they are cancelled (their stock goes
back). New orders are then allocated, oldest payment first. Re-importing a file creates
nothing twice: an order number the channel already has is a duplicate.
"""

import csv
import hashlib
import io
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
    Channel,
    ImportBatch,
    ImportMode,
    ImportRowError,
    ImportStatus,
    Order,
    OrderStatus,
)
from orders.services import ALLOCATE_CHUNK, order_cancel, orders_allocate
from orders.sessions import SessionMismatch

logger = logging.getLogger(__name__)


PREVIEW_ERRORS = 20
SAMPLE_ORDERS = 10
DEFAULT_INLINE_ROWS = 2000
FINISHED = frozenset({ImportStatus.DONE, ImportStatus.REJECTED, ImportStatus.FAILED})


# on_progress(phase, done, total); phase is "check", "write" or "allocate".
Progress = Callable[[str, int, int], None]


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


def inline_rows() -> int:
    """Files with at most this many rows are imported in the request; larger ones by the
    task worker."""
    return int(getattr(settings, "ORDER_IMPORT_INLINE_ROWS", DEFAULT_INLINE_ROWS))


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


def _existing(channel: Channel, numbers: list[str]) -> dict[str, tuple[int, str]]:
    """{order number: (id, status)} of the channel's orders among ``numbers``."""
    if not numbers:
        return {}
    if connection.vendor == "postgresql":
        # One query with an array: an IN list of tens of thousands of placeholders costs
        # more to build and parse than the lookup itself.
        table = connection.ops.quote_name(Order._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT external_no, id, status FROM {table} "
                "WHERE channel_id = %s AND external_no = ANY(%s)",
                [channel.pk, numbers],
            )
            return {number: (pk, status) for number, pk, status in cursor.fetchall()}
    found = {}
    for start in range(0, len(numbers), 2000):
        chunk = numbers[start : start + 2000]
        found.update(
            (number, (pk, status))
            for number, pk, status in Order.objects.filter(
                channel=channel, external_no__in=chunk
            ).values_list("external_no", "pk", "status")
        )
    return found


def plan_import(*, channel: Channel, table: Table, columns: ColumnMap) -> Plan:
    """Read every row and decide: new, duplicate, closed on the platform, or bad."""
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
    """Import a previewed batch in ``mode``. Small files (or ``run_now``) run at once; larger
    ones are queued for the task worker once this transaction commits (the page then shows
    progress)."""
    if mode not in ImportMode.values:
        raise DomainError(_("Choose how to import."), field="mode")
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        _refuse_unless(locked, {ImportStatus.PREVIEWED})
        locked.mode = mode
        locked.dry_run = False
        locked.status = ImportStatus.QUEUED
        locked.rows_done = 0
        locked.message = ""
        locked.save(update_fields=["mode", "dry_run", "status", "rows_done", "message"])
        inline = locked.rows_total <= inline_rows() if run_now is None else run_now
        if not inline:
            transaction.on_commit(lambda: _enqueue(locked.pk))
    if inline:
        return import_run(
            batch_id=locked.pk, on_progress=on_progress or _no_progress, allocate=allocate
        )
    locked.refresh_from_db()
    return locked


def _enqueue(batch_id: int) -> None:
    result = import_orders_file.enqueue(batch_id)
    ImportBatch.objects.filter(pk=batch_id).update(task_id=str(result.id)[:64])


def import_run(
    *, batch_id: int, on_progress: Progress = _no_progress, allocate: bool = True
) -> ImportBatch:
    """Do a queued import: check, write, cancel what the platform closed, allocate (unless
    ``allocate`` is False: the new orders then stay new, for ``orders_allocate`` later).
    Claims the batch first, so two workers never run the same one. A failure marks the
    batch failed (what was committed by then stays: it is complete orders only)."""
    claimed = ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING
    )
    batch = ImportBatch.objects.select_related("channel", "uploaded_by").get(pk=batch_id)
    if not claimed:
        return batch
    try:
        _run(batch, on_progress, allocate)
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


def _run(batch: ImportBatch, on_progress: Progress, allocate: bool) -> None:
    channel = batch.channel
    on_progress("check", 0, batch.rows_total)
    table = _read_batch_file(batch)
    plan = plan_import(channel=channel, table=table, columns=_columns_for(channel, table))
    settled = plan.rows_total - plan.new_lines
    counts = plan.counts()
    ImportBatch.objects.filter(pk=batch.pk).update(
        rows_total=plan.rows_total,
        rows_done=settled,
        created_count=0,
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
            created = _write_new(batch, plan, settled, progress)
    else:
        created = _write_new(batch, plan, settled, progress)

    cancelled = _cancel_closed(batch, plan)
    allocation = {"allocated": 0, "backordered": 0}
    if allocate:
        on_progress("allocate", 0, created)
        allocation = _allocate(batch, created, on_progress)
    _finish(batch, ImportStatus.DONE, _summary(plan, created, cancelled, allocation))


def _write_new(batch: ImportBatch, plan: Plan, done: int, progress) -> int:
    """Write the plan's new orders chunk by chunk, each chunk in its own transaction (a
    savepoint when the caller holds one). An order number that another import took since
    the plan was made turns into a duplicate instead of failing the chunk."""
    created = 0
    for start in range(0, len(plan.new), WRITE_CHUNK):
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


def _allocate(batch: ImportBatch, total: int, on_progress: Progress) -> dict[str, int]:
    """Allocate the batch's new orders, oldest payment first, in chunks of ``ALLOCATE_CHUNK``
    orders per transaction (``orders_allocate``'s batch path); progress after each chunk."""
    counts = {"allocated": 0, "backordered": 0}
    waiting = Order.objects.filter(import_batch=batch, status=OrderStatus.NEW).order_by(
        "paid_at", "pk"
    )
    ids = list(waiting.values_list("pk", flat=True))
    for start in range(0, len(ids), ALLOCATE_CHUNK):
        chunk = list(Order.objects.filter(pk__in=ids[start : start + ALLOCATE_CHUNK]))
        try:
            result = orders_allocate(orders=chunk, acting_user=batch.uploaded_by)
        except DomainError:
            # Orders moved meanwhile are skipped by orders_allocate itself; this fallback is for a
            # chunk that still fails (e.g. corrupted data): go one by one, skipping the bad ones.
            result = {"allocated": 0, "backordered": 0}
            for order in sorted(chunk, key=lambda o: (o.paid_at, o.pk)):
                order.refresh_from_db(fields=["status"])
                if order.status != OrderStatus.NEW:
                    continue
                try:
                    one = orders_allocate(orders=[order], acting_user=batch.uploaded_by)
                except DomainError:
                    continue
                for key in result:
                    result[key] += one[key]
        for key in counts:
            counts[key] += result[key]
        on_progress("allocate", counts["allocated"] + counts["backordered"], total)
    return counts


def _summary(plan: Plan, created: int, cancelled: int, allocation: dict[str, int]) -> str:
    if created:
        parts = [
            _("%(created)d orders created: %(allocated)d allocated, %(backordered)d back-ordered.")
            % {"created": created, **allocation}
        ]
    else:
        parts = [_("No new orders.")]
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


def status_json(batch: ImportBatch) -> dict:
    """The small progress document the pages poll and the API returns."""
    by_status = allocation_counts(batch) if batch.status != ImportStatus.PREVIEWED else {}
    created = sum(by_status.values())
    waiting = by_status.get(OrderStatus.NEW, 0)
    backordered = by_status.get(OrderStatus.BACKORDERED, 0)
    closed = by_status.get(OrderStatus.CANCELLED, 0) + by_status.get(OrderStatus.REFUNDED, 0)
    if batch.status == ImportStatus.RUNNING:
        phase = "allocate" if batch.rows_done >= batch.rows_total and created else "write"
    else:
        phase = batch.status
    return {
        "id": batch.pk,
        "status": batch.status,
        "status_display": batch.get_status_display(),
        "phase": phase,
        "finished": batch.status in FINISHED,
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
        "allocated": created - waiting - backordered - closed,
        "backordered": backordered,
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


@task()
def import_orders_file(batch_id: int) -> dict:
    """The task worker's side of ``import_commit``: run the queued import (``import_run``):
    write the new orders, cancel what the platform closed, allocate. Progress is kept on the
    batch."""
    return status_json(import_run(batch_id=batch_id))
