"""The 抖店 order export as the platform writes it today (tests/data/make_doudian.py) imports
as it comes: no mapping step, addresses read onto the national divisions from the one 详细地址
column, paid times from 订单提交时间, leading tabs gone, masked phones kept masked."""

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from orders.importers import service
from orders.importers.presets import map_columns
from orders.models import Channel, ImportMode, ImportStatus, Order, OrderStatus
from tests.data import make_doudian
from tests.factories import GradeFactory, ProductFactory, SkuFactory, receive

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PRODUCTS = {
    "MT-5J-TJ": ("蜜桃", "特级", "2.500"),
    "MT-5J-YJ": ("蜜桃", "一级", "2.500"),
    "BL-2J-TJ": ("板栗", "特级", "1.000"),
    "FM-1J-TJ": ("蜂蜜", "特级", "0.500"),
}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def catalogue():
    products, grades, skus = {}, {}, {}
    for code, (product, grade, kg) in PRODUCTS.items():
        products.setdefault(product, ProductFactory(name=product))
        grades.setdefault(grade, GradeFactory(name=grade, rank=0 if grade == "特级" else 1))
        skus[code] = SkuFactory(
            merchant_code=code,
            name=f"{product} {grade}",
            product=products[product],
            grade=grades[grade],
            net_kg=Decimal(kg),
            price=Decimal(make_doudian.SKUS[code][3]),
        )
        receive(kg="200", product=products[product], grade=grades[grade])
    return skus


def _import(name: str, user):
    with translation.override("en"):
        batch = service.import_upload(
            channel=Channel.objects.get(code="douyin"),
            uploaded=SimpleUploadedFile(name, (DATA / name).read_bytes()),
            acting_user=user,
        )
        assert batch.status == ImportStatus.PREVIEWED, batch.message  # no mapping step
        return batch, service.import_commit(
            batch=batch, mode=ImportMode.KEEP_GOOD, acting_user=user, run_now=True
        )


def test_the_douyin_preset_knows_every_column_of_the_export():
    columns = map_columns(make_doudian.HEADER, channel_code="douyin")

    assert columns.preset.code == "douyin"
    assert columns.complete
    assert columns.unknown == []
    assert make_doudian.HEADER[columns.columns["paid_at"]] == "订单提交时间"
    assert make_doudian.HEADER[columns.columns["address_detail"]] == "详细地址"
    assert "province" not in columns.columns


@pytest.mark.parametrize("name", make_doudian.FILES)
def test_the_doudian_export_imports_as_it_comes(name, catalogue, make_user):
    user = make_user("manager")

    preview, batch = _import(name, user)

    assert preview.preset == "douyin"
    assert batch.status == ImportStatus.DONE, batch.message
    assert batch.invalid_count == 0
    orders = {order.external_no: order for order in Order.objects.all()}
    assert set(orders) == set(make_doudian.EXPECTED)  # the refunded order is not created
    for number, (province, city, district, adcode, check, street) in make_doudian.EXPECTED.items():
        order = orders[number]
        assert (
            order.province,
            order.city,
            order.district,
            order.adcode,
            order.address_status,
            order.address_detail,
        ) == (province, city, district, adcode, check, street), number
        raw = next(row[3] for row in make_doudian.ORDERS if row[0] == number)
        assert order.raw_address == raw
    first = orders["6937160112340000101"]
    assert first.paid_at == datetime(2026, 11, 18, 20, 15, 3, tzinfo=SHANGHAI)
    assert first.lines.count() == 2
    assert first.goods_total == Decimal("185.90")
    assert (first.phone, first.phone_masked_by_platform, first.masked_phone) == (
        "138****5678",
        True,
        "138****5678",
    )
    whole = orders["6937160112340000103"]
    assert (whole.phone, whole.phone_masked_by_platform) == ("13700002222", False)
    assert orders["6937160112340000106"].shipping_fee == Decimal("12.00")
    assert all("\t" not in number for number in orders)
    assert Order.objects.filter(status=OrderStatus.ALLOCATED).count() == len(orders)


