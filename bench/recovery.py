"""How long work takes to come back after its process is killed, and how long a request-size
import keeps a web worker, on PostgreSQL with the production lease timings.

    .venv/bin/python bench/recovery.py [--orders 20000] [--inline-rows 1000]
        [--heartbeat 5] [--timeout 30] [--sweep 15]
        [--pg-url postgres://postgres@127.0.0.1:5432/shanhuo_bench_recovery]

Creates the database, migrates it, and builds the peak day's studio (``bench/peakday``: stock
for about 90 % of what the orders need). Then:

1. inline: an export of about ``--inline-rows`` rows, and one of 5,000 rows (the most a request
   ever imports), committed as the import page does (in this process: what a web worker
   spends), each timed from the commit to the allocated orders;
2. clean: an export of ``--orders`` orders imported by a real task worker, timed from commit
   to done;
3. killed: another export of ``--orders`` orders, whose worker is killed (SIGKILL) once while
   it writes and once while it allocates; a new worker is started at once each time, as
   ``./serve`` does. Timed: from each kill to the run that resumed it (the batch running again
   under a new lease), and from commit to done in all.

Afterwards: every order of both big imports exists once, none is left ``new``, and
``check_stock`` is clean. Prints one line. The database is dropped at the end.
"""

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from pgadmin import admin_params, database_name

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/shanhuo_bench_recovery"


