"""How fast orders can be allocated when many processes race for the same stock, on PostgreSQL.

    .venv/bin/python bench/allocate.py [--processes 8] [--orders 2000] [--units 1000]
        [--pg-url postgres://postgres@127.0.0.1:5432/shanhuo_bench_alloc] [--statements]

Creates the database, migrates it, receives stock for ``--units`` units of one 2.5 kg SKU
(over four lots whose sizes are not whole units), creates ``--orders`` single-unit orders, and
lets ``--processes`` processes (each with its own connection) call ``order_allocate`` on their
share at once. Then, in the same run, the same processes make the same number of attempts with
a bare conditional ``UPDATE … SET qty = qty - 1 WHERE id = … AND qty >= 1`` on a one-row table
holding the same units. Prints one line: both rates, the ratio, and the oversell count of each
(must be 0). The database is dropped at the end.

``--statements`` also prints, per kind of SQL statement, how many each allocation sent and
how long they took (measured inside the workers during the race).
"""

import argparse
import os
import secrets
import sys
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/shanhuo_bench_alloc"
NET_KG = Decimal("2.500")
# Shares of the stock per lot; not whole units, so some orders are split across two lots.
HELD = "lot locks held, lock granted → commit"
HELD_STATEMENTS = "statements sent while holding lot locks"
HELD_COMMIT = "lot locks held, last statement → commit"
LOT_SHARES = [Decimal("0.2805"), Decimal("0.2395"), Decimal("0.3"), Decimal("0.18")]


def _admin_params(url: str) -> dict:
    parts = urlsplit(url)
    return {
        "host": parts.hostname,
        "port": parts.port or 5432,
        "user": parts.username,
        "password": parts.password,
        "dbname": "postgres",
        "connect_timeout": 3,
        "autocommit": True,
    }


def _recreate_database(url: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    name = sql.Identifier(urlsplit(url).path.lstrip("/"))
    with psycopg.connect(**_admin_params(url)) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def _setup_django(url: str) -> None:
    """Point Django at the bench database with production settings (DEBUG off keeps no query
    log), then start it. Spawned workers inherit the environment and call this again."""
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="studio.settings",
        DEBUG="false",
        SECRET_KEY=os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(48),
        LOG_LEVEL="WARNING",
    )
    os.environ["BENCH_SECRET_KEY"] = os.environ["SECRET_KEY"]
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- workers (each its own process and connection) ---------------------------------------------


def _statement_kind(sql: str) -> str:
    words = sql.replace('"', "").split()
    head = words[0].upper() if words else ""
    if head == "SELECT":
        table = words[words.index("FROM") + 1] if "FROM" in words else ""
        lock = " FOR UPDATE" if "FOR UPDATE" in sql else ""
        return f"SELECT {table}{lock}"
    if head in {"INSERT", "UPDATE"}:
        return f"{head} {words[2] if head == 'INSERT' else words[1]}"
    return "RELEASE SAVEPOINT" if head == "RELEASE" else head


def allocate_worker(barrier, results, url, order_ids, statements) -> None:
    _setup_django(url)
    from django.db import connection, transaction

    from orders.models import Order
    from orders.services import order_allocate

    orders = list(Order.objects.filter(pk__in=order_ids).order_by("pk"))
    timings: Counter = Counter()
    counts: Counter = Counter()

    # [when this transaction's lot locks were granted, statements since, when the last ended]
    locked: list = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            kind = _statement_kind(sql)
            timings[kind] += time.perf_counter() - started
            counts[kind] += 1
            if locked:
                locked[1] += 1
                locked[2] = time.perf_counter()
            if kind == "SELECT inventory_lot FOR UPDATE":
                locked[:] = [time.perf_counter(), 0, time.perf_counter()]
                # Runs only if the reservation commits (a shortage rolls its savepoint back,
                # and its row locks with it).
                transaction.on_commit(held_until_commit)

    def held_until_commit() -> None:
        granted, sent, last_statement = locked
        now = time.perf_counter()
        timings[HELD] += now - granted
        timings[HELD_COMMIT] += now - last_statement
        counts[HELD] += 1
        counts[HELD_STATEMENTS] += sent

    outcome: Counter = Counter()
    errors: list[str] = []
    barrier.wait()
    started, cpu_started = time.time(), time.process_time()
    if statements:
        connection.execute_wrappers.append(timed)
    for order in orders:
        try:
            outcome[order_allocate(order=order)] += 1
        except Exception as exc:  # counted and reported: a deadlock would show here
            errors.append(f"{type(exc).__name__}: {exc}")
        locked.clear()
    finished, cpu = time.time(), time.process_time() - cpu_started
    connection.close()
    results.put(
        ("allocate", started, finished, cpu, outcome[True], outcome[False], errors, timings, counts)
    )


