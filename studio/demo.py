"""A believable demo studio in 留坝县: users, farmers, catalogue, locations and stock.

``manage.py seed_demo`` calls :func:`seed`. Each part of the studio has its own small
function, so later parts (orders, parcels) are added the same way. Every change of stock goes
through ``inventory.services``, so the demo ledger is a real one. A fixed random seed makes
the data the same every time; dates are relative to today, so some peaches always expire soon.
"""

import math
import random
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.models import (
    Delivery,
    Farmer,
    Grade,
    Location,
    Lot,
    Product,
    Sku,
    StockMovement,
    Storage,
)
from inventory.services import (
    IntakeRow,
    farmer_create,
    intake_record,
    lot_adjust,
    lot_move,
    lot_write_off,
)
from studio.roles import Role

DEMO_PASSWORD = "shanhuo123"
RANDOM_SEED = 610729
COUNTY = "留坝县"
ADCODE = "610729"

# username, role, first name, admin access
USERS = [
    ("intake", Role.INTAKE, "小周", False),
    ("packer", Role.PACKER, "老田", False),
    ("creator", Role.CREATOR, "阿秀", False),
    ("manager", Role.MANAGER, "朱经理", True),
]

# name, village, mobile, agreed to be named on the trace page
FARMERS = [
    ("朱大山", "朱家坪村", "13891601287", True),
    ("朱秀兰", "朱家坪村", "15829163045", True),
    ("朱建华", "朱家坪村", "18791675320", False),
    ("王德贵", "朱家坪村", "13720968154", True),
    ("张桂芳", "朱家坪村", "15191623768", False),
    ("朱永福", "朱家坪村", "13992647031", True),
    ("李翠萍", "朱家坪村", "18292160459", False),
    ("刘长林", "火烧店村", "13609162874", True),
    ("陈玉梅", "火烧店村", "15991630526", False),
    ("杨富贵", "火烧店村", "17709165183", True),
    ("何春花", "火烧店村", "13379162605", False),
    ("赵明亮", "江口村", "18829167342", True),
    ("周冬梅", "江口村", "15319169817", False),
    ("吴德全", "江口村", "13571602938", False),
    ("孙有田", "玉皇庙村", "18091624576", True),
    ("马金凤", "玉皇庙村", "13186165209", False),
    ("胡国强", "玉皇庙村", "15877163491", True),
    ("郭满仓", "闸口石村", "13468167725", False),
    ("罗小芳", "闸口石村", "19916163358", True),
    ("谢正义", "闸口石村", "18209160613", False),
]

# name, category, shelf life (days), storage
PRODUCTS = [
    ("蜜桃", "水果", 7, Storage.COLD),
    ("板栗", "坚果", 90, Storage.AMBIENT),
    ("小米", "粮食", 365, Storage.AMBIENT),
    ("地瓜", "薯类", 60, Storage.AMBIENT),
    ("蜂蜜", "蜂产品", 730, Storage.AMBIENT),
    ("土鸡蛋", "禽蛋", 30, Storage.COLD),
]

GRADES = [("特级", 0), ("一级", 1), ("二级", 2), ("次果", 3)]

# merchant code, name, product, grade, net kg per unit, price, packaging kg
SKUS = [
    ("MT-5J-TJ", "蜜桃 5斤礼盒 特级", "蜜桃", "特级", "2.500", "49.90", "0.400"),
    ("MT-5J-YJ", "蜜桃 5斤装 一级", "蜜桃", "一级", "2.500", "39.90", "0.350"),
    ("MT-3J-YJ", "蜜桃 3斤装 一级", "蜜桃", "一级", "1.500", "25.90", "0.250"),
    ("MT-5J-EJ", "蜜桃 5斤装 二级", "蜜桃", "二级", "2.500", "29.90", "0.350"),
    ("MT-10J-CG", "蜜桃 10斤家庭装 次果", "蜜桃", "次果", "5.000", "39.90", "0.500"),
    ("BL-2J-TJ", "板栗 2斤装 特级", "板栗", "特级", "1.000", "36.80", "0.080"),
    ("BL-2J-YJ", "板栗 2斤装 一级", "板栗", "一级", "1.000", "29.90", "0.080"),
    ("XM-5J-YJ", "小米 5斤装", "小米", "一级", "2.500", "39.90", "0.100"),
    ("DG-5J-YJ", "地瓜 5斤装", "地瓜", "一级", "2.500", "19.90", "0.200"),
    ("DG-10J-YJ", "地瓜 10斤装", "地瓜", "一级", "5.000", "32.90", "0.300"),
    ("FM-1J-TJ", "土蜂蜜 1斤装", "蜂蜜", "特级", "0.500", "68.00", "0.250"),
    ("JD-30M-YJ", "土鸡蛋 30枚", "土鸡蛋", "一级", "1.500", "45.00", "0.450"),
]

