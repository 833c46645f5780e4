"""Writes ``kuaishou_orders_gb18030.csv`` beside this file: a 快手-style order export of one
evening's livestream, for trying the import after ``manage.py seed_demo``.

    .venv/bin/python docs/samples/make_kuaishou_sample.py

About 60 orders (some with several lines) for the demo catalogue's SKUs, saved the way Excel
on Chinese Windows saves a CSV (GB18030), with a tab before each long order number as the
platform exports it. A few rows are wrong on purpose, so the preview has something to show:
an unknown merchant code, a 10-digit phone, an order number Excel rounded, an empty address.
Two orders were closed on the platform and are skipped. The same seed writes the same file.
"""

import csv
import io
import random
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILE = HERE / "kuaishou_orders_gb18030.csv"
SEED = 20260618
ORDERS = 60
SESSION = "朱家坪蜜桃开园直播"  # the demo's 快手 live session
STARTS = datetime(2026, 6, 18, 20, 0)

HEADER = [
    "订单号",
    "订单状态",
    "商品名称",
    "商家编码",
    "商品单价",
    "商品数量",
    "运费",
    "实付金额",
    "收货人",
    "收货人手机号",
    "省",
    "市",
    "区",
    "详细地址",
    "买家留言",
    "支付时间",
    "直播间",
]
# merchant code, name, price (the demo catalogue), how often it sells
SKUS = [
    ("MT-5J-TJ", "蜜桃 5斤礼盒 特级", "49.90", 30),
    ("MT-5J-YJ", "蜜桃 5斤装 一级", "39.90", 24),
    ("MT-3J-YJ", "蜜桃 3斤装 一级", "25.90", 20),
    ("MT-10J-CG", "蜜桃 10斤家庭装 次果", "39.90", 12),
    ("FM-1J-TJ", "土蜂蜜 1斤装", "68.00", 6),
    ("JD-30M-YJ", "土鸡蛋 30枚", "45.00", 8),
]
PLACES = [
    ("陕西省", "西安市", "雁塔区"),
    ("陕西省", "汉中市", "汉台区"),
    ("北京市", "北京市", "朝阳区"),
    ("上海市", "上海市", "浦东新区"),
    ("广东省", "广州市", "天河区"),
    ("四川省", "成都市", "武侯区"),
    ("浙江省", "杭州市", "西湖区"),
    ("湖北省", "武汉市", "洪山区"),
    ("江苏省", "南京市", "鼓楼区"),
    ("河南省", "郑州市", "金水区"),
]
ROADS = ["人民路", "解放路", "建设路", "文化路", "中山路", "长安路", "和平路", "新华路"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "军", "杰", "娟", "涛"]
NOTES = ["", "", "", "", "请尽快发货", "不要放快递柜", "送人的，不要放价格单", "下午送"]


def orders(rng: random.Random) -> list[list[str]]:
    rows = []
    codes = [sku[0] for sku in SKUS]
    weights = [sku[3] for sku in SKUS]
    by_code = {sku[0]: sku for sku in SKUS}
    for index in range(ORDERS):
        number = f"24061820{index + 1:011d}"
        paid = STARTS + timedelta(seconds=int(index * 7200 / ORDERS) + rng.randint(0, 90))
        lines = rng.choices(codes, weights, k=rng.choices([1, 2, 3], [75, 20, 5])[0])
        lines = list(dict.fromkeys(lines))  # one line per SKU
        quantities = [rng.choices([1, 2, 3], [80, 15, 5])[0] for _ in lines]
        prefix = rng.choice(["138", "139", "150", "159", "186", "177", "133"])
        phone = (
            f"{prefix}****{rng.randint(0, 9999):04d}"
            if rng.random() < 0.1
            else f"{prefix}{rng.randint(0, 99999999):08d}"
        )
        province, city, district = rng.choice(PLACES)
        building, room = rng.randint(1, 20), rng.randint(101, 2802)
        detail = f"{rng.choice(ROADS)}{rng.randint(1, 300)}号{building}栋{room}室"
        total = sum(Decimal(by_code[c][2]) * q for c, q in zip(lines, quantities, strict=True))
        order = {
            "订单号": "\t" + number,
            "订单状态": "待发货",
            "运费": "0.00",
            "实付金额": f"{total:.2f}",
            "收货人": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN]),
            "收货人手机号": phone,
            "省": province,
            "市": city,
            "区": district,
            "详细地址": detail,
            "买家留言": rng.choice(NOTES),
            "支付时间": paid.strftime("%Y-%m-%d %H:%M:%S"),
            "直播间": SESSION,
        }
        # A few orders go wrong on purpose, as real exports do.
        if index == 7:
            order["订单状态"] = "已关闭"
        if index == 41:
            order["订单状态"] = "退款成功"
        if index == 12:
            order["收货人手机号"] = phone.replace("*", "")[:10]
        if index == 23:
            order["订单号"] = f"{float(number):.5E}"  # what Excel leaves of a long number
        if index == 35:
            order["详细地址"] = ""
        for line, (code, quantity) in enumerate(zip(lines, quantities, strict=True)):
            _code, name, price, _weight = by_code[code]
            if index == 18 and line == 0:
                code = "MT-8J-TJ"  # not in the catalogue
            rows.append(
                [
                    *[order[h] for h in HEADER[:2]],
                    name,
                    code,
                    price,
                    str(quantity),
                    *[order[h] for h in HEADER[6:]],
                ]
            )
    return rows


def main() -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(orders(random.Random(SEED)))
    FILE.write_bytes(out.getvalue().encode("gb18030"))
    print(f"wrote {FILE.relative_to(HERE.parent.parent)} ({FILE.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
