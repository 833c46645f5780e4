"""A believable demo studio in 留坝县: users, farmers, catalogue, locations, stock, and the
orders of two livestreams.

``manage.py seed_demo`` calls :func:`seed`. Each part of the studio has its own small
function, so later parts (orders, parcels) are added the same way. Every change of stock goes
through ``inventory.services``, so the demo ledger is a real one. A fixed random seed makes
the data the same every time; dates are relative to today, so some peaches always expire soon.
"""

import math
import random
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.roles import Role
from inventory.models import (
    Delivery,
    Farmer,
    FarmerPayment,
    Grade,
    Location,
    Lot,
    PaymentMethod,
    Product,
    Sku,
    StockMovement,
    Storage,
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
    stock_reserve,
    stock_ship_out,
)
from orders.drafts import LineDraft, OrderDraft
from orders.models import Channel, LiveSession, Order, OrderLine, OrderStatus
from orders.services import backorders_fill, order_allocate, order_cancel, orders_create
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
    handover_scan,
    parcel_pack,
    parcel_return,
    tracking_update,
    wave_create,
    waybill_pool_import,
)

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


# --- orders: two livestreams and what they sold ----------------------------------------------


@dataclass(frozen=True)
class DemoSession:
    """A livestream and the orders paid during it."""

    channel: str  # channel code
    title: str
    host: str
    room: str
    orders: int
    skus: tuple[tuple[str, int], ...]  # merchant code, how often it is chosen
    masked_percent: int  # share of phones the platform hands over masked
    number_prefix: str  # how the platform's order numbers start


# The peach session sells the cheap 10斤 family pack and the 助农 session sells millet until
# the warehouse runs out: those orders wait as back-orders.
LIVE_SESSIONS = [
    DemoSession(
        "kuaishou",
        "朱家坪蜜桃开园直播",
        "阿秀",
        "直播间 1",
        210,
        (
            ("MT-5J-TJ", 30),
            ("MT-5J-YJ", 24),
            ("MT-3J-YJ", 20),
            ("MT-5J-EJ", 10),
            ("MT-10J-CG", 16),
            ("FM-1J-TJ", 5),
            ("JD-30M-YJ", 6),
        ),
        10,
        "24",
    ),
    DemoSession(
        "douyin",
        "板栗小米助农专场",
        "王德贵",
        "直播间 2",
        140,
        (
            ("BL-2J-TJ", 22),
            ("BL-2J-YJ", 18),
            ("XM-5J-YJ", 80),
            ("DG-5J-YJ", 10),
            ("DG-10J-YJ", 6),
            ("FM-1J-TJ", 8),
            ("JD-30M-YJ", 6),
        ),
        40,
        "69",
    ),
]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝"
)
GIVEN_NAMES = (
    "伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 晓燕 婷婷 子涵 "
    "浩然 欣怡 宇轩 雨桐 梓萱 俊杰 思远 佳怡 文博 海燕 红梅 建国 建华 丽娟 玉兰 春燕 晓明 志强 "
    "淑珍 美玲 慧 琳 凤英 国庆 德明 亚楠 一鸣 梦瑶 诗涵 嘉怡 雪梅 金凤 海涛 鹏 飞 鑫 倩"
).split()

