"""The inventory part of the demo: catalogue, locations, farmers, three weeks of deliveries and
what happened to them, last month's sold-out lots and the farmers' payments. Everything that
happened in the past is recorded through the services with ``at=``, so the ledger is a real
one with real times."""

import math
import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from inventory.models import (
    Delivery,
    Farmer,
    FarmerPayment,
    Grade,
    Location,
    Lot,
    Product,
    Sku,
)
from inventory.reports import farmer_balances
from inventory.services import (
    IntakeRow,
    ReserveRequest,
    farmer_create,
    farmer_payment_record,
    intake_record,
    lot_adjust,
    lot_move,
    lot_write_off,
    sku_set_components,
    stock_reserve,
    stock_ship_out,
)
from studio.demo.data import (
    ADCODE,
    COUNTY,
    DAYS_ON_ARRIVAL,
    DELIVERIES,
    EXPIRED_DELIVERY,
    FARMERS,
    GIFT_BOXES,
    GRADE_PRICE_BANDS,
    GRADES,
    HISTORY,
    HISTORY_FARMERS,
    INTAKE_PROFILES,
    LOCATIONS,
    PAYMENTS,
    PRODUCTS,
    RANDOM_SEED,
    SKU_GTINS,
    SKUS,
)


def demo_present() -> bool:
    """The marker: the demo farmers are there."""
    return Farmer.objects.filter(phone__in=[phone for _n, _v, phone, _c in FARMERS]).exists()


def create_catalogue() -> tuple[dict[str, Product], dict[str, Grade]]:
    """Products, grades and the SKUs sold in the livestream."""
    products = {}
    for name, category, shelf_life_days, storage in PRODUCTS:
        products[name], _created = Product.objects.get_or_create(
            name=name,
            defaults={
                "category": category,
                "shelf_life_days": shelf_life_days,
                "storage": storage,
                "min_days_on_arrival": DAYS_ON_ARRIVAL.get(name, 0),
            },
        )
    grades = {}
    for name, rank in GRADES:
        grades[name], _created = Grade.objects.get_or_create(name=name, defaults={"rank": rank})
    for code, name, product, grade, net_kg, price, packaging_kg in SKUS:
        Sku.objects.get_or_create(
            merchant_code=code,
            defaults={
                "name": name,
                "product": products[product],
                "grade": grades[grade],
                "net_kg": Decimal(net_kg),
                "price": Decimal(price),
                "packaging_kg": Decimal(packaging_kg),
                "gtin": SKU_GTINS.get(code, ""),
            },
        )
    for code, name, product, grade, price, packaging_kg, components in GIFT_BOXES:
        box, _created = Sku.objects.get_or_create(
            merchant_code=code,
            defaults={
                "name": name,
                "product": products[product],
                "grade": grades[grade],
                "net_kg": Decimal("1"),  # the sum of the components, set just below
                "price": Decimal(price),
                "packaging_kg": Decimal(packaging_kg),
                "weight_tolerance_kg": Decimal("0.300"),
            },
        )
        if not box.is_bundle:
            sku_set_components(
                bundle=box,
                components=[
                    (Sku.objects.get(merchant_code=part), units) for part, units in components
                ],
            )
    return products, grades


def create_locations() -> dict[str, Location]:
    locations = {}
    for code, name, storage in LOCATIONS:
        locations[code], _created = Location.objects.get_or_create(
            code=code, defaults={"name": name, "storage": storage}
        )
    return locations


def create_farmers(*, acting_user) -> list[Farmer]:
    """The farmers of 朱家坪村 and the villages around it, registered at the intake desk."""
    farmers = []
    for name, village, phone, consent in FARMERS:
        farmer = farmer_create(
            name=name, village=village, phone=phone, county=COUNTY, acting_user=acting_user
        )
        farmer.adcode = ADCODE
        farmer.trace_consent = consent
        farmer.save(update_fields=["adcode", "trace_consent"])
        farmers.append(farmer)
    return farmers


def _intake_row(rng: random.Random, product: str, grade: Grade) -> IntakeRow:
    profile = INTAKE_PROFILES[product]
    net = Decimal(rng.randint(profile.lot_kg[0] * 10, profile.lot_kg[1] * 10)) / 10
    crates = math.ceil(net / profile.kg_per_crate)
    tare = Decimal(profile.tare_per_crate_kg)
    low, high = (Decimal(price) for price in profile.price_per_kg)
    band_low, band_high = GRADE_PRICE_BANDS.get(grade.rank, (0, 100))
    share = Decimal(rng.randint(band_low, band_high)) / 100
    price = (low + (high - low) * share).quantize(Decimal("0.1")).quantize(Decimal("0.01"))
    return IntakeRow(
        grade=grade,
        gross_kg=net + crates * tare,
        price_per_kg=price,
        crates=crates,
        tare_per_crate_kg=tare,
    )


