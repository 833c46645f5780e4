"""Writes the order-export fixtures the import tests read, next to this file:

    .venv/bin/python tests/data/make_fixtures.py

- ``kuaishou_gb18030.csv``: a 快手 export as Excel on Chinese Windows saves it (GB18030), with
  19-digit order numbers behind a tab, orders of several lines, a platform-masked phone, a
  closed order, a buyer note that looks like a formula and a name that looks like markup;
- ``kuaishou_overlap_gb18030.csv``: the next export of the same shop, overlapping the first
  (and closing one of its orders);
- ``douyin_utf8_bom.csv``: a 抖音 export (UTF-8 with BOM, the address in one column);
- ``orders_19digit.xlsx``: a workbook with 19-digit order numbers stored as text, numbers and
  dates stored as numbers and dates;
- ``bad_rows_gb18030.csv``: one row for each kind of bad row, among good ones;
- ``unknown_layout.csv``: headers no preset knows (the mapping screen's case).

The files are committed; run this again after changing it. SKUS lists the merchant codes
the files use, for the tests to create.
"""

import csv
import io
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent

# merchant code, name, net kg per unit, price
SKUS = [
    ("MT-5J-TJ", "蜜桃 5斤礼盒 特级", "2.500", "49.90"),
    ("MT-5J-YJ", "蜜桃 5斤装 一级", "2.500", "39.90"),
    ("BL-2J-TJ", "板栗 2斤装 特级", "1.000", "36.80"),
    ("FM-1J-TJ", "土蜂蜜 1斤装", "0.500", "68.00"),
]
NAMES = {code: name for code, name, _kg, _price in SKUS}
PRICES = {code: price for code, _name, _kg, price in SKUS}
SESSION = "11·18 蜜桃专场"

