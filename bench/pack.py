"""What one pack costs: the Pack button's API call, measured in one process with no queue.

    .venv/bin/python bench/pack.py [--orders 400] [--wave-size 50]
        [--pg-url postgres://postgres@127.0.0.1:5432/shanhuo_bench_pack] [--profile]
        [--full-answer]

Creates the database (dropped first and again at the end), migrates it, receives stock,
imports a waybill pool and creates ``--orders`` allocated orders (one to three lines, some of
two products), put into waves of ``--wave-size`` as a packer's morning has them. Then packs
every order through ``POST /api/parcels/pack/`` with a packer's token, the way the packing
stations and ``bench/peak_day.py`` call it, one after another in this process (Django's test
client: the whole request — authentication, the serializer, the service, the answer — with no
network and no other request waiting). Like a station, it asks for the brief answer
(``Prefer: return=minimal``); ``--full-answer`` asks for the whole parcel instead.

Measured per pack: the CPU this process spent (the web worker's share of a pack), the wall time
(the web worker's CPU plus PostgreSQL's work and the round trips), the SQL statements of the
whole request and of the pack's own transaction (besides BEGIN and COMMIT, which Django sends
outside the cursor). Prints one line. The pack path must leave the
stock exact: ``stock_mismatches()`` and the reservation check are asserted at the end.

``--profile`` adds the 60 functions that took the most CPU time (cProfile on the process clock,
cumulative) and the 30 that took the most on their own.
"""

import argparse
import cProfile
import importlib
import os
import pstats
import random
import secrets
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

from pgadmin import admin_params, database_name

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/shanhuo_bench_pack"


