"""Print shipping labels from the shell, in pick order: into one PDF, one label per page, or
straight to a thermal printer.

    manage.py print_labels (--wave CODE | --unprinted | --carrier CODE) --out FILE
    manage.py print_labels (...) --to tcp://HOST:PORT --language zpl|tspl [--dpi 203]
                                 [--size 100x150]
    manage.py print_labels (...) --to cups://QUEUE --language tspl
    manage.py print_labels (...) --printer NAME

At least one of ``--wave``, ``--unprinted`` and ``--carrier`` chooses the parcels. ``--printer``
names a printer of the studio and makes a print job (seen in the print queue, sent again from
there if it fails); ``--to`` sends to an address directly. The parcels whose labels were
written or sent are marked printed.
"""

from pathlib import Path
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError

from shipping.labels import labels_data
from shipping.models import (
    DEFAULT_PRINTER_PORT,
    Carrier,
    LabelSize,
    Parcel,
    Printer,
    PrinterDpi,
    PrinterLanguage,
    PrintJobState,
    Wave,
    ZplGraphics,
)
from shipping.printing.services import MAX_LABELS, labels_print
from shipping.printing.stream import PrinterFormat, printer_labels
from shipping.printing.transport import PrinterAddress, PrinterError, send
from shipping.selectors import ParcelFilters, parcels_filtered
from shipping.services import parcel_labels_printed
from shipping.tasks import labels_pdf


def printer_address(target: str) -> PrinterAddress:
    """``tcp://HOST[:PORT]`` (9100 by default) or ``cups://QUEUE``."""
    parts = urlsplit(target)
    if parts.scheme == "tcp" and parts.hostname:
        try:
            port = parts.port or DEFAULT_PRINTER_PORT
        except ValueError:
            raise CommandError(f"{target}: the port is not a number from 1 to 65535.") from None
        return PrinterAddress(name=target, host=parts.hostname, port=port)
    if parts.scheme == "cups" and (parts.netloc or parts.path.strip("/")):
        return PrinterAddress(name=target, cups_queue=parts.netloc or parts.path.strip("/"))
    raise CommandError(f"--to {target}: write tcp://HOST:PORT or cups://QUEUE.")


class Command(BaseCommand):
    help = (
        "Print the shipping labels of a wave, a carrier or the unprinted parcels, in pick order:"
        " to one PDF (--out) or to a thermal printer (--to, --printer)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--wave", default="", help="the wave's code, e.g. W2611-0001")
        parser.add_argument(
            "--unprinted", action="store_true", help="only parcels whose label was not printed"
        )
        parser.add_argument("--carrier", default="", help="the carrier's code, e.g. sf")
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--out", help="the PDF file to write")
        where.add_argument("--to", help="a printer: tcp://HOST:PORT (9100) or cups://QUEUE")
        where.add_argument("--printer", help="the name of one of the studio's printers")
        parser.add_argument("--language", choices=list(PrinterLanguage.values), help="with --to")
        parser.add_argument(
            "--dpi",
            type=int,
            choices=list(PrinterDpi.values),
            default=PrinterDpi.DPI_203,
            help="with --to (default 203)",
        )
        parser.add_argument(
            "--size",
            choices=list(LabelSize.values),
            default=LabelSize.MM_100x150,
            help="with --to: the labels loaded (default 100x150)",
        )

    def handle(self, *args, wave: str, unprinted: bool, carrier: str, **options):
        filters = ParcelFilters(
            wave_code=wave.strip(), carrier_code=carrier.strip(), unprinted=unprinted
        )
        if filters.is_empty:
            raise CommandError("Choose the parcels: --wave, --unprinted and/or --carrier.")
        if filters.wave_code and not Wave.objects.filter(code=filters.wave_code).exists():
            raise CommandError(f"No wave has code {filters.wave_code}.")
        if filters.carrier_code and not Carrier.objects.filter(code=filters.carrier_code).exists():
            raise CommandError(f"No carrier has code {filters.carrier_code}.")
        if options["out"]:
            target = Path(options["out"])
            if not target.parent.is_dir():
                raise CommandError(f"The folder {target.parent} does not exist.")
        elif options["to"]:
            address = printer_address(options["to"])
            if not options["language"]:
                raise CommandError("--to needs --language zpl or tspl.")
        else:
            printer = Printer.objects.filter(name=options["printer"]).first()
            if printer is None:
                raise CommandError(f"No printer is named {options['printer']}.")
        ids = list(parcels_filtered(filters).values_list("pk", flat=True))
        if not ids:
            raise CommandError("No parcel matches: nothing to print.")
        if options["out"]:
            target.write_bytes(labels_pdf(ids))
            self.stdout.write(f"{len(ids)} labels written to {target}")
        elif options["to"]:
            self._send(ids, address, options)
        else:
            self._job(ids, printer, wave=Wave.objects.filter(code=filters.wave_code).first())

    def _send(self, ids: list[int], address: PrinterAddress, options) -> None:
        fmt = PrinterFormat(
            language=options["language"],
            dpi=options["dpi"],
            size=options["size"],
            zpl_graphics=ZplGraphics.Z64,
        )
        labels = labels_data([Parcel(pk=pk) for pk in ids])
        try:
            sent = send(address, printer_labels(labels, fmt))
        except PrinterError as error:
            parcel_labels_printed(parcel_ids=ids[: error.sent])
            raise CommandError(f"{error} ({error.sent} of {len(ids)} labels sent)") from None
        parcel_labels_printed(parcel_ids=ids)
        self.stdout.write(f"{sent} labels sent to {address}")

    def _job(self, ids: list[int], printer: Printer, *, wave: Wave | None) -> None:
        if len(ids) > MAX_LABELS:
            raise CommandError(f"{len(ids)} labels: at most {MAX_LABELS} in one print job.")
        # From the shell the job is sent here, whatever its size: the command waits for it.
        job = labels_print(
            parcels=[Parcel(pk=pk) for pk in ids],
            printer=printer,
            acting_user=None,
            wave=wave,
            wait=True,
        )
        if job.state == PrintJobState.FAILED:
            raise CommandError(f"Print job {job.pk} failed: {job.error}")
        self.stdout.write(f"Print job {job.pk}: {job.labels_sent} labels sent to {printer.name}")
