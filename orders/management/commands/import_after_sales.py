"""Import a platform's after-sales (售后/退款) export from the shell, as the page does.

    manage.py import_after_sales --channel kuaishou FILE [--layout auto|kuaishou|douyin|generic]
        [--dry-run] [--all-or-nothing] [--user NAME]

Prints one line per row (row, order, after-sale number, outcome, and what it did or why not)
and the counts. ``--dry-run`` applies nothing. Exit code 1 when the file is refused, or has
bad rows with ``--all-or-nothing`` (then nothing is applied).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.errors import DomainError
from orders.aftersale_files import LAYOUTS, apply_file
from orders.management.commands.import_orders import Command as ImportOrders
from orders.models import Channel


class Command(BaseCommand):
    help = "Import a platform's after-sales export (快手, 抖店 or the generic CSV)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--channel", required=True, help="channel code, e.g. kuaishou")
        parser.add_argument("--layout", default="auto", choices=["auto", *LAYOUTS])
        parser.add_argument("--dry-run", action="store_true", help="apply nothing")
        parser.add_argument(
            "--all-or-nothing", action="store_true", help="one bad row keeps the file out"
        )
        parser.add_argument("--user", help="who imports (default: a superuser or manager)")

    def handle(self, *args, **options):
        path = Path(options["file"])
        channel = Channel.objects.filter(code=options["channel"]).first()
        if channel is None:
            raise CommandError(f"No channel {options['channel']!r}.")
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        user = ImportOrders().acting_user(options["user"])
        data = path.read_bytes()

        def run(dry_run: bool):
            return apply_file(
                channel=channel,
                data=data,
                file_name=path.name,
                layout=options["layout"],
                acting_user=user,
                dry_run=dry_run,
            )

        try:
            with transaction.atomic():
                result = run(dry_run=True)
                refused = options["all_or_nothing"] and result.errors
                if not options["dry_run"] and not refused:
                    result = run(dry_run=False)
        except DomainError as error:
            raise CommandError(error.message) from None
        for row in result.rows:
            where = f" [{row.column}]" if row.column else ""
            self.stdout.write(
                f"{row.row}\t{row.order_no}\t{row.after_sale_id}\t{row.outcome}{where}\t"
                f"{row.message}"
            )
        counts = ", ".join(f"{name} {count}" for name, count in sorted(result.counts.items()))
        self.stdout.write(f"{result.layout}: {counts}")
        if refused:
            raise CommandError("Rows have errors: nothing was applied (--all-or-nothing).")
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was applied.")
