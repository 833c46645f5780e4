"""How many intakes a second: ``intake_record`` called N times (one lot each) on SQLite and on
PostgreSQL, each in a fresh database that this script creates, migrates and removes.

    .venv/bin/python bench/intake.py [--n 10000] [--database sqlite|postgresql|all]
        [--pg-url postgres://postgres@127.0.0.1:5432/shanhuo_bench]

Prints one line of figures per database, then whether the stock ledger matches the lots.
Each database runs in its own Python process, so each gets its own DATABASE_URL before
Django starts. PostgreSQL is skipped, with a message, when it cannot be reached.
"""

import argparse
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from pgadmin import admin_params, database_name

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/shanhuo_bench"

# product, category, shelf life, storage, net kg of one lot, price per kg range
PRODUCTS = [
    ("蜜桃", "水果", 7, "cold", (80, 260), (600, 900)),
    ("板栗", "坚果", 90, "ambient", (60, 180), (1000, 1400)),
    ("小米", "粮食", 365, "ambient", (40, 120), (700, 900)),
    ("地瓜", "薯类", 60, "ambient", (150, 400), (150, 250)),
    ("蜂蜜", "蜂产品", 730, "ambient", (10, 40), (5000, 7000)),
    ("土鸡蛋", "禽蛋", 30, "cold", (15, 45), (1800, 2400)),
]
GRADES = [("特级", 0), ("一级", 1), ("二级", 2), ("次果", 3)]
VILLAGES = ["朱家坪村", "火烧店村", "江口村", "玉皇庙村", "闸口石村"]
SURNAMES = "朱王李张刘陈杨赵周吴孙马胡郭罗谢何"
GIVEN = ["大山", "秀兰", "建华", "德贵", "桂芳", "永福", "翠萍", "长林", "玉梅", "富贵"]


# --- the parent: one child process per database -----------------------------------------------


def run_child(label: str, database_url: str, n: int) -> int:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="studio.settings",
        # Production settings: DEBUG on would keep every query in memory.
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(48),
        LOG_LEVEL="WARNING",
    )
    command = [sys.executable, __file__, "--child", label, "--n", str(n)]
    return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode


def bench_sqlite(n: int) -> int:
    with tempfile.TemporaryDirectory(prefix="shanhuo-bench-") as directory:
        return run_child("sqlite", f"sqlite:///{Path(directory) / 'bench.sqlite3'}", n)


def bench_postgresql(n: int, url: str) -> int:
    import psycopg
    from psycopg import sql

    name = database_name(url)
    admin = admin_params(url)
    try:
        with psycopg.connect(**admin) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"intake postgresql skipped: cannot reach {admin['host']}:{admin['port']} ({reason})")
        return 0
    try:
        return run_child("postgresql", url, n)
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# --- the child: Django against one database ---------------------------------------------------


def child(label: str, n: int) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from inventory.models import Grade, Location, Lot, Product, StockMovement
    from inventory.selectors import stock_mismatches
    from inventory.services import IntakeRow, farmer_create, intake_record

    call_command("migrate", verbosity=0, interactive=False)

    user = get_user_model().objects.create_user("bench-intake")
    user.groups.add(Group.objects.get(name="intake"))
    rng = random.Random(610729)
    farmers = [
        farmer_create(
            name=f"{SURNAMES[i % len(SURNAMES)]}{GIVEN[i % len(GIVEN)]}",
            village=VILLAGES[i % len(VILLAGES)],
            phone=f"1{rng.choice('3589')}{i:09d}",
            county="留坝县",
            acting_user=user,
        )
        for i in range(60)
    ]
    grades = [Grade.objects.create(name=name, rank=rank) for name, rank in GRADES]
    locations = {
        "cold": Location.objects.create(code="A", name="冷库 A", storage="cold"),
        "ambient": Location.objects.create(code="B", name="常温区 B", storage="ambient"),
    }
    products = [
        (
            Product.objects.create(
                name=name, category=category, shelf_life_days=days, storage=storage
            ),
            lot_kg,
            price,
        )
        for name, category, days, storage, lot_kg, price in PRODUCTS
    ]
    today = timezone.localdate()

    def one_intake() -> dict:
        product, (kg_low, kg_high), (price_low, price_high) = rng.choice(products)
        net = Decimal(rng.randint(kg_low * 10, kg_high * 10)) / 10
        crates = rng.randint(1, 12)
        tare = Decimal(rng.choice(["0.150", "0.800", "1.200", "1.800"]))
        row = IntakeRow(
            grade=rng.choice(grades),
            gross_kg=net + crates * tare,
            price_per_kg=Decimal(rng.randint(price_low, price_high)) / 100,
            crates=crates,
            tare_per_crate_kg=tare,
        )
        return {
            "farmer": rng.choice(farmers),
            "product": product,
            "rows": [row],
            "harvest_date": today - timedelta(days=rng.randint(0, 6)),
            "location": locations[product.storage],
            "acting_user": user,
        }

    # Two intakes before the clock starts: the first creates the code counters, the second
    # shows the queries each intake costs.
    intake_record(**one_intake())
    with CaptureQueriesContext(connection) as queries:
        intake_record(**one_intake())
    inputs = [one_intake() for _ in range(n)]

    started, cpu_started = time.perf_counter(), time.process_time()
    for kwargs in inputs:
        intake_record(**kwargs)
    seconds = time.perf_counter() - started
    # The share of the wall time this Python process spent on the CPU: near 100 % means the
    # ORM's own work is the limit; much less means waiting for the database.
    python_cpu = (time.process_time() - cpu_started) / seconds

    print(
        f"intake {label} n={n} seconds={seconds:.2f} intakes/s={n / seconds:.0f} "
        f"ms/intake={1000 * seconds / n:.2f} queries/intake={len(queries)} "
        f"python_cpu={python_cpu:.0%}",
        flush=True,
    )
    mismatches = stock_mismatches()
    lots, rows = Lot.objects.count(), StockMovement.objects.count()
    if mismatches:
        print(f"check_stock {label}: {len(mismatches)} of {lots} lots do NOT match the ledger")
        for m in mismatches[:10]:
            print(f"  {m.lot_code}: cached {m.cached_on_hand}, ledger {m.ledger_on_hand}")
        return 1
    print(f"check_stock {label}: stock matches the ledger ({lots} lots, {rows} ledger rows)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="intakes per database")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL),
        help="PostgreSQL database to create, use and drop (default: %(default)s)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.n)
    status = 0
    if args.database in ("sqlite", "all"):
        status |= bench_sqlite(args.n)
    if args.database in ("postgresql", "all"):
        status |= bench_postgresql(args.n, args.pg_url)
    return status


if __name__ == "__main__":
    sys.exit(main())
