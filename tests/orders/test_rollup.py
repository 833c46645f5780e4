"""The daily roll-up (orders.rollup): every writer keeps it equal to the figures counted from
the order lines, the range dashboard reads it, and the command checks and rebuilds it."""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.addresses import order_address_correct
from orders.drafts import LineDraft, OrderDraft
from orders.importers.writing import write_orders
from orders.lifecycle import (
    lock_orders,
    move_locked,
    orders_mark_delivered,
    orders_mark_shipped,
)
from orders.models import Channel, Order, OrderStatus, SalesDay, SkuSalesDay
from orders.reports import sales_dashboard
from orders.rollup import rollup_check, rollup_fold, rollup_rebuild, rollup_refund
from orders.services import order_address_change, order_cancel, orders_create
from tests.factories import GradeFactory, ProductFactory, SkuFactory

pytestmark = pytest.mark.django_db(transaction=True)
SHANGHAI = ZoneInfo("Asia/Shanghai")
S = OrderStatus
PROVINCES = ["浙江省", "广东省", "陕西省", "北京市", "新疆维吾尔自治区"]
FIRST = date(2026, 11, 1)
LAST = date(2026, 11, 30)


def skus():
    grade = GradeFactory(name="特级")
    return [
        SkuFactory(merchant_code=f"SKU-{i}", name=f"山货{i}", product=ProductFactory(name=f"品{i}"),
                   grade=grade, net_kg=Decimal("1.250"), price=Decimal("19.90") + i)
        for i in range(4)
    ]  # fmt: skip


def drafts(rng: random.Random, items, prefix: str, count: int) -> list[OrderDraft]:
    """Orders paid over November, some just before or after a local midnight."""
    result = []
    for n in range(count):
        day = FIRST + timedelta(days=rng.randrange(30))
        clock = rng.choice([(0, 0, 7), (23, 59, 41), (20, 13, 17), (rng.randrange(24), 7, 3)])
        paid = datetime(day.year, day.month, day.day, *clock, tzinfo=SHANGHAI)
        lines = [
            LineDraft(sku=sku, quantity=rng.randint(1, 3), unit_price=sku.price)
            for sku in rng.sample(items, rng.randint(1, 3))
        ]
        result.append(
            OrderDraft(external_no=f"{prefix}{n}", recipient_name="王秀英", phone="13812345678",
                       province=rng.choice(PROVINCES), address_detail="人民路1号", paid_at=paid,
                       lines=lines)
        )  # fmt: skip
    return result


def move(order_ids, frm, to):
    with transaction.atomic():
        lock_orders(order_ids)
        move_locked(moves=[(pk, frm, to, "") for pk in order_ids], acting_user=None)


def a_month_of_writes() -> None:
    """Orders created by the service and by the importer's writer (COPY on PostgreSQL), then
    moved along the lifecycle, shipped, delivered, cancelled, refunded and re-addressed."""
    rng = random.Random(13)
    items = skus()
    channel = Channel.objects.get(code="kuaishou")
    created = orders_create(channel=channel, drafts=drafts(rng, items, "A", 40))
    with transaction.atomic():
        write_orders(channel=channel, drafts=drafts(rng, items, "B", 60), import_batch=None,
                     acting_user=None)  # fmt: skip
    ids = sorted(Order.objects.values_list("pk", flat=True))
    rng.shuffle(ids)
    cancel, backorder, onward = ids[:8], ids[8:16], ids[16:]
    for order in Order.objects.filter(pk__in=cancel):
        order_cancel(order=order)
    move(backorder, S.NEW, S.BACKORDERED)
    move(backorder[:3], S.BACKORDERED, S.REFUNDED)
    move(onward, S.NEW, S.ALLOCATED)
    move(onward[:60], S.ALLOCATED, S.PICKING)
    move(onward[:50], S.PICKING, S.PACKED)
    orders_mark_shipped(order_ids=onward[:40], acting_user=None)
    orders_mark_delivered(order_ids=onward[:25], acting_user=None)
    move(onward[:4], S.DELIVERED, S.REFUNDED)
    for order in Order.objects.filter(pk__in=onward[60:64]):
        order_address_change(
            order=order,
            draft=OrderDraft(external_no=order.external_no, recipient_name="李桂兰",
                             phone="13900000000", province="四川省", address_detail="春熙路9号",
                             paid_at=order.paid_at),
        )  # fmt: skip
    for order in Order.objects.filter(pk__in=onward[64:66]):
        order_address_correct(order=order, province="云南", detail="翠湖路1号", acting_user=None)
    assert created


def same_figures(one, other) -> None:
    assert one.summary == other.summary
    assert one.skus == other.skus
    assert one.provinces == other.provinces
    assert one.timeline == other.timeline
    assert one.funnel == other.funnel


