"""A small studio whose March 2026 statements are known to the fen, built through the services
at the times things happened (``tests.clock.clock_at``).

朱大山  Feb 20  蜜桃 特级 100 kg × ¥6.00 = ¥600.00        (before March)
        Feb 25  paid ¥200.00 in cash                      → opening balance ¥400.00
        Mar 3   蜜桃 特级 50.5 kg × ¥6.10 = ¥308.05
                蜜桃 一级 20.125 kg × ¥8.80 = ¥177.10
        Mar 15  30 kg of his 特级 peaches leave in a parcel; Mar 20 2 kg come back
        Mar 16  3.5 kg of his 一级 lot written off (spoiled: the studio's loss, not his)
        Mar 25  paid ¥500.00 by bank transfer
        Apr 2   蜜桃 特级 10 kg × ¥6.00 (after March: not on the statement)
        closing: 400.00 + 485.15 − 500.00 = ¥385.15
王秀英  Mar 10  板栗 一级 12.345 kg × ¥5.00 = ¥61.725 → ¥61.73 (half up, per lot)
        Mar 18  counted 0.345 kg short (an adjustment: no change to what she is owed)
        Mar 28  paid ¥100.00 by WeChat                     → closing −¥38.27: prepaid
李建国  Feb 10  地瓜 一级 200 kg × ¥2.00 = ¥400.00, nothing since → opening = closing ¥400.00
吴德全  registered, never delivered: on no list
"""

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.utils import timezone

from inventory.models import Farmer, Lot
from inventory.services import (
    ReserveRequest,
    farmer_payment_record,
    lot_adjust,
    lot_write_off,
    stock_reserve,
    stock_return,
    stock_ship_out,
)
from tests.clock import clock_at
from tests.factories import (
    FarmerFactory,
    GradeFactory,
    LocationFactory,
    ProductFactory,
    UserFactory,
    receive,
)

MARCH = {"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)}


def at(day: date, hour: int = 9):
    return clock_at(timezone.make_aware(datetime.combine(day, time(hour))))


@dataclass
class SmallStudio:
    zhu: Farmer
    wang: Farmer
    li: Farmer
    wu: Farmer
    manager: object
    zhu_top_march: Lot
    zhu_first_march: Lot
    wang_chestnuts: Lot


def build_small_studio() -> SmallStudio:
    manager = UserFactory(username="statement-manager", roles=["manager"])
    LocationFactory()
    # Kept cold 30 days here: the sale of 03-15 takes the lot of 02-20, which must not have
    # expired by then (an expired lot is never reserved).
    peach = ProductFactory(name="蜜桃", shelf_life_days=30)
    chestnut = ProductFactory(name="板栗", shelf_life_days=90, storage="ambient")
    sweet_potato = ProductFactory(name="地瓜", shelf_life_days=60, storage="ambient")
    top = GradeFactory(name="特级", rank=0)
    first = GradeFactory(name="一级", rank=1)
    zhu = FarmerFactory(name="朱大山", village="朱家坪村", phone="13912345678")
    wang = FarmerFactory(name="王秀英", village="火烧店村", phone="13800001111")
    li = FarmerFactory(name="李建国", village="江口村", phone="13700002222")
    wu = FarmerFactory(name="吴德全", village="江口村", phone="13600003333")

    def pay(farmer, day, amount, method, reference=""):
        with at(day, 16):
            return farmer_payment_record(
                farmer=farmer,
                paid_on=day,
                amount=Decimal(amount),
                method=method,
                reference=reference,
                acting_user=manager,
            )

    with at(date(2026, 2, 10)):
        receive(farmer=li, product=sweet_potato, grade=first, kg="200", price="2.00")
    with at(date(2026, 2, 20)):
        receive(farmer=zhu, product=peach, grade=top, kg="100", price="6.00")
    pay(zhu, date(2026, 2, 25), "200.00", "cash")
    with at(date(2026, 3, 3)):
        zhu_top = receive(farmer=zhu, product=peach, grade=top, kg="50.5", price="6.10")
        zhu_first = receive(farmer=zhu, product=peach, grade=first, kg="20.125", price="8.80")
    with at(date(2026, 3, 10)):
        wang_lot = receive(farmer=wang, product=chestnut, grade=first, kg="12.345", price="5.00")
    with at(date(2026, 3, 15)):
        (taken,) = stock_reserve(
            requests=[ReserveRequest(peach.pk, top.pk, Decimal("30"))], reference="order:1"
        )
        stock_ship_out(items=taken, reference="parcel:1", acting_user=manager)
    with at(date(2026, 3, 16)):
        lot_write_off(lot=zhu_first, kg=Decimal("3.5"), reason="烂果", acting_user=manager)
    with at(date(2026, 3, 18)):
        lot_adjust(lot=wang_lot, counted_kg=Decimal("12.000"), reason="盘点", acting_user=manager)
    with at(date(2026, 3, 20)):
        stock_return(
            lot_id=taken[0].lot_id, kg=Decimal("2"), reference="parcel:1", acting_user=manager
        )
    pay(zhu, date(2026, 3, 25), "500.00", "bank", reference="TX-0325")
    pay(wang, date(2026, 3, 28), "100.00", "wechat")
    with at(date(2026, 4, 2)):
        receive(farmer=zhu, product=peach, grade=top, kg="10", price="6.00")
    return SmallStudio(zhu, wang, li, wu, manager, zhu_top, zhu_first, wang_lot)