# code, name, storage
LOCATIONS = [("A", "冷库 A", Storage.COLD), ("B", "常温区 B", Storage.AMBIENT)]


@dataclass(frozen=True)
class IntakeProfile:
    """How one product arrives at the weighing table."""

    lot_kg: tuple[int, int]  # net kg of one grade of one delivery
    price_per_kg: tuple[str, str]  # what the studio pays, best grade at the top
    kg_per_crate: int
    tare_per_crate_kg: str  # the crate, sack, bucket or tray box


INTAKE_PROFILES = {
    "蜜桃": IntakeProfile((80, 260), ("6.00", "9.00"), 18, "1.800"),  # plastic crates
    "板栗": IntakeProfile((60, 180), ("10.00", "14.00"), 25, "0.150"),  # woven sacks
    "小米": IntakeProfile((40, 120), ("7.00", "9.00"), 25, "0.200"),
    "地瓜": IntakeProfile((150, 400), ("1.50", "2.50"), 30, "1.200"),  # baskets
    "蜂蜜": IntakeProfile((10, 40), ("50.00", "70.00"), 12, "0.800"),  # buckets
    "土鸡蛋": IntakeProfile((15, 45), ("18.00", "24.00"), 8, "0.600"),  # tray boxes
}

# product, harvested how many days ago, grades weighed, note. Peaches keep 7 days: those
# picked 5–6 days ago expire within two days.
DELIVERIES = [
    ("蜂蜜", 21, ("特级",), "百花蜜，自家土蜂"),
    ("板栗", 20, ("特级", "一级"), ""),
    ("小米", 19, ("一级",), "今年新小米"),
    ("地瓜", 17, ("一级", "二级"), ""),
    ("蜂蜜", 14, ("特级",), ""),
    ("板栗", 13, ("一级",), ""),
    ("土鸡蛋", 12, ("一级",), "散养土鸡"),
    ("小米", 11, ("一级",), ""),
    ("地瓜", 10, ("一级",), "红心地瓜"),
    ("板栗", 8, ("特级", "一级"), ""),
    ("蜂蜜", 7, ("特级",), ""),
    ("蜜桃", 6, ("特级", "一级", "二级"), ""),
    ("蜜桃", 6, ("一级",), ""),
    ("土鸡蛋", 6, ("一级",), ""),
    ("蜜桃", 5, ("特级", "一级"), "雨后采收，已挑拣"),
    ("蜜桃", 5, ("二级", "次果"), ""),
    ("小米", 4, ("一级",), ""),
    ("蜜桃", 4, ("特级", "一级", "二级"), ""),
    ("蜜桃", 3, ("一级", "二级"), ""),
    ("地瓜", 3, ("一级", "二级"), ""),
    ("蜜桃", 2, ("特级", "一级", "二级"), "早上现摘"),
    ("土鸡蛋", 2, ("一级",), ""),
    ("蜜桃", 1, ("特级",), ""),
    ("蜜桃", 1, ("一级", "二级"), ""),
    ("蜜桃", 0, ("特级", "一级"), "早上现摘"),
]

# Where in the product's price range each grade rank is paid, in percent.
GRADE_PRICE_BANDS = {0: (75, 100), 1: (50, 75), 2: (25, 50), 3: (0, 25)}


@dataclass
class SeedResult:
    created: bool
    counts: dict[str, int] = field(default_factory=dict)


# --- parts -----------------------------------------------------------------------------------


