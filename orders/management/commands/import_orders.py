"""Import a platform's order export from the shell, as the import page does.

    manage.py import_orders --channel kuaishou FILE [--dry-run] [--all-or-nothing]
        [--user NAME] [--errors-csv PATH]

``--dry-run`` checks every row against the database and prints what would happen, writing
nothing. Otherwise the file is stored as an import, its new orders are written and allocated
(with a progress bar on stderr) and the same summary is printed. The exit code is 1 when the
file is rejected: unreadable, columns not recognised, or bad rows with ``--all-or-nothing``.
"""

import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.roles import Role
from orders.importers import service
from orders.importers.presets import FIELD_LABELS, map_columns
from orders.importers.reading import max_upload_bytes, read_table
from orders.models import Channel, ImportMode, ImportStatus

SHOWN_ERRORS = 20


class ProgressBar:
    """``[#######.............]  35%  1,200/3,400 rows · writing`` on one line of stderr."""

    WIDTH = 30
    PHASES = {"check": "checking", "write": "writing orders", "allocate": "allocating"}

    def __init__(self, stream, enabled: bool = True):
        self.stream = stream
        self.enabled = enabled
        self.shown_at = 0.0
        self.last = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.shown_at < 0.1 and done < total:
            return
        self.shown_at = now
        share = done / total if total else 1.0
        filled = int(self.WIDTH * share)
        unit = "orders" if phase == "allocate" else "rows"
        line = (
            f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {share:4.0%}  "
            f"{done:,}/{total:,} {unit} · {self.PHASES.get(phase, phase)}"
        )
        self.stream.write("\r" + line.ljust(len(self.last)), ending="")
        self.stream.flush()
        self.last = line

    def close(self) -> None:
        if self.enabled and self.last:
            self.stream.write("")
            self.last = ""


class Command(BaseCommand):
    help = "Import a platform's order export (CSV or XLSX) into a sales channel."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the export file (CSV or XLSX)")
        parser.add_argument(
            "--channel", required=True, help="channel code: kuaishou, douyin, wechat, other"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report; write nothing"
        )
        parser.add_argument(
            "--all-or-nothing",
            action="store_true",
            help="import nothing when any row is bad (default: import the good orders)",
        )
        parser.add_argument(
            "--user", help="who imports (default: the first superuser, else the first manager)"
        )
        parser.add_argument("--errors-csv", type=Path, help="write the bad rows to this CSV")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        path = Path(options["file"])
        channel = Channel.objects.filter(code=options["channel"]).first()
        if channel is None:
            codes = ", ".join(Channel.objects.values_list("code", flat=True))
            raise CommandError(f"No channel {options['channel']!r}. Channels: {codes}.")
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        if path.stat().st_size > max_upload_bytes():
            raise CommandError(
                f"{path.name}: "
                + _("The file is %(size)s MB; the limit is %(limit)s MB.")
                % {
                    "size": round(path.stat().st_size / 1048576, 1),
                    "limit": round(max_upload_bytes() / 1048576, 1),
                }
            )
        data = path.read_bytes()
        if options["dry_run"]:
            self.dry_run(channel, data, path.name)
            return
        user = self.acting_user(options["user"])
        bar = ProgressBar(self.stderr, enabled=not options["no_progress"])
        try:
            batch = service.import_upload(
                channel=channel,
                uploaded=SimpleUploadedFile(path.name, data),
                acting_user=user,
            )
            if batch.status == ImportStatus.UPLOADED:
                columns, _samples = service.batch_columns(batch)
                self.report_columns(columns)
                raise CommandError(
                    f"Import {batch.pk}: choose the columns on the import page "
                    f"(/imports/{batch.pk}/mapping/); the choice is kept for {channel.code}."
                )
            mode = ImportMode.ALL_OR_NOTHING if options["all_or_nothing"] else ImportMode.KEEP_GOOD
            batch = service.import_commit(
                batch=batch, mode=mode, acting_user=user, run_now=True, on_progress=bar
            )
        except DomainError as error:
            raise CommandError(f"{path.name}: {error.message}") from error
        finally:
            bar.close()
        self.report_batch(batch)
        if options["errors_csv"] and batch.invalid_count:
            Path(options["errors_csv"]).write_bytes(service.errors_csv(batch))
            self.stdout.write(f"Bad rows written to {options['errors_csv']}")
        if batch.status != ImportStatus.DONE:
            raise CommandError(f"{path.name}: {batch.get_status_display()}. {batch.message}")

    # --- helpers -----------------------------------------------------------------------------

    def acting_user(self, username: str | None):
        User = get_user_model()
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(f"No active user {username!r}.")
            return user
        user = (
            User.objects.filter(is_active=True)
            .filter(Q(is_superuser=True) | Q(groups__name=Role.MANAGER))
            .order_by("-is_superuser", "pk")
            .first()
        )
        if user is None:
            raise CommandError("No superuser or manager to import as: name one with --user.")
        return user

    def dry_run(self, channel: Channel, data: bytes, name: str) -> None:
        try:
            table = read_table(data, name)
        except DomainError as error:
            raise CommandError(f"{name}: {error.message}") from error
        columns = map_columns(table.header, channel_code=channel.code, saved=channel.column_mapping)
        if not columns.complete:
            self.report_columns(columns)
            raise CommandError(f"{name}: some needed columns were not recognised.")
        plan = service.plan_import(channel=channel, table=table, columns=columns)
        counts = plan.counts()
        self.stdout.write(
            f"Dry run of {name} into {channel.code} (layout {columns.preset.code}, "
            f"{table.encoding or table.kind}): nothing was written."
        )
        self.stdout.write(
            f"  rows {counts['rows']} · new orders {counts['created']} ({counts['lines']} lines) "
            f"· already imported {counts['duplicate']} · closed on the platform "
            f"{counts['skipped']} · bad rows {counts['invalid']}"
        )
        if counts["to_cancel"]:
            self.stdout.write(f"  earlier orders to cancel: {counts['to_cancel']}")
        self.report_errors(
            [(error.row_number, error.column, error.reason) for error in plan.errors]
        )

    def report_columns(self, columns) -> None:
        missing = ", ".join(f"{FIELD_LABELS[name]} ({name})" for name in columns.missing)
        self.stdout.write(f"Fields without a column: {missing}")
        if columns.unknown:
            self.stdout.write(f"Columns not recognised: {', '.join(columns.unknown)}")

    def report_batch(self, batch) -> None:
        state = service.status_json(batch)
        self.stdout.write(
            f"Import {batch.pk} of {batch.file_name} into {batch.channel.code}: "
            f"{batch.get_status_display()} ({batch.get_mode_display()})"
        )
        self.stdout.write(
            f"  rows {batch.rows_total} · created {batch.created_count} · already imported "
            f"{batch.duplicate_count} · closed on the platform {batch.skipped_count} · bad rows "
            f"{batch.invalid_count}"
        )
        if batch.status == ImportStatus.DONE:
            self.stdout.write(
                f"  allocated {state['allocated']} · back-ordered {state['backordered']}"
            )
        if batch.message:
            self.stdout.write(f"  {batch.message}")
        self.report_errors(
            list(batch.errors.values_list("row_number", "column", "reason")[: SHOWN_ERRORS + 1])
        )

    def report_errors(self, errors: list[tuple[int, str, str]]) -> None:
        for row, column, reason in errors[:SHOWN_ERRORS]:
            self.stdout.write(f"  row {row}{f' [{column}]' if column else ''}: {reason}")
        if len(errors) > SHOWN_ERRORS:
            self.stdout.write("  … and more (see the errors CSV)")
