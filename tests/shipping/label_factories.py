"""Parcels for label and slip tests, built the way packing will build them: a channel order
whose lines were allocated from real lots (intake → ``order_allocate``), then a ``Parcel`` and
its ``ParcelItem`` rows holding exactly what was allocated."""

from datetime import timedelta
from decimal import Decimal
from itertools import count

from django.utils import timezone

from inventory.models import Farmer, Product, Sku, Storage
from orders.drafts import LineDraft, OrderDraft
from orders.models import Allocation, Channel, LiveSession, Order
from orders.services import order_allocate, orders_create
from shipping.models import Carrier, LabelSize, Parcel, ParcelItem
from tests.factories import (
    FarmerFactory,
    GradeFactory,
    ProductFactory,
    SkuFactory,
    UserFactory,
    receive,
)

_numbers = count(1)

RECIPIENT = {
    "recipient_name": "王小明",
    "phone": "13812341234",
    "province": "陕西省",
    "city": "西安市",
    "district": "雁塔区",
    "address_detail": "小寨东路 12 号 3 单元 301 室",
}


def carrier(code: str = "sf", **fields) -> Carrier:
    """The carrier with ``code`` (the migrations create the usual ones), ``fields`` saved."""
    found, _created = Carrier.objects.get_or_create(code=code, defaults={"name": "顺丰"})
    if fields:
        for name, value in fields.items():
            setattr(found, name, value)
        found.save()
    return found


def channel(code: str = "kuaishou", name: str = "快手") -> Channel:
    found, _created = Channel.objects.get_or_create(code=code, defaults={"name": name})
    return found


def live_session(title: str = "蜜桃专场", host: str = "朱家坪小朱") -> LiveSession:
    now = timezone.now()
    return LiveSession.objects.create(
        channel=channel(),
        title=title,
        host=host,
        starts_at=now - timedelta(hours=3),
        ends_at=now + timedelta(hours=1),
    )


def stocked_sku(
    code: str = "MT-5J",
    *,
    name: str = "蜜桃 5斤礼盒",
    product: Product | None = None,
    net_kg: str = "2.500",
    lots: tuple[tuple[str, Farmer | None], ...] = (("100", None),),
) -> Sku:
    """A SKU and lots of its product and grade, each (kg, farmer) received through intake."""
    sku = SkuFactory(
        merchant_code=code,
        name=name,
        net_kg=Decimal(net_kg),
        product=product or ProductFactory(),
        grade=GradeFactory(),
    )
    for kg, farmer in lots:
        receive(kg=kg, product=sku.product, grade=sku.grade, farmer=farmer or FarmerFactory())
    return sku


def cold_sku() -> Sku:
    return stocked_sku(product=ProductFactory(name="蜜桃", storage=Storage.COLD))


def ambient_sku() -> Sku:
    return stocked_sku(
        "HT-1KG",
        name="核桃 1kg 袋装",
        net_kg="1.000",
        product=ProductFactory(name="核桃", storage=Storage.AMBIENT, shelf_life_days=180),
    )


def allocated_order(
    *lines: tuple[Sku, int],
    number: str | None = None,
    buyer_note: str = "",
    session: LiveSession | None = None,
    phone_masked_by_platform: bool = False,
    **recipient,
) -> Order:
    """A channel order for ``lines`` (SKU, quantity), allocated from the SKUs' lots."""
    draft = OrderDraft(
        external_no=number or f"37{next(_numbers):017d}",
        paid_at=timezone.now(),
        lines=[LineDraft(sku=sku, quantity=qty, unit_price=sku.price) for sku, qty in lines],
        buyer_note=buyer_note,
        live_session=session,
        phone_masked_by_platform=phone_masked_by_platform,
        **{**RECIPIENT, **recipient},
    )
    (order,) = orders_create(channel=channel(), drafts=[draft])
    assert order_allocate(order=order), "the order's SKUs need stock"
    return order


def packed_parcel(
    order: Order,
    *,
    carrier_code: str = "sf",
    tracking_number: str | None = None,
    sorting_code: str = "",
    weight_kg: str = "5.600",
    sequence: int = 1,
    parcel_count: int = 1,
    label_size: str = LabelSize.MM_100x150,
) -> Parcel:
    """A parcel holding everything allocated to ``order``, one item per allocation."""
    parcel = Parcel.objects.create(
        order=order,
        carrier=carrier(carrier_code, label_size=label_size),
        tracking_number=tracking_number or f"SF{next(_numbers):012d}",
        sorting_code=sorting_code,
        weight_kg=Decimal(weight_kg),
        sequence=sequence,
        parcel_count=parcel_count,
        packed_by=UserFactory(username="packer-labels", roles=["packer"]),
    )
    ParcelItem.objects.bulk_create(
        ParcelItem(parcel=parcel, line_id=allocation.line_id, lot=allocation.lot, kg=allocation.kg)
        for allocation in Allocation.objects.filter(line__order=order).order_by("pk")
    )
    return parcel


def parcel_for(*lines: tuple[Sku, int], **kwargs) -> Parcel:
    """An allocated order of ``lines`` packed into one parcel; ``kwargs`` go to the order
    (recipient fields, ``number``, ``buyer_note`` …) or to the parcel (see ``packed_parcel``)."""
    parcel_fields = {
        key: kwargs.pop(key)
        for key in (
            "carrier_code",
            "tracking_number",
            "sorting_code",
            "weight_kg",
            "sequence",
            "parcel_count",
            "label_size",
        )
        if key in kwargs
    }
    return packed_parcel(allocated_order(*lines, **kwargs), **parcel_fields)