def ensure_users() -> dict[str, object]:
    """One demo user per role, password ``shanhuo123``; repaired if it was changed."""
    User = get_user_model()
    users = {}
    for username, role, first_name, is_staff in USERS:
        user, _created = User.objects.get_or_create(
            username=username, defaults={"first_name": first_name, "is_staff": is_staff}
        )
        changed = []
        if not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            changed.append("password")
        if not user.is_active:
            user.is_active = True
            changed.append("is_active")
        if is_staff and not user.is_staff:
            user.is_staff = True
            changed.append("is_staff")
        if changed:
            user.save(update_fields=changed)
        user.groups.add(Group.objects.get(name=role))
        users[username] = user
    return users


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
            },
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


def receive_deliveries(
    *,
    rng: random.Random,
    farmers: list[Farmer],
    products: dict[str, Product],
    grades: dict[str, Grade],
    locations: dict[str, Location],
    acting_user,
) -> list[Delivery]:
    """About 25 deliveries of the last three weeks, oldest first, some split into grades."""
    by_storage = {location.storage: location for location in locations.values()}
    today = timezone.localdate()
    deliveries = []
    for product_name, days_ago, grade_names, note in DELIVERIES:
        product = products[product_name]
        deliveries.append(
            intake_record(
                farmer=rng.choice(farmers),
                product=product,
                rows=[_intake_row(rng, product_name, grades[name]) for name in grade_names],
                harvest_date=today - timedelta(days=days_ago),
                location=by_storage[product.storage],
                acting_user=acting_user,
                note=note,
            )
        )
    return deliveries


def _demo_lot(deliveries: list[Delivery], product: str, grade: str, nth: int = 0) -> Lot:
    """The ``nth`` lot received of this product and grade."""
    return Lot.objects.filter(
        delivery__in=deliveries, product__name=product, grade__name=grade
    ).order_by("pk")[nth]


def record_stock_events(
    *, deliveries: list[Delivery], locations: dict[str, Location], acting_user
) -> None:
    """What happens in a warehouse week: spoilage, a crushed crate, a recount, a move."""
    write_offs = [
        ("蜜桃", "特级", 0, "4.600", "烂果"),
        ("蜜桃", "一级", 2, "3.200", "运输挤压"),
        ("蜜桃", "次果", 0, "6.500", "烂果"),
        ("土鸡蛋", "一级", 0, "1.200", "破损"),
    ]
    for product, grade, nth, kg, reason in write_offs:
        lot_write_off(
            lot=_demo_lot(deliveries, product, grade, nth),
            kg=Decimal(kg),
            reason=reason,
            acting_user=acting_user,
        )
    recounted = _demo_lot(deliveries, "地瓜", "一级")
    lot_adjust(
        lot=recounted,
        counted_kg=recounted.on_hand_kg - Decimal("2.400"),
        reason="盘点：失水",
        acting_user=acting_user,
    )
    lot_move(
        lot=_demo_lot(deliveries, "板栗", "特级"),
        location=locations["A"],
        acting_user=acting_user,
        note="入冷库防发芽",
    )


def counts() -> dict[str, int]:
    """What the studio holds, by what a person would call it."""
    return {
        _("farmers"): Farmer.objects.count(),
        _("products"): Product.objects.count(),
        _("SKUs"): Sku.objects.count(),
        _("locations"): Location.objects.count(),
        _("deliveries"): Delivery.objects.count(),
        _("lots"): Lot.objects.count(),
        _("ledger rows"): StockMovement.objects.count(),
        _("lots expiring within 2 days"): Lot.objects.expiring_within(2).count(),
    }


# --- all of it -------------------------------------------------------------------------------


def seed() -> SeedResult:
    """Build the demo studio once. A second run only makes sure the demo users can log in."""
    with transaction.atomic():
        users = ensure_users()
        if demo_present():
            return SeedResult(created=False, counts=counts())
        rng = random.Random(RANDOM_SEED)
        products, grades = create_catalogue()
        locations = create_locations()
        farmers = create_farmers(acting_user=users["intake"])
        deliveries = receive_deliveries(
            rng=rng,
            farmers=farmers,
            products=products,
            grades=grades,
            locations=locations,
            acting_user=users["intake"],
        )
        record_stock_events(
            deliveries=deliveries, locations=locations, acting_user=users["manager"]
        )
    return SeedResult(created=True, counts=counts())