def _in_the_past(day, at: time, now: datetime) -> datetime:
    """``day`` at ``at`` in the studio's time zone, or ``now`` if that is later than now."""
    return min(timezone.make_aware(datetime.combine(day, at)), now)


def receive_deliveries(
    *,
    rng: random.Random,
    farmers: list[Farmer],
    products: dict[str, Product],
    grades: dict[str, Grade],
    locations: dict[str, Location],
    acting_user,
) -> list[Delivery]:
    """About 25 deliveries of the last three weeks, oldest first, some split into grades.
    Each came in on its harvest day, in the morning."""
    by_storage = {location.storage: location for location in locations.values()}
    now = timezone.now()
    today = timezone.localdate(now)
    deliveries = []
    for index, (product_name, days_ago, grade_names, note) in enumerate(DELIVERIES):
        product = products[product_name]
        harvest_date = today - timedelta(days=days_ago)
        received_at = _in_the_past(harvest_date, time(7, 0), now) + timedelta(minutes=index)
        deliveries.append(
            intake_record(
                farmer=rng.choice(farmers),
                product=product,
                rows=[_intake_row(rng, product_name, grades[name]) for name in grade_names],
                harvest_date=harvest_date,
                location=by_storage[product.storage],
                acting_user=acting_user,
                note=note,
                at=min(received_at, now),
            )
        )
    _receive_forgotten_lot(farmers, products, grades, by_storage, acting_user, now)
    return deliveries


def _receive_forgotten_lot(farmers, products, grades, by_storage, acting_user, now) -> None:
    """Peaches received eight days ago and never sold: past their expiry now, never
    allocated, waiting on the expired-stock page to be written off."""
    product_name, days_ago, grade_name, note = EXPIRED_DELIVERY
    product = products[product_name]
    harvest_date = timezone.localdate(now) - timedelta(days=days_ago)
    rng = random.Random(RANDOM_SEED + 4)
    intake_record(
        farmer=farmers[1],
        product=product,
        rows=[_intake_row(rng, product_name, grades[grade_name])],
        harvest_date=harvest_date,
        location=by_storage[product.storage],
        acting_user=acting_user,
        note=note,
        at=_in_the_past(harvest_date, time(7, 0), now),
    )


def _demo_lot(deliveries: list[Delivery], product: str, grade: str, nth: int = 0) -> Lot:
    """The ``nth`` lot received of this product and grade."""
    return Lot.objects.filter(
        delivery__in=deliveries, product__name=product, grade__name=grade
    ).order_by("pk")[nth]


def _days_after_intake(lot: Lot, days: int, at: time = time(17, 0)) -> datetime:
    """A few days after the lot came in (never later than now)."""
    now = timezone.now()
    day = timezone.localdate(lot.received_at) + timedelta(days=days)
    return _in_the_past(day, at, now)


def record_stock_events(
    *, deliveries: list[Delivery], locations: dict[str, Location], acting_user
) -> None:
    """What happens in a warehouse week: spoilage, a crushed crate, a recount, a move, each
    a day or two after the lot came in."""
    write_offs = [
        ("蜜桃", "特级", 0, "4.600", "烂果", 2),
        ("蜜桃", "一级", 2, "3.200", "运输挤压", 1),
        ("蜜桃", "次果", 0, "6.500", "烂果", 3),
        ("土鸡蛋", "一级", 0, "1.200", "破损", 2),
    ]
    for product, grade, nth, kg, reason, days in write_offs:
        lot = _demo_lot(deliveries, product, grade, nth)
        lot_write_off(
            lot=lot,
            kg=Decimal(kg),
            reason=reason,
            acting_user=acting_user,
            at=_days_after_intake(lot, days),
        )
    recounted = _demo_lot(deliveries, "地瓜", "一级")
    lot_adjust(
        lot=recounted,
        counted_kg=recounted.on_hand_kg - Decimal("2.400"),
        reason="盘点：失水",
        acting_user=acting_user,
        at=_days_after_intake(recounted, 6),
    )
    moved = _demo_lot(deliveries, "板栗", "特级")
    lot_move(
        lot=moved,
        location=locations["A"],
        acting_user=acting_user,
        note="入冷库防发芽",
        at=_days_after_intake(moved, 1, time(10, 0)),
    )