# province, city, district: where the parcels go. Remote regions pay a shipping fee.
DESTINATIONS = [
    ("北京市", "北京市", "朝阳区"),
    ("北京市", "北京市", "海淀区"),
    ("上海市", "上海市", "浦东新区"),
    ("上海市", "上海市", "闵行区"),
    ("天津市", "天津市", "南开区"),
    ("重庆市", "重庆市", "渝北区"),
    ("广东省", "广州市", "天河区"),
    ("广东省", "深圳市", "南山区"),
    ("广东省", "深圳市", "宝安区"),
    ("广东省", "佛山市", "顺德区"),
    ("浙江省", "杭州市", "西湖区"),
    ("浙江省", "杭州市", "余杭区"),
    ("浙江省", "宁波市", "鄞州区"),
    ("浙江省", "温州市", "鹿城区"),
    ("江苏省", "南京市", "鼓楼区"),
    ("江苏省", "苏州市", "吴中区"),
    ("江苏省", "无锡市", "滨湖区"),
    ("山东省", "济南市", "历下区"),
    ("山东省", "青岛市", "市南区"),
    ("河南省", "郑州市", "金水区"),
    ("湖北省", "武汉市", "洪山区"),
    ("湖南省", "长沙市", "岳麓区"),
    ("四川省", "成都市", "武侯区"),
    ("陕西省", "西安市", "雁塔区"),
    ("陕西省", "西安市", "未央区"),
    ("陕西省", "汉中市", "汉台区"),
    ("陕西省", "宝鸡市", "渭滨区"),
    ("福建省", "厦门市", "思明区"),
    ("福建省", "福州市", "鼓楼区"),
    ("河北省", "石家庄市", "长安区"),
    ("辽宁省", "沈阳市", "和平区"),
    ("辽宁省", "大连市", "沙河口区"),
    ("黑龙江省", "哈尔滨市", "南岗区"),
    ("吉林省", "长春市", "朝阳区"),
    ("安徽省", "合肥市", "蜀山区"),
    ("江西省", "南昌市", "红谷滩区"),
    ("广西壮族自治区", "南宁市", "青秀区"),
    ("云南省", "昆明市", "五华区"),
    ("贵州省", "贵阳市", "观山湖区"),
    ("山西省", "太原市", "小店区"),
    ("甘肃省", "兰州市", "城关区"),
    ("海南省", "海口市", "龙华区"),
    ("内蒙古自治区", "呼和浩特市", "赛罕区"),
    ("宁夏回族自治区", "银川市", "兴庆区"),
    ("青海省", "西宁市", "城西区"),
    ("新疆维吾尔自治区", "乌鲁木齐市", "天山区"),
]
REMOTE_PROVINCES = {"新疆维吾尔自治区", "青海省", "内蒙古自治区", "宁夏回族自治区", "海南省"}
ROADS = (
    "人民路 解放路 建设路 中山路 文化路 幸福路 长江路 和平路 朝阳路 科技路 学府路 新华街".split()
)
COMPOUNDS = (
    "阳光花园 万科城 碧桂园 幸福家园 锦绣华庭 金色家园 翡翠城 书香苑 绿地小区 保利花园".split()
)
OFFICES = "国贸大厦 科技园 软件园 创业大厦 金融中心".split()
PHONE_PREFIXES = "130 131 132 133 135 136 137 138 139 150 151 152 155 157 158 159 166 173 176 177 180 181 182 183 185 186 187 188 189 191 198 199".split()  # noqa: E501
BUYER_NOTES = [
    "请发顺丰",
    "不要放快递柜",
    "送人的，不要放价格单",
    "工作日放门卫，谢谢",
    "桃子挑硬一点的，要放几天",
    "到了打电话",
    "家里有老人，请送货上门",
    "请尽快发货",
    "放驿站就行",
    "周末在家",
]
CANCEL_NOTES = [
    "买家申请取消：拍错规格",
    "买家申请取消：地址填错，已重新下单",
    "重复下单",
    "买家申请取消：不想要了",
    "买家申请取消：发货太慢",
]
REFUND_NOTES = ["仅退款：直播间优惠没用上", "仅退款：买家与客服协商"]


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Run the services as if it were ``moment`` (aware): the demo's history happened in the
    past, and a statement's test needs a month that is over. The services stamp what they
    record with ``timezone.now()``; the ledger and payments through their fields' defaults,
    which hold the function itself, so those are pointed at ``moment`` too. Not for use while
    serving requests: it changes the time for the whole process."""
    with ExitStack() as stack:
        stack.enter_context(mock.patch("django.utils.timezone.now", return_value=moment))
        for model in (StockMovement, FarmerPayment):
            stamp = model._meta.get_field("created_at")
            stack.enter_context(mock.patch.object(stamp, "get_default", return_value=moment))
        yield


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
        with clock_at(min(received_at, now)):
            deliveries.append(
                intake_record(
                    farmer=rng.choice(farmers),
                    product=product,
                    rows=[_intake_row(rng, product_name, grades[name]) for name in grade_names],
                    harvest_date=harvest_date,
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


def _days_after_intake(lot: Lot, days: int, at: time = time(17, 0)) -> AbstractContextManager:
    """The clock a few days after the lot came in (never later than now)."""
    now = timezone.now()
    day = timezone.localdate(lot.received_at) + timedelta(days=days)
    return clock_at(_in_the_past(day, at, now))


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
        with _days_after_intake(lot, days):
            lot_write_off(lot=lot, kg=Decimal(kg), reason=reason, acting_user=acting_user)
    recounted = _demo_lot(deliveries, "地瓜", "一级")
    with _days_after_intake(recounted, 6):
        lot_adjust(
            lot=recounted,
            counted_kg=recounted.on_hand_kg - Decimal("2.400"),
            reason="盘点：失水",
            acting_user=acting_user,
        )
    moved = _demo_lot(deliveries, "板栗", "特级")
    with _days_after_intake(moved, 1, time(10, 0)):
        lot_move(lot=moved, location=locations["A"], acting_user=acting_user, note="入冷库防发芽")


# --- last month and payments: what the farmers' statements show -------------------------------

# Day of last month, product, grades, how the lot went: sold over a few days after intake,
# and the kilograms written off (perishables only). Everything was gone by the month's end.
HISTORY = [
    (2, "蜂蜜", ("特级",), "0"),
    (4, "蜜桃", ("特级", "一级"), "3.500"),
    (7, "板栗", ("特级", "一级"), "0"),
    (9, "蜜桃", ("一级", "二级"), "5.200"),
    (12, "小米", ("一级",), "0"),
    (15, "土鸡蛋", ("一级",), "0.900"),
    (18, "蜜桃", ("特级",), "2.800"),
    (21, "地瓜", ("一级",), "0"),
    (24, "蜜桃", ("特级", "一级"), "4.100"),
    (27, "板栗", ("一级",), "0"),
]
# Which farmers delivered last month (indexes into FARMERS).
HISTORY_FARMERS = (0, 3, 7, 11, 14, 16, 1, 9, 19, 5)


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
        with clock_at(moment):
            (taken,) = stock_reserve(
                requests=[ReserveRequest(lot.product_id, lot.grade_id, kg)],
                reference=f"history:{day.isoformat()}",
            )
            stock_ship_out(
                items=taken, reference=f"parcels:{day.isoformat()}", acting_user=users["packer"]
            )
    if spoiled:  # found when the last of it went out
        with clock_at(timezone.make_aware(datetime.combine(day, time(18, 0)))):
            lot_write_off(lot=lot, kg=spoiled, reason="烂果", acting_user=users["manager"])


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
        with clock_at(timezone.make_aware(datetime.combine(delivered_on, time(7, 30)))):
            delivery = intake_record(
                farmer=farmers[FARMERS[farmer_index][2]],
                product=product,
                rows=[_intake_row(rng, product_name, grades[name]) for name in grade_names],
                harvest_date=delivered_on,
                location=locations[product.storage],
                acting_user=users["intake"],
            )
        for index, lot in enumerate(delivery.lots.order_by("pk")):
            lost = Decimal(spoiled) if index == 0 else Decimal("0")
            _sell_history_lot(rng, lot, lost, month_end, users=users)


# farmer index, paid on (day of last month, or of this month when it is a "this" row),
# share of what they are owed then (percent; above 100 is an advance), method
PAYMENTS = [
    (0, "last", 28, 100, PaymentMethod.BANK_TRANSFER),
    (3, "last", 20, 100, PaymentMethod.WECHAT),
    (7, "last", 29, 50, PaymentMethod.CASH),
    (11, "last", 25, 100, PaymentMethod.ALIPAY),
    (14, "last", 30, 120, PaymentMethod.CASH),  # an advance: prepaid
    (7, "this", 3, 100, PaymentMethod.BANK_TRANSFER),
    (16, "this", 5, 60, PaymentMethod.WECHAT),
]


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
        with clock_at(timezone.make_aware(datetime.combine(paid_on, time(16, 0)))):
            farmer_payment_record(
                farmer=farmers[index],
                paid_on=paid_on,
                amount=amount,
                method=method,
                reference=f"FK-{paid_on:%y%m}-{number:02d}",  # the studio's voucher
                note="" if share <= 100 else "预付下批货款",
                acting_user=users["manager"],
            )


# --- orders ----------------------------------------------------------------------------------


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


def create_orders(*, rng: random.Random, acting_user, now: datetime) -> list[Order]:
    """Two live sessions and the orders paid during them, created as an import would."""
    skus = {sku.merchant_code: sku for sku in Sku.objects.all()}
    numbers: set[str] = set()
    orders = []
    for spec, session in zip(LIVE_SESSIONS, create_live_sessions(now=now), strict=True):
        drafts = [
            _draft(rng, spec=spec, session=session, skus=skus, numbers=numbers)
            for _n in range(spec.orders)
        ]
        orders += orders_create(channel=session.channel, drafts=drafts, acting_user=acting_user)
    return orders


def settle_orders(*, rng: random.Random, orders: list[Order], acting_user) -> None:
    """What the studio does the morning after: allocate in paid-at order (some SKUs run out
    and those orders wait), cancel a few and refund a couple (their stock goes back), then
    give the freed kilograms to the back-orders that wait for them."""
    ordered = sorted(orders, key=lambda order: (order.paid_at, order.pk))
    for order in ordered:
        order_allocate(order=order, acting_user=acting_user)
    allocated = [order for order in ordered if order.status == OrderStatus.ALLOCATED]
    waiting = [order for order in ordered if order.status == OrderStatus.BACKORDERED]
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


# --- shipping: waybill pools, waves, parcels on their way ------------------------------------

# carrier code, file name, how the numbers run. Each pool holds a few hundred numbers.
WAYBILL_POOLS = [
    ("sf", "顺丰电子面单-留坝山货-第1批.txt", "SF{:012d}", 160226_000001),
    ("zto", "中通电子面单-留坝山货-第1批.txt", "75{:013d}", 3_102_600_000_001),
]
WAYBILLS_PER_POOL = 300

# The first wave went out this morning; the second is being packed now; the third was just
# made. live session index, carrier, how many orders, how many of them are packed, note.
DEMO_WAVES = [
    (0, "sf", 16, 16, "蜜桃开园直播 早班第一波"),
    (1, "zto", 14, 6, "助农专场 第一波"),
    (0, "sf", 6, 0, "蜜桃开园直播 第二波"),
]

# 顺丰's sorting codes (大头笔) for the provinces it routes through its big hubs.
SORTING_CODES = {
    "北京市": "010WA",
    "上海市": "021WB",
    "广东省": "020GF",
    "浙江省": "571WH",
    "江苏省": "025WG",
    "陕西省": "029WF",
    "四川省": "028WC",
    "湖北省": "027WJ",
}

DELIVERED_NOTES = [
    "已签收，签收人：本人",
    "已签收，快递柜代收",
    "已签收，门卫代收",
    "已签收，家人代收",
]
EXCEPTION_NOTE = "收件人电话无法接通，快件滞留【西安转运中心】"
RETURN_REASON = "买家拒收：途中挤压，果皮破损"


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
    for parcel in handed_over:
        handover_scan(tracking_number=parcel.tracking_number, acting_user=packer)
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
        _("live sessions"): LiveSession.objects.count(),
        _("orders"): Order.objects.count(),
        _("back-ordered orders"): Order.objects.filter(status=OrderStatus.BACKORDERED).count(),
    }


# --- all of it -------------------------------------------------------------------------------


def seed() -> SeedResult:
    """Build the demo studio once. A second run only makes sure the demo users can log in.
    A studio seeded before orders existed gets its livestream orders on the next run."""
    created = False
    with transaction.atomic():
        users = ensure_users()
        if not demo_present():
            rng = random.Random(RANDOM_SEED)
            products, grades = create_catalogue()
            locations = create_locations()
            farmers = create_farmers(acting_user=users["intake"])
            # Last month first: its lots are sold out before this month's arrive.
            create_history(rng=random.Random(RANDOM_SEED + 3), users=users)
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
            created = True
        if not demo_orders_present():
            rng = random.Random(RANDOM_SEED + 1)
            orders = create_orders(rng=rng, acting_user=users["manager"], now=timezone.now())
            settle_orders(rng=rng, orders=orders, acting_user=users["manager"])
            created = True
        if not demo_shipping_present():
            create_shipping(rng=random.Random(RANDOM_SEED + 2), users=users)
            created = True
        if not demo_history_present():
            create_payments(users=users)
            created = True
    return SeedResult(created=created, counts=counts() | shipping_counts())
