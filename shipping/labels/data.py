"""What a shipping label says, built from a parcel: pure reads, no drawing.

The courier must be able to deliver and call. A waybill from a pool the studio imported
carries no electronic copy of the address at the carrier, so its label prints the recipient's
full name, phone and address. Only when the waybill comes with a privacy service (隐私面单:
the carrier's or its pool's ``privacy_service``) is the label masked — 王*明, house numbers
hidden — and the phone printed is the virtual number the service gave (``virtual_number``),
else the masked phone. A number from a waybill service (``shipping.waybills``) says itself
whether it is a privacy label (``IssuedWaybill.privacy``), before its pool or carrier.
Pages, the API and exports mask recipients whatever the label says.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import BooleanField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from core.models import StudioSettings
from core.units import WeightUnit
from inventory.models import ZERO_KG, Storage
from shipping.models import LabelSize, Parcel, ParcelItem, WaybillNumber
from shipping.waybills.models import IssuedWaybill, SourceKind

__all__ = [
    "COLD_MARKS",
    "LabelData",
    "LabelItem",
    "label_data",
    "labels_data",
    "mask_address",
    "mask_name",
    "privacy_service",
    "trace_url",
]

# Printed in Chinese on every label whatever the interface language, like a carrier's own
# handling marks: they speak to the couriers along the way.
COLD_MARKS = ("生鲜易腐", "请冷藏")

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"

# Parcels fetched per round trip in ``labels_data``; SQLite caps the parameters of one query.
_CHUNK = 1000

# Arabic digits (ASCII or full-width) anywhere, and Chinese numerals that count a building,
# unit, floor, room or house number (三单元, 十八号); not those inside place names (十里铺).
_HOUSE_NUMBER = re.compile(
    r"\d|[零〇一二三四五六七八九十百千两]+(?=[号號栋棟幢座楼樓单單元层層室户戶])"
)


def mask_name(name: str) -> str:
    """王*明, 欧阳**; a two-character name keeps its first (王*)."""
    name = " ".join(name.split())
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return f"{name[0]}*"
    return f"{name[0]}{'*' * min(len(name) - 2, 3)}{name[-1]}"


def mask_address(detail: str) -> str:
    """The street part of an address with its house, building and room numbers hidden: every
    digit becomes "*" (小寨东路 12 号 3 单元 → 小寨东路 ** 号 * 单元)."""
    return _HOUSE_NUMBER.sub(lambda match: "*" * len(match.group()), detail)


def trace_url(token: str) -> str:
    """The parcel's public trace page, as the QR code carries it."""
    base = getattr(settings, "SHANHUO_PUBLIC_URL", DEFAULT_PUBLIC_URL) or DEFAULT_PUBLIC_URL
    return f"{base.rstrip('/')}/t/{token}"


@dataclass(frozen=True)
class LabelItem:
    name: str  # the SKU's name
    quantity: int | None  # units in this parcel; None when the kilograms are not whole units
    kg: Decimal  # net kilograms in this parcel


@dataclass(frozen=True)
class LabelData:
    carrier_name: str
    tracking_number: str
    sorting_code: str
    recipient_name: str
    recipient_phone: str
    recipient_region: str  # province, city, district: never masked (the carrier sorts by it)
    recipient_detail: str  # street and house number, masked only under a privacy service
    sender_name: str
    sender_phone: str
    sender_address: str
    items: tuple[LabelItem, ...]
    weight_kg: Decimal  # as weighed at the packing station, packaging included
    sequence: int  # this parcel's number in the order: "1" of "1/2"
    parcel_count: int
    marks: tuple[str, ...]  # handling marks, e.g. COLD_MARKS
    trace_url: str
    order_number: str
    size: str = LabelSize.MM_100x150  # the carrier's label size
    masked: bool = False  # the waybill's privacy service keeps the recipient: printed masked
    unit: str = WeightUnit.KG  # the studio's weight unit: the produce's net weight is in it

    @property
    def net_kg(self) -> Decimal:
        return sum((item.kg for item in self.items), ZERO_KG)

    @property
    def recipient_address(self) -> str:
        return " ".join(part for part in (self.recipient_region, self.recipient_detail) if part)


def _issued_by_service():
    """The waybill service's record of a number (not cancelled), if a service issued it."""
    return IssuedWaybill.objects.filter(cancelled_at__isnull=True).exclude(kind=SourceKind.POOL)


def _pool_privacy() -> Coalesce:
    """Whether the parcel's waybill number is a privacy label: as the service that issued it
    says, else as the pool it came from says (``None`` when the number was scanned, or its
    pool says "as the carrier")."""
    issued = _issued_by_service().filter(
        carrier=OuterRef("carrier"), number=OuterRef("tracking_number")
    )
    number = WaybillNumber.objects.filter(
        carrier=OuterRef("carrier"), number=OuterRef("tracking_number")
    )
    return Coalesce(
        Subquery(issued.values("privacy")[:1]),
        Subquery(number.values("pool__privacy_service")[:1]),
        output_field=BooleanField(),
    )


