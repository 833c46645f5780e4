"""How fast the sales dashboard and the farmers' statements are on a month of a busy studio,
in PostgreSQL:

    .venv/bin/python bench/reports.py [--lines 1000000] [--farmers 500] [--keep] [--reuse]
        [--pg-url postgres://postgres@127.0.0.1:5432/shanhuo_bench_reports]

1. The database (dropped and created, migrated; dropped at the end unless ``--keep``;
   ``--reuse`` keeps a database a ``--keep`` run left and skips steps 1–2) gets, by ``COPY``:
   30 days, a live session every evening (20:00–23:00, 快手 and 抖音 in turn), 40 SKUs,
   31 provinces, ``--lines`` order lines in orders of 1–4 lines (85 % paid during a session),
   statuses spread by age (new … delivered, 4 % cancelled, 2 % refunded) and each order's
   event trail (new → allocated → picking → packed → shipped → delivered).
2. Through the ORM: ``--farmers`` farmers with 2–6 lots each over the month, their intake,
   shipped-out and written-off ledger rows, and a payment or two.
3. Times, warm (the best of several runs, the first run shown too):
   - ``orders.reports.sales_dashboard(live_session=…)`` on the month's last session;
   - the same through the API (``GET /api/dashboard/?live_session=…`` as a creator, in
     process: serializer and JSON included);
   - ``sales_dashboard(date_from=…, date_to=…)`` over the 30 days (the daily roll-up,
     ``orders.rollup``), and the same from the order lines (``from_lines=True``), checked
     equal;
   - the naive way for comparison: every line of the 30 days into pandas with ``read_sql``,
     then the same groupbys (its figures are checked against the dashboard's);
   - ``inventory.reports.farmer_statements`` for the month and every farmer, and
     ``inventory.statements.render_statements`` of them as one PDF.

Targets: each dashboard ≤ 1 s. Prints one line of figures.
"""

import argparse
import os
import random
import secrets
import subprocess
import sys
import time
import warnings
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pgadmin import admin_params, database_name

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/shanhuo_bench_reports"
DAYS = 30

PROVINCES = [
    # province, weight (roughly where a village studio's parcels go)
    ("广东省", 12), ("浙江省", 9), ("江苏省", 9), ("上海市", 7), ("北京市", 7), ("山东省", 6),
    ("四川省", 5), ("陕西省", 5), ("河南省", 5), ("湖北省", 4), ("福建省", 4), ("湖南省", 4),
    ("河北省", 3), ("安徽省", 3), ("天津市", 3), ("重庆市", 3), ("辽宁省", 2), ("江西省", 2),
    ("云南省", 2), ("广西壮族自治区", 2), ("山西省", 2), ("贵州省", 1), ("黑龙江省", 1),
    ("吉林省", 1), ("内蒙古自治区", 1), ("新疆维吾尔自治区", 1), ("甘肃省", 1), ("海南省", 1),
    ("宁夏回族自治区", 1), ("青海省", 1), ("西藏自治区", 1),
]  # fmt: skip
PRODUCTS = [
    # product, shelf life, [(grade, net kg, price)]
    ("蜜桃", 7, [("特级", "2.500", "49.90"), ("一级", "2.500", "39.90"),
              ("次果", "5.000", "39.90")]),
    ("板栗", 90, [("特级", "1.000", "36.80"), ("一级", "1.000", "29.80")]),
    ("土蜂蜜", 365, [("特级", "0.500", "68.00")]),
    ("小米", 180, [("一级", "2.500", "39.90")]),
    ("土鸡蛋", 20, [("一级", "1.500", "45.00")]),
    ("核桃", 180, [("特级", "1.000", "42.00"), ("一级", "1.000", "32.00")]),
    ("香菇", 120, [("特级", "0.500", "58.00")]),
    ("猕猴桃", 14, [("特级", "2.500", "45.90"), ("一级", "2.500", "35.90")]),
]  # fmt: skip
PATH = ["new", "allocated", "picking", "packed", "shipped", "delivered"]


