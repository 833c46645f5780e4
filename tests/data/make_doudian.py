"""Writes the 抖店 order export, as the platform writes it today, in three forms next to this
file, for tests/orders/test_doudian_import.py:

    .venv/bin/python tests/data/make_doudian.py

- ``doudian_orders_gb18030.csv``: saved again from Excel on Chinese Windows (GB18030);
- ``doudian_orders_utf8_bom.csv``: as downloaded (UTF-8 with a BOM);
- ``doudian_orders.xlsx``: the workbook download, every cell text.

The layout is the standard report, one row per sub-order (子订单): no 省, 市 or 区 column (the
whole address is in 详细地址), no payment-time column (订单提交时间 is when the buyer placed
and paid), 售后状态 beside 订单状态, order numbers behind a tab so Excel keeps them as text,
most phones masked by the platform. The addresses are written the ways buyers' addresses
come: municipalities, 省直辖县, a 新疆兵团 city, a prefecture without districts, a county-level
city, a banner, an industrial park the national table does not know (to be reviewed). One
order was refunded before shipping (已关闭 / 退款成功). EXPECTED says how each should come out.
"""

import csv
import io
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
FILES = ("doudian_orders_gb18030.csv", "doudian_orders_utf8_bom.csv", "doudian_orders.xlsx")

HEADER = [
    "主订单编号",
    "子订单编号",
    "选购商品",
    "商品规格",
    "商品数量",
    "商品ID",
    "商家编码",
    "商品单价",
    "订单应付金额",
    "运费",
    "优惠总金额",
    "平台优惠",
    "商家优惠",
    "达人优惠",
    "支付方式",
    "手续费",
    "收件人",
    "收件人手机号",
    "详细地址",
    "是否修改过地址",
    "买家留言",
    "订单提交时间",
    "订单完成时间",
    "承诺发货时间",
    "订单状态",
    "售后状态",
    "取消原因",
    "预约发货时间",
    "快递信息",
    "商家备注",
    "旗帜颜色",
    "达人ID",
    "达人昵称",
    "广告渠道",
    "流量来源",
    "流量类型",
    "流量渠道",
    "订单类型",
    "App渠道",
    "仓库ID",
    "仓库名称",
]

# merchant code, 选购商品, 商品规格, 商品ID, price
SKUS = {
    "MT-5J-TJ": ("朱家坪蜜桃 现摘现发", "5斤礼盒 特级", "3712345678901234567", "49.90"),
    "MT-5J-YJ": ("朱家坪蜜桃 现摘现发", "5斤装 一级", "3712345678901234567", "39.90"),
    "BL-2J-TJ": ("沂蒙山板栗 新货", "2斤装 特级", "3712345678901234590", "36.80"),
    "FM-1J-TJ": ("土蜂蜜 百花蜜", "1斤装", "3712345678901234601", "68.00"),
}

# 主订单编号, 收件人, 收件人手机号, 详细地址, 订单提交时间, 订单状态, 售后状态, 运费,
# [(商家编码, 数量)]
ORDERS = [
    (
        "6937160112340000101",
        "马超",
        "138****5678",
        "浙江省杭州市西湖区文三路478号华星时代广场A座",
        "2026/11/18 20:15:03",
        "待发货",
        "-",
        "0",
        [("MT-5J-TJ", 1), ("FM-1J-TJ", 2)],
    ),
    (
        "6937160112340000102",
        "黄蓉",
        "158****0000",
        "北京市朝阳区建国路88号SOHO现代城2号楼",
        "2026/11/18 20:16:40",
        "待发货",
        "-",
        "0",
        [("BL-2J-TJ", 3)],
    ),
    (
        "6937160112340000103",
        "郭靖",
        "13700002222",
        "上海市上海市浦东新区张江镇祖冲之路887弄",
        "2026/11/18 20:21:17",
        "待发货",
        "-",
        "0",
        [("MT-5J-YJ", 1)],
    ),
    (
        "6937160112340000104",
        "梁小燕",
        "186****3141",
        "广西壮族自治区南宁市青秀区民族大道100号",
        "2026/11/18 20:30:00",
        "待发货",
        "-",
        "0",
        [("MT-5J-TJ", 2)],
    ),
    (
        "6937160112340000105",
        "陈建国",
        "139****2468",
        "湖北省仙桃市郑场镇人民路1号",
        "2026/11/18 20:33:51",
        "待发货",
        "-",
        "0",
        [("BL-2J-TJ", 1)],
    ),
    (
        "6937160112340000106",
        "艾力",
        "135****7788",
        "新疆维吾尔自治区石河子市北四路2号",
        "2026/11/18 20:41:09",
        "待发货",
        "-",
        "12",
        [("FM-1J-TJ", 1)],
    ),
    (
        "6937160112340000107",
        "何丽",
        "137****9090",
        "广东省东莞市长安镇振安路1号",
        "2026/11/18 20:47:26",
        "待发货",
        "-",
        "0",
        [("MT-5J-YJ", 2)],
    ),
    (
        "6937160112340000108",
        "吴敏",
        "13912345678",
        "江苏省苏州市昆山市花桥镇绿地大道1号",
        "2026/11/18 20:52:00",
        "待发货",
        "-",
        "0",
        [("MT-5J-TJ", 1)],
    ),
    (
        "6937160112340000109",
        "巴特尔",
        "150****1234",
        "内蒙古自治区鄂尔多斯市准格尔旗薛家湾镇鑫凯盛大厦",
        "2026/11/18 21:03:44",
        "待发货",
        "-",
        "12",
        [("BL-2J-TJ", 2)],
    ),
    (
        "6937160112340000110",
        "冉静",
        "187****6655",
        "重庆重庆市渝北区龙溪街道金龙路1号",
        "2026/11/18 21:10:05",
        "待发货",
        "-",
        "0",
        [("MT-5J-YJ", 1)],
    ),
    (
        "6937160112340000111",
        "周杰",
        "177****4321",
        "江苏省苏州市苏州工业园区星湖街328号",
        "2026/11/18 21:18:30",
        "待发货",
        "-",
        "0",
        [("FM-1J-TJ", 1)],
    ),
    (
        "6937160112340000112",
        "刘洋",
        "131****0001",
        "山东省临沂市沂南县依汶镇朱家坪村",
        "2026/11/18 21:25:12",
        "已关闭",
        "退款成功",
        "0",
        [("MT-5J-TJ", 1)],
    ),
]