def test_an_order_refunded_on_the_platform_is_marked_refunded(catalogue, make_user):
    """An order imported while open, closed later with 售后状态 退款成功: refunded, not only
    cancelled (抖店 closes refunded orders as 已关闭)."""
    user = make_user("manager")
    header = make_doudian.HEADER
    rows = make_doudian.rows()
    number_at, status_at = header.index("主订单编号"), header.index("订单状态")
    after_at = header.index("售后状态")
    last = [row for row in rows if row[number_at].strip() == make_doudian.REFUNDED]
    opened = [[*row] for row in last]
    for row in opened:
        row[status_at], row[after_at] = "待发货", "-"

    def upload(body, name):
        text = ",".join(header) + "\r\n" + "\r\n".join(",".join(row) for row in body)
        with translation.override("en"):
            batch = service.import_upload(
                channel=Channel.objects.get(code="douyin"),
                uploaded=SimpleUploadedFile(name, ("\ufeff" + text).encode()),
                acting_user=user,
            )
            service.import_commit(
                batch=batch, mode=ImportMode.KEEP_GOOD, acting_user=user, run_now=True
            )

    upload(opened, "first.csv")
    assert Order.objects.get().status == OrderStatus.ALLOCATED
    upload(last, "later.csv")

    order = Order.objects.get()
    assert (order.status, order.platform_status) == (OrderStatus.REFUNDED, "退款成功")


def test_an_older_export_with_a_payment_column_reads_the_payment_time(catalogue, make_user):
    """When both 订单提交时间 and 支付完成时间 are there, the payment time wins, whichever
    column comes first."""
    header = ["主订单编号", "商家编码", "商品数量", "收件人", "收件人手机号", "省", "市", "区"]
    header += ["详细地址", "订单提交时间", "支付完成时间"]
    row = ["\t6937160112340000999", "MT-5J-TJ", "1", "钱七", "13800000001", "浙江", "杭州"]
    row += ["西湖", "灵隐路1号", "2026/11/18 19:58:00", "2026/11/18 20:01:30"]
    text = ",".join(header) + "\r\n" + ",".join(row) + "\r\n"
    user = make_user("manager")
    with translation.override("en"):
        batch = service.import_upload(
            channel=Channel.objects.get(code="douyin"),
            uploaded=SimpleUploadedFile("old.csv", text.encode("gb18030")),
            acting_user=user,
        )
        service.import_commit(batch=batch, mode=ImportMode.KEEP_GOOD, acting_user=user)

    order = Order.objects.get()
    assert order.paid_at == datetime(2026, 11, 18, 20, 1, 30, tzinfo=SHANGHAI)
    assert (order.province, order.city, order.district, order.adcode) == (
        "浙江省",
        "杭州市",
        "西湖区",
        "330106",
    )
    assert order.address_detail == "灵隐路1号"


@pytest.mark.parametrize(
    ("channel", "header"),
    [
        ("kuaishou", ["订单号", "商家编码", "数量", "收货人", "手机号", "收货地址", "支付时间"]),
        (
            "wechat",
            ["订单ID", "SKU编码", "购买数量", "收件人姓名", "联系电话", "收件人地址", "付款时间"],
        ),
    ],
)
def test_kuaishou_and_generic_layouts_take_a_one_column_address(
    channel, header, catalogue, make_user
):
    if channel == "wechat":
        Channel.objects.get_or_create(code="wechat", defaults={"name": "微信"})
    rows = [
        ["A1", "BL-2J-TJ", "1", "赵六", "13800000002", "江苏江阴市澄江街道人民路1号"],
        ["A2", "BL-2J-TJ", "1", "孙七", "13800000003", "鼓楼区中山路1号"],
    ]
    text = ",".join(header) + "\r\n"
    text += "".join(",".join([*row, "2026-11-18 20:00"]) + "\r\n" for row in rows)
    user = make_user("manager")
    with translation.override("en"):
        batch = service.import_upload(
            channel=Channel.objects.get(code=channel),
            uploaded=SimpleUploadedFile("one.csv", text.encode()),
            acting_user=user,
        )
        assert batch.status == ImportStatus.PREVIEWED
        assert batch.preset == ("kuaishou" if channel == "kuaishou" else "generic")
        service.import_commit(batch=batch, mode=ImportMode.KEEP_GOOD, acting_user=user)

    read = Order.objects.get(external_no="A1")
    assert (read.province, read.city, read.district, read.adcode, read.address_status) == (
        "江苏省",
        "无锡市",
        "江阴市",
        "320281",
        "matched",
    )
    flagged = Order.objects.get(external_no="A2")  # 鼓楼区 is in 南京, 徐州, 福州 and 开封
    assert (flagged.province, flagged.adcode, flagged.address_status) == ("", "", "unmatched")
    assert flagged.address_detail == "鼓楼区中山路1号"
    assert flagged.raw_address == "鼓楼区中山路1号"