def sku_specs() -> list[tuple]:
    """40 SKUs: each product and grade in small and big packs (code, name, product, grade,
    net kg, price), plus a few gift boxes."""
    specs = []
    for product, _life, grades in PRODUCTS:
        for grade, kg, price in grades:
            for size, factor in (("", 1), ("大包装 ", 2)):
                code = f"{product}-{grade}-{factor}"
                name = f"{product} {size}{grade} {Decimal(kg) * factor}kg"
                specs.append(
                    (code, name, product, grade, Decimal(kg) * factor, Decimal(price) * factor)
                )
    boxes = 40 - len(specs)
    for i in range(boxes):
        product, _life, grades = PRODUCTS[i % len(PRODUCTS)]
        grade, kg, price = grades[0]
        specs.append((f"{product}-礼盒-{i}", f"{product} 礼盒{i + 1}", product, grade,
                      Decimal(kg) * 3, Decimal(price) * 3 + Decimal("10.00")))  # fmt: skip
    return specs[:40]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--farmers", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use the database --keep left")
    parser.add_argument(
        "--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL), help="%(default)s"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    import psycopg
    from psycopg import sql

    name = database_name(args.pg_url)
    admin = admin_params(args.pg_url)
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    try:
        with psycopg.connect(**admin) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not (args.reuse and exists):
                args.reuse = False
                conn.execute(drop)
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"reports skipped: cannot reach {admin['host']}:{admin['port']} ({reason})")
        return 0
    env = dict(os.environ)
    env.update(
        DATABASE_URL=args.pg_url,
        DJANGO_SETTINGS_MODULE="studio.settings",
        DEBUG="false",  # DEBUG on would keep every query in memory
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
    )
    command = [sys.executable, __file__, "--child", "--lines", str(args.lines)]
    command += ["--farmers", str(args.farmers), "--pg-url", args.pg_url]
    if args.reuse:
        command.append("--reuse")
    try:
        return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode
    finally:
        if not args.keep:
            with psycopg.connect(**admin) as conn:
                conn.execute(drop)


# --- the child: Django against the benchmark's database --------------------------------------


def child(args) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from orders.models import LiveSession, Order, OrderLine

    today = timezone.localdate()
    first_day = today - timedelta(days=DAYS)
    last_day = today - timedelta(days=1)
    if not args.reuse:
        call_command("migrate", verbosity=0, interactive=False)
        started = time.perf_counter()
        generate_orders(args.lines, first_day, random.Random(20260618))
        orders_s = time.perf_counter() - started
        started = time.perf_counter()
        generate_farmers(args.farmers, first_day, random.Random(5))
        farmers_s = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        setup = f"setup: orders {orders_s:.0f}s farmers {farmers_s:.0f}s"
    else:
        setup = "setup: reused"
    lines = OrderLine.objects.count()
    orders = Order.objects.count()
    session = LiveSession.objects.order_by("-starts_at").first()
    figures = measure(session, first_day, last_day)
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(
        f"reports postgresql lines={lines:,} orders={orders:,} sessions="
        f"{LiveSession.objects.count()} | live session ({figures['session_orders']:,} orders): "
        f"{figures['session_ms']:.0f} ms (first {figures['session_first_ms']:.0f}), "
        f"API {figures['api_ms']:.0f} ms, {figures['queries']} queries | "
        f"30 days: {figures['month_ms']:.0f} ms (first {figures['month_first_ms']:.0f}), "
        f"from the lines {figures['lines_ms']:.0f} ms | "
        f"naive read_sql+pandas 30 days: {figures['naive_s']:.1f} s, "
        f"x{figures['naive_s'] * 1000 / figures['month_ms']:.0f} slower, "
        f"{figures['naive_mb']:.0f} MB | "
        f"statements: {figures['statements']} | {setup} | load {' '.join(load)}"
    )
    return 0


