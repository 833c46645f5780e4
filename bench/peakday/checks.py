"""What must hold when the morning is over, read from the database (the caller's Django is set
up against the server's database): no lot oversold and the ledger reconciled
(``check_stock``), every good order allocated or further along or back-ordered, nothing
created from a bad or closed order, every bad row reported, every packed order a parcel with
a printed label, and not one server error."""

import io
from collections import Counter
from dataclasses import dataclass, field

from bench.peakday.day import DayResult
from bench.peakday.export import PeakExport

ALLOCATED_OR_FURTHER = {"allocated", "picking", "packed", "shipped", "delivered"}


@dataclass
class Checks:
    problems: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    lots: int = 0
    check_stock: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def check_day(export: PeakExport, result: DayResult) -> Checks:
    from django.core.management import CommandError, call_command
    from django.db.models import F, Q

    from inventory.models import Lot
    from orders.models import Order
    from shipping.models import Parcel

    checks = Checks()
    problems = checks.problems
    problems.extend(result.failures)

    # Stock: never oversold, and the cached figures are what the ledger says.
    checks.lots = Lot.objects.count()
    oversold = Lot.objects.filter(
        Q(reserved_kg__gt=F("on_hand_kg")) | Q(reserved_kg__lt=0) | Q(on_hand_kg__lt=0)
    )
    for lot in oversold:
        problems.append(f"lot {lot.code}: reserved {lot.reserved_kg} of {lot.on_hand_kg} kg")
    out = io.StringIO()
    try:
        call_command("check_stock", stdout=out, stderr=out)
    except CommandError as exc:
        problems.append(f"check_stock: {exc}: {out.getvalue()[:500]}")
    checks.check_stock = out.getvalue().strip().splitlines()[-1] if out.getvalue() else ""

    # Orders: the good ones are all there and allocated (or further along) or back-ordered.
    orders = dict(Order.objects.values_list("external_no", "status"))
    checks.statuses = Counter(orders.values())
    missing = [number for number in export.good if number not in orders]
    if missing:
        problems.append(f"{len(missing)} good orders were not imported, e.g. {missing[0]}")
    stuck = [
        (number, status)
        for number, status in orders.items()
        if status not in ALLOCATED_OR_FURTHER | {"backordered"}
    ]
    if stuck:
        problems.append(f"{len(stuck)} orders neither allocated nor back-ordered, e.g. {stuck[0]}")
    extra = len(orders) - len(export.good)
    if extra:
        problems.append(f"{extra} orders were created beyond the good ones (bad or closed)")

    # The import: every bad row reported, and where.
    status = result.import_status
    if status.get("status") != "done":
        problems.append(f"the import ended {status.get('status')!r}: {status.get('message')}")
    if status.get("invalid") != export.expected_invalid_rows:
        problems.append(
            f"the import reported {status.get('invalid')} bad rows, "
            f"the export holds {export.expected_invalid_rows}"
        )
    if status.get("skipped") != export.closed_orders:
        problems.append(
            f"the import skipped {status.get('skipped')} closed orders of {export.closed_orders}"
        )
    if result.preview.get("invalid") != export.expected_invalid_rows:
        problems.append(f"the preview reported {result.preview.get('invalid')} bad rows")
    for bad in export.bad_rows:
        columns = result.error_rows.get(bad.row_number)
        if columns is None:
            problems.append(f"row {bad.row_number} ({bad.kind}) was not reported")
        elif bad.column not in columns:
            problems.append(f"row {bad.row_number} ({bad.kind}) reported in {sorted(columns)}")
    if len(result.error_rows) != export.expected_invalid_rows:
        problems.append(
            f"{len(result.error_rows)} rows in the errors list, "
            f"{export.expected_invalid_rows} expected"
        )
    if result.errors_csv_rows != export.expected_invalid_rows:
        problems.append(f"{result.errors_csv_rows} rows in the errors CSV")

    # Packing and labels: one parcel per packed order, one label page per parcel.
    parcels = Parcel.objects.count()
    packed = checks.statuses.get("packed", 0)
    if not (parcels == packed == result.packed):
        problems.append(f"{parcels} parcels, {packed} packed orders, {result.packed} packs")
    in_waves = sum(len(wave["orders"]) for wave in result.waves)
    if result.packed != in_waves:
        problems.append(f"{result.packed} of {in_waves} orders in waves were packed")
    allocated_left = sum(checks.statuses.get(s, 0) for s in ("allocated", "picking"))
    if allocated_left:
        problems.append(f"{allocated_left} allocated orders were left unpacked")
    if result.labels != parcels:
        problems.append(f"{result.labels} label pages for {parcels} parcels")
    unprinted = Parcel.objects.filter(label_printed_at__isnull=True).count()
    if unprinted:
        problems.append(f"{unprinted} parcels have no printed label")

    # HTTP: no server error, nothing unexpected, no broken connection.
    recorder = result.recorder
    for kind, items in (
        ("server errors", recorder.server_errors),
        ("unexpected answers", recorder.unexpected),
        ("broken connections", recorder.broken),
    ):
        if items:
            problems.append(f"{len(items)} {kind}, e.g. {items[0]}")
    return checks


@dataclass
class TaskRuns:
    count: int = 0
    run_seconds: float = 0.0
    longest: float = 0.0
    waited: float = 0.0  # longest time from enqueued to started
    failed: int = 0


def task_runs() -> dict[str, TaskRuns]:
    """The background tasks of the run, by task: how many, how long they ran, how long the
    longest waited in the queue."""
    from django_tasks_db.models import DBTaskResult

    runs: dict[str, TaskRuns] = {}
    for path, status, enqueued, started, finished in DBTaskResult.objects.values_list(
        "task_path", "status", "enqueued_at", "started_at", "finished_at"
    ):
        name = path.rsplit(".", 1)[-1]
        run = runs.setdefault(name, TaskRuns())
        run.count += 1
        run.failed += status == "FAILED"
        if started and finished:
            seconds = (finished - started).total_seconds()
            run.run_seconds += seconds
            run.longest = max(run.longest, seconds)
        if started and enqueued:
            run.waited = max(run.waited, (started - enqueued).total_seconds())
    return runs
