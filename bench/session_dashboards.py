"""Every live session's dashboard stays small and quick, also for a session that orders far
outside its window were attached to (what the import's old rule of titles did), in
PostgreSQL:

    .venv/bin/python bench/session_dashboards.py [--days 180] [--orders-per-session 300]
        [--stray 10000] [--keep]
        [--pg-url postgres://postgres@127.0.0.1:5432/shanhuo_bench_sessions]

1. The database (dropped, created and migrated; dropped at the end unless ``--keep``) gets,
   through the import's writer (``COPY``): a live session every evening (20:00–23:00) for
   ``--days`` days with ``--orders-per-session`` orders paid in it, a tenth of them cancelled,
   and ``--stray`` orders paid at any time of those days but attached to the last session,
   as the old rule attached every order naming a recurring title.
2. For every session, in process as a creator (the dashboard cache off): the dashboard page,
   ``GET /api/dashboard/?live_session=…`` and the compare page against the session before;
   each timed twice, the second (warm) time kept.

Targets: every answer ≤ 1 s and ≤ 1 MB. Prints one line of figures: the worst of each, and
for the stray session the timeline's points against what the old timeline would have drawn
(one per minute from its first order to its last).
"""

import argparse
import os
import random
import secrets
import subprocess
import sys
import time
from datetime import datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

