"""Check, rebuild or fold the daily roll-up of sales that the range dashboard reads
(``orders.rollup``)::

    manage.py rollup_sales --check   [--from 2026-06-01] [--to 2026-06-30]
    manage.py rollup_sales --rebuild [--from …] [--to …]
    manage.py rollup_sales --fold

Without dates, every day with orders. ``--check`` exits with status 1 when a day differs.
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from orders.rollup import rollup_check, rollup_fold, rollup_rebuild


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"Not a date (YYYY-MM-DD): {text!r}") from exc


class Command(BaseCommand):
    help = "Check, rebuild or fold the daily roll-up of sales (orders.rollup)."

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--check", action="store_true", help="compare with the orders")
        action.add_argument("--rebuild", action="store_true", help="count again from the orders")
        action.add_argument("--fold", action="store_true", help="one row per key and day")
        parser.add_argument("--from", dest="date_from", type=_day, default=None)
        parser.add_argument("--to", dest="date_to", type=_day, default=None)

    def handle(self, *args, check, rebuild, fold, date_from, date_to, **options):
        if date_from and date_to and date_to < date_from:
            raise CommandError("--to is before --from.")
        if fold:
            self.stdout.write(f"Folded {rollup_fold()} rows.")
        elif rebuild:
            days = rollup_rebuild(date_from, date_to)
            self.stdout.write(f"Rebuilt {days} days.")
        else:
            problems = rollup_check(date_from, date_to)
            for line in problems:
                self.stdout.write(line)
            if problems:
                raise CommandError(
                    f"The roll-up differs from the orders in {len(problems)} places."
                )
            self.stdout.write("The roll-up matches the orders.")
