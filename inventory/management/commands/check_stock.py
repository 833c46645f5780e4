from django.core.management.base import BaseCommand, CommandError

from inventory.models import Lot
from inventory.selectors import stock_mismatches


class Command(BaseCommand):
    help = "Recompute every lot's on-hand kg from the stock ledger; exit 1 if any lot differs."

    def handle(self, *args, **options):
        mismatches = stock_mismatches()
        for m in mismatches:
            self.stdout.write(
                f"{m.lot_code}: cached on-hand {m.cached_on_hand} kg, "
                f"ledger {m.ledger_on_hand} kg, reserved {m.reserved} kg — {m.problem}"
            )
        if mismatches:
            raise CommandError(f"{len(mismatches)} lot(s) do not match the ledger.")
        self.stdout.write(
            self.style.SUCCESS(f"Stock matches the ledger for all {Lot.objects.count()} lots.")
        )
