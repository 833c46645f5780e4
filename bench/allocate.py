"""How fast orders are allocated on PostgreSQL: a peak day's orders in batches, beside the
single-order path racing for stock and a bare conditional ``UPDATE``.

    .venv/bin/python bench/allocate.py [--orders 20000] [--units 10000] [--chunk 500]
        [--batch-processes 1] [--single 2000] [--processes 8]
        [--pg-url postgres://postgres@127.0.0.1:5432/shanhuo_bench_alloc] [--statements]

Creates the database, migrates it, receives stock for ``--units`` units of one 2.5 kg SKU (over
four lots whose sizes are not whole units, so some orders split across two lots) and creates
``--orders`` single-unit orders, paid one after another. Then, one after the other:

1. batch: ``--batch-processes`` processes (1 by default: an import's worker) call
   ``orders_allocate`` on their share of the orders (``--chunk`` orders per transaction).
2. per order: on a second product with stock for half of ``--single`` orders, ``--processes``
   processes race through ``order_allocate``, one transaction per order (the API's case).
3. bare: the same ``--processes`` processes make ``--orders`` attempts of a bare conditional
   ``UPDATE … SET qty = qty - 1 WHERE id = … AND qty >= 1`` on a one-row table holding
   ``--units``.

Afterwards it checks that exactly as many orders as there were units hold exactly their
kilograms, that no lot holds more than it has, that (with one batch process) the orders paid
first were the ones served, and that ``stock_mismatches()`` and the orders' reservation check
(``check_stock``) are clean. Prints one line: the load average, each rate, the statements per
chunk, the oversell counts (must be 0). The database is dropped at the end.

``--statements`` also prints, per kind of SQL statement, how many each batch chunk sent and how
long they took, and how long a chunk held its lots' row locks.
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

from pgadmin import admin_params, database_name

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/shanhuo_bench_alloc"
NET_KG = Decimal("2.500")
# Shares of the stock per lot; not whole units, so some orders are split across two lots.
LOT_SHARES = [Decimal("0.2805"), Decimal("0.2395"), Decimal("0.3"), Decimal("0.18")]
HELD = "lot locks held, lock granted → commit"
HELD_STATEMENTS = "statements sent while holding lot locks"
HELD_COMMIT = "lot locks held, last statement → commit"
STATEMENTS = "statements"


def _recreate_database(url: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    name = sql.Identifier(database_name(url))
    with psycopg.connect(**admin_params(url)) as conn:
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
        depth, table = 0, ""
        for index, word in enumerate(words):  # the FROM of the statement, not of a subquery
            if word.upper() == "FROM" and depth == 0 and index + 1 < len(words):
                table = words[index + 1]
                break
            depth += word.count("(") - word.count(")")
        lock = " FOR UPDATE" if "FOR UPDATE" in sql else ""
        return f"SELECT {table}{lock}"
    if head in {"INSERT", "UPDATE"}:
        return f"{head} {words[2] if head == 'INSERT' else words[1]}"
    return "RELEASE SAVEPOINT" if head == "RELEASE" else head


def _statement_counter(timings: Counter, counts: Counter, detailed: bool):
    """An execute wrapper that counts statements and, if ``detailed``, times each kind and how
    long the lots' row locks are held (lock granted → commit)."""
    from django.db import transaction

    # [when this transaction's lot locks were granted, statements since, when the last ended]
    locked: list = []

    def held_until_commit() -> None:
        granted, sent, last_statement = locked
        now = time.perf_counter()
        timings[HELD] += now - granted
        timings[HELD_COMMIT] += now - last_statement
        counts[HELD] += 1
        counts[HELD_STATEMENTS] += sent
        locked.clear()

    def wrapper(execute, sql, params, many, context):
        counts[STATEMENTS] += 1
        if not detailed:
            return execute(sql, params, many, context)
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
                transaction.on_commit(held_until_commit)

    return wrapper