def privacy_service(parcel: Parcel) -> bool:
    """Whether the parcel's waybill comes with a privacy service: the waybill service that
    issued it, or its pool says so, or (a scanned number, or a pool that follows its carrier)
    its carrier does."""
    if hasattr(parcel, "pool_privacy"):
        pool = parcel.pool_privacy
    else:
        pool = (
            _issued_by_service()
            .filter(carrier_id=parcel.carrier_id, number=parcel.tracking_number)
            .values_list("privacy", flat=True)
            .first()
        )
        if pool is None:
            pool = (
                WaybillNumber.objects.filter(
                    carrier_id=parcel.carrier_id, number=parcel.tracking_number
                )
                .values_list("pool__privacy_service", flat=True)
                .first()
            )
    return parcel.carrier.privacy_service if pool is None else pool


def _items(parcel_items: Iterable[ParcelItem]) -> tuple[tuple[LabelItem, ...], tuple[str, ...]]:
    """One row per order line (a line may have come from several lots), in line order, and
    the handling marks the products call for."""
    per_line: dict[int, list] = {}
    cold = False
    for item in parcel_items:
        sku = item.line.sku
        cold = cold or sku.product.storage == Storage.COLD
        row = per_line.setdefault(item.line_id, [sku, ZERO_KG])
        row[1] += item.kg
    rows = []
    for _line_id, (sku, kg) in sorted(per_line.items()):
        units = kg / sku.net_kg
        quantity = int(units) if units == units.to_integral_value() else None
        rows.append(LabelItem(name=sku.name, quantity=quantity, kg=kg))
    return tuple(rows), (COLD_MARKS if cold else ())


def _label(parcel: Parcel, parcel_items: Iterable[ParcelItem], *, mask: bool | None) -> LabelData:
    order, carrier = parcel.order, parcel.carrier
    items, marks = _items(parcel_items)
    if mask is None:
        mask = privacy_service(parcel)
    if mask:
        name, phone, detail = (
            mask_name(order.recipient_name),
            parcel.virtual_number or order.masked_phone,
            mask_address(order.address_detail),
        )
    else:
        # A phone the platform masked is already the number (and extension) to call.
        name, phone, detail = order.recipient_name, order.phone, order.address_detail
    return LabelData(
        carrier_name=carrier.name,
        tracking_number=parcel.tracking_number,
        sorting_code=parcel.sorting_code,
        recipient_name=name,
        recipient_phone=phone,
        recipient_region=" ".join(
            part for part in (order.province, order.city, order.district) if part
        ),
        recipient_detail=detail,
        sender_name=carrier.sender_name or settings.STUDIO_NAME,
        sender_phone=carrier.sender_phone or settings.STUDIO_PHONE,
        sender_address=carrier.sender_address or settings.STUDIO_ADDRESS,
        items=items,
        weight_kg=parcel.weight_kg,
        sequence=parcel.sequence,
        parcel_count=parcel.parcel_count,
        marks=marks,
        trace_url=trace_url(parcel.trace_token),
        order_number=order.external_no,
        size=carrier.label_size or LabelSize.MM_100x150,
        masked=mask,
        unit=_unit(parcel),
    )


def _studio_unit() -> Subquery:
    """The studio's weight unit, read with the parcels (no query of its own)."""
    return Subquery(StudioSettings.objects.values("weight_unit")[:1])


def _unit(parcel: Parcel) -> str:
    if hasattr(parcel, "studio_unit"):
        return parcel.studio_unit or WeightUnit.KG
    return StudioSettings.load().weight_unit


_ITEM_RELATED = ("line__sku__product",)


def label_data(parcel: Parcel, *, mask: bool | None = None) -> LabelData:
    """The label of one parcel. ``mask=None`` masks the recipient when the waybill comes
    with a privacy service (``privacy_service``); ``True``/``False`` force it. Three queries
    (the items, the waybill's pool, the studio's weight unit); ``parcel.order`` and
    ``parcel.carrier`` are read as they are (``select_related`` them to save two)."""
    items = parcel.items.select_related(*_ITEM_RELATED).order_by("pk")
    return _label(parcel, items, mask=mask)


def labels_data(
    parcels: QuerySet[Parcel] | Sequence[Parcel], *, mask: bool | None = None
) -> list[LabelData]:
    """The labels of many parcels, in the order given (a queryset's own order, or the
    sequence's). Two queries per thousand parcels, however many items they hold (the
    waybill's pool is a subquery of the first)."""
    items = Prefetch(
        "items",
        queryset=ParcelItem.objects.select_related(*_ITEM_RELATED).order_by("pk"),
        to_attr="label_items",
    )
    if isinstance(parcels, QuerySet):
        fetched = (
            parcels.select_related("order", "carrier")
            .annotate(pool_privacy=_pool_privacy(), studio_unit=_studio_unit())
            .prefetch_related(items)
        )
        return [
            _label(parcel, parcel.label_items, mask=mask)
            for parcel in fetched.iterator(chunk_size=_CHUNK)
        ]
    ids = [parcel.pk for parcel in parcels]
    by_id: dict[int, Parcel] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = (
            Parcel.objects.filter(pk__in=ids[start : start + _CHUNK])
            .select_related("order", "carrier")
            .annotate(pool_privacy=_pool_privacy(), studio_unit=_studio_unit())
            .prefetch_related(items)
        )
        by_id.update((parcel.pk, parcel) for parcel in chunk)
    return [_label(by_id[pk], by_id[pk].label_items, mask=mask) for pk in ids]
