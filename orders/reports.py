"""Sales figures for the creators' dashboard: one live session, one day or a range of days.

``sales_dashboard`` is the one source of the page, the API and the downloads, so the three
never disagree. The database does the heavy work in grouped queries, the same number
whatever the number of orders (six for a live session or a day, five for a range):

1. orders by status × province (count, goods total): the summary, the fulfilment funnel,
   the backlog and the provinces are pivots of it; and sold orders by time bucket (minute,
   hour or day), the timeline. For a range, one scan grouped by all three (a few thousand
   groups); for a live session or a day, two small groupings, since by minute nearly every
   order would be a group of its own, each a row to convert in Python;
2. order lines of sold orders by SKU id (units, kg, amount): grouped by the id alone, so
   PostgreSQL hashes a few dozen groups instead of sorting every line by name; a live
   session's or a day's lines found by order id through the index (``IdIn``);
3. those SKUs' codes and names;
4. minutes from payment to the ``shipped`` event, as a histogram (minutes → orders), for the
   median time to ship (a partial index holds just the shipped events);
5. the sum of the refunds by line of the orders not closed (``orders.aftersales``), for the
   refund rate by money.

A range of several days reads the same figures from the daily roll-up instead
(``orders.rollup``, ``_rollup_rows``): a few thousand rows kept by the writers, not every line
of the range (``from_lines=True`` counts from the lines, for tests and the benchmark).

On PostgreSQL they run in one transaction with JIT compilation off (``_without_jit``).
pandas then pivots, fills the timeline's empty minutes with zeros and derives the figures.
Money travels through pandas as whole fen (int64), never as float, and comes out as Decimal.

A live session's timeline covers its window and the grace on either side (``orders.sessions``),
never more: orders of the session paid outside that (attached before the rule of time) count
in the figures and are reported as ``outside_window``, but draw no point; a session longer than
``MAX_TIMELINE_POINTS`` minutes is drawn in wider buckets (``bucket_minutes``).

What counts: an order "sells" unless it is cancelled or refunded (``orders.selectors.sold``:
the live session pages count the same way). Orders, units, kg, gross
sales, provinces, SKUs, the timeline and the funnel count sold orders only; cancelled and
refunded orders appear in ``cancelled`` and the cancel/refund percentage
(cancelled ÷ all orders). The refund rate counts money (``refund_percent``): what went back to
buyers — a refunded order's goods total, a partially refunded order's refunds by line, refunds
of units cancelled before packing — over the goods totals of every order not cancelled; a
refund of 0.1 kg weighs 0.1 kg's price, not a whole order. Gross sales are the orders' goods
totals (what buyers paid for the goods, shipping fee excluded), as the live sessions page
shows them; a SKU's amount is unit price × quantity of its lines, before any discount the
platform applied to a whole order.
"""

from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Trunc
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.errors import DomainError
from inventory.models import Sku
from orders.aftersales import refunded_money
from orders.lifecycle import (
    ALLOCATED_OR_LATER,
    BACKLOG,
    CLOSED,
    PACKED_OR_LATER,
    SHIPPED_OR_LATER,
    SOLD,
)
from orders.models import LiveSession, Order, OrderEvent, OrderLine, OrderStatus
from orders.rollup import MinutesBetween
from orders.rollup_models import SalesDay, ShipTimeDay, SkuSalesDay
from orders.selectors import local_day_start
from orders.sessions import session_grace

S = OrderStatus
# A day or range dashboard covers at most this many days (the timeline has a point a day).
MAX_RANGE_DAYS = 366
# How often the page asks the API again while a live session is on (seconds).
REFRESH_SECONDS = 30
# A live session's timeline has at most this many points: per minute for a session of up to
# eight hours (with its grace), in wider buckets beyond. Every dashboard answer stays small.
MAX_TIMELINE_POINTS = 480
BUCKET_MINUTES = (1, 2, 5, 10, 15, 30, 60, 120, 240, 360, 720, 1440)