def demo_history_present() -> bool:
    """The marker of the statements part: the demo farmers have been paid."""
    phones = [phone for _n, _v, phone, _c in FARMERS]
    return FarmerPayment.objects.filter(farmer__phone__in=phones).exists()


def _last_month_day(day: int) -> date:
    first = timezone.localdate().replace(day=1)
    last = first - timedelta(days=1)
    return last.replace(day=min(day, last.day))


def _sell_history_lot(rng: random.Random, lot: Lot, spoiled: Decimal, month_end, *, users) -> None:
    """Sell a lot of last month in two or three days of parcels, write off what spoiled."""
    received_on = timezone.localdate(lot.received_at)
    sellable = lot.received_kg - spoiled
    parts = rng.choice([2, 3])
    shares = [Decimal(rng.randint(25, 45)) for _part in range(parts - 1)]
    amounts = [(sellable * share / 100).quantize(Decimal("0.001")) for share in shares]
    amounts.append(sellable - sum(amounts))
    for offset, kg in enumerate(amounts, start=1):
        day = min(received_on + timedelta(days=offset), month_end)
        moment = timezone.make_aware(datetime.combine(day, time(15, offset)))
        (taken,) = stock_reserve(
            requests=[ReserveRequest(lot.product_id, lot.grade_id, kg)],
            reference=f"history:{day.isoformat()}",
            at=moment,
        )
        stock_ship_out(
            items=taken,
            reference=f"parcels:{day.isoformat()}",
            acting_user=users["packer"],
            at=moment,
        )
    if spoiled:  # found when the last of it went out
        lot_write_off(
            lot=lot,
            kg=spoiled,
            reason="烂果",
            acting_user=users["manager"],
            at=timezone.make_aware(datetime.combine(day, time(18, 0))),
        )


def create_history(*, rng: random.Random, users: dict[str, object]) -> None:
    """Last month's deliveries, all sold or written off by the month's end (nothing of them
    stays in stock, so today's orders never see them)."""
    farmers = {farmer.phone: farmer for farmer in Farmer.objects.all()}
    products = {product.name: product for product in Product.objects.all()}
    grades = {grade.name: grade for grade in Grade.objects.all()}
    locations = {location.storage: location for location in Location.objects.all()}
    month_end = _last_month_day(31)
    for (day, product_name, grade_names, spoiled), farmer_index in zip(
        HISTORY, HISTORY_FARMERS, strict=True
    ):
        delivered_on = _last_month_day(day)
        product = products[product_name]
        delivery = intake_record(
            farmer=farmers[FARMERS[farmer_index][2]],
            product=product,
            rows=[_intake_row(rng, product_name, grades[name]) for name in grade_names],
            harvest_date=delivered_on,
            location=locations[product.storage],
            acting_user=users["intake"],
            at=timezone.make_aware(datetime.combine(delivered_on, time(7, 30))),
        )
        for index, lot in enumerate(delivery.lots.order_by("pk")):
            lost = Decimal(spoiled) if index == 0 else Decimal("0")
            _sell_history_lot(rng, lot, lost, month_end, users=users)


def create_payments(*, users: dict[str, object]) -> None:
    """Payments of last month and this month: some farmers paid in full, one in part, one in
    advance; some not yet (they show on the payout list)."""
    today = timezone.localdate()
    farmers = [Farmer.objects.get(phone=phone) for _n, _v, phone, _c in FARMERS]
    for number, (index, month, day, share, method) in enumerate(PAYMENTS, start=1):
        if month == "last":
            paid_on = _last_month_day(day)
        else:
            paid_on = min(today.replace(day=min(day, 28)), today)
        balance = farmer_balances(
            date_from=paid_on.replace(day=1), date_to=paid_on, farmers=[farmers[index]]
        )[0]
        amount = (balance.closing_balance * share / 100).quantize(Decimal("0.01"))
        if amount <= 0:
            amount = Decimal("200.00")  # nothing owed yet: an advance
        farmer_payment_record(
            farmer=farmers[index],
            paid_on=paid_on,
            amount=amount,
            method=method,
            reference=f"FK-{paid_on:%y%m}-{number:02d}",  # the studio's voucher
            note="" if share <= 100 else "预付下批货款",
            acting_user=users["manager"],
            at=min(timezone.make_aware(datetime.combine(paid_on, time(16, 0))), timezone.now()),
        )