def _recreate_database(url: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    name = sql.Identifier(database_name(url))
    with psycopg.connect(**admin_params(url)) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def _setup_django(url: str, args, media: Path) -> dict[str, str]:
    env = {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "LOG_LEVEL": "ERROR",
        "MEDIA_ROOT": str(media),
        "LEASE_HEARTBEAT_SECONDS": str(args.heartbeat),
        "LEASE_TIMEOUT_SECONDS": str(args.timeout),
        "LEASE_SWEEP_SECONDS": str(args.sweep),
        "ORDER_IMPORT_INLINE_ROWS": str(args.inline_rows),
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    return dict(os.environ)


def _worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.2", "-v", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(check, what: str, timeout: float = 600, every: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = check()
        if answer:
            return answer
        time.sleep(every)
    raise SystemExit(f"timed out waiting for {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--inline-rows", type=int, default=1000)
    parser.add_argument("--heartbeat", type=float, default=5)
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--sweep", type=float, default=15)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    args = parser.parse_args()

    media = Path(f"/tmp/shanhuo-bench-recovery-{os.getpid()}")
    _recreate_database(args.pg_url)
    workers: list[subprocess.Popen] = []
    try:
        env = _setup_django(args.pg_url, args, media)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        line = run(args, env, workers)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        from django.db import connections

        connections.close_all()
        _recreate_database(args.pg_url, drop_only=True)
    print(line)


def run(args, env: dict[str, str], workers: list) -> str:
    import io

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db.models import Count

    from bench.peakday.export import peak_export
    from bench.peakday.studio import create_studio
    from orders.importers import service
    from orders.models import Channel, ImportBatch, ImportMode, Order

    # Every export numbers its orders alike: each goes to a channel of its own.
    big = [peak_export(args.orders, seed=seed) for seed in (1, 2)]
    studio = create_studio(big[0], packers=0, creators=0, password="bench-recovery")
    manager = get_user_model().objects.get(username=studio.manager)
    kuaishou = Channel.objects.get(code="kuaishou")
    wechat = Channel.objects.get(code="wechat")
    douyin = Channel.objects.get(code="douyin")
    load_before = os.getloadavg()[0]

    def commit(export, channel) -> tuple[ImportBatch, float]:
        batch = service.import_upload(
            channel=channel,
            uploaded=SimpleUploadedFile(export.file_name, export.data),
            acting_user=manager,
        )
        started = time.perf_counter()
        batch = service.import_commit(batch=batch, mode=ImportMode.KEEP_GOOD, acting_user=manager)
        return batch, time.perf_counter() - started

    # 1. In the request.
    small = peak_export(max(1, args.inline_rows * 3 // 4), seed=3, bad_rows=0, closed_orders=0)
    ceiling = peak_export(3800, seed=4, bad_rows=0, closed_orders=0)
    inline_batch, inline_s = commit(small, wechat)
    settings.ORDER_IMPORT_INLINE_ROWS = 5000
    ceiling_batch, ceiling_s = commit(ceiling, douyin)
    settings.ORDER_IMPORT_INLINE_ROWS = args.inline_rows
    assert inline_batch.status == ceiling_batch.status == "done", (inline_batch, ceiling_batch)

    def state(batch_id: int) -> dict:
        row = ImportBatch.objects.values("status", "rows_done", "rows_total", "attempts").get(
            pk=batch_id
        )
        by = dict(
            Order.objects.filter(import_batch_id=batch_id)
            .values_list("status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        row["new"] = by.pop("new", 0)
        row["served"] = sum(by.values())
        return row

    def done(batch_id: int) -> bool:
        return ImportBatch.objects.filter(pk=batch_id, status="done").exists()

    # 2. Clean, in a worker.
    batch, _ = commit(big[0], kuaishou)
    workers.append(_worker(env))
    started = time.perf_counter()
    _wait(lambda: done(batch.pk), "the clean import", every=0.1)
    clean_s = time.perf_counter() - started
    workers[-1].send_signal(signal.SIGTERM)
    workers[-1].wait()

    # 3. Killed twice.
    other = Channel.objects.create(code="bench-kill", name="bench")
    batch, _ = commit(big[1], other)
    started = time.perf_counter()
    workers.append(_worker(env))
    _wait(
        lambda: (s := state(batch.pk))["new"] and s["rows_done"] < s["rows_total"],
        "the write phase",
    )
    workers[-1].kill()
    workers[-1].wait()
    killed = time.perf_counter()
    workers.append(_worker(env))
    _wait(lambda: state(batch.pk)["attempts"] >= 2, "the first resume", every=0.05)
    resume_1 = time.perf_counter() - killed
    _wait(
        lambda: (
            (s := state(batch.pk))["rows_done"] >= s["rows_total"]
            and s["served"]
            and s["new"] > 500
        ),
        "the allocation phase",
        every=0.005,
    )
    workers[-1].kill()
    workers[-1].wait()
    killed = time.perf_counter()
    workers.append(_worker(env))
    _wait(lambda: state(batch.pk)["attempts"] >= 3, "the second resume", every=0.05)
    resume_2 = time.perf_counter() - killed
    _wait(lambda: done(batch.pk), "the killed import", every=0.1)
    killed_s = time.perf_counter() - started
    workers[-1].send_signal(signal.SIGTERM)
    workers[-1].wait()

    expected = sum(len(export.good) for export in big)
    orders = Order.objects.filter(channel__in=[kuaishou, other])
    numbers = orders.values("channel_id", "external_no").distinct().count()
    left_new = orders.filter(status="new").count()
    out = io.StringIO()
    call_command("check_stock", stdout=out)
    check = "clean" if numbers == expected and not left_new else "WRONG"
    return (
        f"recovery postgresql load={load_before:.1f}->{os.getloadavg()[0]:.1f} "
        f"leases=heartbeat {args.heartbeat:g}s/timeout {args.timeout:g}s/sweep {args.sweep:g}s "
        f"| inline rows={small.rows} seconds={inline_s:.2f} | inline rows={ceiling.rows} "
        f"seconds={ceiling_s:.2f} | worker orders={args.orders} clean={clean_s:.1f}s "
        f"killed_twice={killed_s:.1f}s resumed_after_write_kill={resume_1:.1f}s "
        f"resumed_after_allocation_kill={resume_2:.1f}s | orders={numbers}/{expected} "
        f"left_new={left_new} check_stock={check}"
    )


if __name__ == "__main__":
    main()
