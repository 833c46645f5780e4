"""Write a channel's ship-back file (批量发货) from the shell, in its platform's upload layout.

    manage.py export_shipments --channel CODE [--since DATE] [--again] [--format xlsx|csv]
        [--out FILE]

The parcels in the file (handed over, not reported yet; with ``--again``, reported or not)
are marked reported, as on the Ship-back page. Without ``--out`` the file is written to the
current directory under the name the page would give it.
"""

from datetime import date, datetime, time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.errors import DomainError
from orders.models import Channel
from shipping.shipments import FORMATS, shipments_export


def _day(text: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--since {text!r} is not a date like 2026-12-03.") from exc
    return timezone.make_aware(datetime.combine(day, time.min))


class Command(BaseCommand):
    help = "Write a channel's handed-over parcels as its platform's bulk-shipping upload file."

    def add_arguments(self, parser):
        parser.add_argument("--channel", required=True, help="the channel's code, e.g. kuaishou")
        parser.add_argument("--since", default="", help="handed over on or after this day")
        parser.add_argument(
            "--again", action="store_true", help="include parcels reported before (re-export)"
        )
        parser.add_argument("--format", default="", choices=["", *FORMATS])
        parser.add_argument("--out", default="", help="the file to write")

    def handle(self, *args, channel: str, since: str, again: bool, format: str, out: str, **o):
        found = Channel.objects.filter(code=channel.strip()).first()
        if found is None:
            raise CommandError(f"No channel has code {channel!r}.")
        target = Path(out) if out else None
        if target is not None and not target.parent.is_dir():
            raise CommandError(f"{target.parent} is not a directory.")
        try:
            export = shipments_export(
                channel=found,
                acting_user=None,
                since=_day(since) if since else None,
                again=again,
                fmt=format,
            )
        except DomainError as error:
            raise CommandError(error.message) from error
        target = target or Path(export.file_name)
        target.write_bytes(export.content)
        self.stdout.write(
            f"{target}: {export.report.parcels_count} parcels of "
            f"{export.report.orders_count} orders for {found.name}"
        )
        for row in export.left_out:
            self.stdout.write(
                f"  not in the file (one row per order on this platform): {row.order_no} "
                f"{row.carrier_name} {row.tracking_number} ({row.parcel}/{row.parcels})"
            )
