"""How many days a parcel travels to a province, and so how fresh a lot must be to go there.

Orders owns this rule, not shipping and not inventory: allocation (an orders service) must
know it before any carrier is chosen, and the arrows forbid orders to ask shipping.
Carriers are named here by their plain code (``sf``, ``zto``), the code shipping's
``Carrier`` uses, never by a foreign key. Inventory only compares dates: orders asks it for
lots that are still good on ``fresh_until`` (``ReserveRequest``).

The days come from the ``TransitTime`` table, which managers edit: a row for a province and
a carrier, else the province's row for any carrier, else a default computed from the
studio's own province (``settings.STUDIO_PROVINCE``): the straight-line distance between the
two provincial capitals, in bands a courier's next-day network roughly follows, plus a day to
Xinjiang, Tibet, Hong Kong and Macau and two to Taiwan. An address whose province could not
be read travels as far as the farthest mainland province (the safe side).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from math import asin, cos, radians, sin, sqrt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.errors import DomainError
from core.regions import canonical_province, provinces
from orders.models import TransitTime

# Each province-level division's capital (latitude, longitude), by the division's code.
CAPITALS: dict[str, tuple[float, float]] = {
    "110000": (39.90, 116.40),  # 北京
    "120000": (39.13, 117.20),  # 天津
    "130000": (38.04, 114.51),  # 石家庄
    "140000": (37.87, 112.55),  # 太原
    "150000": (40.84, 111.75),  # 呼和浩特
    "210000": (41.80, 123.43),  # 沈阳
    "220000": (43.82, 125.32),  # 长春
    "230000": (45.80, 126.53),  # 哈尔滨
    "310000": (31.23, 121.47),  # 上海
    "320000": (32.06, 118.80),  # 南京
    "330000": (30.27, 120.15),  # 杭州
    "340000": (31.82, 117.23),  # 合肥
    "350000": (26.07, 119.30),  # 福州
    "360000": (28.68, 115.86),  # 南昌
    "370000": (36.65, 117.12),  # 济南
    "410000": (34.75, 113.63),  # 郑州
    "420000": (30.59, 114.31),  # 武汉
    "430000": (28.23, 112.94),  # 长沙
    "440000": (23.13, 113.26),  # 广州
    "450000": (22.82, 108.37),  # 南宁
    "460000": (20.04, 110.34),  # 海口
    "500000": (29.56, 106.55),  # 重庆
    "510000": (30.57, 104.07),  # 成都
    "520000": (26.65, 106.63),  # 贵阳
    "530000": (25.04, 102.71),  # 昆明
    "540000": (29.65, 91.12),  # 拉萨
    "610000": (34.34, 108.94),  # 西安
    "620000": (36.06, 103.83),  # 兰州
    "630000": (36.62, 101.78),  # 西宁
    "640000": (38.49, 106.23),  # 银川
    "650000": (43.83, 87.62),  # 乌鲁木齐
    "710000": (25.03, 121.57),  # 台北
    "810000": (22.32, 114.17),  # 香港
    "820000": (22.20, 113.55),  # 澳门
}
# Straight-line kilometres between capitals → days on the road.
DISTANCE_BANDS = ((1000, 1), (1800, 2), (2800, 3))
LONGEST_BAND = 4
# Days more than the distance says: thin last-mile networks, customs.
EXTRA_DAYS = {"650000": 1, "540000": 1, "810000": 1, "820000": 1, "710000": 2}
MAINLAND_FARTHEST = frozenset(CAPITALS) - {"710000", "810000", "820000"}


def _km(one: tuple[float, float], other: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = (tuple(map(radians, point)) for point in (one, other))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371 * asin(sqrt(h))


@cache
def _codes() -> dict[str, str]:
    return {region.name: region.code for region in provinces()}


def province_code(name: str) -> str:
    """The code of a province-level division written any way; "" for none."""
    return _codes().get(canonical_province(name), "")


def province_short(name: str) -> str:
    """新疆 for 新疆维吾尔自治区: how people say it (the text itself when it names none)."""
    code = province_code(name)
    for region in provinces():
        if region.code == code:
            return region.short
    return name


def studio_province() -> str:
    """The full name of the studio's own province (``settings.STUDIO_PROVINCE``)."""
    return canonical_province(settings.STUDIO_PROVINCE)


