"""The orders part of the demo: two livestreams and their orders, allocated the morning after;
a few cancelled or refunded, some waiting for stock."""

import random
from dataclasses import replace
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from inventory.models import (
    Sku,
)
from orders.drafts import LineDraft, OrderDraft
from orders.models import Channel, LiveSession, Order, OrderLine, OrderStatus, TransitTime
from orders.services import backorders_fill, order_allocate, order_cancel, orders_create
from studio.demo.data import (
    BUYER_NOTES,
    CANCEL_NOTES,
    CHANNEL_CARRIERS,
    COMPOUNDS,
    DESTINATIONS,
    FRESHNESS_ORDERS,
    GIFT_BOX_ORDERS,
    GIFT_BOXES,
    GIVEN_NAMES,
    LIVE_SESSIONS,
    OFFICES,
    PHONE_PREFIXES,
    REFUND_NOTES,
    REMOTE_PROVINCES,
    ROADS,
    SURNAMES,
    TRANSIT_DAYS,
    DemoSession,
)


def demo_orders_present() -> bool:
    """The marker of the orders part: the demo live sessions are there."""
    return LiveSession.objects.filter(title__in=[spec.title for spec in LIVE_SESSIONS]).exists()


def _session_window(index: int, now: datetime) -> tuple[datetime, datetime]:
    """The peach session ran yesterday 19:30–22:30; the 助农 session ran earlier today
    (10:00–12:00, or the two hours ending half an hour ago when it is not noon yet)."""
    today = timezone.localdate(now)
    if index == 0:
        start = timezone.make_aware(datetime.combine(today - timedelta(days=1), time(19, 30)))
        return start, start + timedelta(hours=3)
    end = min(
        timezone.make_aware(datetime.combine(today, time(12, 0))),
        (now - timedelta(minutes=30)).replace(second=0, microsecond=0),
    )
    return end - timedelta(hours=2), end


def create_live_sessions(*, now: datetime) -> list[LiveSession]:
    sessions = []
    for index, spec in enumerate(LIVE_SESSIONS):
        starts_at, ends_at = _session_window(index, now)
        sessions.append(
            LiveSession.objects.create(
                channel=Channel.objects.get(code=spec.channel),
                title=spec.title,
                host=spec.host,
                room=spec.room,
                starts_at=starts_at,
                ends_at=ends_at,
            )
        )
    return sessions


def _recipient(rng: random.Random) -> str:
    surname = rng.choice(SURNAMES)
    if rng.random() < 0.06:
        return surname + rng.choice(["女士", "先生"])
    return surname + rng.choice(GIVEN_NAMES)


def _phone(rng: random.Random, masked_percent: int) -> tuple[str, bool]:
    prefix = rng.choice(PHONE_PREFIXES)
    if rng.randrange(100) < masked_percent:
        return f"{prefix}****{rng.randint(0, 9999):04d}", True
    return f"{prefix}{rng.randint(0, 99999999):08d}", False


def _street_address(rng: random.Random) -> str:
    road = f"{rng.choice(ROADS)}{rng.randint(1, 399)}号"
    if rng.random() < 0.15:
        return f"{road}{rng.choice(OFFICES)}{rng.randint(2, 28)}楼前台"
    return (
        f"{road}{rng.choice(COMPOUNDS)}{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元"
        f"{rng.randint(1, 32)}{rng.randint(1, 4):02d}室"
    )


def _draft(
    rng: random.Random,
    *,
    spec: DemoSession,
    session: LiveSession,
    skus: dict[str, Sku],
    numbers: set[str],
) -> OrderDraft:
    """One believable order of a livestream: 1–3 different SKUs, mostly one unit each."""
    codes = [code for code, _weight in spec.skus]
    weights = [weight for _code, weight in spec.skus]
    chosen: list[str] = []
    for _line in range(rng.choices([1, 2, 3], weights=[68, 25, 7])[0]):
        code = rng.choices(codes, weights=weights)[0]
        if code not in chosen:
            chosen.append(code)
    number = ""
    while not number or number in numbers:
        number = spec.number_prefix + "".join(str(rng.randrange(10)) for _ in range(17))
    numbers.add(number)
    province, city, district = rng.choice(DESTINATIONS)
    detail = _street_address(rng)
    phone, masked = _phone(rng, spec.masked_percent)
    window = int((session.ends_at - session.starts_at).total_seconds())
    return OrderDraft(
        external_no=number,
        recipient_name=_recipient(rng),
        phone=phone,
        phone_masked_by_platform=masked,
        province=province,
        city=city,
        district=district,
        address_detail=detail,
        raw_address=f"{province} {city} {district} {detail}",
        buyer_note=rng.choice(BUYER_NOTES) if rng.random() < 0.2 else "",
        paid_at=session.starts_at + timedelta(seconds=rng.randint(60, window - 60)),
        shipping_fee=Decimal("12.00") if province in REMOTE_PROVINCES else Decimal("0"),
        platform_status="待发货",
        live_session=session,
        lines=[
            LineDraft(
                sku=skus[code],
                quantity=rng.choices([1, 2, 3], weights=[74, 21, 5])[0],
                unit_price=skus[code].price,
            )
            for code in chosen
        ],
    )


