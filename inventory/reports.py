"""Reports over the warehouse's data: farmers' statements and balances, and the stock's health.

Each report runs a fixed number of grouped queries, whatever the number of farmers, lots or
ledger rows, then derives its figures with dicts or pandas. Sums are taken in SQL as whole
grams and fen (integers), so SQLite's binary floats cannot round them; they come back as
``Decimal`` kilograms (3 places) and yuan (2 places).

What a farmer is owed: the studio buys the produce at the weighing table. A lot is worth its
net kilograms received × the price per kg, rounded half up to the fen, per lot — the amount
on the intake slip (``Lot.amount``). What happens to the produce afterwards (sold, spoiled and
written off, counted short, returned by a buyer) is the studio's gain or loss and does not
change what the farmer is owed. Payments (``FarmerPayment``) lower the balance; a payment
beyond it is an advance, a negative balance shown as prepaid.
"""

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    F,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Round
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from inventory.models import (
    Farmer,
    FarmerPayment,
    Lot,
    MovementKind,
    PaymentMethod,
    Product,
    Sku,
    StockMovement,
    mask_phone,
)

ZERO_MONEY = Decimal("0.00")
ZERO_KG = Decimal("0.000")
# Longest period one report covers: a few years of statements, not a typo's century.
MAX_PERIOD_DAYS = 3 * 366