# --- data ------------------------------------------------------------------------------------


def copy_rows(model, columns: list[str], rows) -> int:
    """``COPY`` rows (tuples in ``columns`` order) into ``model``'s table."""
    from django.db import connection
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(model._meta.db_table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def reset_sequence(model) -> None:
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(statement)


def status_for(age_days: int, rng: random.Random) -> str:
    """An order's status by how many days ago it was paid."""
    r = rng.random()
    if r < 0.04:
        return "cancelled"
    if r < 0.06:
        return "refunded"
    if r < 0.08:
        return "backordered" if age_days < 4 else "delivered"
    r = rng.random()
    if age_days >= 5:
        return "delivered" if r < 0.75 else "shipped"
    if age_days >= 2:
        return ["shipped", "shipped", "delivered", "packed", "allocated"][int(r * 5)]
    return ["new", "allocated", "allocated", "picking", "packed", "shipped"][int(r * 6)]


def events_for(status: str, paid: datetime, rng: random.Random) -> list[tuple[str, str, datetime]]:
    """(from, to, when) of the order's trail to ``status``."""
    if status == "cancelled":
        steps = ["new", "cancelled"]
    elif status == "backordered":
        steps = ["new", "backordered"]
    elif status == "refunded":
        steps = PATH[: rng.choice([2, 5, 6])] + ["refunded"]
    else:
        steps = PATH[: PATH.index(status) + 1]
    gaps = {
        "new": timedelta(0),
        "allocated": timedelta(minutes=rng.randint(1, 30)),
        "backordered": timedelta(minutes=rng.randint(1, 30)),
        "picking": timedelta(hours=rng.uniform(1, 12)),
        "packed": timedelta(hours=rng.uniform(0.2, 6)),
        "shipped": timedelta(hours=rng.uniform(1, 30)),
        "delivered": timedelta(hours=rng.uniform(24, 96)),
        "cancelled": timedelta(hours=rng.uniform(0.1, 24)),
        "refunded": timedelta(hours=rng.uniform(1, 72)),
    }
    trail, when, previous = [], paid, ""
    for step in steps:
        when = when + gaps[step]
        trail.append((previous, step, when))
        previous = step
    return trail


def generate_orders(target_lines: int, first_day, rng: random.Random) -> None:
    from django.utils import timezone

    from core.regions import parse_address
    from inventory.models import Grade, Product, Sku
    from orders.models import Channel, LiveSession, Order, OrderEvent, OrderLine

    zone = timezone.get_default_timezone()
    products = {
        name: Product.objects.create(name=name, shelf_life_days=life)
        for name, life, _grades in PRODUCTS
    }
    grades = {}
    for _product, _life, product_grades in PRODUCTS:
        for grade, _kg, _price in product_grades:
            grades.setdefault(grade, Grade.objects.get_or_create(name=grade)[0])
    skus = [
        Sku.objects.create(
            merchant_code=code, name=name, product=products[product], grade=grades[grade],
            net_kg=kg, price=price,
        )
        for code, name, product, grade, kg, price in sku_specs()
    ]  # fmt: skip
    sku_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(skus))]  # a few best sellers
    channels = [Channel.objects.get(code="kuaishou"), Channel.objects.get(code="douyin")]
    sessions = []
    for day in range(DAYS):
        local = first_day + timedelta(days=day)
        start = datetime.combine(local, datetime.min.time()).replace(hour=20, tzinfo=zone)
        sessions.append(
            LiveSession.objects.create(
                channel=channels[day % 2], title=f"第{day + 1}场 山货直播", host="阿秀",
                starts_at=start, ends_at=start + timedelta(hours=3),
            )
        )  # fmt: skip
    provinces = [p for p, _w in PROVINCES]
    province_weights = [w for _p, w in PROVINCES]
    province_codes = {p: parse_address(p).adcode for p in provinces}  # province only: partial
    now = timezone.now()
    today = timezone.localdate()

    # When each order was paid, first; then the orders in that order, as a studio's imports
    # would have written them (a session's orders side by side on disk, events by time).
    specs, lines = [], 0
    while lines < target_lines:
        session = sessions[rng.randrange(DAYS)]
        if rng.random() < 0.85:
            # Busier at the start of a stream, slower towards its end.
            paid = session.starts_at + timedelta(seconds=int(10800 * rng.random() ** 1.3))
            session_id, channel_id = session.pk, session.channel_id
        else:
            midnight = session.starts_at.replace(hour=0)
            paid = midnight + timedelta(seconds=rng.randrange(86400))
            if session.starts_at <= paid < session.ends_at:
                paid -= timedelta(hours=4)
            session_id, channel_id = None, channels[rng.randrange(2)].pk
        count = min(rng.choices([1, 2, 3, 4], [60, 25, 10, 5])[0], target_lines - lines)
        chosen = sorted(set(rng.choices(range(len(skus)), sku_weights, k=count)))
        lines += len(chosen)
        specs.append((paid.replace(microsecond=0), session_id, channel_id, chosen))
    specs.sort(key=lambda spec: spec[0])

    order_rows, line_rows, event_rows = [], [], []
    for order_id, (paid, session_id, channel_id, chosen) in enumerate(specs, start=1):
        total = Decimal("0")
        for index in chosen:
            sku = skus[index]
            quantity = rng.choices([1, 2, 3], [80, 15, 5])[0]
            total += sku.price * quantity
            line_rows.append((order_id, sku.pk, quantity, sku.price, sku.net_kg * quantity))
        status = status_for((today - timezone.localtime(paid, zone).date()).days, rng)
        province = rng.choices(provinces, province_weights)[0]
        order_rows.append(
            (order_id, channel_id, f"B{order_id:012d}", status, "", session_id, "王秀英",
             f"138{order_id % 100000000:08d}", False, province,
             "", "", "人民路1号", "", province_codes[province], "partial", "", paid, total,
             Decimal("0"), None, now, now)
        )  # fmt: skip
        for from_status, to_status, when in events_for(status, paid, rng):
            event_rows.append((order_id, from_status, to_status, None, when, ""))
    event_rows.sort(key=lambda row: row[4])
    copy_rows(
        Order,
        ["id", "channel_id", "external_no", "status", "platform_status", "live_session_id",
         "recipient_name", "phone", "phone_masked_by_platform", "province", "city", "district",
         "address_detail", "raw_address", "adcode", "address_status", "buyer_note", "paid_at",
         "goods_total", "shipping_fee",
         "import_batch_id", "created_at", "updated_at"],
        order_rows,
    )  # fmt: skip
    copy_rows(OrderLine, ["order_id", "sku_id", "quantity", "unit_price", "kg"], line_rows)
    copy_rows(
        OrderEvent,
        ["order_id", "from_status", "to_status", "acting_user_id", "created_at", "note"],
        event_rows,
    )
    for model in (Order, OrderLine, OrderEvent):
        reset_sequence(model)
    # Written by COPY, past the writers: the daily roll-up is counted once, as the migration
    # that made it does for orders already there.
    from orders.rollup import rollup_rebuild

    rollup_rebuild()


