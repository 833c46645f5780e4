"""The shipping part of the demo: waybill pools, three waves (one handed over and on its way,
one being packed, one just made), an order in two boxes, a heavy box packed with a reason,
tracking, a refused parcel come back."""

import random
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from orders.aftersales import after_sale_record
from orders.lifecycle import PackItem
from orders.models import AfterSaleKind, LiveSession, Order, OrderStatus
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
    box_weight_check,
    expected_weight,
    handover_batch_close,
    handover_batch_start,
    handover_scan,
    parcel_pack,
    parcel_reship,
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
    HEAVY_BOX_REASON,
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
    # The studio's 中通 contract takes at most 10 kg a parcel: the station suggests two boxes
    # for a family order of sweet potatoes.
    Carrier.objects.filter(code="zto", max_parcel_kg__isnull=True).update(
        max_parcel_kg=Decimal("10")
    )
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
    rng: random.Random,
    order: Order,
    carrier: Carrier,
    *,
    acting_user,
    extra_kg: str = "0",
    reason: str = "",
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
        weight_reason=reason,
        acting_user=acting_user,
    ).parcel


def _pack_demo_in_two_boxes(
    rng: random.Random, order: Order, carrier: Carrier, *, acting_user
) -> list[Parcel] | None:
    """A family order in two boxes (1/2 and 2/2): half the units of its biggest line in the
    first, the rest in the second, each weighed. None when no line has two units."""
    line = max(order.lines.all(), key=lambda each: (each.quantity, -each.pk))
    if line.quantity < 2:
        return None
    sorting_code = SORTING_CODES.get(order.province, "") if carrier.code == "sf" else ""
    parcels = []
    for items in ([PackItem(line.pk, line.quantity // 2)], None):
        expected = box_weight_check(order=order, items=items).expected_kg
        parcels.append(
            parcel_pack(
                order=order,
                carrier=carrier,
                weight_kg=expected + Decimal(rng.randint(-60, 60)) / 1000,
                sorting_code=sorting_code,
                items=items,
                parcel_count=2,
                acting_user=acting_user,
            ).parcel
        )
    return parcels


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
        # In the first wave, the first order (after the first) with a line of two or more
        # units went out in two boxes (1/2, 2/2).
        split = None
        if not waves:
            split = next(
                (o for o in ordered[1:] if any(line.quantity > 1 for line in o.lines.all())),
                None,
            )
        for position, order in enumerate(ordered, start=1):
            if order is split:
                boxes = _pack_demo_in_two_boxes(rng, order, carriers[code], acting_user=packer)
                if boxes:
                    parcels.extend(boxes)
                    continue
            # The second wave's last box came out heavy: the station stopped, the packer
            # checked the box and packed it with a reason (kept on the parcel).
            heavy = waves and position == len(ordered)
            parcels.append(
                _pack_demo_order(
                    rng,
                    order,
                    carriers[code],
                    acting_user=packer,
                    extra_kg="0.650" if heavy else "0",
                    reason=HEAVY_BOX_REASON if heavy else "",
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
    # After-sales on orders that went out in one box (the two-box order stays as it was packed).
    single = [parcel for parcel in delivered[1:] if parcel.parcel_count == 1]
    create_after_sales(delivered=single, carrier=carriers["sf"], users=users)


def create_after_sales(*, delivered: list[Parcel], carrier: Carrier, users) -> None:
    """After-sales by line on delivered orders: a buyer sent a photo of bruised peaches and got
    part of the money back without returning anything (仅退款, a partial refund), and one
    box crushed in transit went out again (补发, a new parcel of the same order)."""
    if delivered:
        order = delivered[0].order
        line = order.lines.select_related("sku").order_by("pk").first()
        kg = min(Decimal("0.500"), line.kg)
        after_sale_record(
            order=order,
            line=line,
            kind=AfterSaleKind.REFUND_ONLY,
            kg=kg,
            amount=(line.amount * kg / line.kg / 2).quantize(Decimal("0.01")),
            reason="买家发图：两个桃子磕伤，协商退一半货款",
            acting_user=users["manager"],
        )
    if len(delivered) > 1:
        order = delivered[1].order
        line = order.lines.order_by("pk").first()
        parcel = parcel_reship(
            order=order,
            line=line,
            units=1,
            carrier=carrier,
            weight_kg=(line.kg / line.quantity + Decimal("0.300")).quantize(Decimal("0.001")),
            reason="快递外箱压坏，买家拍照，补发一箱",
            acting_user=users["packer"],
        )
        Parcel.objects.filter(pk=parcel.pk).update(label_printed_at=timezone.now())


def shipping_counts() -> dict[str, int]:
    parcels = {
        _("parcels %(status)s") % {"status": label}: Parcel.objects.filter(status=value).count()
        for value, label in ParcelStatus.choices
    }
    return {_("waves"): Wave.objects.count(), **parcels}