def create_transit(*, acting_user) -> None:
    """The channels' usual carriers and the transit days the manager corrected."""
    for code, carrier in CHANNEL_CARRIERS.items():
        Channel.objects.filter(code=code).update(carrier_code=carrier)
    for province, carrier, days in TRANSIT_DAYS:
        TransitTime.objects.update_or_create(
            province=province,
            carrier_code=carrier,
            defaults={"days": days, "updated_by": acting_user},
        )


def _freshness_draft(index: int, session: LiveSession, skus: dict[str, Sku]) -> OrderDraft:
    _session, number, name, phone, (province, city, district, street), code, quantity = (
        FRESHNESS_ORDERS[index]
    )
    return OrderDraft(
        external_no=number,
        recipient_name=name,
        phone=phone,
        province=province,
        city=city,
        district=district,
        address_detail=street,
        raw_address=f"{province} {city} {district} {street}",
        # Paid early: the grade still has stock, only none that would arrive fresh.
        paid_at=session.starts_at + timedelta(minutes=2 + index),
        shipping_fee=Decimal("12.00") if province in REMOTE_PROVINCES else Decimal("0"),
        platform_status="待发货",
        live_session=session,
        lines=[LineDraft(sku=skus[code], quantity=quantity, unit_price=skus[code].price)],
    )


def create_orders(*, rng: random.Random, acting_user, now: datetime) -> list[Order]:
    """Two live sessions and the orders paid during them, created as an import would, and a
    far buyer's order that will wait for fresh peaches."""
    create_transit(acting_user=acting_user)
    skus = {sku.merchant_code: sku for sku in Sku.objects.all()}
    numbers: set[str] = set()
    orders = []
    for position, (spec, session) in enumerate(
        zip(LIVE_SESSIONS, create_live_sessions(now=now), strict=True)
    ):
        drafts = [
            _draft(rng, spec=spec, session=session, skus=skus, numbers=numbers)
            for _n in range(spec.orders)
        ]
        drafts += [
            _freshness_draft(index, session, skus)
            for index, spec_row in enumerate(FRESHNESS_ORDERS)
            if spec_row[0] == position
        ]
        orders += orders_create(channel=session.channel, drafts=drafts, acting_user=acting_user)
    return orders


def create_gift_box_orders(*, rng: random.Random, acting_user) -> list[Order]:
    """Orders of the gift box in the peach session, allocated: each reserves peaches and
    honey from their own lots (the box's components)."""
    spec = LIVE_SESSIONS[0]
    session = LiveSession.objects.get(title=spec.title)
    boxes = {code: Sku.objects.get(merchant_code=code) for code, *_rest in GIFT_BOXES}
    numbers = set(Order.objects.values_list("external_no", flat=True))
    box_spec = replace(spec, skus=tuple((code, 1) for code in boxes))
    drafts = [
        _draft(rng, spec=box_spec, session=session, skus=boxes, numbers=numbers)
        for _n in range(GIFT_BOX_ORDERS)
    ]
    orders = orders_create(channel=session.channel, drafts=drafts, acting_user=acting_user)
    for order in orders:
        order_allocate(order=order, acting_user=acting_user)
    return orders


def settle_orders(*, rng: random.Random, orders: list[Order], acting_user) -> None:
    """What the studio does the morning after: allocate in paid-at order (some SKUs run out
    and those orders wait), cancel a few and refund a couple (their stock goes back), then
    give the freed kilograms to the back-orders that wait for them."""
    ordered = sorted(orders, key=lambda order: (order.paid_at, order.pk))
    for order in ordered:
        order_allocate(order=order, acting_user=acting_user)
    allocated = [order for order in ordered if order.status == OrderStatus.ALLOCATED]
    held = {row[1] for row in FRESHNESS_ORDERS}  # they stay waiting: the demo shows why
    waiting = [
        order
        for order in ordered
        if order.status == OrderStatus.BACKORDERED and order.external_no not in held
    ]
    picked = rng.sample(allocated, len(CANCEL_NOTES) + len(REFUND_NOTES))
    for order, note in zip(picked, CANCEL_NOTES + REFUND_NOTES, strict=True):
        to = OrderStatus.REFUNDED if note in REFUND_NOTES else OrderStatus.CANCELLED
        order_cancel(order=order, acting_user=acting_user, note=note, to=to)
    if waiting:
        order_cancel(order=waiting[0], acting_user=acting_user, note="缺货，与买家协商取消")
    freed = OrderLine.objects.filter(order__in=picked).values_list(
        "sku__product_id", "sku__grade_id"
    )
    backorders_fill(product_grade_pairs=set(freed))