# The fulfilment funnel: an order counts at a stage when its status is at or past it.
# Cancelled and refunded orders are in no stage.
FUNNEL_STAGES: list[tuple[str, str, frozenset[str]]] = [
    (
        "paid",
        pgettext_lazy("fulfilment stage", "Paid"),
        SOLD,
    ),
    (
        "allocated",
        pgettext_lazy("fulfilment stage", "Allocated"),
        ALLOCATED_OR_LATER,
    ),
    (
        "packed",
        pgettext_lazy("fulfilment stage", "Packed"),
        PACKED_OR_LATER,
    ),
    ("shipped", pgettext_lazy("fulfilment stage", "Shipped"), SHIPPED_OR_LATER),
    ("delivered", pgettext_lazy("fulfilment stage", "Delivered"), frozenset({S.DELIVERED})),
]

STEPS = {"minute": "min", "hour": "h", "day": "D"}
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
LINE_AMOUNT = ExpressionWrapper(
    F("unit_price") * F("quantity"), output_field=DecimalField(max_digits=14, decimal_places=2)
)


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SalesSummary:
    orders: int  # sold: not cancelled or refunded
    cancelled: int  # cancelled or refunded
    cancel_percent: Decimal | None  # cancelled ÷ all orders, in %, one decimal
    units: int
    kg: Decimal
    gross_sales: Decimal
    average_order_value: Decimal | None  # gross sales ÷ sold orders
    backlog: int  # sold, not shipped yet
    median_hours_to_ship: Decimal | None  # payment to the shipped event, one decimal
    shipped_measured: int  # orders behind that median
    # Money back to buyers: refunded orders' goods totals and the refunds of the others.
    refunded_amount: Decimal = Decimal("0.00")
    # refunded_amount ÷ goods totals of every order not cancelled, in %, one decimal.
    refund_percent: Decimal | None = None


@dataclass(frozen=True)
class SkuSales:
    merchant_code: str
    name: str
    units: int
    kg: Decimal
    amount: Decimal
    percent: Decimal  # of all SKUs' amount


@dataclass(frozen=True)
class ProvinceSales:
    province: str
    orders: int
    gross_sales: Decimal
    percent: Decimal  # of gross sales


@dataclass(frozen=True)
class TimelinePoint:
    at: datetime  # start of the bucket, in the studio's time zone
    minute: int  # minutes since the start of the window
    orders: int
    gross_sales: Decimal


@dataclass(frozen=True)
class FunnelStage:
    stage: str
    label: str
    orders: int
    percent: Decimal | None  # of paid orders


@dataclass(frozen=True)
class SalesDashboard:
    live_session: LiveSession | None
    date_from: date  # local days covered (a live session: the days it ran on)
    date_to: date
    window_start: datetime
    window_end: datetime  # exclusive
    step: str  # the timeline's bucket: "minute" (live session), "hour" (a day), "day"
    is_live: bool  # a live session that is on now: the page refreshes itself
    generated_at: datetime
    summary: SalesSummary
    skus: list[SkuSales]
    provinces: list[ProvinceSales]
    timeline: list[TimelinePoint]
    funnel: list[FunnelStage]
    # A live session: minutes per timeline point (1 unless the session is very long), and its
    # sold orders paid outside its window and grace (in the figures, not on the timeline).
    bucket_minutes: int = 1
    outside_window: int = 0

    @property
    def scope(self) -> str:
        if self.live_session is not None:
            return "live_session"
        return "day" if self.date_from == self.date_to else "range"

    @property
    def refresh_seconds(self) -> int | None:
        return REFRESH_SECONDS if self.is_live else None


@dataclass(frozen=True)
class ComparePoint:
    minute: int  # minutes since each session's start
    a_orders: int | None  # None: session A had no such minute
    a_gross_sales: Decimal | None
    b_orders: int | None
    b_gross_sales: Decimal | None


@dataclass(frozen=True)
class SalesComparison:
    a: SalesDashboard
    b: SalesDashboard
    minutes: list[ComparePoint]


