from django.core.management.base import BaseCommand, CommandError

from inventory.checks import run_stock_checks
from inventory.models import Lot
from inventory.selectors import stock_mismatches


class Command(BaseCommand):
    help = (
        "Recompute every lot's on-hand kg from the stock ledger, then run the checks other apps "
        "registered (inventory.checks); exit 1 if any lot differs or any check finds a problem."
    )

    def handle(self, *args, **options):
        mismatches = stock_mismatches()
        for m in mismatches:
            self.stdout.write(
                f"{m.lot_code}: cached on-hand {m.cached_on_hand} kg, "
                f"ledger {m.ledger_on_hand} kg, reserved {m.reserved} kg — {m.problem}"
            )
        problems = run_stock_checks()
        for problem in problems:
            self.stdout.write(problem)
        failures = []
        if mismatches:
            failures.append(f"{len(mismatches)} lot(s) do not match the ledger.")
        if problems:
            failures.append(f"{len(problems)} problem(s) found by the registered stock checks.")
        if failures:
            raise CommandError(" ".join(failures))
        self.stdout.write(
            self.style.SUCCESS(f"Stock matches the ledger for all {Lot.objects.count()} lots.")
        )
