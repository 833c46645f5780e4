"""The peak day: the morning after a livestream that sold ``--orders`` orders, end to end over
HTTP against the production setup on PostgreSQL.

    .venv/bin/python bench/peak_day.py [--orders 20000] [--packers 20] [--creators 10]
        [--wave-size 500] [--web-workers 2] [--server serve|gunicorn] [--time-limit 3600]
        [--pg-url postgres://postgres@127.0.0.1:5432/shanhuo_peak] [--keep] [--no-autovacuum]
        [--timeline requests.csv]

1. Creates the database (dropped first, dropped again at the end unless ``--keep``) and starts
   the server as production runs it: ``./serve`` (migrate, collectstatic, gunicorn with
   ``WEB_CONCURRENCY=2`` workers and ``TASK_WORKERS=1`` task worker; plain HTTP on 127.0.0.1:
   ``SECURE_SSL_REDIRECT=false SECURE_COOKIES=false SECURE_PROXY_SSL_HEADER=false``) — or,
   with ``--server gunicorn`` or where ``./serve`` is missing, the same by hand (migrate,
   collectstatic, ``gunicorn -w 2``, ``manage.py db_worker``).
2. Generates the export (``bench/peakday/export.py``: GB18030, orders of 1–3 lines, a few
   hundred bad rows, some orders closed on the platform) and, through the ORM and the intake
   service, the people and stock for about 90 % of what the good orders need.
3. Drives the day (``bench/peakday/day.py``): sign in, waybill numbers, import (upload and
   preview, commit, follow the task through writing and allocation), bad rows, waves, pick
   lists, then packing by ``--packers`` packers while ``--creators`` creators refresh the
   dashboard and every wave's labels are printed through the label task as soon as it is
   packed.
4. Checks (``bench/peakday/checks.py``): no lot oversold, ``check_stock`` clean, every good
   order allocated (or further) or back-ordered, every bad row reported, a label for every
   parcel, no 5xx.

Where the server's autovacuum is off (a test server's may be), the bench analyzes and vacuums
the day's tables as autovacuum would, with its thresholds (``bench/peakday/autovacuum.py``):
production runs with it on. ``--no-autovacuum`` leaves it off.

Prints a table (seconds and CPU seconds per process group for each stage, from ``/proc``;
latencies per endpoint as the clients saw them and, from the access log, inside the gunicorn
worker; peak memory per process; task runs; errors; checks), then one line of figures. Exit
status 1 when a check fails.
"""

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/shanhuo_peak"
PASSWORD = "peak-day-" + secrets.token_hex(4)
VENV_BIN = Path(sys.executable).parent
LOADED_ENDPOINTS = [
    "pack",
    "pack (one packer alone)",
    "pack (scanned again)",
    "dashboard",
    "label batch",
    "label batch status",
    "label batch pdf",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the database and the server -------------------------------------------------------------


def recreate_database(url: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
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
    with psycopg.connect(**admin) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def server_env(url: str, port: int, media: Path, web_workers: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="studio.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        # Plain HTTP straight to gunicorn on 127.0.0.1 (docs/DEPLOY.md): cookies without the
        # Secure flag (the client here would keep them anyway), no proxy header to trust.
        SECURE_COOKIES="false",
        SECURE_PROXY_SSL_HEADER="false",
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY=str(web_workers),
        TASK_WORKERS="1",
        MEDIA_ROOT=str(media),
        SHANHUO_PUBLIC_URL=f"http://127.0.0.1:{port}",
        LOG_LEVEL="WARNING",
        # A few simulated people on one address call far faster than real ones.
        API_THROTTLE="false",
        PYTHONUNBUFFERED="1",
    )
    return env


class Server:
    """``./serve`` when it exists, else migrate + collectstatic + gunicorn + db_worker."""

    def __init__(self, env: dict[str, str], log: Path, *, use_serve: bool = True):
        self.use_serve = use_serve
        self.env = env
        self.log = log
        self.processes: list[subprocess.Popen] = []
        self.kind = ""

    def start(self) -> None:
        out = open(self.log, "ab")  # noqa: SIM115 - closed with the processes
        serve = ROOT / "serve"
        if self.use_serve and serve.exists() and os.access(serve, os.X_OK):
            self.kind = f"./serve (WEB_CONCURRENCY={self.env['WEB_CONCURRENCY']})"
            # bash reads a script as it runs it: run a copy taken now (with $0 still naming
            # ./serve), so an edit of the file meanwhile cannot break the running server.
            self.processes.append(
                subprocess.Popen(
                    ["bash", "-c", serve.read_text(), str(serve)],
                    cwd=ROOT,
                    env=self.env,
                    stdout=out,
                    stderr=out,
                    start_new_session=True,
                )
            )
            return
        self.kind = f"gunicorn -w {self.env['WEB_CONCURRENCY']} + db_worker" + (
            "" if serve.exists() else " (no ./serve yet)"
        )
        python = sys.executable
        for command in (["migrate", "--no-input"], ["collectstatic", "--no-input"]):
            subprocess.run(
                [python, "manage.py", *command, "-v", "0"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=out,
                check=True,
            )
        port = self.env["PORT"]
        self.processes.append(
            subprocess.Popen(
                [str(VENV_BIN / "gunicorn"), "studio.wsgi", "-b", f"127.0.0.1:{port}"]
                + ["-w", self.env["WEB_CONCURRENCY"]],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        )
        self.processes.append(
            subprocess.Popen(
                [python, "manage.py", "db_worker", "--no-reload", "--interval", "0.5"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        )

    def wait_ready(self, base_url: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    tail = self.log.read_text(errors="replace").splitlines()[-30:]
                    raise RuntimeError(
                        f"the server stopped (exit {process.returncode}):\n" + "\n".join(tail)
                    )
            try:
                with urllib.request.urlopen(base_url + "/accounts/login/", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the server did not answer within {timeout:.0f} s: {self.log}")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def server_times(log: Path) -> dict[str, list[float]]:
    """Seconds each request spent in a gunicorn worker, by path kind, from the access log's
    JSON lines (``./serve``'s format: ``path`` and ``duration_ms``); empty if the log has none.
    Beside the client's latency it shows how much of that was waiting for a free worker."""
    import json

    kinds = {"/api/parcels/pack/": "pack", "/api/dashboard/": "dashboard"}
    times: dict[str, list[float]] = {}
    for line in log.read_text(errors="replace").splitlines():
        if '"duration_ms"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        kind = kinds.get(entry.get("path", ""))
        if kind and entry.get("status", 0) < 300:
            times.setdefault(kind, []).append(entry["duration_ms"] / 1000)
    return times


def pct(values: list[float], p: float) -> float | None:
    values = sorted(values)
    return values[max(1, -(-len(values) * p // 100)) - 1] if values else None


# --- the report ------------------------------------------------------------------------------


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:,.0f}"


def report(args, server, export, studio, result, checks, sampler, tasks, timings) -> str:
    from bench.peakday.procs import GROUPS

    lines = []
    add = lines.append
    rec = result.recorder
    statuses = checks.statuses
    allocated = sum(statuses.get(s, 0) for s in ("allocated", "picking", "packed", "shipped"))
    add(
        f"peak day: {args.orders:,} orders ({export.rows:,} rows; {len(export.bad_rows)} bad rows "
        f"→ {export.expected_invalid_rows} rows to report; {export.closed_orders} closed) · "
        f"{len(export.good):,} good orders, stock for {args.stock_share:.0%} of their kg in "
        f"{studio.lots} lots · server: {server.kind} · {args.packers} packers, "
        f"{args.creators} creators · load average before {timings['load_before']:.2f}, "
        f"mean during {sum(sampler.load) / max(1, len(sampler.load)):.2f}, "
        f"max {max(sampler.load, default=0):.2f} (2 cores) · {timings.get('autovacuum', '')}"
    )
    add("")
    add(
        f"{'stage':<31}{'wall s':>8}"
        + "".join(f"{g:>10}" for g in GROUPS)
        + f"{'machine':>10}{'other':>8}   (CPU seconds)"
    )
    for name, seconds in timings["before"]:
        add(f"{'(setup) ' + name:<31}{seconds:>8.1f}")
    cpu = sampler.stage_cpu()
    for name, row in cpu.items():
        ours = sum(row[g] for g in GROUPS)
        add(
            f"{name:<31}{row['seconds']:>8.1f}"
            + "".join(f"{row[g]:>10.1f}" for g in GROUPS)
            + f"{row['machine']:>10.1f}{max(0.0, row['machine'] - ours):>8.1f}"
        )
    add(f"{'the day (upload → last label)':<31}{result.seconds:>8.1f}")
    add(f"{'checks':<31}{timings['checks']:>8.1f}")
    add(
        "CPU seconds by process group: web = gunicorn master and workers, tasks = the task "
        "worker, postgres = the backends serving this database, bench = this process (the "
        "simulated people); machine = the whole machine (2 cores: at most 2 per second); "
        "other = machine minus the four (other work, PostgreSQL's background writers)."
    )
    add("")
    labels = result.labels
    pack_stage = result.stages.get("pack + labels", 0.0)
    batches = [b for b in result.label_batches if not b.in_request]
    add(
        f"import: {result.import_status.get('created', 0):,} orders created, "
        f"{result.import_status.get('allocated', 0):,} allocated, "
        f"{result.import_status.get('backordered', 0):,} back-ordered, "
        f"{result.import_status.get('invalid', 0)} bad rows reported, "
        f"{result.import_status.get('skipped', 0)} closed skipped · waves: {len(result.waves)} "
        f"· pick lists: {result.picklist_pages} pages ({result.picklist_bytes / 1e6:.1f} MB, drawn "
        "in the request) · packed: "
        f"{result.packed:,} ({result.packed / pack_stage if pack_stage else 0:.1f}/s) · labels: "
        f"{labels:,} pages in {len(result.label_batches)} batches ({len(batches)} by the task "
        f"worker, {len(result.label_batches) - len(batches)} in the request)"
    )
    label_run = tasks.get("print_label_batch")
    if label_run and label_run.run_seconds:
        add(
            f"label task: {label_run.count} runs, {label_run.run_seconds:.1f} s rendering → "
            f"{sum(b.pages for b in batches) / label_run.run_seconds:,.0f} labels/s of the "
            f"worker; longest run {label_run.longest:.1f} s, longest queue wait "
            f"{label_run.waited:.1f} s; printer's wait per batch p50 "
            f"{sorted(b.seconds for b in batches)[len(batches) // 2]:.1f} s"
        )
    for name, run in sorted(tasks.items()):
        if name != "print_label_batch":
            add(
                f"task {name}: {run.count} runs, {run.run_seconds:.1f} s running, longest "
                f"{run.longest:.1f} s, longest queue wait {run.waited:.1f} s, failed {run.failed}"
            )
    add("")
    add(f"{'latency (ms)':<34}{'n':>7}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
    order = LOADED_ENDPOINTS + sorted(set(rec.seconds) - set(LOADED_ENDPOINTS))
    for label in order:
        if not rec.count(label):
            continue
        name = label
        if label == "dashboard" and result.dashboard_fallback:
            name = "dashboard (orders list: no API yet)"
        add(
            f"{name:<34}{rec.count(label):>7}{ms(rec.percentile(label, 50)):>8}"
            f"{ms(rec.percentile(label, 95)):>8}{ms(rec.percentile(label, 99)):>8}"
            f"{ms(max(rec.seconds[label])):>8}"
        )
    by_role: dict[str, list] = {}
    for proc in sampler.procs.values():
        by_role.setdefault(proc.role, []).append(proc.peak_kb / 1024)
    memory = "; ".join(
        f"{role} {max(peaks):.0f}"
        if len(peaks) == 1
        else f"{role}s ({len(peaks)}) max {max(peaks):.0f}"
        for role, peaks in sorted(by_role.items())
    )
    for kind, values in sorted(timings.get("server", {}).items()):
        add(
            f"{kind + ' (in the worker)':<34}{len(values):>7}{ms(pct(values, 50)):>8}"
            f"{ms(pct(values, 95)):>8}{ms(pct(values, 99)):>8}{ms(max(values)):>8}"
        )
    add("")
    add(f"peak RSS (MB): {memory}")
    add(
        f"errors: {rec.errors} (5xx {len(rec.server_errors)}, unexpected {len(rec.unexpected)}, "
        f"broken connections {len(rec.broken)}) of {rec.total_requests():,} requests; "
        f"expected 409s (an order scanned again after packing): {result.double_scans}"
    )
    for item in (rec.server_errors + rec.unexpected + rec.broken)[:5]:
        add(f"  {item}")
    add(
        f"checks: {'ok' if checks.ok else 'FAILED'} · orders by status "
        f"{dict(sorted(statuses.items()))} · {checks.check_stock}"
    )
    for problem in checks.problems[:20]:
        add(f"  problem: {problem}")
    p99 = rec.percentile("pack", 99)
    rendered = sum(b.pages for b in batches)
    label_rate = rendered / label_run.run_seconds if label_run and label_run.run_seconds else 0
    add("")
    add(
        f"peak_day postgresql orders={args.orders} rows={export.rows} day={result.seconds:.1f}s "
        f"(target <=240) "
        + " ".join(
            f"{name.split(':')[-1].strip().replace(' + ', '+').replace(' ', '_')}={seconds:.1f}s"
            for name, seconds in result.stages.items()
        )
        + f" allocated={allocated} backordered={statuses.get('backordered', 0)} "
        f"packed={result.packed} ({result.packed / pack_stage if pack_stage else 0:.1f}/s) "
        f"labels={labels} (task worker {label_rate:.0f} labels/s) "
        f"pack_p50={ms(rec.percentile('pack', 50))}ms pack_p99={ms(p99)}ms (target <=300) "
        f"dashboard_p99={ms(rec.percentile('dashboard', 99))}ms "
        f"errors={rec.errors} checks={'ok' if checks.ok else 'FAILED'} "
        f"load={sum(sampler.load) / max(1, len(sampler.load)):.1f} "
        f"autovacuum={timings.get('autovacuum_short', '')}"
    )
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------------


def write_timeline(path: Path, requests: list, vacuum: list) -> None:
    """One CSV row per request (when it ended, in seconds from the first request; what;
    milliseconds) and per piece of the autovacuum stand-in's work (when it started; what;
    milliseconds), in time order."""
    import csv

    start = min([ended - seconds for ended, _label, seconds in requests] or [0.0])
    rows = [(ended - start, label, seconds * 1000) for ended, label, seconds in requests]
    rows += [(began - start, what, (ended - began) * 1000) for began, ended, what in vacuum]
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["seconds", "what", "ms"])
        for when, what, millis in sorted(rows):
            writer.writerow([f"{when:.3f}", what, f"{millis:.1f}"])


def main() -> int:
    from decimal import Decimal

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--packers", type=int, default=20)
    parser.add_argument("--creators", type=int, default=10)
    parser.add_argument("--wave-size", type=int, default=500)
    parser.add_argument("--stock-share", type=Decimal, default=Decimal("0.9"))
    parser.add_argument("--web-workers", type=int, default=2, help="WEB_CONCURRENCY")
    parser.add_argument("--time-limit", type=float, default=3600.0)
    parser.add_argument(
        "--pg-url", default=os.environ.get("BENCH_PEAK_PG_URL", DEFAULT_PG_URL), help="%(default)s"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and files")
    parser.add_argument(
        "--timeline",
        type=Path,
        help="write every request (seconds from the upload, what, milliseconds) and the "
        "autovacuum stand-in's work to this CSV file",
    )
    parser.add_argument(
        "--no-autovacuum",
        action="store_true",
        help="where the server's autovacuum is off, leave it so (bench/peakday/autovacuum.py)",
    )
    parser.add_argument(
        "--server",
        choices=["serve", "gunicorn"],
        default="serve",
        help="./serve (when it exists), or gunicorn and db_worker started here",
    )
    args = parser.parse_args()

    timings: dict = {"before": [], "load_before": os.getloadavg()[0]}
    started = time.perf_counter()
    from bench.peakday.export import peak_export

    export = peak_export(args.orders)
    timings["before"].append(("export generated", time.perf_counter() - started))

    try:
        recreate_database(args.pg_url)
    except Exception as exc:  # noqa: BLE001 - say why and stop
        print(f"peak_day skipped: cannot create the database ({exc})")
        return 0
    work = Path(tempfile.mkdtemp(prefix="shanhuo-peak-"))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = server_env(args.pg_url, port, work / "media", args.web_workers)
    server = Server(env, work / "server.log", use_serve=args.server == "serve")
    sampler = None
    try:
        started = time.perf_counter()
        server.start()
        server.wait_ready(base_url)
        timings["before"].append(("server started", time.perf_counter() - started))

        # This process uses the same database through the ORM for the setup and the checks.
        for name in (
            "DATABASE_URL",
            "DJANGO_SETTINGS_MODULE",
            "DEBUG",
            "SECRET_KEY",
            "MEDIA_ROOT",
            "LOG_LEVEL",
            "ALLOWED_HOSTS",
            "SECURE_SSL_REDIRECT",
        ):
            os.environ[name] = env[name]
        import django

        django.setup()
        from bench.peakday.checks import check_day, task_runs
        from bench.peakday.day import Day, DayConfig
        from bench.peakday.procs import Sampler
        from bench.peakday.studio import create_studio

        started = time.perf_counter()
        studio = create_studio(
            export,
            packers=args.packers,
            creators=args.creators,
            password=PASSWORD,
            stock_share=args.stock_share,
        )
        timings["before"].append(("people, SKUs, stock", time.perf_counter() - started))
        from django.db import connection

        connection.close()

        sampler = Sampler(
            root_pids=[p.pid for p in server.processes],
            database=urlsplit(args.pg_url).path.lstrip("/"),
        )
        sampler.start()
        from bench.peakday.autovacuum import StandIn

        autovacuum = StandIn(args.pg_url)
        if not args.no_autovacuum:
            autovacuum.start()
        config = DayConfig(
            packers=args.packers,
            creators=args.creators,
            wave_size=args.wave_size,
            time_limit=args.time_limit,
        )
        result = Day(base_url, export, studio, config, on_stage=sampler.mark).run()
        autovacuum.close()
        timings["autovacuum"] = (
            autovacuum.describe() if not args.no_autovacuum else "autovacuum: left off"
        )
        timings["autovacuum_short"] = (
            "bench" if autovacuum.active else "off" if args.no_autovacuum else "server"
        )
        sampler.close()
        started = time.perf_counter()
        checks = check_day(export, result)
        tasks = task_runs()
        timings["checks"] = time.perf_counter() - started
        timings["server"] = server_times(server.log)
        print(report(args, server, export, studio, result, checks, sampler, tasks, timings))
        if args.timeline:
            write_timeline(args.timeline, result.recorder.timeline, autovacuum.work)
        return 0 if checks.ok else 1
    finally:
        if sampler is not None and not sampler.stop.is_set():
            sampler.close()
        server.stop()
        if not args.keep:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: BLE001 - Django may not be set up yet
                pass
            recreate_database(args.pg_url, drop_only=True)
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept: database {args.pg_url}, files and server log in {work}")


if __name__ == "__main__":
    sys.exit(main())