# 主订单编号 → (province, city, district, adcode, address check, street)
EXPECTED = {
    "6937160112340000101": (
        "浙江省",
        "杭州市",
        "西湖区",
        "330106",
        "matched",
        "文三路478号华星时代广场A座",
    ),
    "6937160112340000102": (
        "北京市",
        "北京市",
        "朝阳区",
        "110105",
        "matched",
        "建国路88号SOHO现代城2号楼",
    ),
    "6937160112340000103": (
        "上海市",
        "上海市",
        "浦东新区",
        "310115",
        "matched",
        "张江镇祖冲之路887弄",
    ),
    "6937160112340000104": (
        "广西壮族自治区",
        "南宁市",
        "青秀区",
        "450103",
        "matched",
        "民族大道100号",
    ),
    "6937160112340000105": ("湖北省", "", "仙桃市", "429004", "matched", "郑场镇人民路1号"),
    "6937160112340000106": ("新疆维吾尔自治区", "", "石河子市", "659001", "matched", "北四路2号"),
    "6937160112340000107": ("广东省", "东莞市", "", "441900", "matched", "长安镇振安路1号"),
    "6937160112340000108": ("江苏省", "苏州市", "昆山市", "320583", "matched", "花桥镇绿地大道1号"),
    "6937160112340000109": (
        "内蒙古自治区",
        "鄂尔多斯市",
        "准格尔旗",
        "150622",
        "matched",
        "薛家湾镇鑫凯盛大厦",
    ),
    "6937160112340000110": ("重庆市", "重庆市", "渝北区", "500112", "matched", "龙溪街道金龙路1号"),
    "6937160112340000111": ("江苏省", "苏州市", "", "320500", "partial", "苏州工业园区星湖街328号"),
}
REFUNDED = "6937160112340000112"


def rows() -> list[list[str]]:
    out = []
    for number, name, phone, address, placed, status, after_sales, fee, lines in ORDERS:
        total = sum(float(SKUS[code][3]) * quantity for code, quantity in lines) + float(fee)
        for index, (code, quantity) in enumerate(lines, start=1):
            title, spec, product_id, price = SKUS[code]
            row = dict.fromkeys(HEADER, "")
            row.update(
                {
                    "主订单编号": "\t" + number,
                    "子订单编号": f"\t{number}{index:02d}",
                    "选购商品": title,
                    "商品规格": spec,
                    "商品数量": str(quantity),
                    "商品ID": "\t" + product_id,
                    "商家编码": code,
                    "商品单价": price,
                    "订单应付金额": f"{total:.2f}",
                    "运费": fee,
                    "优惠总金额": "0.00",
                    "平台优惠": "0.00",
                    "商家优惠": "0.00",
                    "达人优惠": "0.00",
                    "支付方式": "抖音支付",
                    "手续费": "0.00",
                    "收件人": name,
                    "收件人手机号": phone,
                    "详细地址": address,
                    "是否修改过地址": "否",
                    "买家留言": "请尽快发货" if number.endswith("3") else "",
                    "订单提交时间": placed,
                    "承诺发货时间": "2026/11/20 23:59:59",
                    "订单状态": status,
                    "售后状态": after_sales,
                    "取消原因": "不想要了" if status == "已关闭" else "",
                    "快递信息": "-",
                    "达人ID": "\t86421357",
                    "达人昵称": "朱家坪阿秀",
                    "流量来源": "直播",
                    "流量类型": "自然流量",
                    "流量渠道": "直播间",
                    "订单类型": "普通订单",
                    "App渠道": "抖音",
                    "仓库名称": "朱家坪村仓",
                }
            )
            out.append([row[name] for name in HEADER])
    return out


def csv_bytes(encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows())
    return buffer.getvalue().encode(encoding)


def xlsx_bytes() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "订单"
    sheet.append(HEADER)
    for row in rows():
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def main() -> None:
    contents = {
        "doudian_orders_gb18030.csv": csv_bytes("gb18030"),
        "doudian_orders_utf8_bom.csv": csv_bytes("utf-8-sig"),
        "doudian_orders.xlsx": xlsx_bytes(),
    }
    for name, data in contents.items():
        (HERE / name).write_bytes(data)
        print(f"wrote tests/data/{name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
