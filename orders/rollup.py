"""The daily roll-up of sales: what the dashboard counts, summed by local day of payment, so
that a range of whole days is read from a few thousand rows instead of every order line.

Three tables (``orders.rollup_models``): ``SalesDay`` (day × status × province: orders, goods
total, refunds), ``SkuSalesDay`` (day × closed or not × SKU: units, kg, amount — what sold is
what no closed order holds, whatever step of the way the others are at) and ``ShipTimeDay``
(day × minutes from payment to the shipped event: orders). The day is the order's payment
day in the studio's time zone, so a range's figures are those of the orders paid in it, as
``orders.reports.sales_dashboard`` counts them from the lines.

**Every writer that changes what they count calls this module**, in the same transaction,
one line each:

- new orders: ``rollup_orders_added(ids)`` (``orders.services.orders_create`` and the
  importer's writers, ``orders.importers.writing``);
- status moves: ``rollup_orders_moved(moves, events, orders)``, called by
  ``orders.lifecycle.move_locked`` (through which every transition, allocation, cancellation
  and refund goes) as a listener registered in ``orders.apps``. A move between two open
  statuses (allocated → picking → packed → shipped…) changes only ``SalesDay`` and, given the
  locked orders, reads nothing: one insert; only a move that closes an order (or reopens
  none: closed is final) moves its lines' ``SkuSalesDay`` rows;
- a province (or anything else an order is counted by) changing: ``rollup_orders_removed(ids)``
  before the change is saved and ``rollup_orders_added(ids)`` after
  (``orders.services.order_address_change``, ``orders.addresses.order_address_correct``);
- money given back: ``rollup_refund(order, amount)`` — for after-sales (refunds by line): call
  it once per refund, with the amount refunded (negative to undo one), in the transaction that
  records it. It adds to ``SalesDay.refunds`` of the order's payment day and province (rows of
  status "": a refund does not move with the order's status). ``rollup_rebuild`` cannot
  recompute refunds from orders, so it keeps those rows as they are; once refunds are
  recorded in a table, add their sums to ``_source`` and ``rollup_check`` checks them too.

A writer only inserts rows of differences (``folded`` false): no writer ever waits for
another on a shared row, and the roll-up takes no lock in the lock order
(Order → Lot → Parcel → Wave). ``rollup_fold`` replaces a day's rows by one row per key,
every sweep of the task workers (``core.leases``) and in ``manage.py rollup_sales``.

Anything that writes orders without these calls (a script, a fixture, ``COPY`` by hand)
leaves the roll-up behind: ``manage.py rollup_sales --check`` says which days differ and
``--rebuild`` recounts them from the orders (the migration that made the tables did it once).
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.db import FEW_ROWS, insert_rows
from orders.lifecycle import CLOSED
from orders.models import Order, OrderEvent, OrderLine, OrderStatus
from orders.rollup_models import SalesDay, ShipTimeDay, SkuSalesDay

ZERO = Decimal("0")
# Ids a statement reads at once (SQLite binds each one).
CHUNK = 2000
LINE_AMOUNT = ExpressionWrapper(
    F("unit_price") * F("quantity"), output_field=DecimalField(max_digits=14, decimal_places=2)
)
# The table, its key columns and its summed columns.
TABLES = (
    (SalesDay, ("status", "province"), ("orders", "goods_total", "refunds")),
    (SkuSalesDay, ("closed", "sku_id"), ("units", "kg", "amount")),
    (ShipTimeDay, ("minutes",), ("orders",)),
)
REFUNDS = ""  # SalesDay.status of the rows that carry refunds only


class Models(NamedTuple):
    """The models the counting reads and writes: these, or a migration's historical ones."""

    order: type = Order
    line: type = OrderLine
    event: type = OrderEvent
    sales: type = SalesDay
    skus: type = SkuSalesDay
    ships: type = ShipTimeDay


MODELS = Models()


class MinutesBetween(Func):
    """Whole minutes from ``start`` to ``end`` (a later moment), rounded half up, the same on
    PostgreSQL and SQLite (and in Python: ``minutes_between``)."""

    output_field = IntegerField()
    arity = 2

    def __init__(self, start, end, **extra):
        super().__init__(end, start, **extra)  # the SQL below reads "end - start"

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            # date_part gives a float: EXTRACT's numeric is several times slower.
            template="CAST(FLOOR(date_part('epoch', %(expressions)s) / 60 + 0.5) AS integer)",
            arg_joiner=" - ",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template="CAST((JULIANDAY(%(expressions)s)) * 1440 + 0.5 AS integer)",
            arg_joiner=") - JULIANDAY(",
            **extra,
        )