# --- helpers ---------------------------------------------------------------------------------


class IdIn(Func):
    """``column IN (subquery)``; on PostgreSQL ``column = ANY(ARRAY(subquery))``, which runs
    the subquery first and looks each id up in the column's index. With IN, PostgreSQL
    hash-joins a scan of the whole table instead: for a live session's 28,000 lines among a
    million, 4× slower (bench/reports.py)."""

    output_field = BooleanField()
    arity = 2

    def __init__(self, column: str, subquery: Subquery, **extra):
        super().__init__(F(column), subquery, **extra)

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection, template="%(expressions)s", arg_joiner=" IN ", **extra
        )

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template="%(expressions)s)",
            arg_joiner=" = ANY(ARRAY",
            **extra,
        )


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(TENTH, ROUND_HALF_UP)


def _yuan(fen: int) -> Decimal:
    return Decimal(int(fen)).scaleb(-2)


def _kg(grams: int) -> Decimal:
    return Decimal(int(grams)).scaleb(-3)


def _floor(moment: datetime, step: str) -> datetime:
    """The start of ``moment``'s bucket, in the studio's time zone."""
    local = timezone.localtime(moment, timezone.get_default_timezone())
    local = local.replace(second=0, microsecond=0)
    if step in {"hour", "day"}:
        local = local.replace(minute=0)
    if step == "day":
        local = local.replace(hour=0)
    return local