def _recreate(url: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    name = sql.Identifier(database_name(url))
    with psycopg.connect(**admin_params(url)) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    # One client packs hundreds of orders a minute: the API's rate limits are not what is measured.
    os.environ.setdefault("API_THROTTLE", "false")
    # As the web workers run (bench/peak_day.py's server): DEBUG off, so no statement goes
    # through Django's debug cursor, and the rest as plain HTTP to 127.0.0.1.
    os.environ.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="false",
        SECURE_COOKIES="false",
        SECURE_PROXY_SSL_HEADER="false",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _studio(orders: int, wave_size: int):
    """Stock, a waybill pool, a packer and ``orders`` allocated orders in waves."""
    from datetime import timedelta

    from django.contrib.auth.models import Group, User
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from inventory.models import Grade, Location, Product, Sku, Storage
    from inventory.services import IntakeRow, farmer_create, intake_record
    from orders.models import Channel
    from orders.services import orders_allocate, orders_create

    try:
        drafts = importlib.import_module("orders.drafts")
    except ImportError:  # before drafts had a module of their own
        drafts = importlib.import_module("orders.services")
    LineDraft, OrderDraft = drafts.LineDraft, drafts.OrderDraft
    from shipping.models import Carrier
    from shipping.services import wave_create, waybill_pool_import

    rng = random.Random(7)
    manager = User.objects.create_user("bench-manager", password=secrets.token_hex(8))
    manager.groups.add(Group.objects.get(name="manager"))
    packer = User.objects.create_user("bench-packer", password=secrets.token_hex(8))
    packer.groups.add(Group.objects.get(name="packer"))
    Location.objects.create(code="A", name="冷库 A", storage=Storage.COLD)
    grade = Grade.objects.create(name="特级", rank=0)
    products = [
        Product.objects.create(name=name, category="水果", shelf_life_days=20)
        for name in ("蜜桃", "苹果", "猕猴桃")
    ]
    skus = [
        Sku.objects.create(
            merchant_code=f"SKU-{index}",
            name=f"{product.name} 5斤",
            product=product,
            grade=grade,
            net_kg=Decimal("2.500"),
            price=Decimal("39.90"),
            packaging_kg=Decimal("0.300"),
        )
        for index, product in enumerate(products)
    ]
    farmer = farmer_create(name="朱大山", village="朱家坪村", acting_user=manager)
    for product in products:
        for _lot in range(3):
            intake_record(
                farmer=farmer,
                product=product,
                rows=[IntakeRow(grade=grade, gross_kg=Decimal("2000"), price_per_kg=Decimal("6"))],
                harvest_date=timezone.localdate(),
                acting_user=manager,
            )
    carrier = Carrier.objects.get(code="sf")
    waybill_pool_import(
        carrier=carrier,
        numbers=[f"SF{160226000000 + n:012d}" for n in range(orders + 10)],
        acting_user=manager,
    )
    channel = Channel.objects.get(code="kuaishou")
    now = timezone.now()
    drafts = [
        OrderDraft(
            external_no=f"26120400{n:07d}",
            recipient_name="王小明",
            phone=f"139{rng.randint(0, 99999999):08d}",
            province="浙江省",
            city="杭州市",
            district="西湖区",
            address_detail=f"文三路 {n} 号",
            paid_at=now - timedelta(minutes=orders - n),
            lines=[
                LineDraft(sku=sku, quantity=rng.choice([1, 1, 2]), unit_price=sku.price)
                for sku in rng.sample(skus, rng.choice([1, 1, 1, 2, 3]))
            ],
        )
        for n in range(orders)
    ]
    created = orders_create(channel=channel, drafts=drafts, acting_user=manager)
    orders_allocate(orders=created, acting_user=manager)
    for start in range(0, len(created), wave_size):
        wave_create(orders=created[start : start + wave_size], acting_user=packer, carrier=carrier)
    return [order.pk for order in created], Token.objects.create(user=packer).key


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--wave-size", type=int, default=50)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--full-answer", action="store_true", help="no Prefer: return=minimal")
    args = parser.parse_args()

    _recreate(args.pg_url)
    try:
        _setup_django(args.pg_url)
        from django.db import connection
        from django.test import Client

        from inventory.selectors import stock_mismatches
        from orders.checks import reservations_match_allocations
        from shipping import services as shipping_services

        order_ids, token = _studio(args.orders, args.wave_size)
        # Count the statements of the request and of the service itself (the pack's own
        # transaction) with a wrapper that only counts: Django's query log would compose
        # every statement's SQL with its parameters, which a server never does.
        pack_service, marks, sent = shipping_services.parcel_pack, [], []

        def counted_pack(**kwargs):
            marks.append(len(sent))
            try:
                return pack_service(**kwargs)
            finally:
                marks.append(len(sent))

        def count(execute, sql, params, many, context):
            sent.append(sql)
            return execute(sql, params, many, context)

        shipping_services.parcel_pack = counted_pack
        headers = {"HTTP_AUTHORIZATION": f"Token {token}", "HTTP_ACCEPT_LANGUAGE": "zh-hans"}
        if not args.full_answer:
            headers["HTTP_PREFER"] = "return=minimal"
        client = Client(**headers)
        profile = cProfile.Profile(time.process_time) if args.profile else None
        cpu, wall, statements, in_transaction = [], [], [], []
        # What the scale reads: each box's expected weight where packing checks it (outside
        # the band a pack is refused), read before the clock starts.
        weights = {order_id: "3.000" for order_id in order_ids}
        if hasattr(shipping_services, "box_weight_check"):
            from orders.models import Order

            for order in Order.objects.filter(pk__in=order_ids):
                check = shipping_services.box_weight_check(order=order)
                weights[order.pk] = str(check.expected_kg)
        with connection.execute_wrapper(count):
            for order_id in order_ids:
                body = {"order": str(order_id), "carrier": "sf", "weight_kg": weights[order_id]}
                sent.clear()
                marks.clear()
                started_cpu, started = time.process_time(), time.perf_counter()
                if profile:
                    profile.enable()
                response = client.post("/api/parcels/pack/", body, content_type="application/json")
                if profile:
                    profile.disable()
                wall.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
                assert response.status_code == 201, response.content[:300]
                statements.append(len(sent))
                if os.environ.get("BENCH_SHOW_SQL") and len(statements) == 5:
                    for sql in sent:
                        print(sql[:140])
                in_transaction.append(marks[-1] - marks[-2])
        assert stock_mismatches() == []
        assert reservations_match_allocations() == []
        connection.close()
    finally:
        _recreate(args.pg_url, drop_only=True)

    def ms(values, q=None):
        values = sorted(values)
        value = statistics.median(values) if q is None else values[int(q * (len(values) - 1))]
        return f"{value * 1000:.1f}"

    load = os.getloadavg()[0]
    print(
        f"pack: {len(cpu)} packs through the API ({'full' if args.full_answer else 'brief'} "
        f"answer), load {load:.1f}; web CPU per pack "
        f"{statistics.mean(cpu) * 1000:.1f} ms (p50 {ms(cpu)}); wall p50 {ms(wall)} ms, "
        f"p99 {ms(wall, 0.99)} ms; statements per request {statistics.mean(statements):.1f} "
        f"({statistics.mean(in_transaction):.1f} in the pack service; besides BEGIN, COMMIT)"
    )
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(60)
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