def batch_worker(barrier, results, url, order_ids, chunk, statements) -> None:
    _setup_django(url)
    from django.db import connection

    from orders.models import Order
    from orders.services import orders_allocate

    orders = list(Order.objects.filter(pk__in=order_ids))
    timings: Counter = Counter()
    counts: Counter = Counter()
    errors: list[str] = []
    outcome: Counter = Counter()
    barrier.wait()
    started, cpu_started = time.time(), time.process_time()
    with connection.execute_wrapper(_statement_counter(timings, counts, statements)):
        try:
            outcome.update(orders_allocate(orders=orders, chunk_size=chunk))
        except Exception as exc:  # counted and reported: a deadlock would show here
            errors.append(f"{type(exc).__name__}: {exc}")
    finished, cpu = time.time(), time.process_time() - cpu_started
    connection.close()
    chunks = -(-len(orders) // chunk)
    counts["chunks"] = chunks
    results.put(
        (
            "batch",
            started,
            finished,
            cpu,
            outcome["allocated"],
            outcome["backordered"] + outcome["skipped"],
            errors,
            timings,
            counts,
        )
    )


def allocate_worker(barrier, results, url, order_ids) -> None:
    _setup_django(url)
    from django.db import connection

    from orders.models import Order
    from orders.services import order_allocate

    orders = list(Order.objects.filter(pk__in=order_ids).order_by("pk"))
    outcome: Counter = Counter()
    errors: list[str] = []
    barrier.wait()
    started, cpu_started = time.time(), time.process_time()
    for order in orders:
        try:
            outcome[order_allocate(order=order)] += 1
        except Exception as exc:  # counted and reported: a deadlock would show here
            errors.append(f"{type(exc).__name__}: {exc}")
    finished, cpu = time.time(), time.process_time() - cpu_started
    connection.close()
    results.put(("single", started, finished, cpu, outcome[True], outcome[False], errors, {}, {}))


def bare_worker(barrier, results, url, attempts) -> None:
    import psycopg

    params = admin_params(url) | {"dbname": database_name(url)}
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
    collected = [results.get(timeout=1800) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    return collected


def _summary(results):
    seconds = max(r[2] for r in results) - min(r[1] for r in results)
    ok, refused = sum(r[4] for r in results), sum(r[5] for r in results)
    errors = [e for r in results for e in r[6]]
    cpu = sum(r[3] for r in results) / seconds
    return seconds, ok, refused, errors, cpu


# --- the run -----------------------------------------------------------------------------------


def run(args) -> int:
    import multiprocessing

    url = args.pg_url
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
    from orders.drafts import LineDraft, OrderDraft
    from orders.models import Allocation, Channel, Order, OrderStatus
    from orders.services import ALLOCATE_CHUNK, order_allocate, orders_create

    args.chunk = args.chunk or ALLOCATE_CHUNK

    load_before = os.getloadavg()[0]
    call_command("migrate", verbosity=0, interactive=False)
    user = get_user_model().objects.create_user("bench-alloc")
    farmer = farmer_create(name="朱大山", village="朱家坪村", acting_user=user)
    location = Location.objects.create(code="A", name="冷库 A", storage="cold")
    grade = Grade.objects.create(name="特级", rank=0)
    channel = Channel.objects.get(code="kuaishou")
    today = timezone.localdate()

    def sku_with_stock(name: str, code: str, units: int) -> Sku:
        total_kg = units * NET_KG
        kg_per_lot = [(total_kg * share).quantize(Decimal("0.001")) for share in LOT_SHARES]
        kg_per_lot[-1] = total_kg - sum(kg_per_lot[:-1])
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

    sku = sku_with_stock("蜜桃", "MT-5J", args.units)
    orders = orders_create(channel=channel, drafts=drafts(sku, args.orders, "A"))
    single_units = args.single // 2
    if args.single:
        single_sku = sku_with_stock("板栗", "BL-5J", single_units)
        singles = orders_create(channel=channel, drafts=drafts(single_sku, args.single, "S"))
    # The statements one order_allocate sends, counted on a product of its own.
    probe_sku = sku_with_stock("核桃", "HT-5J", 4)
    (probe,) = orders_create(channel=channel, drafts=drafts(probe_sku, 1, "P"))
    with CaptureQueriesContext(connection) as probe_queries:
        order_allocate(order=probe)

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_bare_stock (id integer PRIMARY KEY, qty integer NOT NULL "
            "CHECK (qty >= 0))"
        )
        cursor.execute("INSERT INTO bench_bare_stock VALUES (1, %s)", [args.units])
    connections.close_all()

    context = multiprocessing.get_context("spawn")
    order_ids = [order.pk for order in orders]  # in payment order
    bp = args.batch_processes
    batch_results = _race(
        context,
        batch_worker,
        [(url, order_ids[index::bp], args.chunk, args.statements) for index in range(bp)],
    )
    if args.single:
        single_ids = [order.pk for order in singles]
        p = args.processes
        single_results = _race(
            context, allocate_worker, [(url, single_ids[index::p]) for index in range(p)]
        )
    per_process = [len(order_ids[index :: args.processes]) for index in range(args.processes)]
    bare_results = _race(context, bare_worker, [(url, attempts) for attempts in per_process])
    load_after = os.getloadavg()[0]

    # --- checks ---
    def oversold_and_consistent(sku: Sku, units: int, allocated: int) -> tuple[int, bool]:
        lots = Lot.objects.filter(product=sku.product)
        allocated_kg = Allocation.objects.filter(
            line__order__status=OrderStatus.ALLOCATED, lot__in=lots
        ).aggregate(kg=Sum("kg"))["kg"] or Decimal("0")
        oversold = max(0, allocated - units) + lots.filter(reserved_kg__gt=F("on_hand_kg")).count()
        oversold += allocated_kg > units * NET_KG
        statuses = Counter(sku.order_lines.values_list("order__status", flat=True).order_by())
        consistent = (
            statuses[OrderStatus.ALLOCATED] == allocated == min(units, statuses.total())
            and allocated_kg == allocated * NET_KG
        )
        return oversold, consistent

    b_seconds, b_allocated, b_backordered, b_errors, b_cpu = _summary(batch_results)
    b_oversold, b_consistent = oversold_and_consistent(sku, args.units, b_allocated)
    fifo = "n/a"
    if bp == 1:
        served = set(
            Order.objects.filter(pk__in=order_ids, status=OrderStatus.ALLOCATED).values_list(
                "pk", flat=True
            )
        )
        fifo = "ok" if served == set(order_ids[: len(served)]) else "FAILED"
    counts = Counter()
    timings = Counter()
    for r in batch_results:
        counts.update(r[8])
        timings.update(r[7])
    chunks = counts.pop("chunks")
    statements_per_chunk = counts[STATEMENTS] / chunks
    b_rate = args.orders / b_seconds

    if args.single:
        s_seconds, s_allocated, s_backordered, s_errors, s_cpu = _summary(single_results)
        s_oversold, s_consistent = oversold_and_consistent(single_sku, single_units, s_allocated)
        s_rate = args.single / s_seconds
    else:
        s_seconds = s_allocated = s_backordered = s_oversold = s_cpu = s_rate = 0
        s_errors, s_consistent = [], True

    u_seconds, updated, u_refused, u_errors, u_cpu = _summary(bare_results)
    with connection.cursor() as cursor:
        cursor.execute("SELECT qty FROM bench_bare_stock WHERE id = 1")
        (left,) = cursor.fetchone()
    u_oversold = max(0, updated - args.units) + (left < 0)
    u_rate = (updated + u_refused) / u_seconds

    clean = not stock_mismatches() and not reservations_match_allocations()
    consistent = b_consistent and s_consistent and fifo != "FAILED"
    single_part = (
        f"per_order processes={args.processes} attempts={args.single} "
        f"allocated={s_allocated} backordered={s_backordered} errors={len(s_errors)} "
        f"oversold={s_oversold} seconds={s_seconds:.2f} orders/s={s_rate:.0f} "
        f"queries/order={len(probe_queries)} worker_cpu={s_cpu:.2f}"
        if args.single
        else "per_order skipped"
    )
    print(
        f"allocate postgresql load={load_before:.1f}->{load_after:.1f} | "
        f"batch processes={bp} orders={args.orders} stock_units={args.units} "
        f"chunk={args.chunk} allocated={b_allocated} backordered={b_backordered} "
        f"errors={len(b_errors)} oversold={b_oversold} fifo={fifo} seconds={b_seconds:.2f} "
        f"orders/s={b_rate:.0f} statements/chunk={statements_per_chunk:.1f} "
        f"worker_cpu={b_cpu:.2f} | {single_part} | "
        f"bare_update processes={args.processes} attempts={updated + u_refused} "
        f"updated={updated} errors={len(u_errors)} oversold={u_oversold} "
        f"seconds={u_seconds:.2f} attempts/s={u_rate:.0f} worker_cpu={u_cpu:.2f} | "
        f"batch/bare={b_rate / u_rate:.2f}"
        + (f" batch/per_order={b_rate / s_rate:.1f}" if s_rate else "")
        + f" check={'clean' if clean and consistent else 'FAILED'}",
        flush=True,
    )
    for error in (b_errors + s_errors + u_errors)[:5]:
        print(f"  error: {error}")
    if args.statements:
        held, held_count = timings.pop(HELD, 0.0), counts.pop(HELD, 0)
        held_statements = counts.pop(HELD_STATEMENTS, 0)
        held_commit = timings.pop(HELD_COMMIT, 0.0)
        counts.pop(STATEMENTS)
        total = sum(timings.values())
        print(f"batch statements per chunk, time inside them: {1000 * total / chunks:.1f} ms")
        if held_count:
            print(
                f"  lot locks held per chunk: {1000 * held / held_count:.1f} ms, "
                f"{held_statements / held_count:.1f} statements + COMMIT "
                f"({1000 * held_commit / held_count:.2f} ms); "
                f"{held / b_seconds:.0%} of the batch's wall time"
            )
        for kind, spent in timings.most_common():
            print(
                f"  {kind:<40} {counts[kind] / chunks:5.2f}/chunk "
                f"{1000 * spent / counts[kind]:8.2f} ms each  {spent / total:5.1%}"
            )
    ok = not (b_oversold or s_oversold or u_oversold or b_errors or s_errors or u_errors)
    return 0 if ok and clean and consistent else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20000, help="single-unit orders (batch)")
    parser.add_argument("--units", type=int, default=10000, help="units of stock (batch)")
    parser.add_argument(
        "--chunk", type=int, default=None, help="orders per transaction (default: the app's)"
    )
    parser.add_argument("--batch-processes", type=int, default=1)
    parser.add_argument(
        "--single", type=int, default=2000, help="orders for the per-order race (0: skip)"
    )
    parser.add_argument("--processes", type=int, default=8, help="per-order and bare racers")
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
        return run(args)
    finally:
        from django.db import connections

        connections.close_all()
        _recreate_database(args.pg_url, drop_only=True)


if __name__ == "__main__":
    sys.exit(main())