def generate_farmers(count: int, first_day, rng: random.Random) -> None:
    """Farmers with lots over the month, their ledgers (intake, some shipped out, a few
    written off) and a payment or two, through the ORM's bulk_create."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from inventory.models import (
        Delivery,
        Farmer,
        FarmerPayment,
        Grade,
        Location,
        Lot,
        MovementKind,
        Product,
        StockMovement,
    )

    zone = timezone.get_default_timezone()
    clerk = get_user_model().objects.create_user("bench-intake")
    location = Location.objects.create(code="A", name="冷库 A", storage="cold")
    kinds = [
        (p, g)
        for p in Product.objects.all()
        for g in Grade.objects.filter(skus__product=p).distinct()
    ]
    farmers = Farmer.objects.bulk_create(
        Farmer(name=f"农户{i:03d}", village=f"第{i % 12 + 1}村", county="留坝县",
               phone=f"139{i:08d}")
        for i in range(count)
    )  # fmt: skip
    deliveries, lots, plans = [], [], []
    for farmer in farmers:
        for _ in range(rng.randint(2, 6)):
            n = len(lots) + 1
            product, grade = rng.choice(kinds)
            received_at = datetime.combine(
                first_day + timedelta(days=rng.randrange(DAYS)), datetime.min.time()
            ).replace(hour=rng.randint(7, 11), minute=rng.randrange(60), tzinfo=zone)
            kg = Decimal(rng.randint(20, 400))
            delivery = Delivery(code=f"RB{n:06d}", farmer=farmer, received_at=received_at,
                                received_by=clerk)  # fmt: skip
            written = Decimal(rng.choice([0, 0, 0, 1, 2, 5]))
            shipped = ((kg - written) * Decimal(rng.uniform(0.3, 0.95))).quantize(Decimal("0.001"))
            price = Decimal(rng.choice(["4.50", "6.00", "8.80", "12.00"]))
            deliveries.append(delivery)
            lots.append(
                Lot(code=f"LB{n:06d}", delivery=delivery, farmer=farmer, product=product,
                    grade=grade, location=location, harvest_date=received_at.date(),
                    received_at=received_at,
                    expiry_date=received_at.date() + timedelta(days=product.shelf_life_days),
                    gross_kg=kg, received_kg=kg, price_per_kg=price,
                    on_hand_kg=kg - shipped - written)
            )  # fmt: skip
            plans.append((kg, shipped, written, received_at))
    Delivery.objects.bulk_create(deliveries)
    for lot in lots:
        lot.delivery_id = lot.delivery.pk
    Lot.objects.bulk_create(lots)
    movements = []

    def move(lot, kind, delta, after, when, **extra):
        movements.append(
            StockMovement(lot=lot, kind=kind, kg_delta=delta, on_hand_after=after,
                          acting_user=clerk, created_at=when, **extra)
        )  # fmt: skip

    for lot, (kg, shipped, written, received_at) in zip(lots, plans, strict=True):
        on_hand = kg
        move(lot, MovementKind.INTAKE, kg, on_hand, received_at, reference=f"delivery:{lot.pk}")
        parts = rng.randint(1, 5)
        left = shipped
        for part in range(parts):
            out = left if part == parts - 1 else (shipped / parts).quantize(Decimal("0.001"))
            left -= out
            on_hand -= out
            if out:
                when = received_at + timedelta(days=1, hours=part)
                move(lot, MovementKind.SHIP_OUT, -out, on_hand, when, reference=f"parcel:{part}")
        if written:
            on_hand -= written
            when = received_at + timedelta(days=2)
            move(lot, MovementKind.WRITE_OFF, -written, on_hand, when, note="烂果")
    StockMovement.objects.bulk_create(movements, batch_size=5000)
    FarmerPayment.objects.bulk_create(
        FarmerPayment(farmer=farmer, paid_on=first_day + timedelta(days=rng.randrange(DAYS)),
                      amount=Decimal(rng.randint(100, 3000)), recorded_by=clerk)
        for farmer in farmers
        for _ in range(rng.randint(1, 2))
    )  # fmt: skip


# --- measurements ----------------------------------------------------------------------------


def best_of(call, runs: int) -> tuple[float, float, object]:
    """(first, best) milliseconds of ``runs`` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return times[0], min(times), result