from pgadmin import admin_params, database_name

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/shanhuo_bench_sessions"
PLACES = [
    ("浙江省", "杭州市", "西湖区", "330106"),
    ("广东省", "深圳市", "南山区", "440305"),
    ("北京市", "北京市", "朝阳区", "110105"),
    ("陕西省", "西安市", "雁塔区", "610113"),
    ("新疆维吾尔自治区", "", "石河子市", "659001"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--orders-per-session", type=int, default=300)
    parser.add_argument("--stray", type=int, default=10000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
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
            conn.execute(drop)
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(
            f"session dashboards skipped: cannot reach {admin['host']}:{admin['port']} ({reason})"
        )
        return 0
    env = dict(os.environ)
    env.update(
        DATABASE_URL=args.pg_url,
        DJANGO_SETTINGS_MODULE="studio.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="false",
        DASHBOARD_CACHE_SECONDS="0",
        LOG_LEVEL="WARNING",
    )
    command = [sys.executable, __file__, "--child", "--days", str(args.days)]
    command += ["--orders-per-session", str(args.orders_per_session), "--stray", str(args.stray)]
    try:
        return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode
    finally:
        if not args.keep:
            with psycopg.connect(**admin) as conn:
                conn.execute(drop)


def child(args) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    # Pages link static files by name: no collectstatic manifest is needed to measure them.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("migrate", verbosity=0, interactive=False)
    started = time.perf_counter()
    sessions, stray = generate(args, random.Random(20261203))
    setup_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    worst = measure(sessions)
    from orders import reports
    from orders.models import Order

    last = sessions[-1]
    span = stray_span(last)
    sales = reports.sales_dashboard(live_session=last, now=timezone.now())
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(
        f"session dashboards postgresql sessions={len(sessions)} orders={Order.objects.count():,}"
        f" | page: max {worst['page'][0]:.0f} ms, max {worst['page'][1] / 1024:.0f} KB"
        f" | API: max {worst['api'][0]:.0f} ms, max {worst['api'][1] / 1024:.0f} KB"
        f" | compare: max {worst['compare'][0]:.0f} ms, max {worst['compare'][1] / 1024:.0f} KB"
        f" | stray session ({last.orders.count():,} orders, {stray:,} paid outside): "
        f"timeline {len(sales.timeline)} points (old rule would draw {span:,}), "
        f"outside_window={sales.outside_window:,}"
        f" | setup {setup_s:.0f} s | load {load}"
    )
    return 0


def generate(args, rng: random.Random):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from inventory.models import Grade, Product, Sku
    from orders.drafts import LineDraft, OrderDraft
    from orders.importers.writing import write_orders
    from orders.models import Channel, LiveSession, Order, OrderStatus

    channel = Channel.objects.get(code="kuaishou")
    product = Product.objects.create(name="蜜桃", shelf_life_days=7)
    grade = Grade.objects.get_or_create(name="特级")[0]
    sku = Sku.objects.create(
        merchant_code="MT-5J-TJ",
        name="蜜桃 5斤礼盒",
        product=product,
        grade=grade,
        net_kg=Decimal("2.500"),
        price=Decimal("49.90"),
    )
    user = get_user_model().objects.create_user("bench-creator")
    user.groups.add(Group.objects.get(name="creator"))
    today = timezone.localdate()
    sessions = []
    for back in range(args.days, 0, -1):
        day = today - timedelta(days=back)
        start = timezone.make_aware(datetime.combine(day, clock(20, 0)))
        sessions.append(
            LiveSession.objects.create(
                channel=channel,
                title="朱家坪蜜桃专场",
                host="阿秀",
                starts_at=start,
                ends_at=start + timedelta(hours=3),
            )
        )
    number = 0

    def draft(paid, session) -> OrderDraft:
        nonlocal number
        number += 1
        province, city, district, code = rng.choice(PLACES)
        return OrderDraft(
            external_no=f"S{number:012d}",
            recipient_name="王秀英",
            phone="138****5678",
            phone_masked_by_platform=True,
            province=province,
            city=city,
            district=district,
            address_detail="人民路1号",
            adcode=code,
            address_status="matched",
            paid_at=paid,
            live_session=session,
            lines=[LineDraft(sku=sku, quantity=rng.choice([1, 1, 2]), unit_price=sku.price)],
        )

    drafts = [
        draft(session.starts_at + timedelta(seconds=rng.randrange(3 * 3600)), session)
        for session in sessions
        for _order in range(args.orders_per_session)
    ]
    first = sessions[0].starts_at.replace(hour=0, minute=0)
    seconds = int((sessions[-1].starts_at - first).total_seconds())
    drafts += [
        draft(first + timedelta(seconds=rng.randrange(seconds)), sessions[-1])
        for _order in range(args.stray)
    ]
    for start in range(0, len(drafts), 5000):
        with transaction.atomic():
            write_orders(
                channel=channel,
                drafts=drafts[start : start + 5000],
                import_batch=None,
                acting_user=None,
            )
    ids = list(Order.objects.values_list("pk", flat=True))
    Order.objects.filter(pk__in=rng.sample(ids, len(ids) // 10)).update(
        status=OrderStatus.CANCELLED
    )
    return sessions, args.stray


def stray_span(session) -> int:
    """Minutes from the session's first order to its last: the old timeline's points."""
    from django.db.models import Max, Min

    bounds = session.orders.aggregate(first=Min("paid_at"), last=Max("paid_at"))
    return int((bounds["last"] - bounds["first"]).total_seconds() // 60) + 1


def measure(sessions) -> dict[str, tuple[float, int]]:
    """The worst warm (ms, bytes) of each kind of answer over every session."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-creator"))
    worst = {"page": (0.0, 0), "api": (0.0, 0), "compare": (0.0, 0)}
    previous = None
    for session in sessions:
        asks = {
            "page": ("/orders/dashboard/", {"live_session": session.pk}),
            "api": ("/api/dashboard/", {"live_session": session.pk}),
        }
        if previous is not None:
            asks["compare"] = ("/orders/dashboard/compare/", {"a": session.pk, "b": previous.pk})
        for kind, (url, query) in asks.items():
            for _run in range(2):
                started = time.perf_counter()
                response = client.get(url, query)
                ms = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (url, query, response.status_code)
            size = len(response.content)
            worst[kind] = (max(worst[kind][0], ms), max(worst[kind][1], size))
        previous = session
    return worst


if __name__ == "__main__":
    sys.exit(main())
