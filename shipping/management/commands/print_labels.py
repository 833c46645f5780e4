"""Print shipping labels from the shell into one PDF, one label per page, in pick order.

    manage.py print_labels [--wave CODE] [--unprinted] [--carrier CODE] --out FILE

At least one of ``--wave``, ``--unprinted`` and ``--carrier`` chooses the parcels. The
parcels printed are marked printed, as on the label page.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shipping.models import Carrier, Wave
from shipping.selectors import ParcelFilters, parcels_filtered
from shipping.tasks import labels_pdf


class Command(BaseCommand):
    help = "Write the shipping labels of a wave, a carrier or the unprinted parcels to one PDF."

    def add_arguments(self, parser):
        parser.add_argument("--wave", default="", help="the wave's code, e.g. W2611-0001")
        parser.add_argument(
            "--unprinted", action="store_true", help="only parcels whose label was not printed"
        )
        parser.add_argument("--carrier", default="", help="the carrier's code, e.g. sf")
        parser.add_argument("--out", required=True, help="the PDF file to write")

    def handle(self, *args, wave: str, unprinted: bool, carrier: str, out: str, **options):
        filters = ParcelFilters(
            wave_code=wave.strip(), carrier_code=carrier.strip(), unprinted=unprinted
        )
        if filters.is_empty:
            raise CommandError("Choose the parcels: --wave, --unprinted and/or --carrier.")
        if filters.wave_code and not Wave.objects.filter(code=filters.wave_code).exists():
            raise CommandError(f"No wave has code {filters.wave_code}.")
        if filters.carrier_code and not Carrier.objects.filter(code=filters.carrier_code).exists():
            raise CommandError(f"No carrier has code {filters.carrier_code}.")
        target = Path(out)
        if not target.parent.is_dir():
            raise CommandError(f"The folder {target.parent} does not exist.")
        ids = list(parcels_filtered(filters).values_list("pk", flat=True))
        if not ids:
            raise CommandError("No parcel matches: nothing to print.")
        target.write_bytes(labels_pdf(ids))
        self.stdout.write(f"{len(ids)} labels written to {target}")