def bare_worker(barrier, results, url, attempts) -> None:
    import psycopg

    params = _admin_params(url) | {"dbname": urlsplit(url).path.lstrip("/")}
    succeeded, errors = 0, []
    with psycopg.connect(**params) as conn:
        barrier.wait()
        started, cpu_started = time.time(), time.process_time()
        for _attempt in range(attempts):
            try:
                cursor = conn.execute(
                    "UPDATE bench_bare_stock SET qty = qty - 1 WHERE id = %s AND qty >= 1", (1,)
                )
                succeeded += cursor.rowcount
            except psycopg.Error as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
        finished, cpu = time.time(), time.process_time() - cpu_started
    results.put(("bare", started, finished, cpu, succeeded, attempts - succeeded, errors, {}, {}))


def _race(context, target, args_per_process) -> list[tuple]:
    barrier = context.Barrier(len(args_per_process))
    results = context.Queue()
    processes = [
        context.Process(target=target, args=(barrier, results, *args)) for args in args_per_process
    ]
    for process in processes:
        process.start()
    collected = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    return collected


# --- the run -----------------------------------------------------------------------------------


def run(url: str, processes: int, n_orders: int, units: int, statements: bool) -> int:
    import multiprocessing

    _setup_django(url)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, connections
    from django.db.models import F, Sum
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from inventory.models import Grade, Location, Lot, Product, Sku
    from inventory.selectors import stock_mismatches
    from inventory.services import IntakeRow, farmer_create, intake_record
    from orders.checks import reservations_match_allocations
    from orders.models import Allocation, Channel, OrderStatus
    from orders.services import LineDraft, OrderDraft, order_allocate, orders_create

    call_command("migrate", verbosity=0, interactive=False)
    user = get_user_model().objects.create_user("bench-alloc")
    farmer = farmer_create(name="朱大山", village="朱家坪村", acting_user=user)
    location = Location.objects.create(code="A", name="冷库 A", storage="cold")
    grade = Grade.objects.create(name="特级", rank=0)
    channel = Channel.objects.get(code="kuaishou")
    today = timezone.localdate()

    def sku_with_stock(name: str, code: str, kg_per_lot: list[Decimal]) -> Sku:
        product = Product.objects.create(name=name, shelf_life_days=30, storage="cold")
        for days, kg in enumerate(kg_per_lot):
            intake_record(
                farmer=farmer,
                product=product,
                rows=[IntakeRow(grade=grade, gross_kg=kg, price_per_kg=Decimal("6.00"))],
                harvest_date=today - timedelta(days=len(kg_per_lot) - days),
                location=location,
                acting_user=user,
            )
        return Sku.objects.create(
            merchant_code=code, name=name, product=product, grade=grade, net_kg=NET_KG, price=1
        )

    def drafts(sku: Sku, count: int, prefix: str) -> list[OrderDraft]:
        paid = timezone.now() - timedelta(hours=1)
        return [
            OrderDraft(
                external_no=f"{prefix}{index:07d}",
                recipient_name="李四",
                phone="13912345678",
                province="陕西省",
                address_detail="西安市雁塔区小寨东路 1 号",
                paid_at=paid + timedelta(milliseconds=index),
                lines=[LineDraft(sku=sku, quantity=1, unit_price=Decimal("39.90"))],
            )
            for index in range(count)
        ]

    total_kg = units * NET_KG
    kg_per_lot = [(total_kg * share).quantize(Decimal("0.001")) for share in LOT_SHARES]
    kg_per_lot[-1] = total_kg - sum(kg_per_lot[:-1])
    sku = sku_with_stock("蜜桃", "MT-5J", kg_per_lot)
    orders = orders_create(channel=channel, drafts=drafts(sku, n_orders, "A"))

    # The statements one allocation sends, counted on a product of its own outside the race.
    probe_sku = sku_with_stock("板栗", "BL-2J", [Decimal("10")])
    (probe,) = orders_create(channel=channel, drafts=drafts(probe_sku, 1, "P"))
    with CaptureQueriesContext(connection) as probe_queries:
        order_allocate(order=probe)

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_bare_stock (id integer PRIMARY KEY, qty integer NOT NULL "
            "CHECK (qty >= 0))"
        )
        cursor.execute("INSERT INTO bench_bare_stock VALUES (1, %s)", [units])
    connections.close_all()

    context = multiprocessing.get_context("spawn")
    order_ids = [order.pk for order in orders]
    allocate_results = _race(
        context,
        allocate_worker,
        [(url, order_ids[index::processes], statements) for index in range(processes)],
    )
    per_process = [len(order_ids[index::processes]) for index in range(processes)]
    bare_results = _race(context, bare_worker, [(url, attempts) for attempts in per_process])

    def summary(results):
        seconds = max(r[2] for r in results) - min(r[1] for r in results)
        ok, refused = sum(r[4] for r in results), sum(r[5] for r in results)
        errors = [e for r in results for e in r[6]]
        cpu = sum(r[3] for r in results) / seconds
        return seconds, ok, refused, errors, cpu

    a_seconds, allocated, backordered, a_errors, a_cpu = summary(allocate_results)
    b_seconds, updated, b_refused, b_errors, b_cpu = summary(bare_results)

    lots = Lot.objects.filter(product=sku.product)
    allocated_kg = Allocation.objects.filter(
        line__order__status=OrderStatus.ALLOCATED, lot__in=lots
    ).aggregate(kg=Sum("kg"))["kg"] or Decimal("0")
    oversold = max(0, allocated - units) + lots.filter(reserved_kg__gt=F("on_hand_kg")).count()
    oversold += max(Decimal("0"), allocated_kg - total_kg) > 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT qty FROM bench_bare_stock WHERE id = 1")
        (left,) = cursor.fetchone()
    bare_oversold = max(0, updated - units) + (left < 0)
    clean = not stock_mismatches() and not reservations_match_allocations()
    statuses = Counter(sku.order_lines.values_list("order__status", flat=True).order_by())
    consistent = statuses[OrderStatus.ALLOCATED] == allocated and allocated_kg == allocated * NET_KG

    attempts = allocated + backordered
    a_rate, b_rate = attempts / a_seconds, (updated + b_refused) / b_seconds
    print(
        f"allocate postgresql processes={processes} attempts={attempts} stock_units={units} "
        f"allocated={allocated} backordered={backordered} errors={len(a_errors)} "
        f"oversold={oversold} seconds={a_seconds:.2f} attempts/s={a_rate:.0f} "
        f"allocations/s={allocated / a_seconds:.0f} queries/allocation={len(probe_queries)} "
        f"worker_cpu={a_cpu:.2f} | bare_update attempts={updated + b_refused} "
        f"updated={updated} errors={len(b_errors)} oversold={bare_oversold} "
        f"seconds={b_seconds:.2f} attempts/s={b_rate:.0f} updates/s={updated / b_seconds:.0f} "
        f"worker_cpu={b_cpu:.2f} | ratio={a_rate / b_rate:.2f} (target >= 0.50) "
        f"check={'clean' if clean and consistent else 'FAILED'}",
        flush=True,
    )
    for error in (a_errors + b_errors)[:5]:
        print(f"  error: {error}")
    if statements:
        timings, counts = Counter(), Counter()
        for r in allocate_results:
            timings.update(r[7])
            counts.update(r[8])
        held, held_count = timings.pop(HELD, 0.0), counts.pop(HELD, 0)
        held_statements = counts.pop(HELD_STATEMENTS, 0)
        held_commit = timings.pop(HELD_COMMIT, 0.0)
        total = sum(timings.values())
        print(f"statements per attempt, time inside them: {1000 * total / attempts:.2f} ms")
        if held_count:
            print(
                f"  lot locks held per committed reservation: {1000 * held / held_count:.2f} ms, "
                f"{held_statements / held_count:.1f} statements + COMMIT "
                f"({1000 * held_commit / held_count:.2f} ms); "
                f"{held / a_seconds:.0%} of the race's wall time"
            )
        for kind, spent in timings.most_common():
            print(
                f"  {kind:<40} {counts[kind] / attempts:5.2f}/attempt "
                f"{1000 * spent / counts[kind]:7.2f} ms each  {spent / total:5.1%}"
            )
    ok = oversold == 0 and bare_oversold == 0 and not a_errors and not b_errors
    return 0 if ok and clean and consistent else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--orders", type=int, default=2000, help="single-unit orders")
    parser.add_argument("--units", type=int, default=1000, help="units of stock")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL),
        help="PostgreSQL database to create, use and drop (default: %(default)s)",
    )
    parser.add_argument("--statements", action="store_true", help="time each kind of statement")
    args = parser.parse_args()
    import psycopg

    try:
        _recreate_database(args.pg_url)
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"allocate postgresql skipped: cannot reach the database ({reason})")
        return 0
    try:
        return run(args.pg_url, args.processes, args.orders, args.units, args.statements)
    finally:
        from django.db import connections

        connections.close_all()
        _recreate_database(args.pg_url, drop_only=True)


if __name__ == "__main__":
    sys.exit(main())