def measure(session, first_day, last_day) -> dict:
    import pandas as pd
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from orders.reports import sales_dashboard

    figures = {}
    first, best, sales = best_of(lambda: sales_dashboard(live_session=session), 7)
    figures.update(session_first_ms=first, session_ms=best, session_orders=sales.summary.orders)
    with CaptureQueriesContext(connection) as queries:
        sales_dashboard(live_session=session)
    # The grouped SELECTs (BEGIN, SET LOCAL jit = off and COMMIT around them left out).
    figures["queries"] = sum(q["sql"].startswith("SELECT") for q in queries.captured_queries)

    creator, _ = get_user_model().objects.get_or_create(username="bench-creator")
    creator.groups.add(Group.objects.get(name="creator"))
    client = Client()
    client.force_login(creator)
    url = f"/api/dashboard/?live_session={session.pk}"

    def api():
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        return response

    _first, figures["api_ms"], _response = best_of(api, 7)

    first, best, month = best_of(lambda: sales_dashboard(date_from=first_day, date_to=last_day), 3)
    figures.update(month_first_ms=first, month_ms=best)
    # The same from the order lines (what the roll-up replaced): the same figures.
    _first, figures["lines_ms"], by_lines = best_of(
        lambda: sales_dashboard(date_from=first_day, date_to=last_day, from_lines=True), 3
    )
    assert by_lines.summary == month.summary and by_lines.skus == month.skus
    assert by_lines.provinces == month.provinces and by_lines.timeline == month.timeline

    # The naive way: every line of the month into pandas, then group there.
    started = time.perf_counter()
    start = month.window_start.isoformat()
    end = month.window_end.isoformat()
    warnings.filterwarnings("ignore", message="pandas only supports SQLAlchemy")
    frame = pd.read_sql(
        """SELECT o.id AS order_id, o.status, o.province, o.paid_at, o.goods_total,
                  s.merchant_code, s.name, l.quantity, l.kg, l.unit_price
           FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id
           JOIN inventory_sku s ON s.id = l.sku_id
           WHERE o.paid_at >= %(start)s AND o.paid_at < %(end)s""",
        connection.connection,
        params={"start": start, "end": end},
    )
    sold = frame[~frame["status"].isin(["cancelled", "refunded"])]
    sold = sold.assign(amount=sold["quantity"] * sold["unit_price"])
    by_sku = sold.groupby(["merchant_code", "name"])[["quantity", "kg", "amount"]].sum()
    orders = sold.drop_duplicates("order_id")
    by_province = orders.groupby("province")["goods_total"].sum()
    by_day = orders.groupby(orders["paid_at"].dt.tz_convert("Asia/Shanghai").dt.date).size()
    figures["naive_s"] = time.perf_counter() - started
    figures["naive_mb"] = frame.memory_usage(deep=True).sum() / 1e6
    # The naive figures are the dashboard's.
    assert int(by_sku["quantity"].sum()) == month.summary.units
    assert int(by_day.sum()) == month.summary.orders
    assert round(float(by_province.sum()), 2) == float(month.summary.gross_sales)
    del frame, sold, orders

    figures["statements"] = measure_statements(first_day, last_day)
    return figures


def measure_statements(first_day, last_day) -> str:
    try:
        from inventory.reports import farmer_statements
        from inventory.statements import render_statements
    except ImportError as exc:  # helper B's module is not there yet
        return f"TODO: inventory statements not available ({exc})"
    started = time.perf_counter()
    statements = farmer_statements(date_from=first_day, date_to=last_day)
    select_s = time.perf_counter() - started
    started = time.perf_counter()
    pdf = render_statements(statements)
    render_s = time.perf_counter() - started
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    return (
        f"{len(statements)} farmers: farmer_statements {select_s * 1000:.0f} ms + "
        f"render_statements {render_s:.1f} s = {len(pdf) / 1e6:.1f} MB PDF, ~{pages} pages"
    )


if __name__ == "__main__":
    sys.exit(main())
