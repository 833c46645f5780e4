"""How fast an order export is imported into PostgreSQL, beside two yardsticks measured in the
same run on the same rows:

    .venv/bin/python bench/import_orders.py [--lines 100000]
        [--pg-url postgres://postgres@127.0.0.1:5432/shanhuo_bench_import]

1. A 快手-style export of ``--lines`` order lines (orders of 1–3 lines, GB18030, a tab before
   each 19-digit order number) is generated into a temporary file.
2. import: ``import_upload`` (the preview: read, check every row) and then ``import_commit``
   without allocation (read again, check again against the database, write orders, lines and
   events; ``COPY`` on PostgreSQL). The figure is lines/s of the commit, file to committed
   rows; the write phase alone is shown too. Allocation is measured apart: ``orders_allocate``
   on the first 2,000 orders by payment time.
3. (a) a per-row ``.save()`` loop (order, its lines, its event; in one transaction) on a sample
   of 2,000 lines of the same file, into another channel;
4. (b) raw psycopg ``COPY`` of the same 100,000 rows, as parsed text cells, into a bare table
   without keys or indexes.

Prints one line. The database is created and dropped by this script; the figures go to
docs/BENCHMARKS.md by hand.
"""

import argparse
import csv
import io
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/shanhuo_bench_import"
SAMPLE_LINES = 2000
ALLOCATION_SAMPLE = 2000

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
# merchant code, name, product, grade, net kg, price, how often it sells
SKUS = [
    ("MT-5J-TJ", "蜜桃 5斤礼盒 特级", "蜜桃", "特级", "2.500", "49.90", 30),
    ("MT-5J-YJ", "蜜桃 5斤装 一级", "蜜桃", "一级", "2.500", "39.90", 24),
    ("MT-3J-YJ", "蜜桃 3斤装 一级", "蜜桃", "一级", "1.500", "25.90", 20),
    ("MT-10J-CG", "蜜桃 10斤家庭装 次果", "蜜桃", "次果", "5.000", "39.90", 12),
    ("BL-2J-TJ", "板栗 2斤装 特级", "板栗", "特级", "1.000", "36.80", 10),
    ("FM-1J-TJ", "土蜂蜜 1斤装", "蜂蜜", "特级", "0.500", "68.00", 6),
    ("JD-30M-YJ", "土鸡蛋 30枚", "土鸡蛋", "一级", "1.500", "45.00", 8),
]
PLACES = [
    ("陕西省", "西安市", "雁塔区"),
    ("北京市", "北京市", "朝阳区"),
    ("上海市", "上海市", "浦东新区"),
    ("广东省", "广州市", "天河区"),
    ("四川省", "成都市", "武侯区"),
    ("浙江省", "杭州市", "西湖区"),
    ("湖北省", "武汉市", "洪山区"),
    ("江苏省", "南京市", "鼓楼区"),
]
SESSION = "蜜桃开园直播"
STARTS = datetime(2026, 6, 18, 20, 0)


def order_rows(index: int, rng: random.Random, max_lines: int = 3) -> list[list[str]]:
    """The rows (cells as exported, one row per line) of the ``index``-th order of a 快手
    export: 1–3 lines (at most ``max_lines``), paid ``index // 10`` seconds after the
    livestream starts. ``export_bytes`` and the peak-day benchmark both build their files
    from it."""
    by_code = {sku[0]: sku for sku in SKUS}
    count = min(rng.choices([1, 2, 3], [70, 22, 8])[0], max_lines)
    chosen = list(dict.fromkeys(rng.choices(list(by_code), [sku[6] for sku in SKUS], k=count)))
    quantities = [rng.choices([1, 2, 3], [80, 15, 5])[0] for _ in chosen]
    paid = STARTS + timedelta(seconds=index // 10)
    total = sum(Decimal(by_code[code][5]) * q for code, q in zip(chosen, quantities, strict=True))
    province, city, district = rng.choice(PLACES)
    order = [
        "\t" + f"2406182{index:012d}",
        "待发货",
        None,
        None,
        None,
        None,
        "0.00",
        f"{total:.2f}",
        "王" + rng.choice("伟芳娜敏静丽强磊洋艳"),
        f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}",
        province,
        city,
        district,
        f"人民路{rng.randint(1, 300)}号{rng.randint(1, 20)}栋{rng.randint(101, 2802)}室",
        rng.choice(["", "", "", "请尽快发货"]),
        paid.strftime("%Y-%m-%d %H:%M:%S"),
        SESSION,
    ]
    rows = []
    for code, quantity in zip(chosen, quantities, strict=True):
        order[2:6] = [by_code[code][1], code, by_code[code][5], str(quantity)]
        rows.append(list(order))
    return rows


