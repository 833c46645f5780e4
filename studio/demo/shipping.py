"""The shipping part of the demo: waybill pools, three waves (one handed over and on its way,
one being packed, one just made), tracking, a refused parcel come back."""

import random
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import LiveSession, Order, OrderStatus
from shipping.models import (
    Carrier,
    Parcel,
    ParcelStatus,
    ReturnDisposition,
    Wave,
    WaybillPool,
)
from shipping.services import (
    ReturnRow,
    expected_weight,
    handover_batch_close,
    handover_batch_start,
    handover_scan,
    parcel_pack,
    parcel_return,
    tracking_update,
    wave_create,
    waybill_pool_import,
)
from studio.demo.data import (
    DELIVERED_NOTES,
    DEMO_WAVES,
    EXCEPTION_NOTE,
    HANDOVER_COURIERS,
    LIVE_SESSIONS,
    RETURN_REASON,
    SORTING_CODES,
    WAYBILL_POOLS,
    WAYBILLS_PER_POOL,
)


def demo_shipping_present() -> bool:
    """The marker of the shipping part: the demo waybill pools are there."""
    return WaybillPool.objects.filter(file_name__in=[p[1] for p in WAYBILL_POOLS]).exists()


def import_waybill_pools(*, acting_user) -> dict[str, Carrier]:
    """The numbers 顺丰 and 中通 issued to the studio, imported as their files would be."""
    carriers = {}
    for code, file_name, pattern, first in WAYBILL_POOLS:
        carriers[code] = Carrier.objects.get(code=code)
        waybill_pool_import(
            carrier=carriers[code],
            numbers=[pattern.format(first + n) for n in range(WAYBILLS_PER_POOL)],
            file_name=file_name,
            acting_user=acting_user,
        )
    return carriers


def _pack_demo_order(
    rng: random.Random, order: Order, carrier: Carrier, *, acting_user, extra_kg: str = "0"
) -> Parcel:
    """Weigh the box (a few grams off what it should weigh, like a real scale) and pack it."""
    expected = expected_weight([order]).expected_kg
    weight = expected + Decimal(rng.randint(-120, 120)) / 1000 + Decimal(extra_kg)
    sorting_code = SORTING_CODES.get(order.province, "") if carrier.code == "sf" else ""
    return parcel_pack(
        order=order,
        carrier=carrier,
        weight_kg=weight,
        sorting_code=sorting_code,
        acting_user=acting_user,
    ).parcel


def create_shipping(*, rng: random.Random, users: dict[str, object]) -> None:
    """Waybill pools, then three waves of the oldest allocated orders: the first packed,
    handed over and on its way (delivered, in transit, one exception, one refused and
    returned), the second half packed, the third just made. Everything through the services."""
    packer = users["packer"]
    carriers = import_waybill_pools(acting_user=users["manager"])
    sessions = list(LiveSession.objects.filter(title__in=[s.title for s in LIVE_SESSIONS]))
    sessions.sort(key=lambda session: [s.title for s in LIVE_SESSIONS].index(session.title))
    waves = []
    for session_index, code, size, packed, note in DEMO_WAVES:
        orders = list(
            Order.objects.filter(
                live_session=sessions[session_index],
                status=OrderStatus.ALLOCATED,
                wave_order__isnull=True,
            ).order_by("paid_at", "pk")[:size]
        )
        if not orders:
            continue
        wave = wave_create(
            orders=orders,
            carrier=carriers[code],
            acting_user=packer,
            selection={"live_session": sessions[session_index].pk, "oldest": size},
            note=note,
        )
        ordered = [wo.order for wo in wave.wave_orders.select_related("order")][:packed]
        parcels = []
        for position, order in enumerate(ordered, start=1):
            # The second wave's last box came out heavy: the station warned, the packer
            # checked the box and let it go (the warning stays on the parcel).
            heavy = waves and position == len(ordered)
            parcels.append(
                _pack_demo_order(
                    rng,
                    order,
                    carriers[code],
                    acting_user=packer,
                    extra_kg="0.650" if heavy else "0",
                )
            )
        waves.append(parcels)
    if not waves or not waves[0]:
        return
    handed_over = waves[0]
    # Printed at the station as they were packed (nothing renders here: only the mark).
    Parcel.objects.filter(pk__in=[p.pk for p in handed_over]).update(
        label_printed_at=timezone.now()
    )
    # The morning's 顺丰 pickup: one batch, scanned and closed (its manifest signed).
    closed = handover_batch_start(
        carrier=handed_over[0].carrier,
        courier_name=HANDOVER_COURIERS.get(handed_over[0].carrier.code, ""),
        acting_user=packer,
    )
    for parcel in handed_over:
        handover_scan(tracking_number=parcel.tracking_number, batch=closed, acting_user=packer)
    handover_batch_close(batch=closed, acting_user=packer)
    # 中通's courier is at the door now: two boxes of the second wave scanned, the rest wait.
    if len(waves) > 1 and waves[1]:
        waiting = waves[1]
        batch = handover_batch_start(
            carrier=waiting[0].carrier,
            courier_name=HANDOVER_COURIERS.get(waiting[0].carrier.code, ""),
            acting_user=packer,
        )
        for parcel in waiting[:2]:
            handover_scan(tracking_number=parcel.tracking_number, batch=batch, acting_user=packer)
    delivered = handed_over[: len(handed_over) // 2 + 1]
    for parcel in delivered:
        tracking_update(
            tracking_number=parcel.tracking_number,
            status=ParcelStatus.DELIVERED,
            occurred_at=timezone.now(),
            description=rng.choice(DELIVERED_NOTES),
        )
    if len(handed_over) > len(delivered):
        tracking_update(
            tracking_number=handed_over[-1].tracking_number,
            status=ParcelStatus.EXCEPTION,
            occurred_at=timezone.now(),
            description=EXCEPTION_NOTE,
        )
    refused = delivered[0]
    item = refused.items.order_by("pk").first()
    good = (item.kg / 2).quantize(Decimal("0.001"))
    parcel_return(
        parcel=refused,
        rows=[
            ReturnRow(item, good, ReturnDisposition.RESTOCK, reason="退回完好，重新上架"),
            ReturnRow(item, item.kg - good, ReturnDisposition.WRITE_OFF, reason=RETURN_REASON),
        ],
        acting_user=users["intake"],
    )


def shipping_counts() -> dict[str, int]:
    parcels = {
        _("parcels %(status)s") % {"status": label}: Parcel.objects.filter(status=value).count()
        for value, label in ParcelStatus.choices
    }
    return {_("waves"): Wave.objects.count(), **parcels}
