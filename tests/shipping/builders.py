"""Builders for shipping tests: carriers with waybill pools, and allocated orders whose stock
came in through intake and was reserved through the orders services (so every lot, ledger row
and allocation is a real one)."""

from datetime import datetime, timedelta
from decimal import Decimal
from importlib import import_module
from itertools import count

from django.utils import timezone

from inventory.models import Grade, Lot, Product, Sku
from orders.drafts import LineDraft, OrderDraft
from orders.models import Channel, Order, OrderStatus
from orders.services import order_allocate, orders_create
from shipping.models import Carrier, WaybillPool
from shipping.services import waybill_pool_import
from tests.factories import GradeFactory, ProductFactory, SkuFactory, UserFactory, receive

_order_numbers = count(1)
CARRIERS = {
    code: (name, pattern)
    for code, name, pattern in import_module("shipping.migrations.0002_carriers").CARRIERS
}

ADDRESS = {
    "recipient_name": "李四",
    "phone": "13912345678",
    "province": "陕西省",
    "city": "西安市",
    "district": "雁塔区",
    "address_detail": "小寨东路 1 号 3 栋 2 单元 501 室",
}


def staff(role: str = "packer"):
    """A user holding ``role`` (one per role, reused)."""
    return UserFactory(username=f"{role}-builder", roles=[role])


def carrier(code: str = "sf") -> Carrier:
    """One of the carriers the migrations created (sf, zto, yto, yunda, sto, jd, ems, jitu),
    made again as the migration made it if a transactional test flushed the tables."""
    name, pattern = CARRIERS[code]
    found, _created = Carrier.objects.get_or_create(
        code=code, defaults={"name": name, "tracking_pattern": pattern}
    )
    return found


def sf_numbers(how_many: int, start: int = 1) -> list[str]:
    """顺丰-shaped waybill numbers: SF + 12 digits."""
    return [f"SF{n:012d}" for n in range(start, start + how_many)]


def pool(code: str = "sf", numbers: list[str] | None = None, *, how_many: int = 5) -> WaybillPool:
    """A waybill pool imported for the carrier (顺丰 numbers unless given)."""
    the_pool, _added, _skipped = waybill_pool_import(
        carrier=carrier(code),
        numbers=numbers if numbers is not None else sf_numbers(how_many),
        file_name="waybills.txt",
        acting_user=staff("manager"),
    )
    return the_pool


def carrier_with_pool(code: str = "sf", how_many: int = 5) -> Carrier:
    pool(code, how_many=how_many)
    return carrier(code)


def stocked_sku(
    code: str = "MT-5J",
    *,
    kg: str = "100",
    net_kg: str = "2.500",
    packaging_kg: str = "0.300",
    tolerance_kg: str = "0.200",
    product: Product | None = None,
    grade: Grade | None = None,
) -> Sku:
    """A SKU with one lot of ``kg`` of its product and grade received (none when kg is 0)."""
    sku = SkuFactory(
        merchant_code=code,
        net_kg=Decimal(net_kg),
        packaging_kg=Decimal(packaging_kg),
        weight_tolerance_kg=Decimal(tolerance_kg),
        product=product or ProductFactory(),
        grade=grade or GradeFactory(),
    )
    if Decimal(kg):
        receive(kg=kg, product=sku.product, grade=sku.grade)
    return sku


CHANNEL_NAMES = {"kuaishou": "快手", "douyin": "抖音", "wechat": "微信/电话"}


def _channel(code: str = "kuaishou") -> Channel:
    found, _created = Channel.objects.get_or_create(
        code=code, defaults={"name": CHANNEL_NAMES.get(code, code)}
    )
    return found


def new_order(
    *lines: tuple[Sku, int],
    number: str | None = None,
    paid_at: datetime | None = None,
    channel: str = "kuaishou",
    **address,
) -> Order:
    """An order as an import makes it (status new), to ``ADDRESS`` unless overridden, on the
    快手 channel unless another channel code is given."""
    draft = OrderDraft(
        external_no=number or f"24{next(_order_numbers):017d}",
        paid_at=paid_at or timezone.now() - timedelta(hours=1),
        lines=[LineDraft(sku=sku, quantity=qty, unit_price=sku.price) for sku, qty in lines],
        **{**ADDRESS, **address},
    )
    (order,) = orders_create(channel=_channel(channel), drafts=[draft])
    return order


def allocated_order(*lines: tuple[Sku, int], **kwargs) -> Order:
    """An order whose lines reserved their kilograms (one 2.5 kg peach box unless given)."""
    order = new_order(*(lines or ((stocked_sku(), 1),)), **kwargs)
    assert order_allocate(order=order, acting_user=staff("manager")), "not enough stock"
    assert order.status == OrderStatus.ALLOCATED
    return order


def reload(obj):
    obj.refresh_from_db()
    return obj


def lot_figures(lot: Lot) -> tuple[Decimal, Decimal]:
    """(on-hand kg, reserved kg) as stored now."""
    lot.refresh_from_db()
    return lot.on_hand_kg, lot.reserved_kg