# --- periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Calendar days from ``date_from`` to ``date_to``, both included, in the studio's time
    zone."""

    date_from: date
    date_to: date

    def __post_init__(self):
        if self.date_from > self.date_to:
            raise DomainError(_("The end date is before the start date."), field="date_to")
        if (self.date_to - self.date_from).days > MAX_PERIOD_DAYS:
            raise DomainError(_("Choose a period of at most three years."), field="date_from")

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        last = calendar.monthrange(year, month)[1]
        return cls(date(year, month, 1), date(year, month, last))

    @classmethod
    def last_month(cls, today: date | None = None) -> "Period":
        first = (today or timezone.localdate()).replace(day=1)
        previous = first - timedelta(days=1)
        return cls.month(previous.year, previous.month)

    @classmethod
    def last_days(cls, days: int, today: date | None = None) -> "Period":
        today = today or timezone.localdate()
        return cls(today - timedelta(days=days - 1), today)

    @property
    def start(self) -> datetime:
        """The first instant of the period (aware)."""
        return _midnight(self.date_from)

    @property
    def end(self) -> datetime:
        """The first instant after the period (aware)."""
        return _midnight(self.date_to + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    @property
    def month_value(self) -> str:
        """``2026-10`` when the period is one whole calendar month, else ``""``."""
        whole = Period.month(self.date_from.year, self.date_from.month)
        return self.date_from.strftime("%Y-%m") if whole == self else ""

    def __str__(self) -> str:
        return f"{self.date_from.isoformat()} – {self.date_to.isoformat()}"


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# --- exact sums in SQL -----------------------------------------------------------------------


def _whole(expression, factor: int):
    """``expression`` × ``factor`` as a whole number (grams from kg, fen from yuan)."""
    return Cast(Round(expression * Value(factor)), BigIntegerField())


def _grams(name: str):
    return _whole(F(name), 1000)


def _fen(name: str):
    return _whole(F(name), 100)


def _amount_fen(kg: str, price: str):
    """kg × price per kg in fen, rounded half up to the fen (as ``Lot.amount``), for kg ≥ 0:
    grams × fen per kg is the amount in 1/1000 fen."""
    return (_grams(kg) * _fen(price) + Value(500)) / Value(1000)


def _kg(grams) -> Decimal:
    return (Decimal(int(grams or 0)) / 1000).quantize(ZERO_KG)


def _money(fen) -> Decimal:
    return (Decimal(int(fen or 0)) / 100).quantize(ZERO_MONEY)


def _when(condition: Q, then):
    return Case(When(condition, then=then), default=Value(0), output_field=BigIntegerField())


# --- farmers' statements and balances --------------------------------------------------------


@dataclass(frozen=True)
class StatementLot:
    """One lot a farmer delivered in the period, at the price the studio paid."""

    lot_code: str
    received_on: date
    product: str
    grade: str
    kg: Decimal
    price_per_kg: Decimal
    amount: Decimal


@dataclass(frozen=True)
class StatementPayment:
    paid_on: date
    amount: Decimal
    method: str  # a ``PaymentMethod`` value
    reference: str
    note: str

    @property
    def method_label(self) -> str:
        return str(PaymentMethod(self.method).label)


@dataclass(frozen=True)
class FarmerBalance:
    """One farmer's figures for a period. ``opening_balance`` is what the studio owed before
    the period; the closing balance adds the lots delivered in it and takes off the payments.
    A negative balance is money paid in advance."""

    farmer_id: int
    farmer_name: str
    village: str
    masked_phone: str
    date_from: date
    date_to: date
    opening_balance: Decimal = ZERO_MONEY
    delivered_lots: int = 0
    delivered_kg: Decimal = ZERO_KG
    delivered_amount: Decimal = ZERO_MONEY
    shipped_kg: Decimal = ZERO_KG  # left in parcels, less what buyers sent back
    written_off_kg: Decimal = ZERO_KG
    paid: Decimal = ZERO_MONEY

    @property
    def closing_balance(self) -> Decimal:
        return self.opening_balance + self.delivered_amount - self.paid

    @property
    def is_prepaid(self) -> bool:
        return self.closing_balance < 0

    @property
    def prepaid(self) -> Decimal:
        """The advance paid beyond what the farmer was owed (0 when there is none)."""
        return max(-self.closing_balance, ZERO_MONEY)

    @property
    def to_pay(self) -> Decimal:
        """What the studio still owes (0 when the farmer is paid in advance)."""
        return max(self.closing_balance, ZERO_MONEY)


@dataclass(frozen=True)
class FarmerStatement(FarmerBalance):
    """A farmer's statement: the balance and the lines behind it."""

    lots: tuple[StatementLot, ...] = field(default_factory=tuple)
    payments: tuple[StatementPayment, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class BalanceTotals:
    """The studio-wide sums of a list of balances (what creators see of the money)."""

    farmers: int
    opening_balance: Decimal
    delivered_lots: int
    delivered_kg: Decimal
    delivered_amount: Decimal
    shipped_kg: Decimal
    written_off_kg: Decimal
    paid: Decimal
    closing_balance: Decimal
    to_pay: Decimal
    prepaid: Decimal


def balance_totals(balances: Iterable[FarmerBalance]) -> BalanceTotals:
    balances = list(balances)

    def total(name: str, zero):
        return sum((getattr(balance, name) for balance in balances), zero)

    return BalanceTotals(
        farmers=len(balances),
        opening_balance=total("opening_balance", ZERO_MONEY),
        delivered_lots=total("delivered_lots", 0),
        delivered_kg=total("delivered_kg", ZERO_KG),
        delivered_amount=total("delivered_amount", ZERO_MONEY),
        shipped_kg=total("shipped_kg", ZERO_KG),
        written_off_kg=total("written_off_kg", ZERO_KG),
        paid=total("paid", ZERO_MONEY),
        closing_balance=total("closing_balance", ZERO_MONEY),
        to_pay=total("to_pay", ZERO_MONEY),
        prepaid=total("prepaid", ZERO_MONEY),
    )


def _farmer_ids(farmers) -> list[int] | None:
    if farmers is None:
        return None
    return [farmer if isinstance(farmer, int) else farmer.pk for farmer in farmers]


def _balance_figures(period: Period, farmer_ids: list[int] | None) -> dict[int, dict]:
    """Per farmer: fen owed before and in the period, grams and lots delivered in it, fen paid
    before and in it, grams shipped and written off in it. Three grouped queries."""
    start, end = period.start, period.end
    figures: dict[int, dict] = defaultdict(lambda: defaultdict(int))

    lots = Lot.objects.filter(received_at__lt=end)
    payments = FarmerPayment.objects.filter(paid_on__lte=period.date_to)
    movements = StockMovement.objects.filter(
        created_at__gte=start,
        created_at__lt=end,
        kind__in=[MovementKind.SHIP_OUT, MovementKind.RETURN, MovementKind.WRITE_OFF],
    )
    if farmer_ids is not None:
        lots = lots.filter(farmer_id__in=farmer_ids)
        payments = payments.filter(farmer_id__in=farmer_ids)
        movements = movements.filter(lot__farmer_id__in=farmer_ids)

    in_period = Q(received_at__gte=start)
    amount = _amount_fen("received_kg", "price_per_kg")
    for row in (
        lots.order_by()
        .values("farmer_id")
        .annotate(
            owed_before=Sum(_when(~in_period, amount)),
            owed=Sum(_when(in_period, amount)),
            grams=Sum(_when(in_period, _grams("received_kg"))),
            lots=Count("id", filter=in_period),
        )
    ):
        figures[row["farmer_id"]].update(
            owed_before=row["owed_before"], owed=row["owed"], grams=row["grams"], lots=row["lots"]
        )

    paid_in_period = Q(paid_on__gte=period.date_from)
    for row in (
        payments.order_by()
        .values("farmer_id")
        .annotate(
            paid_before=Sum(_when(~paid_in_period, _fen("amount"))),
            paid=Sum(_when(paid_in_period, _fen("amount"))),
        )
    ):
        figures[row["farmer_id"]].update(paid_before=row["paid_before"], paid=row["paid"])

    for row in (
        movements.order_by()
        .values("lot__farmer_id", "kind")
        .annotate(grams=Sum(_grams("kg_delta")))
    ):
        figures[row["lot__farmer_id"]][row["kind"]] += int(row["grams"] or 0)
    return figures


def _balance(farmer: dict, period: Period, figures: dict, cls=FarmerBalance, **extra):
    return cls(
        farmer_id=farmer["id"],
        farmer_name=farmer["name"],
        village=farmer["village"],
        masked_phone=mask_phone(farmer["phone"]),
        date_from=period.date_from,
        date_to=period.date_to,
        opening_balance=_money(int(figures["owed_before"] or 0) - int(figures["paid_before"] or 0)),
        delivered_lots=int(figures["lots"] or 0),
        delivered_kg=_kg(figures["grams"]),
        delivered_amount=_money(figures["owed"]),
        # Ledger deltas: ship-outs and write-offs are negative, returns positive.
        shipped_kg=_kg(-(figures[MovementKind.SHIP_OUT] + figures[MovementKind.RETURN])),
        written_off_kg=_kg(-figures[MovementKind.WRITE_OFF]),
        paid=_money(figures["paid"]),
        **extra,
    )


def _active(figures: dict) -> bool:
    """Anything to show: activity in the period, or money owed either way."""
    if any(figures[key] for key in ("lots", "paid", *MovementKind.values)):
        return True
    return int(figures["owed_before"] or 0) != int(figures["paid_before"] or 0)


def _farmers_of(period: Period, farmer_ids: list[int] | None) -> tuple[list[dict], dict]:
    figures = _balance_figures(period, farmer_ids)
    if farmer_ids is None:
        wanted = [farmer_id for farmer_id, values in figures.items() if _active(values)]
    else:
        wanted = farmer_ids
    farmers = list(
        Farmer.objects.filter(pk__in=wanted)
        .order_by("village", "name", "pk")
        .values("id", "name", "village", "phone")
    )
    return farmers, figures


def farmer_balances(
    *, date_from: date, date_to: date, farmers: Iterable | None = None
) -> list[FarmerBalance]:
    """Every farmer's balance for the period (or only ``farmers``'): those with a delivery, a
    shipment, a write-off or a payment in it, or money owed either way. Four queries."""
    period = Period(date_from, date_to)
    rows, figures = _farmers_of(period, _farmer_ids(farmers))
    return [_balance(farmer, period, figures[farmer["id"]]) for farmer in rows]


def farmer_statements(
    *, date_from: date, date_to: date, farmers: Iterable | None = None
) -> list[FarmerStatement]:
    """The statements of a period: of ``farmers`` (Farmer objects or ids), or of every farmer
    ``farmer_balances`` lists. Six queries, however many farmers."""
    period = Period(date_from, date_to)
    farmer_ids = _farmer_ids(farmers)
    rows, figures = _farmers_of(period, farmer_ids)
    ids = [farmer["id"] for farmer in rows]

    lots_by_farmer: dict[int, list[StatementLot]] = defaultdict(list)
    payments_by_farmer: dict[int, list[StatementPayment]] = defaultdict(list)
    if ids:
        lots = Lot.objects.filter(received_at__gte=period.start, received_at__lt=period.end)
        payments = FarmerPayment.objects.filter(
            paid_on__gte=period.date_from, paid_on__lte=period.date_to
        )
        if farmer_ids is not None:
            lots = lots.filter(farmer_id__in=ids)
            payments = payments.filter(farmer_id__in=ids)
        for lot in lots.order_by("received_at", "pk").values(
            "farmer_id",
            "code",
            "received_at",
            "product__name",
            "grade__name",
            "received_kg",
            "price_per_kg",
        ):
            kg = lot["received_kg"].quantize(ZERO_KG)
            price = lot["price_per_kg"].quantize(ZERO_MONEY)
            lots_by_farmer[lot["farmer_id"]].append(
                StatementLot(
                    lot_code=lot["code"],
                    received_on=timezone.localdate(lot["received_at"]),
                    product=lot["product__name"],
                    grade=lot["grade__name"],
                    kg=kg,
                    price_per_kg=price,
                    amount=Lot(received_kg=kg, price_per_kg=price).amount,
                )
            )
        for payment in payments.order_by("paid_on", "pk").values(
            "farmer_id", "paid_on", "amount", "method", "reference", "note"
        ):
            payments_by_farmer[payment["farmer_id"]].append(
                StatementPayment(
                    paid_on=payment["paid_on"],
                    amount=payment["amount"].quantize(ZERO_MONEY),
                    method=payment["method"],
                    reference=payment["reference"],
                    note=payment["note"],
                )
            )
    return [
        _balance(
            farmer,
            period,
            figures[farmer["id"]],
            cls=FarmerStatement,
            lots=tuple(lots_by_farmer[farmer["id"]]),
            payments=tuple(payments_by_farmer[farmer["id"]]),
        )
        for farmer in rows
    ]


def farmer_statement(*, farmer: Farmer, date_from: date, date_to: date) -> FarmerStatement:
    """One farmer's statement for the period (also when nothing happened in it)."""
    return farmer_statements(date_from=date_from, date_to=date_to, farmers=[farmer])[0]


# --- stock health ----------------------------------------------------------------------------

AGE_BUCKETS = [
    ("0-2", gettext_lazy("0–2 days"), 0, 2),
    ("3-5", gettext_lazy("3–5 days"), 3, 5),
    ("6-10", gettext_lazy("6–10 days"), 6, 10),
    ("11+", gettext_lazy("over 10 days"), 11, None),
]
EXPIRY_BUCKETS = [
    ("expired", gettext_lazy("expired"), None, -1),
    ("0-2", gettext_lazy("0–2 days"), 0, 2),
    ("3-7", gettext_lazy("3–7 days"), 3, 7),
    ("8-30", gettext_lazy("8–30 days"), 8, 30),
    ("31+", gettext_lazy("over 30 days"), 31, None),
]
AT_RISK_DAYS = 2  # lots whose expiry is at most this many days away
SALES_WINDOW_DAYS = 7
SPOILAGE_DAYS = 30  # the default spoilage period: the last 30 days


@dataclass(frozen=True)
class Bucket:
    key: str
    label: str
    lots: int
    kg: Decimal  # on hand


@dataclass(frozen=True)
class LotAtRisk:
    lot_code: str
    product: str
    grade: str
    farmer: str
    village: str
    location: str
    expiry_date: date
    days_to_expiry: int  # negative: already expired
    available_kg: Decimal
    reserved_kg: Decimal


@dataclass(frozen=True)
class Spoilage:
    """Written-off kilograms of one product or one farmer in the period, their cost at the
    intake price, and the share of the kilograms received in the period they make."""

    key: int
    name: str
    detail: str  # a farmer's village
    write_offs: int
    kg: Decimal
    value: Decimal
    received_kg: Decimal

    @property
    def rate(self) -> Decimal | None:
        """Written off ÷ received in the period, in percent (None when nothing came in)."""
        if not self.received_kg:
            return None
        return (self.kg / self.received_kg * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Cover:
    """How long the available stock of one SKU's product and grade lasts at the recent pace
    of sales. SKUs of one product and grade share their stock and their cover."""

    merchant_code: str
    sku_name: str
    product: str
    grade: str
    net_kg: Decimal
    available_kg: Decimal
    sold_kg: Decimal  # in the sales window: shipped less returned, plus reserved now
    daily_kg: Decimal
    days: Decimal | None  # None: nothing sold, the stock does not run down

    @property
    def units_available(self) -> int:
        return int(self.available_kg // self.net_kg) if self.net_kg else 0


@dataclass(frozen=True)
class StockHealth:
    today: date
    spoilage_period: Period
    sales_window_days: int
    lots_in_stock: int
    kg_in_stock: Decimal
    age: list[Bucket]
    expiry: list[Bucket]
    age_by_product: list[dict]  # {"product", bucket key → kg …}
    at_risk: list[LotAtRisk]
    spoilage_by_product: list[Spoilage]
    spoilage_by_farmer: list[Spoilage]
    cover: list[Cover]

    @property
    def at_risk_kg(self) -> Decimal:
        return sum((lot.available_kg for lot in self.at_risk), ZERO_KG)

    @property
    def spoiled_kg(self) -> Decimal:
        return sum((row.kg for row in self.spoilage_by_product), ZERO_KG)

    @property
    def spoiled_value(self) -> Decimal:
        return sum((row.value for row in self.spoilage_by_product), ZERO_MONEY)


def _bucket_of(days: int, buckets) -> str:
    for key, _label, low, high in buckets:
        if (low is None or days >= low) and (high is None or days <= high):
            return key
    raise ValueError(days)


def _buckets(frame: pd.DataFrame, column: str, buckets) -> list[Bucket]:
    grouped = (
        frame.groupby(column)[["grams"]].agg(["sum", "count"]) if len(frame) else pd.DataFrame()
    )
    result = []
    for key, label, _low, _high in buckets:
        if key in grouped.index:
            grams, lots = grouped.loc[key, ("grams", "sum")], grouped.loc[key, ("grams", "count")]
        else:
            grams, lots = 0, 0
        result.append(Bucket(key, str(label), int(lots), _kg(grams)))
    return result


def _stock_frame(today: date) -> pd.DataFrame:
    """One row per lot in stock: its age and days to expiry, grams on hand and available."""
    rows = list(
        Lot.objects.filter(on_hand_kg__gt=0)
        .order_by("expiry_date", "received_at", "pk")
        .values(
            "pk",
            "code",
            "product_id",
            "product__name",
            "grade_id",
            "grade__name",
            "farmer__name",
            "farmer__village",
            "location__name",
            "received_at",
            "expiry_date",
            on_hand=_grams("on_hand_kg"),
            reserved=_grams("reserved_kg"),
        )
    )
    columns = [
        "pk", "code", "product_id", "product__name", "grade_id", "grade__name", "farmer__name",
        "farmer__village", "location__name", "received_at", "expiry_date", "on_hand", "reserved",
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    frame["age_days"] = [(today - timezone.localdate(at)).days for at in frame["received_at"]]
    frame["expiry_days"] = [(day - today).days for day in frame["expiry_date"]]
    frame["grams"] = frame["on_hand"].astype("int64")
    frame["available"] = (frame["on_hand"] - frame["reserved"]).astype("int64")
    frame["age_bucket"] = [_bucket_of(days, AGE_BUCKETS) for days in frame["age_days"]]
    frame["expiry_bucket"] = [_bucket_of(days, EXPIRY_BUCKETS) for days in frame["expiry_days"]]
    return frame


def _age_by_product(frame: pd.DataFrame) -> list[dict]:
    if frame.empty:
        return []
    table = frame.pivot_table(
        index="product__name", columns="age_bucket", values="grams", aggfunc="sum", fill_value=0
    )
    result = []
    for product, row in table.iterrows():
        entry = {"product": product}
        entry |= {key: _kg(row.get(key, 0)) for key, *_rest in AGE_BUCKETS}
        entry["total"] = sum((entry[key] for key, *_rest in AGE_BUCKETS), ZERO_KG)
        result.append(entry)
    return sorted(result, key=lambda entry: -entry["total"])


def _at_risk(frame: pd.DataFrame) -> list[LotAtRisk]:
    risky = frame[(frame["expiry_days"] <= AT_RISK_DAYS) & (frame["available"] > 0)]
    return [
        LotAtRisk(
            lot_code=row.code,
            product=row.product__name,
            grade=row.grade__name,
            farmer=row.farmer__name,
            village=row.farmer__village,
            location=row.location__name,
            expiry_date=row.expiry_date,
            days_to_expiry=int(row.expiry_days),
            available_kg=_kg(row.available),
            reserved_kg=_kg(row.reserved),
        )
        for row in risky.itertuples()
    ]


def _spoilage(period: Period) -> tuple[list[Spoilage], list[Spoilage]]:
    """Write-offs of the period by product and by farmer: one grouped query for the
    write-offs, one for the kilograms received, then pandas sums them both ways."""
    written = list(
        StockMovement.objects.filter(
            kind=MovementKind.WRITE_OFF, created_at__gte=period.start, created_at__lt=period.end
        )
        .order_by()
        .values("lot__product_id", "lot__farmer_id")
        .annotate(
            grams=Sum(_grams("kg_delta")),
            # Cost at the lot's intake price, per write-off rounded half up to the fen.
            fen=Sum((-_grams("kg_delta") * _fen("lot__price_per_kg") + Value(500)) / Value(1000)),
            write_offs=Count("id"),
        )
    )
    received = list(
        Lot.objects.filter(received_at__gte=period.start, received_at__lt=period.end)
        .order_by()
        .values("product_id", "farmer_id")
        .annotate(received=Sum(_grams("received_kg")))
    )
    if not written:
        return [], []
    spoiled = pd.DataFrame(written).rename(
        columns={"lot__product_id": "product_id", "lot__farmer_id": "farmer_id"}
    )
    spoiled["grams"] = -spoiled["grams"].astype("int64")
    spoiled["fen"] = spoiled["fen"].astype("int64")
    came_in = pd.DataFrame(received, columns=["product_id", "farmer_id", "received"])
    came_in["received"] = came_in["received"].astype("int64")

    product_ids = spoiled["product_id"].unique().tolist()
    farmer_ids = spoiled["farmer_id"].unique().tolist()
    products = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "name"))
    farmers = {
        row["pk"]: row
        for row in Farmer.objects.filter(pk__in=farmer_ids).values("pk", "name", "village")
    }

    def by(column: str, names) -> list[Spoilage]:
        totals = spoiled.groupby(column)[["grams", "fen", "write_offs"]].sum()
        inflow = came_in.groupby(column)["received"].sum()
        rows = [
            Spoilage(
                key=int(key),
                name=names(key)[0],
                detail=names(key)[1],
                write_offs=int(row.write_offs),
                kg=_kg(row.grams),
                value=_money(row.fen),
                received_kg=_kg(inflow.get(key, 0)),
            )
            for key, row in totals.iterrows()
        ]
        return sorted(rows, key=lambda row: (-row.kg, row.name))

    return (
        by("product_id", lambda key: (products[key], "")),
        by("farmer_id", lambda key: (farmers[key]["name"], farmers[key]["village"])),
    )


def _cover(frame: pd.DataFrame, now: datetime) -> list[Cover]:
    """Days of cover per active SKU: available kg of its product and grade ÷ the kilograms
    sold a day on average over the sales window. Sold = shipped out less returned in the
    window (the ledger) plus what orders hold reserved now (sold, not yet shipped)."""
    since = now - timedelta(days=SALES_WINDOW_DAYS)
    moved = (
        StockMovement.objects.filter(
            kind__in=[MovementKind.SHIP_OUT, MovementKind.RETURN], created_at__gte=since
        )
        .order_by()
        .values("lot__product_id", "lot__grade_id")
        .annotate(grams=Sum(_grams("kg_delta")))
    )
    shipped = {(row["lot__product_id"], row["lot__grade_id"]): -int(row["grams"]) for row in moved}
    stock = (
        frame.groupby(["product_id", "grade_id"])[["available", "reserved"]].sum()
        if len(frame)
        else pd.DataFrame(columns=["available", "reserved"])
    )
    result = []
    skus = Sku.objects.filter(is_active=True).order_by("merchant_code")
    for sku in skus.values(
        "merchant_code", "name", "product_id", "product__name", "grade_id", "grade__name", "net_kg"
    ):
        pair = (sku["product_id"], sku["grade_id"])
        available = int(stock.loc[pair, "available"]) if pair in stock.index else 0
        reserved = int(stock.loc[pair, "reserved"]) if pair in stock.index else 0
        sold = max(shipped.get(pair, 0) + reserved, 0)
        daily = Decimal(sold) / 1000 / SALES_WINDOW_DAYS
        result.append(
            Cover(
                merchant_code=sku["merchant_code"],
                sku_name=sku["name"],
                product=sku["product__name"],
                grade=sku["grade__name"],
                net_kg=sku["net_kg"],
                available_kg=_kg(available),
                sold_kg=_kg(sold),
                daily_kg=daily.quantize(ZERO_KG, ROUND_HALF_UP),
                days=(_kg(available) / daily).quantize(Decimal("0.1"), ROUND_HALF_UP)
                if sold
                else None,
            )
        )
    return sorted(
        result, key=lambda row: (row.days is None, row.days or 0, row.product, row.merchant_code)
    )


def stock_health(
    *, spoilage_from: date | None = None, spoilage_to: date | None = None
) -> StockHealth:
    """The stock's health now: lots by age and by days to expiry, the available kilograms
    that expire within two days, write-offs of the spoilage period (default: the last 30
    days) by product and by farmer, and each SKU's days of cover. Seven queries."""
    now = timezone.now()
    today = timezone.localdate(now)
    default = Period.last_days(SPOILAGE_DAYS, today)
    period = Period(spoilage_from or default.date_from, spoilage_to or default.date_to)
    frame = _stock_frame(today)
    by_product, by_farmer = _spoilage(period)
    return StockHealth(
        today=today,
        spoilage_period=period,
        sales_window_days=SALES_WINDOW_DAYS,
        lots_in_stock=len(frame),
        kg_in_stock=_kg(frame["grams"].sum()) if len(frame) else ZERO_KG,
        age=_buckets(frame, "age_bucket", AGE_BUCKETS),
        expiry=_buckets(frame, "expiry_bucket", EXPIRY_BUCKETS),
        age_by_product=_age_by_product(frame),
        at_risk=_at_risk(frame),
        spoilage_by_product=by_product,
        spoilage_by_farmer=by_farmer,
        cover=_cover(frame, now),
    )