KUAISHOU_HEADER = [
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

# number, status, recipient, phone, (province, city, district, detail), note, paid, session,
# [(code, quantity)], shipping fee
KUAISHOU_ORDERS = [
    (
        "2611181930000000001",
        "待发货",
        "王小明",
        "13800138001",
        ("陕西省", "西安市", "雁塔区", "科技路48号 3单元 502"),
        "",
        "2026-11-18 20:01:12",
        SESSION,
        [("MT-5J-TJ", 1)],
        "0.00",
    ),
    (
        "2611181930000000002",
        "待发货",
        "李娟",
        "139****5678",
        ("北京市", "北京市", "朝阳区", "建国路88号SOHO现代城A座1201"),
        "请发顺丰",
        "2026-11-18 20:03:45",
        SESSION,
        [("MT-5J-TJ", 2), ("BL-2J-TJ", 1)],
        "0.00",
    ),
    (
        "2611181930000000003",
        "待发货",
        "张伟",
        "15912345678",
        ("广东省", "深圳市", "南山区", "科苑路15号"),
        '=HYPERLINK("http://example.com","点我")',
        "2026-11-18 20:05:09",
        "",
        [("FM-1J-TJ", 3)],
        "8.00",
    ),
    (
        "2611181930000000004",
        "已关闭",
        "赵敏",
        "13712345678",
        ("四川省", "成都市", "武侯区", "人民南路四段1号"),
        "",
        "2026-11-18 20:06:30",
        SESSION,
        [("MT-5J-YJ", 1)],
        "0.00",
    ),
    (
        "2611181930000000005",
        "待发货",
        "<script>alert(1)</script>",
        "18612345678",
        ("浙江省", "杭州市", "西湖区", "文三路90号"),
        "+cmd|' /C calc'!A0",
        "2026-11-18 20:09:58",
        SESSION,
        [("MT-5J-YJ", 2), ("MT-5J-TJ", 1), ("BL-2J-TJ", 2)],
        "0.00",
    ),
    (
        "2611181930000000006",
        "待发货",
        "陈静",
        "13312345678",
        ("湖北省", "恩施土家族苗族自治州", "恩施市", "舞阳大道1号"),
        "",
        "2026-11-18 20:15:00",
        SESSION,
        [("BL-2J-TJ", 1)],
        "0.00",
    ),
    (
        "2611181930000000007",
        "待发货",
        "刘洋",
        "17712345678",
        ("上海市", "上海市", "浦东新区", "世纪大道100号"),
        "",
        "2026-11-18 20:22:41",
        SESSION,
        [("MT-5J-TJ", 1), ("FM-1J-TJ", 1)],
        "0.00",
    ),
    (
        "2611181930000000008",
        "待发货",
        "周芳",
        "15012345678",
        ("江苏省", "南京市", "玄武区", "中山路1号"),
        "下午送",
        "2026-11-18 20:31:07",
        SESSION,
        [("MT-5J-YJ", 1)],
        "0.00",
    ),
]
# The next export: orders 6–8 again (8 now closed on the platform), and three new ones.
OVERLAP_ORDERS = [
    *KUAISHOU_ORDERS[5:7],
    (*KUAISHOU_ORDERS[7][:1], "交易关闭", *KUAISHOU_ORDERS[7][2:]),
    (
        "2611181930000000009",
        "待发货",
        "孙丽",
        "13612345678",
        ("山东省", "济南市", "历下区", "泉城路2号"),
        "",
        "2026-11-18 21:02:33",
        SESSION,
        [("MT-5J-TJ", 1)],
        "0.00",
    ),
    (
        "2611181930000000010",
        "待发货",
        "吴刚",
        "18812345678",
        ("河南省", "郑州市", "金水区", "花园路3号"),
        "",
        "2026-11-18 21:10:05",
        SESSION,
        [("BL-2J-TJ", 2), ("FM-1J-TJ", 1)],
        "0.00",
    ),
    (
        "2611181930000000011",
        "待发货",
        "郑爽",
        "13512345678",
        ("湖南省", "长沙市", "岳麓区", "麓山南路4号"),
        "",
        "2026-11-18 21:30:45",
        SESSION,
        [("MT-5J-YJ", 1)],
        "0.00",
    ),
]


def _amount(lines, fee: str) -> str:
    from decimal import Decimal

    total = sum(Decimal(PRICES[code]) * quantity for code, quantity in lines) + Decimal(fee)
    return f"{total:.2f}"


def kuaishou_rows(orders) -> list[list[str]]:
    rows = []
    for number, status, name, phone, place, note, paid, session, lines, fee in orders:
        for code, quantity in lines:
            rows.append(
                [
                    "\t" + number,
                    status,
                    NAMES[code],
                    code,
                    PRICES[code],
                    str(quantity),
                    fee,
                    _amount(lines, fee),
                    name,
                    phone,
                    *place,
                    note,
                    paid,
                    session,
                ]
            )
    return rows


def csv_bytes(header, rows, encoding: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


DOUYIN_HEADER = [
    "主订单编号",
    "子订单编号",
    "选购商品",
    "商家编码",
    "商品数量",
    "商品单价",
    "收件人",
    "收件人手机号",
    "收货地址",
    "支付完成时间",
    "订单状态",
    "买家备注",
    "运费",
    "订单金额",
    "直播场次",
]
# number, recipient, phone, address, paid, status, [(code, quantity)]
DOUYIN_ORDERS = [
    (
        "6928374650192837465",
        "马超",
        "13900001111",
        "北京市北京市朝阳区建国路88号",
        "2026/11/18 20:15:03",
        "待发货",
        [("MT-5J-TJ", 1), ("FM-1J-TJ", 2)],
    ),
    (
        "6928374650192837466",
        "黄蓉",
        "158****0000",
        "广西壮族自治区南宁市青秀区民族大道100号",
        "2026/11/18 20:40:00",
        "待发货",
        [("BL-2J-TJ", 3)],
    ),
    (
        "6928374650192837467",
        "郭靖",
        "+86 137 0000 2222",
        "陕西 汉中市 留坝县 紫柏街道朱家坪村12号",
        "2026年11月18日 21:05:17",
        "已取消",
        [("MT-5J-YJ", 1)],
    ),
]


def douyin_rows() -> list[list[str]]:
    rows = []
    for number, name, phone, address, paid, status, lines in DOUYIN_ORDERS:
        for index, (code, quantity) in enumerate(lines, start=1):
            rows.append(
                [
                    number,
                    f"{number}{index:02d}",
                    NAMES[code],
                    code,
                    str(quantity),
                    f"¥{PRICES[code]}",
                    name,
                    phone,
                    address,
                    paid,
                    status,
                    "",
                    "0",
                    _amount(lines, "0"),
                    SESSION,
                ]
            )
    return rows


XLSX_HEADER = ["订单编号", "商家编码", "数量", "单价", "收件人", "手机号", "收货地址", "付款时间"]
XLSX_ORDERS = [
    (
        "3000000000000000001",
        "MT-5J-TJ",
        2,
        49.9,
        "钱七",
        13800000001,
        "浙江省杭州市西湖区灵隐路1号",
    ),
    (
        "3000000000000000002",
        "BL-2J-TJ",
        1,
        36.8,
        "孙八",
        13800000002,
        "江苏省苏州市姑苏区人民路2号",
    ),
    ("3000000000000000003", "FM-1J-TJ", 4, 68, "周九", 13800000003, "四川省成都市锦江区春熙路3号"),
]


def write_xlsx(path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "订单"
    sheet.append(XLSX_HEADER)
    for minute, (number, code, quantity, price, name, phone, address) in enumerate(XLSX_ORDERS):
        sheet.append(
            [
                number,
                code,
                quantity,
                price,
                name,
                phone,
                address,
                datetime(2026, 11, 18, 20, minute),
            ]
        )
        sheet.cell(row=sheet.max_row, column=1).number_format = "@"
    stamp = datetime(2026, 11, 18, 12, 0)
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    workbook.save(path)


def bad_rows() -> list[list[str]]:
    """Row numbers as a spreadsheet counts them (the header is row 1) are in the comments."""
    good = kuaishou_rows(
        [
            (
                "2611190000000000101",
                "待发货",
                "好订单甲",
                "13800000101",
                ("陕西省", "西安市", "碑林区", "南大街1号"),
                "",
                "2026-11-18 20:00:00",
                "",
                [("MT-5J-TJ", 1), ("BL-2J-TJ", 1)],
                "0.00",
            )
        ]
    )  # rows 2–3

    def row(number, **changes):
        base = dict(
            zip(
                KUAISHOU_HEADER,
                kuaishou_rows(
                    [
                        (
                            number,
                            "待发货",
                            "坏行",
                            "13800000199",
                            ("陕西省", "西安市", "碑林区", "南大街9号"),
                            "",
                            "2026-11-18 20:30:00",
                            "",
                            [("MT-5J-YJ", 1)],
                            "0.00",
                        )
                    ]
                )[0],
                strict=True,
            )
        )
        base.update(changes)
        return [base[name] for name in KUAISHOU_HEADER]

    return [
        *good,
        row("", 订单号=""),  # 4: order number missing
        row("", 订单号="2.61121E+15"),  # 5: mangled by a spreadsheet
        row("2611190000000000106", 商家编码="NO-SUCH-SKU"),  # 6: unknown merchant code
        row("2611190000000000107", 商品数量="0"),  # 7: quantity 0
        row("2611190000000000108", 商品数量="1.5"),  # 8: quantity not whole
        # 9: 10-digit phone (and a note that a spreadsheet would run as a formula)
        row(
            "2611190000000000109",
            收货人手机号="1381234567",
            买家留言='=HYPERLINK("http://evil.example","领奖")',
        ),
        # 10: no address
        row("2611190000000000110", 详细地址="", 省="", 市="", 区="", 买家留言="@SUM(A1)"),
        row("2611190000000000111", 商品单价="三十九"),  # 11: money not a number
        row("2611190000000000112", 支付时间="昨天晚上"),  # 12: time not a time
        row("2611190000000000113"),  # 13: good, but row 14 of its order is bad
        row("2611190000000000113", 商品数量="两"),  # 14
        row("2611190000000000115", 收货人="好订单乙"),  # 15: good
        row("2611190000000000116", 收货人手机号="139****5678"),  # 16: good, masked
        row("2611190000000000117", 订单状态="已关闭", 详细地址=""),  # 17: closed: skipped
    ]


UNKNOWN_HEADER = ["单号", "货号", "件数", "姓名", "电话", "地址", "成交时间", "备注"]
UNKNOWN_ROWS = [
    [
        "W0001",
        "MT-5J-TJ",
        "1",
        "老李",
        "13800000301",
        "陕西省汉中市留坝县城关镇1号",
        "2026-11-18 09:00",
        "",
    ],
    [
        "W0002",
        "BL-2J-TJ",
        "2",
        "老王",
        "13800000302",
        "陕西省汉中市汉台区北大街2号",
        "2026-11-18 10:00",
        "要新鲜的",
    ],
]


def main() -> None:
    files = {
        "kuaishou_gb18030.csv": csv_bytes(
            KUAISHOU_HEADER, kuaishou_rows(KUAISHOU_ORDERS), "gb18030"
        ),
        "kuaishou_overlap_gb18030.csv": csv_bytes(
            KUAISHOU_HEADER, kuaishou_rows(OVERLAP_ORDERS), "gb18030"
        ),
        "douyin_utf8_bom.csv": csv_bytes(DOUYIN_HEADER, douyin_rows(), "utf-8-sig"),
        "bad_rows_gb18030.csv": csv_bytes(KUAISHOU_HEADER, bad_rows(), "gb18030"),
        "unknown_layout.csv": csv_bytes(UNKNOWN_HEADER, UNKNOWN_ROWS, "utf-8"),
    }
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    write_xlsx(HERE / "orders_19digit.xlsx")
    for name in [*files, "orders_19digit.xlsx"]:
        print(f"wrote tests/data/{name} ({(HERE / name).stat().st_size} bytes)")


if __name__ == "__main__":
    main()
