"""Ship-back (回传): telling each platform which waybill numbers its orders left with, so that it
stops counting them as unshipped (late-shipment penalties start within 48 hours of payment).

An order is reported once every parcel of it has been handed over to the carrier (shipped,
delivered, or come back since: it left). ``shipments_export`` writes the channel's
platform's bulk-shipping upload file (``orders.platforms.shipfiles``) for the parcels not
reported yet — or again, for a re-export — and marks them reported; orders records the time
on each order (``orders.services.orders_shipment_reported``). The same marks are set when the
platform's API takes a shipment (the platform sync).
"""

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.exports import Table, table_csv, table_xlsx
from orders.lifecycle import SHIPPED_OR_LATER
from orders.models import Channel
from orders.platforms.models import PlatformAccount
from orders.platforms.shipfiles import ShipmentFileLayout, carrier_name, layout_for
from orders.services import orders_shipment_reported
from shipping.models import Parcel, ParcelStatus, ShipmentReport

FORMATS = ("xlsx", "csv")


@dataclass(frozen=True)
class ShipmentRow:
    order_no: str
    channel: str
    carrier_code: str
    carrier_name: str
    tracking_number: str
    parcel: int
    parcels: int
    handed_over_at: datetime | None

    def value(self, key: str):
        return getattr(self, key)


def parcels_to_report(*, channel: Channel, since: datetime | None = None, again: bool = False):
    """The channel's handed-over parcels whose orders have left whole (every parcel handed
    over), not reported yet (``again``: reported or not), handed over at or after ``since``;
    with their order, carrier and handover time (``handed_over_at``), oldest order first."""
    parcels = (
        Parcel.objects.filter(order__channel=channel, order__status__in=SHIPPED_OR_LATER)
        .exclude(status=ParcelStatus.PACKED)
        .select_related("order", "carrier")
        .annotate(
            handed_over_at=Min("events__occurred_at", filter=Q(events__status=ParcelStatus.SHIPPED))
        )
        .order_by("order__paid_at", "order_id", "packed_at", "pk")
    )
    if not again:
        parcels = parcels.filter(reported_at__isnull=True)
    if since is not None:
        parcels = parcels.filter(
            events__status=ParcelStatus.SHIPPED, events__occurred_at__gte=since
        ).distinct()
    return parcels


def _rows(parcels, layout: ShipmentFileLayout, overrides: dict) -> list[ShipmentRow]:
    by_order: dict[int, list[Parcel]] = defaultdict(list)
    for parcel in parcels:
        by_order[parcel.order_id].append(parcel)
    rows = []
    for order_parcels in by_order.values():
        chosen = order_parcels if layout.row_per_parcel else order_parcels[:1]
        for number, parcel in enumerate(chosen, start=1):
            rows.append(
                ShipmentRow(
                    order_no=parcel.order.external_no,
                    channel=parcel.order.channel.code if parcel.order.channel_id else "",
                    carrier_code=parcel.carrier.code,
                    carrier_name=carrier_name(
                        layout, parcel.carrier.code, parcel.carrier.name, overrides
                    ),
                    tracking_number=parcel.tracking_number,
                    parcel=number,
                    parcels=len(order_parcels),
                    handed_over_at=parcel.handed_over_at,
                )
            )
    return rows


def _file(rows: list[ShipmentRow], layout: ShipmentFileLayout, fmt: str) -> bytes:
    table = Table(
        title=str(layout.name),
        columns=layout.columns,
        rows=[{key: row.value(key) for key, _heading in layout.columns} for row in rows],
    )
    return table_xlsx(table) if fmt == "xlsx" else table_csv(table)


@dataclass
class Export:
    report: ShipmentReport
    content: bytes
    file_name: str
    rows: list[ShipmentRow]
    # Parcels beyond an order's first, left out of a one-row-per-order file: their numbers
    # reach the platform through its API or by hand.
    left_out: list[ShipmentRow]


@transaction.atomic
def shipments_export(
    *,
    channel: Channel,
    acting_user,
    since: datetime | None = None,
    again: bool = False,
    fmt: str = "",
) -> Export:
    """The channel's ship-back file: every parcel handed over and not yet reported (with
    ``again``, reported or not), in its platform's upload layout, as XLSX (or CSV). The
    parcels and their orders are marked reported now; the file is kept with its report, so
    it can be downloaded again. Refuses (``DomainError``) when no parcel is waiting."""
    layout = layout_for(channel.code)
    fmt = fmt or layout.file_format
    if fmt not in FORMATS:
        raise DomainError(_("Choose CSV or Excel."), field="format")
    if since is not None and timezone.is_naive(since):
        since = timezone.make_aware(since)
    # The parcels are locked while they are written down: two people exporting at once get
    # each parcel once (the second waits, then finds them reported).
    ids = list(
        parcels_to_report(channel=channel, since=since, again=again)
        .values_list("pk", flat=True)
        .order_by()
    )
    locked = list(Parcel.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    if not again:
        locked = [parcel for parcel in locked if parcel.reported_at is None]
    parcels = list(
        parcels_to_report(channel=channel, again=True).filter(pk__in=[p.pk for p in locked])
    )
    if not parcels:
        raise DomainError(
            _("No parcel of %(channel)s is waiting to be reported.") % {"channel": channel.name},
            field="channel",
            code="nothing_to_report",
        )
    account = PlatformAccount.objects.filter(channel=channel).first()
    overrides = account.carrier_codes if account else {}
    rows = _rows(parcels, layout, overrides)
    listed = {(row.order_no, row.tracking_number) for row in rows}
    left_out = [
        row
        for row in _rows(parcels, replace(layout, row_per_parcel=True), overrides)
        if (row.order_no, row.tracking_number) not in listed
    ]
    now = timezone.now()
    order_ids = sorted({parcel.order_id for parcel in parcels})
    report = ShipmentReport.objects.create(
        channel=channel,
        method=ShipmentReport.Method.FILE,
        layout=layout.code,
        since=since,
        again=again,
        orders_count=len(order_ids),
        parcels_count=len(parcels),
        created_by=acting_user,
    )
    content = _file(rows, layout, fmt)
    file_name = f"shipments-{channel.code}-{timezone.localtime(now):%Y%m%d-%H%M}.{fmt}"
    report.file.save(file_name, ContentFile(content), save=True)
    _mark(parcels, report, now)
    return Export(report, content, file_name, rows, left_out)


def _mark(parcels: list[Parcel], report: ShipmentReport, now: datetime) -> None:
    """The parcels are reported; so is every order none of whose parcels is left."""
    Parcel.objects.filter(pk__in=[p.pk for p in parcels]).update(report=report, reported_at=now)
    order_ids = {parcel.order_id for parcel in parcels}
    waiting = set(
        Parcel.objects.filter(order_id__in=order_ids, reported_at__isnull=True).values_list(
            "order_id", flat=True
        )
    )
    orders_shipment_reported(order_ids=sorted(order_ids - waiting), at=now)


@transaction.atomic
def shipments_reported(*, parcels: list[Parcel], acting_user, at: datetime | None = None):
    """Mark parcels reported through the platform's API (the sync's push), with a report
    of their own, and their orders once all of each order's parcels are."""
    if not parcels:
        return None
    now = at or timezone.now()
    channel = parcels[0].order.channel
    report = ShipmentReport.objects.create(
        channel=channel,
        method=ShipmentReport.Method.API,
        orders_count=len({p.order_id for p in parcels}),
        parcels_count=len(parcels),
        created_by=acting_user,
    )
    _mark(parcels, report, now)
    return report