def _weighted_median(values: Iterable[int], counts: Iterable[int]) -> float | None:
    """The median of a histogram (value → how many), as ``pandas.Series.median`` would give
    for the values repeated: the middle one, or the mean of the two middle ones."""
    frame = pd.DataFrame({"value": list(values), "count": list(counts)})
    if frame.empty or frame["count"].sum() == 0:
        return None
    frame = frame.sort_values("value")
    cumulative = frame["count"].cumsum().to_numpy()
    total = int(cumulative[-1])
    sorted_values = frame["value"].to_numpy()

    def nth(position: int) -> int:  # 1-based position in the repeated values
        return int(sorted_values[cumulative.searchsorted(position)])

    if total % 2:
        return float(nth(total // 2 + 1))
    return (nth(total // 2) + nth(total // 2 + 1)) / 2


# --- selectors -------------------------------------------------------------------------------


def default_live_session(now: datetime | None = None) -> LiveSession | None:
    """The dashboard's default: the live session that started last (not one only planned)."""
    now = now or timezone.now()
    return (
        LiveSession.objects.select_related("channel")
        .filter(starts_at__lte=now)
        .order_by("-starts_at", "-id")
        .first()
    )


def recent_live_sessions(limit: int = 60) -> QuerySet[LiveSession]:
    """Live sessions for the dashboard's picker, newest first."""
    return LiveSession.objects.select_related("channel").order_by("-starts_at", "-id")[:limit]


def _scope(live_session: LiveSession | None, start: datetime, end: datetime):
    """The dashboard's orders as a condition on Order (``prefix=""``) or on a model that
    reaches it (``prefix="order__"``): a live session's orders, or those paid in the window
    (a range, so the ``paid_at`` index serves it)."""

    def condition(prefix: str = "") -> Q:
        if live_session is not None:
            return Q(**{f"{prefix}live_session_id": live_session.pk})
        return Q(**{f"{prefix}paid_at__gte": start, f"{prefix}paid_at__lt": end})

    return condition


@contextmanager
def _without_jit():
    """On PostgreSQL, the dashboard's queries run without JIT compilation: for aggregates of
    this size it costs 35–120 ms a query, more than it saves (measured with bench/reports.py)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        yield


def _frame(rows, columns: list[str]) -> pd.DataFrame:
    """Grouped rows whose last two columns are an order count and a goods total (Decimal),
    as a DataFrame with the total in whole fen."""
    return pd.DataFrame.from_records(
        [(*keys, n, int(goods * 100)) for *keys, n, goods in rows],
        columns=[*columns, "orders", "fen"],
    )


def _grouped_rows(
    condition, step: str, tz, span: tuple[datetime, datetime] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, list, dict[int, tuple[str, str]], list]:
    """The dashboard's queries (see the module's docstring): orders by status × province
    (all of them) and sold orders by time bucket as DataFrames, then SKU sums, SKU names and
    the shipping-time histogram as rows. With a ``span`` (a live session), orders paid
    outside it fall in one bucket of their own, ``NaT``, whatever their number."""
    orders = Order.objects.filter(condition()).order_by()
    counted = {"n": Count("id"), "goods": Sum("goods_total")}
    paid = F("paid_at")
    if span is not None:
        paid = Case(
            When(paid_at__gte=span[0], paid_at__lte=span[1], then=paid),
            default=None,
            output_field=DateTimeField(),
        )
    bucket = Trunc(paid, step, output_field=DateTimeField(), tzinfo=tz)
    if step == "day":
        # 1. A range: one scan, grouped by day as well (a few thousand groups at most).
        cube = _frame(
            orders.annotate(bucket=bucket)
            .values_list("status", "province", "bucket")
            .annotate(**counted),
            ["status", "province", "bucket"],
        )
        places = cube.groupby(["status", "province"], as_index=False)[["orders", "fen"]].sum()
        times = cube[~cube["status"].isin(CLOSED)]
    else:
        # 1. A live session or a day: by minute (hour) as well, nearly every order would be a
        # group of its own, each a row to convert; two small groupings cost less.
        places = _frame(
            orders.values_list("status", "province").annotate(**counted), ["status", "province"]
        )
        times = _frame(
            orders.exclude(status__in=CLOSED)
            .annotate(bucket=bucket)
            .values_list("bucket")
            .annotate(**counted),
            ["bucket"],
        )
    # 2. Lines of sold orders by SKU id (a hash aggregate of a few dozen groups; names after).
    # A live session's or a day's orders are a few percent of the table: their lines are
    # looked up by order id. A longer range joins the tables (see IdIn).
    if step == "day":
        lines = OrderLine.objects.filter(condition("order__")).exclude(order__status__in=CLOSED)
    else:
        sold_ids = (
            Order.objects.filter(condition()).exclude(status__in=CLOSED).order_by().values("id")
        )
        lines = OrderLine.objects.filter(IdIn("order_id", Subquery(sold_ids)))
    sku_sums = list(
        lines.order_by()
        .values_list("sku_id")
        .annotate(units=Sum("quantity"), kg=Sum("kg"), amount=Sum(LINE_AMOUNT))
    )
    # 3. The SKUs' codes and names.
    names = {
        pk: (code, name)
        for pk, code, name in Sku.objects.filter(pk__in=[row[0] for row in sku_sums])
        .order_by()
        .values_list("pk", "merchant_code", "name")
    }
    # 4. Minutes from payment to the shipped event, as a histogram.
    ship_rows = list(
        OrderEvent.objects.filter(condition("order__"), to_status=S.SHIPPED)
        .order_by()
        .annotate(minutes=MinutesBetween(F("order__paid_at"), F("created_at")))
        .values_list("minutes")
        .annotate(n=Count("*"))  # not the event's id: the partial index answers alone
    )
    return places, times, sku_sums, names, ship_rows


def _rollup_rows(
    first: date, last: date
) -> tuple[pd.DataFrame, pd.DataFrame, list, dict[int, tuple[str, str]], list]:
    """What ``_grouped_rows`` gives for a range of whole days, read from the daily roll-up
    (``orders.rollup``): a few thousand rows instead of every line of the range."""
    days = SalesDay.objects.filter(day__gte=first, day__lte=last).order_by()
    cube = _frame(
        days.exclude(status="")
        .values_list("status", "province", "day")
        .annotate(n=Sum("orders"), goods=Sum("goods_total"))
        .filter(n__gt=0),
        ["status", "province", "bucket"],
    )
    cube["bucket"] = [local_day_start(day) for day in cube["bucket"]]
    places = cube.groupby(["status", "province"], as_index=False)[["orders", "fen"]].sum()
    times = cube[~cube["status"].isin(CLOSED)]
    sku_sums = list(
        SkuSalesDay.objects.filter(day__gte=first, day__lte=last, closed=False)
        .order_by()
        .values_list("sku_id")
        .annotate(units=Sum("units"), kg=Sum("kg"), amount=Sum("amount"))
        .filter(units__gt=0)
    )
    names = {
        pk: (code, name)
        for pk, code, name in Sku.objects.filter(pk__in=[row[0] for row in sku_sums])
        .order_by()
        .values_list("pk", "merchant_code", "name")
    }
    ship_rows = list(
        ShipTimeDay.objects.filter(day__gte=first, day__lte=last)
        .order_by()
        .values_list("minutes")
        .annotate(n=Sum("orders"))
        .filter(n__gt=0)
    )
    return places, times, sku_sums, names, ship_rows


# --- the dashboard ---------------------------------------------------------------------------


def sales_dashboard(
    *,
    live_session: LiveSession | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    now: datetime | None = None,
    bucket_minutes: int | None = None,
    from_lines: bool = False,
) -> SalesDashboard:
    """The dashboard of one live session (its orders, wherever their payment time falls; the
    timeline covers its window and grace, in buckets of ``bucket_minutes``, by default
    ``timeline_bucket``), or of the orders paid on the local days ``date_from`` to
    ``date_to`` (both included; give the same day twice for one day). A fixed number of
    grouped queries, whatever the number of orders (see the module's docstring). A range of
    several days is read from the daily roll-up (``orders.rollup``), unless ``from_lines``."""
    now = now or timezone.now()
    tz = timezone.get_default_timezone()
    if live_session is not None:
        if date_from or date_to:
            field = "date_from" if date_from else "date_to"
            raise DomainError(
                _("Choose a live session or dates, not both."), field=field, code="invalid"
            )
        step = "minute"
        window_start = _floor(live_session.starts_at, step)
        window_end = live_session.ends_at
        grace = session_grace()
        span = (live_session.starts_at - grace, live_session.ends_at + grace)
        if bucket_minutes is None:
            bucket_minutes = timeline_bucket(live_session)
        first_day = timezone.localtime(live_session.starts_at, tz).date()
        last_day = timezone.localtime(live_session.ends_at, tz).date()
        is_live = live_session.starts_at <= now < live_session.ends_at
    else:
        if date_from is None or date_to is None:
            raise DomainError(
                _("Give a live session, a day, or both dates of a range."),
                field="date_from" if date_from is None else "date_to",
            )
        if date_to < date_from:
            raise DomainError(_("The range must end on or after its first day."), field="date_to")
        if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
            raise DomainError(
                _("A range covers at most %(days)d days.") % {"days": MAX_RANGE_DAYS},
                field="date_to",
            )
        step = "hour" if date_from == date_to else "day"
        window_start = local_day_start(date_from)
        window_end = local_day_start(date_to) + timedelta(days=1)
        first_day, last_day = date_from, date_to
        is_live = False
        span = None
        bucket_minutes = 1

    condition = _scope(live_session, window_start, window_end)

    with _without_jit():
        if step == "day" and not from_lines:
            places, times, sku_sums, names, ship_rows = _rollup_rows(first_day, last_day)
        else:
            places, times, sku_sums, names, ship_rows = _grouped_rows(condition, step, tz, span)
    outside = times[times["bucket"].isna()]
    times = times[times["bucket"].notna()]
    by_status = places.groupby("status", sort=False)["orders"].sum().to_dict()
    sold = places[~places["status"].isin(CLOSED)]

    skus = _skus(sku_sums, names)
    summary = _summary(by_status, sold, skus, ship_rows)
    # 5. The refund rate counts money: refunded orders' goods totals (from the grouping
    # above) and the refunds by line of the others (one small query on their after-sales).
    fen_by_status = places.groupby("status", sort=False)["fen"].sum().to_dict()
    refunded_fen = int(fen_by_status.get(S.REFUNDED, 0)) + int(
        refunded_money(condition(), whole_orders=False) * 100
    )
    paid_fen = sum(int(fen) for status, fen in fen_by_status.items() if status != S.CANCELLED)
    summary = replace(
        summary,
        refunded_amount=_yuan(refunded_fen),
        refund_percent=_percent(refunded_fen, paid_fen),
    )
    last = _floor(min(window_end, max(now, window_start)) - timedelta(microseconds=1), step)
    return SalesDashboard(
        live_session=live_session,
        date_from=first_day,
        date_to=last_day,
        window_start=window_start,
        window_end=window_end,
        step=step,
        is_live=is_live,
        generated_at=now,
        summary=summary,
        skus=skus,
        provinces=_provinces(sold),
        timeline=_timeline(
            times, step, window_start, max(last, window_start), bucket_minutes=bucket_minutes
        ),
        funnel=_funnel(by_status),
        bucket_minutes=bucket_minutes,
        outside_window=int(outside["orders"].sum()),
    )


def timeline_bucket(live_session: LiveSession) -> int:
    """Minutes per point of a live session's timeline: 1, or the smallest of
    ``BUCKET_MINUTES`` that keeps its window and grace within ``MAX_TIMELINE_POINTS``."""
    grace = session_grace()
    span = (live_session.ends_at - live_session.starts_at + 2 * grace).total_seconds() / 60
    for minutes in BUCKET_MINUTES:
        if span / minutes <= MAX_TIMELINE_POINTS:
            return minutes
    return BUCKET_MINUTES[-1]


def _skus(sums, names: dict[int, tuple[str, str]]) -> list[SkuSales]:
    """SKUs, best sellers (by amount) first. Forty-odd rows: sorted in Python."""
    rows = sorted(
        (
            (*names[sku_id], int(units), int(kg * 1000), int(amount * 100))
            for sku_id, units, kg, amount in sums
        ),
        key=lambda row: (-row[4], -row[2], row[0]),
    )
    total = sum(row[4] for row in rows)
    return [
        SkuSales(
            merchant_code=code,
            name=name,
            units=units,
            kg=_kg(grams),
            amount=_yuan(fen),
            percent=_percent(fen, total) or Decimal("0.0"),
        )
        for code, name, units, grams, fen in rows
    ]


def _summary(by_status: dict, sold: pd.DataFrame, skus: list[SkuSales], ship_rows) -> SalesSummary:
    orders = int(sold["orders"].sum())
    cancelled = sum(int(by_status.get(status, 0)) for status in CLOSED)
    gross = _yuan(int(sold["fen"].sum()))
    median_minutes = _weighted_median([m for m, _n in ship_rows], [n for _m, n in ship_rows])
    return SalesSummary(
        orders=orders,
        cancelled=cancelled,
        cancel_percent=_percent(cancelled, orders + cancelled),
        units=sum(sku.units for sku in skus),
        kg=sum((sku.kg for sku in skus), Decimal("0.000")),
        gross_sales=gross,
        average_order_value=(gross / orders).quantize(CENT, ROUND_HALF_UP) if orders else None,
        backlog=sum(int(by_status.get(status, 0)) for status in BACKLOG),
        median_hours_to_ship=(
            None
            if median_minutes is None
            else (Decimal(str(median_minutes)) / 60).quantize(TENTH, ROUND_HALF_UP)
        ),
        shipped_measured=sum(n for _m, n in ship_rows),
    )


def _provinces(sold: pd.DataFrame) -> list[ProvinceSales]:
    """Provinces by gross sales (then orders, then name)."""
    sums = sold.groupby("province", sort=False)[["orders", "fen"]].sum()
    rows = sorted(
        zip(sums.index.tolist(), sums["orders"].tolist(), sums["fen"].tolist(), strict=True),
        key=lambda row: (-row[2], -row[1], row[0]),
    )
    total = sum(fen for _province, _orders, fen in rows)
    return [
        ProvinceSales(
            province=province,
            orders=orders,
            gross_sales=_yuan(fen),
            percent=_percent(fen, total) or Decimal("0.0"),
        )
        for province, orders, fen in rows
    ]


def _timeline(
    times: pd.DataFrame, step: str, first: datetime, last: datetime, *, bucket_minutes: int = 1
) -> list[TimelinePoint]:
    """One point per bucket from ``first`` to ``last`` (both bucket starts), zeros where
    nothing sold; widened to any bucket that has orders outside that span (the queries
    bound how far: a live session's grace). Minutes are gathered ``bucket_minutes`` at a
    time from ``first``."""
    tz_name = str(timezone.get_default_timezone())
    sums = times.groupby("bucket", sort=False)[["orders", "fen"]].sum()
    sums.index = pd.to_datetime(sums.index, utc=True).tz_convert(tz_name)
    start, end = pd.Timestamp(first).tz_convert(tz_name), pd.Timestamp(last).tz_convert(tz_name)
    origin = start
    freq = STEPS[step]
    if bucket_minutes > 1:
        width = pd.Timedelta(minutes=bucket_minutes)
        if len(sums):
            sums.index = origin + ((sums.index - origin) // width) * width
            sums = sums.groupby(level=0).sum()
        end = origin + ((end - origin) // width) * width
        freq = width
    if len(sums):
        start, end = min(start, sums.index.min()), max(end, sums.index.max())
    series = sums.reindex(pd.date_range(start, end, freq=freq), fill_value=0)
    minutes = ((series.index - origin) // pd.Timedelta(minutes=1)).tolist()
    return [
        TimelinePoint(at=moment, minute=minute, orders=orders, gross_sales=_yuan(fen))
        for moment, minute, orders, fen in zip(
            series.index.to_pydatetime().tolist(),
            minutes,
            series["orders"].tolist(),
            series["fen"].tolist(),
            strict=True,
        )
    ]


def _funnel(by_status: dict) -> list[FunnelStage]:
    counts = [
        (key, label, sum(int(by_status.get(status, 0)) for status in statuses))
        for key, label, statuses in FUNNEL_STAGES
    ]
    paid = counts[0][2]
    return [
        FunnelStage(stage=key, label=str(label), orders=n, percent=_percent(n, paid))
        for key, label, n in counts
    ]


# --- two live sessions side by side ----------------------------------------------------------


def sales_compare(
    a: LiveSession, b: LiveSession, *, now: datetime | None = None
) -> SalesComparison:
    """Two live sessions' dashboards, and their timelines aligned by minutes since each
    session's start (a minute one session did not have is None, not zero)."""
    now = now or timezone.now()
    bucket = max(timeline_bucket(a), timeline_bucket(b))  # one x-axis for both
    first = sales_dashboard(live_session=a, now=now, bucket_minutes=bucket)
    second = sales_dashboard(live_session=b, now=now, bucket_minutes=bucket)

    def frame(dashboard: SalesDashboard, prefix: str) -> pd.DataFrame:
        return pd.DataFrame(
            {
                f"{prefix}_orders": [point.orders for point in dashboard.timeline],
                f"{prefix}_fen": [int(point.gross_sales * 100) for point in dashboard.timeline],
            },
            index=pd.Index([point.minute for point in dashboard.timeline], name="minute"),
            dtype="Int64",
        )

    joined = frame(first, "a").join(frame(second, "b"), how="outer").sort_index()

    def number(value) -> int | None:
        return None if pd.isna(value) else int(value)

    minutes = [
        ComparePoint(
            minute=int(minute),
            a_orders=number(row.a_orders),
            a_gross_sales=None if pd.isna(row.a_fen) else _yuan(row.a_fen),
            b_orders=number(row.b_orders),
            b_gross_sales=None if pd.isna(row.b_fen) else _yuan(row.b_fen),
        )
        for minute, row in zip(joined.index, joined.itertuples(index=False), strict=True)
    ]
    return SalesComparison(a=first, b=second, minutes=minutes)