def export_bytes(lines: int, rng: random.Random) -> bytes:
    """A 快手 export of exactly ``lines`` order lines, GB18030."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    written = index = 0
    while written < lines:
        index += 1
        rows = order_rows(index, rng, max_lines=lines - written)
        writer.writerows(rows)
        written += len(rows)
    return out.getvalue().encode("gb18030")


# --- the parent: a throwaway database and a child process -------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument(
        "--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL), help="%(default)s"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--copy", choices=["on", "off"], default="on", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.lines, args.copy == "on")

    import psycopg
    from psycopg import sql

    parts = urlsplit(args.pg_url)
    name = parts.path.lstrip("/")
    admin = {
        "host": parts.hostname,
        "port": parts.port or 5432,
        "user": parts.username,
        "password": parts.password,
        "dbname": "postgres",
        "connect_timeout": 3,
        "autocommit": True,
    }
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    try:
        with psycopg.connect(**admin) as conn:
            conn.execute(drop)
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"import_orders skipped: cannot reach {parts.hostname}:{admin['port']} ({reason})")
        return 0
    env = dict(os.environ)
    env.update(
        DATABASE_URL=args.pg_url,
        DJANGO_SETTINGS_MODULE="studio.settings",
        DEBUG="false",  # DEBUG on would keep every query in memory
        SECRET_KEY=secrets.token_urlsafe(48),
        LOG_LEVEL="WARNING",
    )
    try:
        command = [sys.executable, __file__, "--child", "--lines", str(args.lines)]
        command += ["--copy", args.copy]
        return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(drop)


# --- the child: Django against the throwaway database -----------------------------------------


def child(lines: int, use_copy: bool) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from inventory.models import Grade, Location, Product, Sku
    from inventory.services import IntakeRow, farmer_create, intake_record
    from orders.importers import service
    from orders.importers.presets import map_columns
    from orders.importers.reading import read_table
    from orders.models import Channel, ImportMode, LiveSession, Order, OrderEvent, OrderLine
    from orders.services import orders_allocate

    settings.ORDER_IMPORT_COPY = use_copy
    settings.ORDER_IMPORT_MAX_BYTES = 200 * 1024 * 1024
    settings.UPLOAD_MAX_ROWS = lines  # the benchmark reads a larger file than a studio may upload
    call_command("migrate", verbosity=0, interactive=False)

    user = get_user_model().objects.create_user("bench-manager")
    user.groups.add(Group.objects.get(name="manager"))
    farmer = farmer_create(name="朱大山", village="朱家坪村", acting_user=user)
    location = Location.objects.create(code="A", name="冷库 A", storage="cold")
    for code, name, product, grade, kg, price, _weight in SKUS:
        Sku.objects.create(
            merchant_code=code,
            name=name,
            product=Product.objects.get_or_create(name=product, defaults={"shelf_life_days": 30})[
                0
            ],
            grade=Grade.objects.get_or_create(name=grade)[0],
            net_kg=Decimal(kg),
            price=Decimal(price),
        )
    for product in Product.objects.all():
        intake_record(
            farmer=farmer,
            product=product,
            rows=[
                IntakeRow(grade=grade, gross_kg=Decimal("20000"), price_per_kg=Decimal("5"))
                for grade in Grade.objects.filter(skus__product=product).distinct()
            ],
            harvest_date=timezone.localdate(),
            location=location,
            acting_user=user,
        )
    kuaishou = Channel.objects.get(code="kuaishou")
    zone = timezone.get_current_timezone()
    LiveSession.objects.create(
        channel=kuaishou,
        title=SESSION,
        host="阿秀",
        starts_at=STARTS.replace(tzinfo=zone),
        ends_at=(STARTS + timedelta(hours=6)).replace(tzinfo=zone),
    )
    data = export_bytes(lines, random.Random(610729))

    with tempfile.NamedTemporaryFile(suffix=".csv") as export:
        export.write(data)
        export.flush()
        settings.MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="shanhuo-bench-media-"))

        # The import: preview (a dry run), then the commit without allocation.
        started = time.perf_counter()
        batch = service.import_upload(
            channel=kuaishou,
            uploaded=SimpleUploadedFile("export.csv", Path(export.name).read_bytes()),
            acting_user=user,
        )
        preview_s = time.perf_counter() - started
        phases: dict[str, float] = {}

        def clock(phase: str, done: int, total: int) -> None:
            phases.setdefault(phase, time.perf_counter())

        started = time.perf_counter()
        batch = service.import_commit(
            batch=batch,
            mode=ImportMode.ALL_OR_NOTHING,
            acting_user=user,
            run_now=True,
            allocate=False,
            on_progress=clock,
        )
        ended = time.perf_counter()
    commit_s = ended - started
    write_s = ended - phases["write"]
    assert batch.status == "done" and batch.invalid_count == 0, batch.message
    assert OrderLine.objects.count() == lines, OrderLine.objects.count()
    orders = batch.created_count
    assert Order.objects.count() == orders == OrderEvent.objects.count()

    # Allocation, apart: the first orders by payment time, each in its own transaction.
    first = list(Order.objects.order_by("paid_at", "pk")[:ALLOCATION_SAMPLE])
    started = time.perf_counter()
    allocated = orders_allocate(orders=first, acting_user=user)
    allocate_s = time.perf_counter() - started
    assert allocated["allocated"] == len(first), allocated

    # (a) a per-row .save() loop on 2,000 lines of the same file, into another channel.
    table = read_table(data, "export.csv")
    other = Channel.objects.get(code="other")
    plan = service.plan_import(
        channel=other, table=table, columns=map_columns(table.header, channel_code="other")
    )
    sample, sample_lines = [], 0
    for group in plan.new:
        if sample_lines + len(group.draft.lines) > SAMPLE_LINES:
            break
        sample.append(group.draft)
        sample_lines += len(group.draft.lines)
    started = time.perf_counter()
    with transaction.atomic():
        for draft in sample:
            order = Order(
                channel=other,
                external_no=draft.external_no,
                live_session=draft.live_session,
                recipient_name=draft.recipient_name,
                phone=draft.phone,
                phone_masked_by_platform=draft.phone_masked_by_platform,
                province=draft.province,
                city=draft.city,
                district=draft.district,
                address_detail=draft.address_detail,
                raw_address=draft.raw_address,
                buyer_note=draft.buyer_note,
                paid_at=draft.paid_at,
                platform_status=draft.platform_status,
                goods_total=draft.goods_total,
                shipping_fee=draft.shipping_fee,
                import_batch=batch,
            )
            order.save()
            for line in draft.lines:
                OrderLine(
                    order=order,
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    kg=line.sku.net_kg * line.quantity,
                ).save()
            OrderEvent(order=order, to_status="new", acting_user=user, note="Imported").save()
    save_s = time.perf_counter() - started

    # (b) raw COPY of the same rows, as text cells, into a bare table.
    rows = [cells for _number, cells in table.rows]
    columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE bench_bare ({columns})")
        started = time.perf_counter()
        with transaction.atomic():
            with cursor.cursor.copy("COPY bench_bare FROM STDIN") as copy:
                for cells in rows:
                    copy.write_row(cells)
        copy_s = time.perf_counter() - started
        cursor.execute("SELECT count(*) FROM bench_bare")
        assert cursor.fetchone()[0] == lines

    import_rate = lines / commit_s
    save_rate = sample_lines / save_s
    copy_rate = lines / copy_s
    print(
        f"import_orders postgresql lines={lines} orders={orders} "
        f"writer={'copy' if use_copy else 'bulk_create'} "
        f"import={import_rate:,.0f} lines/s ({commit_s:.1f}s: check {commit_s - write_s:.1f}s "
        f"+ write {write_s:.1f}s = {lines / write_s:,.0f} lines/s; allocation not included) "
        f"preview={lines / preview_s:,.0f} lines/s "
        f"allocation={len(first) / allocate_s:,.0f} orders/s (first {len(first)} orders) "
        f"| (a) per-row save={save_rate:,.0f} lines/s ({sample_lines} lines) "
        f"-> x{import_rate / save_rate:.1f} "
        f"| (b) raw COPY={copy_rate:,.0f} lines/s -> {import_rate / copy_rate:.2f} of COPY",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