def minutes_between(start: datetime, end: datetime) -> int:
    return math.floor((end - start).total_seconds() / 60 + 0.5)


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def _chunks(ids: Sequence[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


# --- counting from the orders ----------------------------------------------------------------


def _source(condition, m: Models = MODELS) -> tuple[list, list, list]:
    """What the orders matching ``condition(prefix)`` (a Q on Order, or on a model reaching it
    through ``prefix``) contribute, grouped in the database: sales rows (day, status,
    province, orders, goods total), SKU rows (day, closed, sku id, units, kg, amount) and
    shipping-time rows (day, minutes, orders)."""
    tz = timezone.get_default_timezone()
    sales = list(
        m.order.objects.filter(condition(""))
        .order_by()
        .annotate(day=TruncDate("paid_at", tzinfo=tz))
        .values_list("day", "status", "province")
        .annotate(n=Count("id"), goods=Sum("goods_total"))
    )
    skus = list(
        m.line.objects.filter(condition("order__"))
        .order_by()
        .annotate(day=TruncDate("order__paid_at", tzinfo=tz), closed=_closed("order__status"))
        .values_list("day", "closed", "sku_id")
        .annotate(units=Sum("quantity"), kg=Sum("kg"), amount=Sum(LINE_AMOUNT))
    )
    ships = list(
        m.event.objects.filter(condition("order__"), to_status=OrderStatus.SHIPPED)
        .order_by()
        .annotate(
            day=TruncDate("order__paid_at", tzinfo=tz),
            minutes=MinutesBetween(F("order__paid_at"), F("created_at")),
        )
        .values_list("day", "minutes")
        .annotate(n=Count("*"))
    )
    return sales, skus, ships


def _closed(status_field: str) -> Case:
    return Case(
        When(**{f"{status_field}__in": sorted(CLOSED)}, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def _by_ids(ids: Sequence[int]):
    def condition(prefix: str) -> Q:
        return Q(**{f"{prefix}pk__in": ids})

    return condition


def _by_days(first: date, last: date):
    start, end = _day_start(first), _day_start(last) + timedelta(days=1)

    def condition(prefix: str) -> Q:
        return Q(**{f"{prefix}paid_at__gte": start, f"{prefix}paid_at__lt": end})

    return condition


# The columns of a day's figures by status and province, in the order ``_insert`` gives them.
SALES_COLUMNS = ("day", "status", "province", "orders", "goods_total", "refunds", "folded")


def _insert(
    sales: Iterable,
    skus: Iterable,
    ships: Iterable,
    *,
    sign: int = 1,
    folded: bool = False,
    m: Models = MODELS,
) -> None:
    """Insert rows (as ``_source`` gives them) multiplied by ``sign``; all-zero rows left out."""
    sales_rows = [
        (day, status, province, sign * n, sign * (goods or ZERO), sign * refunds, folded)
        for day, status, province, n, goods, *more in sales
        for refunds in [more[0] if more else ZERO]
        if n or goods or refunds
    ]
    sales_days = [m.sales(**dict(zip(SALES_COLUMNS, row, strict=True))) for row in sales_rows]
    if len(sales_days) <= FEW_ROWS:
        insert_rows(sales_days)  # an order's step (every pack): two rows, by SQL written once
    else:
        m.sales.objects.bulk_create(sales_days, batch_size=CHUNK)
    m.skus.objects.bulk_create(
        [
            m.skus(
                day=day, closed=closed, sku_id=sku_id, units=sign * units, kg=sign * kg,
                amount=sign * amount, folded=folded,
            )
            for day, closed, sku_id, units, kg, amount in skus
            if units or kg or amount
        ],
        batch_size=CHUNK,
    )  # fmt: skip
    m.ships.objects.bulk_create(
        [
            m.ships(day=day, minutes=minutes, orders=sign * n, folded=folded)
            for day, minutes, n in ships
            if n
        ],
        batch_size=CHUNK,
    )


# --- the writers' calls ----------------------------------------------------------------------


def rollup_orders_added(order_ids: Iterable[int]) -> None:
    """Count these orders (just written, or just changed: see ``rollup_orders_removed``)."""
    ids = sorted(set(order_ids))
    for chunk in _chunks(ids):
        _insert(*_source(_by_ids(chunk)))


def rollup_orders_removed(order_ids: Iterable[int]) -> None:
    """Stop counting these orders as they are now (before a change to what they are counted
    by is saved; count them again with ``rollup_orders_added`` after)."""
    ids = sorted(set(order_ids))
    for chunk in _chunks(ids):
        _insert(*_source(_by_ids(chunk)), sign=-1)


def rollup_orders_moved(
    moves: Sequence[tuple[int, str, str, str]],
    events: Iterable[OrderEvent] = (),
    orders: Mapping[int, Order] | None = None,
) -> None:
    """Orders moved, each ``(order id, from, to, note)`` (``move_locked``'s moves), with the
    events written for them and, if the caller holds them, the orders (read under their lock):
    each order leaves its ``from`` row for its ``to`` row, an order that closes takes its
    lines' SKU rows from sold to closed, and a shipped event adds to the time-to-ship
    histogram. Given the orders and no order closing, nothing is read; otherwise one read (the
    lines by order and SKU, with their order's day, province and goods total). One insert per
    table with rows, whatever the number of orders."""
    if not moves:
        return
    known = orders or {}
    closing = {order_id for order_id, frm, to, _note in moves if (frm in CLOSED) != (to in CLOSED)}
    unknown = {order_id for order_id, *_rest in moves if order_id not in known}
    facts: dict[int, tuple[date, str, Decimal, datetime]] = {
        order_id: (local_day(order.paid_at), order.province, order.goods_total, order.paid_at)
        for order_id, order in known.items()
    }
    lines: dict[int, list[tuple]] = defaultdict(list)
    for chunk in _chunks(sorted(closing | unknown)):
        for order_id, paid_at, province, goods, sku_id, units, kg, amount in (
            OrderLine.objects.filter(order_id__in=chunk)
            .order_by()
            .values_list(
                "order_id", "order__paid_at", "order__province", "order__goods_total", "sku_id"
            )
            .annotate(units=Sum("quantity"), kg=Sum("kg"), amount=Sum(LINE_AMOUNT))
        ):
            facts[order_id] = (local_day(paid_at), province, goods, paid_at)
            lines[order_id].append((sku_id, units, kg, amount))
    sales: dict[tuple, list] = defaultdict(lambda: [0, ZERO])
    skus: dict[tuple, list] = defaultdict(lambda: [0, ZERO, ZERO])
    for order_id, from_status, to, _note in moves:
        day, province, goods, _paid = facts[order_id]
        for status, sign in ((from_status, -1), (to, 1)):
            row = sales[(day, status, province)]
            row[0] += sign
            row[1] += sign * goods
            if order_id not in closing:
                continue
            for sku_id, units, kg, amount in lines[order_id]:
                row = skus[(day, status in CLOSED, sku_id)]
                row[0] += sign * units
                row[1] += sign * kg
                row[2] += sign * amount
    ships: dict[tuple, int] = defaultdict(int)
    for event in events:
        if event.to_status == OrderStatus.SHIPPED and event.order_id in facts:
            day, _province, _goods, paid_at = facts[event.order_id]
            ships[(day, minutes_between(paid_at, event.created_at))] += 1
    _insert(
        [(*key, n, goods) for key, (n, goods) in sales.items()],
        [(*key, *sums) for key, sums in skus.items()],
        [(*key, n) for key, n in ships.items()],
    )


def rollup_refund(order: Order, amount: Decimal) -> None:
    """Money given back on ``order`` (after-sales: once per refund, in its transaction;
    negative to undo one). Counted on the order's payment day and province."""
    if amount:
        SalesDay.objects.create(
            day=local_day(order.paid_at), status=REFUNDS, province=order.province, refunds=amount
        )


# --- folding, rebuilding, checking -----------------------------------------------------------


def _fold_day(model, keys: tuple[str, ...], sums: tuple[str, ...], day: date) -> int:
    """Replace ``day``'s rows of ``model`` by one folded row per key (none where every sum is
    zero). Returns how many rows went. The rows are locked first: a second folder waits, then
    finds them gone and leaves alone the rows the first wrote."""
    with transaction.atomic():
        rows = list(
            model.objects.select_for_update()
            .filter(day=day)
            .order_by("pk")
            .values_list("pk", *keys, *sums)
        )
        if not rows:
            return 0
        totals: dict[tuple, list] = {}
        for _pk, *values in rows:
            key, numbers = tuple(values[: len(keys)]), values[len(keys) :]
            current = totals.setdefault(key, [0] * len(sums))
            for index, number in enumerate(numbers):
                current[index] += number
        pks = [row[0] for row in rows]
        for chunk in _chunks(pks):
            model.objects.filter(pk__in=chunk).delete()
        model.objects.bulk_create(
            [
                model(
                    day=day,
                    folded=True,
                    **dict(zip(keys, key, strict=True)),
                    **dict(zip(sums, numbers, strict=True)),
                )
                for key, numbers in totals.items()
                if any(numbers)
            ],
            batch_size=CHUNK,
        )
        return len(rows)


def rollup_fold() -> int:
    """Fold every day that has rows not folded yet, a day per transaction. Returns how many
    rows were folded (the task workers' sweep runs it)."""
    folded = 0
    for model, keys, sums in TABLES:
        days = sorted(set(model.objects.filter(folded=False).values_list("day", flat=True)))
        for day in days:
            folded += _fold_day(model, keys, sums, day)
    return folded


def _lock_tables(m: Models) -> None:
    """On PostgreSQL, keep writers from inserting into the roll-up until the caller's
    transaction ends (they wait; readers do not)."""
    if connection.vendor != "postgresql":
        return
    tables = (m.sales, m.skus, m.ships)
    names = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {names} IN EXCLUSIVE MODE")


def _order_days(m: Models = MODELS) -> tuple[date, date] | None:
    first = m.order.objects.order_by("paid_at").values_list("paid_at", flat=True).first()
    last = m.order.objects.order_by("-paid_at").values_list("paid_at", flat=True).first()
    return None if first is None else (local_day(first), local_day(last))


@transaction.atomic
def rollup_rebuild(
    date_from: date | None = None, date_to: date | None = None, *, models: Models = MODELS
) -> int:
    """Count the days ``date_from`` to ``date_to`` (default: every day with orders) again from
    the orders, in one transaction; refunds (status "" rows) are kept, folded. Writers wait
    meanwhile (on PostgreSQL the tables are locked). Returns how many days were rebuilt."""
    m = models
    _lock_tables(m)
    span = _order_days(m)
    if date_from is None or date_to is None:
        if span is None:
            return 0
        date_from = date_from or span[0]
        date_to = date_to or span[1]
    refunds = list(
        m.sales.objects.filter(day__range=(date_from, date_to), status=REFUNDS)
        .values_list("day", "status", "province")
        .annotate(n=Sum("orders"), goods=Sum("goods_total"), refunds=Sum("refunds"))
    )
    for model in (m.sales, m.skus, m.ships):
        model.objects.filter(day__gte=date_from, day__lte=date_to).delete()
    # A day at a time: one grouped pass over a month of a million lines would sort them all.
    day = date_from
    while day <= date_to:
        _insert(*_source(_by_days(day, day), m), folded=True, m=m)
        day += timedelta(days=1)
    _insert(refunds, [], [], folded=True, m=m)
    return (date_to - date_from).days + 1


def _summed(model, keys: tuple[str, ...], sums: tuple[str, ...], first: date, last: date):
    rows = (
        model.objects.filter(day__range=(first, last))
        .order_by()
        .values_list("day", *keys)
        .annotate(**{f"total_{name}": Sum(name) for name in sums})
    )
    return {tuple(row[: len(keys) + 1]): tuple(row[len(keys) + 1 :]) for row in rows}


def _exact(number) -> Decimal | int:
    """A sum as the check compares it: SQLite adds decimals as floats (0.1 + 0.2 …)."""
    if isinstance(number, int):
        return number
    return Decimal(str(number or 0)).quantize(Decimal("0.001")) + 0  # -0.000 is 0.000


def rollup_check(date_from: date | None = None, date_to: date | None = None) -> list[str]:
    """Count the days again from the orders and compare with the roll-up: one line per key
    that differs (an empty list when all agree)."""
    if date_from is None or date_to is None:
        span = _order_days()
        if span is None:
            return []
        date_from, date_to = date_from or span[0], date_to or span[1]
    sales, skus, ships = _source(_by_days(date_from, date_to))
    expected = [
        {(day, status, province): (n, goods) for day, status, province, n, goods in sales},
        {(day, closed, sku): (units, kg, amount) for day, closed, sku, units, kg, amount in skus},
        {(day, minutes): (n,) for day, minutes, n in ships},
    ]
    problems = []
    for (model, keys, sums), wanted in zip(TABLES, expected, strict=True):
        if model is SalesDay:
            sums = ("orders", "goods_total")
        have = _summed(model, keys, sums, date_from, date_to)
        if model is SalesDay:
            have = {key: value for key, value in have.items() if key[1] != REFUNDS}
        for key in sorted(set(have) | set(wanted), key=str):
            got = tuple(map(_exact, have.get(key, (0,) * len(sums))))
            want = tuple(map(_exact, wanted.get(key, (0,) * len(sums))))
            if any(a != b for a, b in zip(got, want, strict=True)):
                problems.append(
                    f"{model._meta.model_name} {' '.join(map(str, key))}: "
                    f"roll-up {' '.join(map(str, got))}, orders {' '.join(map(str, want))}"
                )
    return problems
