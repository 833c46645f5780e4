"""The demo studio's tables: who works there, the farmers and what they grow, the catalogue,
the livestreams and their buyers, the carriers' numbers. Data only; ``studio.demo``'s other
modules seed it through the services."""

from dataclasses import dataclass

from core.roles import Role
from inventory.models import (
    PaymentMethod,
    Storage,
)

DEMO_PASSWORD = "shanhuo123"


RANDOM_SEED = 610729


# 朱家坪村 in the 沂蒙山 hills: 山东省临沂市沂南县. Parcels leave from 山东
# (settings.STUDIO_PROVINCE), so transit days start there.
COUNTY = "沂南县"


ADCODE = "371321"


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
    ("刘长林", "竹泉村", "13609162874", True),
    ("陈玉梅", "竹泉村", "15991630526", False),
    ("杨富贵", "竹泉村", "17709165183", True),
    ("何春花", "竹泉村", "13379162605", False),
    ("赵明亮", "常山庄村", "18829167342", True),
    ("周冬梅", "常山庄村", "15319169817", False),
    ("吴德全", "常山庄村", "13571602938", False),
    ("孙有田", "北寨村", "18091624576", True),
    ("马金凤", "北寨村", "13186165209", False),
    ("胡国强", "北寨村", "15877163491", True),
    ("郭满仓", "岸堤村", "13468167725", False),
    ("罗小芳", "岸堤村", "19916163358", True),
    ("谢正义", "岸堤村", "18209160613", False),
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


# Days of shelf life a parcel must still have when the buyer opens it (other products: 0).
DAYS_ON_ARRIVAL = {"蜜桃": 1, "土鸡蛋": 5}


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
# Packs that come with a printed barcode (GTIN, EAN-13): the honey jar and the millet bag.
SKU_GTINS = {"FM-1J-TJ": "6971234560018", "XM-5J-YJ": "6971234560025"}
# The couriers who come to the door: the closed batch's and the open one's.
HANDOVER_COURIERS = {"sf": "刘师傅", "zto": "陈小军"}


# Gift boxes (组合装/礼盒): merchant code, name, the product and grade it is listed under, price,
# packaging kg, and its components (merchant code, units per box). Its net kg is their sum.
GIFT_BOXES = [
    (
        "LH-YMS-TJ",
        "沂蒙山礼盒（蜜桃5斤×2 + 土蜂蜜1斤）",
        "蜜桃",
        "特级",
        "138.00",
        "0.900",
        (("MT-5J-TJ", 2), ("FM-1J-TJ", 1)),
    ),
]
# Orders of the gift box in the peach session, on top of its own mix.
GIFT_BOX_ORDERS = 6

# The studio weighs and prices in 斤, as the farmers sell (StudioSettings.weight_unit).
STUDIO_WEIGHT_UNIT = "jin"


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


# A delivery nobody sold (product, days ago, grade, note): expired now, to be written off.
EXPIRED_DELIVERY = ("蜜桃", 8, "二级", "冷库角落漏发的一批")


# Where in the product's price range each grade rank is paid, in percent.
GRADE_PRICE_BANDS = {0: (75, 100), 1: (50, 75), 2: (25, 50), 3: (0, 25)}


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


# The usual carrier of each channel: allocation reads its transit days.
CHANNEL_CARRIERS = {"kuaishou": "sf", "douyin": "zto"}


# Transit days the manager set where the defaults from 山东 were wrong: province, carrier code
# ("" any), days.
TRANSIT_DAYS = [
    ("新疆维吾尔自治区", "zto", 5),  # 中通 to 新疆 goes by road
    ("海南省", "", 3),  # the strait
    ("西藏自治区", "", 5),
]


# Orders that wait for fresh stock: a buyer far away orders peaches of a grade whose lots are
# all too close to their expiry to arrive fresh. live session index, number, recipient, phone,
# (province, city, district, street), SKU, quantity.
FRESHNESS_ORDERS = [
    (
        0,
        "2409000000000000001",
        "艾力·买买提",
        "13899812345",
        ("新疆维吾尔自治区", "喀什地区", "喀什市", "人民东路 17 号 3 单元 502 室"),
        "MT-10J-CG",
        1,
    ),
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


# carrier code, file name, how the numbers run. Each pool holds a few hundred numbers.
WAYBILL_POOLS = [
    ("sf", "顺丰电子面单-沂南山货-第1批.txt", "SF{:012d}", 160226_000001),
    ("zto", "中通电子面单-沂南山货-第1批.txt", "75{:013d}", 3_102_600_000_001),
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
    "山东省": "531WA",
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


EXCEPTION_NOTE = "收件人电话无法接通，快件滞留【临沂转运中心】"
HEAVY_BOX_REASON = "核对过：箱里多放了两个冰袋"


RETURN_REASON = "买家拒收：途中挤压，果皮破损"
