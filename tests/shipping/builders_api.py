"""Builders for the shipping API, trace and return tests: a carrier, allocated orders and
parcels packed through the real services."""

import itertools
from decimal import Decimal

from django.utils import timezone

from orders.drafts import LineDraft, OrderDraft
from orders.models import Channel, Order
from orders.services import order_allocate, orders_create
from shipping.models import Carrier, Parcel, ParcelStatus, TrackingEvent
from shipping.services import parcel_pack, parcel_transition, waybill_pool_import
from tests.factories import FarmerFactory, SkuFactory, UserFactory, receive

_numbers = itertools.count(1)

RECIPIENT = {
    "recipient_name": "王小明",
    "phone": "13987654321",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "address_detail": "文三路 88 号 5 幢 1201 室",
}


def carrier(code: str = "sf", name: str = "顺丰", **fields) -> Carrier:
    defaults = {
        "name": name,
        "tracking_pattern": r"SF\d{12}",
        "sender_name": "朱家坪村山货直播间",
        "sender_phone": "09165551234",
        "sender_address": "陕西省汉中市留坝县朱家坪村",
        **fields,
    }
    found, _created = Carrier.objects.get_or_create(code=code, defaults=defaults)
    return found


def channel() -> Channel:
    found, _created = Channel.objects.get_or_create(code="kuaishou", defaults={"name": "快手"})
    return found


def worker(role: str = "packer"):
    return UserFactory(username=f"{role}-worker", roles=[role])


def allocated_order(
    *, sku=None, quantity: int = 1, farmer=None, stock_kg: str = "100", **recipient
) -> Order:
    """A new order of ``quantity`` × ``sku``, its stock received first and allocated."""
    sku = sku or SkuFactory(merchant_code="MT-5J")
    receive(kg=stock_kg, product=sku.product, grade=sku.grade, farmer=farmer or FarmerFactory())
    draft = OrderDraft(
        external_no=f"26111500{next(_numbers):08d}",
        paid_at=timezone.now(),
        lines=[LineDraft(sku=sku, quantity=quantity, unit_price=Decimal("39.90"))],
        **{**RECIPIENT, **recipient},
    )
    (order,) = orders_create(channel=channel(), drafts=[draft])
    assert order_allocate(order=order)
    return order


def pool(numbers: list[str], *, for_carrier: Carrier | None = None) -> None:
    waybill_pool_import(
        carrier=for_carrier or carrier(), numbers=numbers, file_name="t.txt", acting_user=worker()
    )


def packed_parcel(
    *, order: Order | None = None, tracking_number: str = "", weight: str = "2.8", **order_fields
) -> Parcel:
    order = order or allocated_order(**order_fields)
    number = tracking_number or f"SF{next(_numbers):012d}"
    result = parcel_pack(
        order=order,
        carrier=carrier(),
        weight_kg=Decimal(weight),
        tracking_number=number,
        weight_reason="builder: any weight",
        acting_user=worker(),
    )
    return result.parcel


def shipped_parcel(**fields) -> Parcel:
    parcel = packed_parcel(**fields)
    return parcel_transition(
        parcel=parcel, to=ParcelStatus.SHIPPED, source=TrackingEvent.Source.SCAN
    )