def default_days(destination: str, origin: str | None = None) -> int:
    """Days from the studio's province (or ``origin``) to ``destination`` by the distance
    bands; for a province that cannot be read, the farthest mainland province's days."""
    origin_code = province_code(origin or studio_province())
    code = province_code(destination)
    if origin_code not in CAPITALS:
        origin_code = "370000"  # a studio province that cannot be read: the demo's own
    if code not in CAPITALS:
        return max(default_days(name, origin) for name in _mainland_names())
    km = 0.0 if code == origin_code else _km(CAPITALS[origin_code], CAPITALS[code])
    days = next((days for limit, days in DISTANCE_BANDS if km <= limit), LONGEST_BAND)
    return days + (EXTRA_DAYS.get(code, 0) if code != origin_code else 0)


def _mainland_names() -> list[str]:
    return [region.name for region in provinces() if region.code in MAINLAND_FARTHEST]


@dataclass
class TransitTable:
    """The transit table read once (a few dozen rows): ``days`` answers without a query."""

    rows: dict[tuple[str, str], int] = field(default_factory=dict)
    origin: str = ""
    _known: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls) -> "TransitTable":
        rows = {
            (province, carrier): days
            for province, carrier, days in TransitTime.objects.values_list(
                "province", "carrier_code", "days"
            )
        }
        return cls(rows=rows, origin=studio_province())

    def days(self, province: str, carrier_code: str = "") -> int:
        """Days to ``province`` with ``carrier_code`` (its own row), else with any carrier
        (the province's row), else the default from the studio's province. Remembered: a
        chunk of 500 orders asks about a few dozen places."""
        key = (province, carrier_code)
        if key not in self._known:
            self._known[key] = self._days(province, carrier_code)
        return self._known[key]

    def _days(self, province: str, carrier_code: str) -> int:
        name = canonical_province(province)
        if carrier_code and (name, carrier_code) in self.rows:
            return self.rows[(name, carrier_code)]
        if (name, "") in self.rows:
            return self.rows[(name, "")]
        if province_code(name) not in CAPITALS:
            return max(self.days(other) for other in _mainland_names())
        return default_days(name, self.origin)

    def is_default(self, province: str) -> bool:
        return (canonical_province(province), "") not in self.rows


def fresh_until(*, transit_days: int, min_days_on_arrival: int, today: date | None = None) -> date:
    """The last day produce sent today must still be good: it arrives after ``transit_days``
    and must keep ``min_days_on_arrival`` days of life then."""
    return (today or timezone.localdate()) + timedelta(days=transit_days + min_days_on_arrival)


@dataclass(frozen=True)
class ProvinceTransit:
    """One province's days with any carrier, as allocation reads them: from the table
    (``row``) or the default."""

    province: str
    short: str
    days: int
    default_days: int
    row: TransitTime | None


def transit_overview() -> tuple[list[ProvinceTransit], list[TransitTime]]:
    """Every province's days with any carrier (34 rows, by code) and the carriers' own rows
    (by province, carrier), in two queries at most."""
    rows = list(
        TransitTime.objects.select_related("updated_by").order_by("province", "carrier_code")
    )
    table = TransitTable(
        rows={(row.province, row.carrier_code): row.days for row in rows}, origin=studio_province()
    )
    any_carrier = {row.province: row for row in rows if not row.carrier_code}
    overview = [
        ProvinceTransit(
            province=region.name,
            short=region.short,
            days=table.days(region.name),
            default_days=default_days(region.name, table.origin),
            row=any_carrier.get(region.name),
        )
        for region in provinces()
    ]
    return overview, [row for row in rows if row.carrier_code]


@transaction.atomic
def transit_time_set(
    *, province: str, carrier_code: str = "", days: int, acting_user
) -> TransitTime | None:
    """Set the days to ``province`` with ``carrier_code`` (empty: any carrier). Days for any
    carrier equal to the default remove the row, so the province follows the studio's
    province again. Returns the row, or None when it was removed."""
    row = TransitTime(province=province, carrier_code=carrier_code, days=days)
    try:
        row.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(messages[0], field=field) from exc
    existing = TransitTime.objects.select_for_update().filter(
        province=row.province, carrier_code=row.carrier_code
    )
    if not row.carrier_code and days == default_days(row.province):
        existing.delete()
        return None
    saved, _created = TransitTime.objects.update_or_create(
        province=row.province,
        carrier_code=row.carrier_code,
        defaults={"days": days, "updated_by": acting_user},
    )
    return saved


def transit_time_delete(*, row: TransitTime) -> None:
    """Remove a row: that province (and carrier) follows the default again."""
    row.delete()
