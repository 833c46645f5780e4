"""The evening's order export: a 快手-style file of ``orders`` orders (GB18030, orders of 1–3
lines, a tab before each 19-digit number) built with ``bench/import_orders.py``'s generator,
with a few hundred bad rows of the kinds real exports carry and a few orders the platform
closed. The export knows what the import must make of it: which rows are bad (with the
column the import must name), how many rows it must report, which orders are good and what
they weigh."""

import csv
import io
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from bench.import_orders import HEADER, SKUS, STARTS, order_rows

COLUMN = {name: index for index, name in enumerate(HEADER)}


@dataclass(frozen=True)
class BadKind:
    """One way a row goes wrong: the column the import must name and what the cell holds."""

    name: str
    column: str
    single_line_only: bool = False  # a mangled order number cannot tie a row to its order


BAD_KINDS = [
    BadKind("unknown merchant code", "商家编码"),
    BadKind("quantity in words", "商品数量"),
    BadKind("short phone number", "收货人手机号"),
    BadKind("no paid time", "支付时间"),
    BadKind("no street address", "详细地址"),
    BadKind("price with a letter O", "商品单价"),
    BadKind("order number rounded by a spreadsheet", "订单号", single_line_only=True),
]


def _spoil(row: list[str], kind: BadKind, rng: random.Random) -> None:
    if kind.column == "商家编码":
        row[COLUMN["商家编码"]] = rng.choice(["MT-5J-TJX", "HT-2J-TJ", "MT5JTJ"])
    elif kind.column == "商品数量":
        row[COLUMN["商品数量"]] = rng.choice(["两箱", "0", "1.5"])
    elif kind.column == "收货人手机号":
        row[COLUMN["收货人手机号"]] = row[COLUMN["收货人手机号"]][:7]
    elif kind.column == "支付时间":
        row[COLUMN["支付时间"]] = rng.choice(["", "昨晚八点"])
    elif kind.column == "详细地址":
        row[COLUMN["详细地址"]] = ""
    elif kind.column == "商品单价":
        row[COLUMN["商品单价"]] = row[COLUMN["商品单价"]].replace("0", "O") + "O"
    elif kind.column == "订单号":
        number = row[COLUMN["订单号"]].strip()
        row[COLUMN["订单号"]] = f"{int(number[:6]) / 1e5:.5f}E+18"
    else:  # pragma: no cover - every kind is handled above
        raise ValueError(kind)


@dataclass
class GoodOrder:
    external_no: str
    lines: list[tuple[str, int]]  # merchant code, quantity
    paid_at: str


@dataclass
class BadRow:
    row_number: int  # as the import numbers rows: the header is row 1
    column: str
    kind: str


@dataclass
class PeakExport:
    data: bytes
    file_name: str
    rows: int
    good: dict[str, GoodOrder]
    bad_rows: list[BadRow]
    # Rows the import must report: the bad rows and the other rows of their orders.
    expected_invalid_rows: int
    expected_invalid_orders: int
    closed_orders: int
    demand_kg: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (product, grade)

    def summary(self) -> str:
        kinds = Counter(bad.kind for bad in self.bad_rows)
        return ", ".join(f"{kind}: {n}" for kind, n in sorted(kinds.items()))


def peak_export(
    orders: int,
    *,
    seed: int = 20260619,
    bad_rows: int | None = None,
    closed_orders: int | None = None,
) -> PeakExport:
    """An export of ``orders`` orders; by default 1.5 % of them hold a bad row (a few hundred
    for 20,000) and 0.5 % were closed on the platform."""
    rng = random.Random(seed)
    spoil_rng = random.Random(seed + 1)
    bad_rows = max(3, orders * 15 // 1000) if bad_rows is None else bad_rows
    closed_orders = max(1, orders // 200) if closed_orders is None else closed_orders
    by_code = {sku[0]: sku for sku in SKUS}

    spoiled = set(spoil_rng.sample(range(1, orders + 1), bad_rows + closed_orders))
    closed = set(spoil_rng.sample(sorted(spoiled), closed_orders))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    row_number = 1
    good: dict[str, GoodOrder] = {}
    bad: list[BadRow] = []
    invalid_rows = invalid_orders = 0
    demand: Counter = Counter()
    for index in range(1, orders + 1):
        rows = order_rows(index, rng)
        number = rows[0][COLUMN["订单号"]].strip()
        if index in closed:
            for row in rows:
                row[COLUMN["订单状态"]] = spoil_rng.choice(["已关闭", "退款成功"])
        elif index in spoiled:
            kinds = [kind for kind in BAD_KINDS if len(rows) == 1 or not kind.single_line_only]
            kind = spoil_rng.choice(kinds)
            which = spoil_rng.randrange(len(rows))
            _spoil(rows[which], kind, spoil_rng)
            bad.append(BadRow(row_number + 1 + which, kind.column, kind.name))
            invalid_rows += len(rows)
            invalid_orders += 1
        else:
            lines = [(row[COLUMN["商家编码"]], int(row[COLUMN["商品数量"]])) for row in rows]
            good[number] = GoodOrder(number, lines, rows[0][COLUMN["支付时间"]])
            for code, quantity in lines:
                _code, _name, product, grade, kg, _price, _weight = by_code[code]
                demand[(product, grade)] += Decimal(kg) * quantity
        writer.writerows(rows)
        row_number += len(rows)
    return PeakExport(
        data=out.getvalue().encode("gb18030"),
        file_name=f"kuaishou-orders-{STARTS:%Y%m%d}.csv",
        rows=row_number - 1,
        good=good,
        bad_rows=bad,
        expected_invalid_rows=invalid_rows,
        expected_invalid_orders=invalid_orders,
        closed_orders=closed_orders,
        demand_kg=dict(demand),
    )