def check_a_month() -> None:
    a_month_of_writes()
    assert rollup_check() == []
    rolled = sales_dashboard(date_from=FIRST, date_to=LAST)
    counted = sales_dashboard(date_from=FIRST, date_to=LAST, from_lines=True)
    same_figures(rolled, counted)
    # The month really has what is being compared.
    assert rolled.summary.orders > 50 and rolled.summary.cancelled >= 15
    assert rolled.summary.shipped_measured == 40
    assert {"四川省", "云南省"} <= {row.province for row in rolled.provinces}
    # A few days inside the month, too.
    same_figures(
        sales_dashboard(date_from=date(2026, 11, 3), date_to=date(2026, 11, 9)),
        sales_dashboard(date_from=date(2026, 11, 3), date_to=date(2026, 11, 9), from_lines=True),
    )
    # Folding leaves one row per key and the same figures.
    assert rollup_fold() > 0
    assert not SalesDay.objects.filter(folded=False).exists()
    assert rollup_fold() == 0
    same_figures(sales_dashboard(date_from=FIRST, date_to=LAST), counted)
    assert rollup_check() == []


def test_every_writer_keeps_the_roll_up_equal_to_the_lines():
    check_a_month()


@pytest.mark.postgres
def test_every_writer_keeps_the_roll_up_equal_to_the_lines_on_postgresql():
    check_a_month()


def test_the_command_finds_a_day_left_behind_and_rebuilds_it(capsys):
    a_month_of_writes()
    order = Order.objects.filter(status=S.ALLOCATED).first()
    # Written past the writers: the roll-up does not know.
    Order.objects.filter(pk=order.pk).update(status=S.CANCELLED, province="西藏自治区")
    rollup_refund(order, Decimal("12.50"))
    with pytest.raises(CommandError, match="differs"):
        call_command("rollup_sales", "--check")
    assert "西藏自治区" in capsys.readouterr().out
    day = timezone.localtime(order.paid_at).date()
    with pytest.raises(CommandError):
        call_command("rollup_sales", "--check", "--from", str(day), "--to", str(day))
    call_command("rollup_sales", "--check", "--from", str(day + timedelta(days=40)))

    call_command("rollup_sales", "--rebuild", "--from", str(day), "--to", str(day))
    call_command("rollup_sales", "--check")
    assert "matches" in capsys.readouterr().out
    same_figures(
        sales_dashboard(date_from=FIRST, date_to=LAST),
        sales_dashboard(date_from=FIRST, date_to=LAST, from_lines=True),
    )
    # Refunds cannot be counted again from orders: the rebuild keeps them.
    assert rollup_rebuild(FIRST, LAST) == 30
    refunds = SalesDay.objects.filter(status="").values_list("day", "province", "refunds")
    assert list(refunds) == [(day, order.province, Decimal("12.50"))]


def test_a_bad_date_is_refused_by_the_command():
    with pytest.raises(CommandError, match="Not a date"):
        call_command("rollup_sales", "--check", "--from", "2026-13-01")


def test_the_admin_shows_the_roll_up_and_changes_nothing(admin_client):
    a_month_of_writes()
    for name in ("salesday", "skusalesday", "shiptimeday"):
        page = admin_client.get(f"/admin/orders/{name}/")
        assert page.status_code == 200
        assert admin_client.get(f"/admin/orders/{name}/add/").status_code == 403
    assert "浙江省" in admin_client.get("/admin/orders/salesday/").content.decode()


def test_an_open_step_reads_no_lines_and_only_closing_moves_the_sku_rows():
    # given two new orders of two SKUs each
    rng = random.Random(5)
    channel = Channel.objects.get(code="kuaishou")
    first, second = orders_create(channel=channel, drafts=drafts(rng, skus(), "C", 2))
    ids = [first.pk, second.pk]
    sku_rows = SkuSalesDay.objects.count()

    # when both take an open step, moved with their locked rows at hand
    with transaction.atomic(), CaptureQueriesContext(connection) as step:
        locked = lock_orders(ids)
        move_locked(
            moves=[(pk, S.NEW, S.BACKORDERED, "") for pk in ids], acting_user=None, orders=locked
        )

    # then their lines are not read and no SKU row is written: what sold did not change
    assert not any('FROM "orders_orderline"' in q["sql"] for q in step.captured_queries)
    assert SkuSalesDay.objects.count() == sku_rows
    assert rollup_check() == []

    # when one is cancelled, its lines leave what sold for what closed
    order_cancel(order=first)
    closed = SkuSalesDay.objects.filter(closed=True).values_list("sku_id", flat=True)
    assert set(closed) == set(first.lines.values_list("sku_id", flat=True))
    assert rollup_check() == []
