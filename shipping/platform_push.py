"""The sync's shipments stream: tell the platform, through its API, which waybill numbers each
order left with, once the whole order has been handed over.

Shipping may import orders, not the reverse, so this stream lives here and is added to every
sync run by ``ShippingConfig.ready`` (``orders.platforms.sync.register_sync_stream``). An
order is pushed when every parcel of it has been handed over (``parcels_to_report``) and
none is reported yet, by file or by API; once the platform took it, its parcels and the
order are marked reported with the same marks as a ship-back file (``shipments_reported``),
so that a file made later leaves them out and a push never repeats one.
"""

import logging
from collections import defaultdict
from datetime import datetime

from django.utils.translation import gettext as _

from orders.platforms.base import PlatformConnector, Shipment, ShipmentParcel
from orders.platforms.errors import PlatformRejected
from orders.platforms.models import SyncState
from orders.platforms.services import sync_state_success
from shipping.models import Parcel, ParcelItem
from shipping.shipments import parcels_to_report, shipments_reported

logger = logging.getLogger(__name__)

# Orders pushed in one run at most (each is one or two calls); the rest wait for the next.
PUSH_LIMIT = 200


def _shipment(order, parcels: list[Parcel]) -> Shipment:
    """The order's parcels with, for each, its lines' merchant codes and units."""
    items: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for item in ParcelItem.objects.filter(parcel__in=parcels).select_related("line__sku"):
        line = item.line
        units = int((item.kg * line.quantity / line.kg).to_integral_value()) if line.kg else 0
        items[item.parcel_id].append((line.sku.merchant_code, units))
    return Shipment(
        order_no=order.external_no,
        parcels=[
            ShipmentParcel(parcel.carrier.code, parcel.tracking_number, items[parcel.pk])
            for parcel in parcels
        ],
    )


def orders_to_push(channel, *, limit: int = PUSH_LIMIT) -> list[tuple[object, list[Parcel]]]:
    """(order, its parcels) of the channel's orders handed over whole and not reported,
    oldest payment first."""
    by_order: dict[int, list[Parcel]] = defaultdict(list)
    orders = {}
    for parcel in parcels_to_report(channel=channel):
        by_order[parcel.order_id].append(parcel)
        orders[parcel.order_id] = parcel.order
    partly = set(
        Parcel.objects.filter(order_id__in=list(by_order), reported_at__isnull=False).values_list(
            "order_id", flat=True
        )
    )
    found = [
        (orders[order_id], parcels)
        for order_id, parcels in by_order.items()
        if order_id not in partly and orders[order_id].shipment_reported_at is None
    ]
    return found[:limit]


def push_shipments(connector: PlatformConnector, state: SyncState, until: datetime) -> str:
    """Push each order waiting (``orders_to_push``) and mark it reported once the platform
    took it. A refusal of one order (already shipped there, say) is noted and the others go
    on; a platform that is down or limits the rate ends the run (the error is the stream's)."""
    pushed = refused = 0
    notes = []
    for order, parcels in orders_to_push(connector.channel):
        try:
            connector.push_shipment(_shipment(order, parcels))
        except PlatformRejected as error:
            refused += 1
            notes.append(f"{order.external_no}: {error.message}"[:100])
            logger.warning(
                "Shipment of %s %s refused: %s",
                connector.channel.code,
                order.external_no,
                error.message,
            )
            continue
        shipments_reported(parcels=parcels, acting_user=None)
        pushed += 1
    summary = _("%(pushed)d orders reported, %(refused)d refused") % {
        "pushed": pushed,
        "refused": refused,
    }
    if notes:
        summary += ": " + "; ".join(notes[:3])
    sync_state_success(state=state, cursor_time=until, result=summary)
    return summary
