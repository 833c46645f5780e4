"""Shipping services: waybill pools, waves, packing, parcel status and tracking, returns. Every
test goes through the real services and checks the ledger and the orders' allocations after."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core.errors import DomainError
from inventory.models import MovementKind, StockMovement
from inventory.selectors import stock_mismatches
from orders.lifecycle import PackItem
from orders.models import Allocation, OrderEvent, OrderStatus
from orders.services import order_allocate, order_cancel
from orders.tasks import fill_backorders
from shipping.models import (
    PARCEL_TRANSITIONS,
    Parcel,
    ParcelItem,
    ParcelStatus,
    ReturnDisposition,
    ReturnLine,
    TrackingEvent,
    WaveOrder,
    WaveStatus,
    WaybillNumber,
)
from shipping.selectors import order_parcel_ids, parcel_order_ids
from shipping.services import (
    ReturnRow,
    handover_scan,
    parcel_labels_printed,
    parcel_pack,
    parcel_return,
    parcel_transition,
    tracking_update,
    wave_create,
    waybill_pool_import,
    waybill_take,
)
from tests.shipping.builders import (
    allocated_order,
    carrier,
    carrier_with_pool,
    lot_figures,
    new_order,
    pool,
    reload,
    sf_numbers,
    staff,
    stocked_sku,
)

D = Decimal
pytestmark = pytest.mark.django_db


def _assert_stock_clean() -> None:
    """Cache = ledger, and every lot's reservation is what orders holding stock allocated
    (``check_stock`` runs both and raises on a problem)."""
    assert stock_mismatches() == []
    out = StringIO()
    call_command("check_stock", stdout=out)
    assert "Stock matches the ledger" in out.getvalue()


def _pack(order, *, weight: str = "2.800", **kwargs):
    kwargs.setdefault("carrier", carrier("sf"))
    return parcel_pack(order=order, weight_kg=D(weight), acting_user=staff(), **kwargs)


def _packed_parcel(**kwargs) -> Parcel:
    carrier_with_pool("sf", how_many=3)
    return _pack(allocated_order(**kwargs)).parcel


def _shipped_parcel(**kwargs) -> Parcel:
    parcel = _packed_parcel(**kwargs)
    handover_scan(tracking_number=parcel.tracking_number, acting_user=staff())
    return reload(parcel)


# --- waybill pools ---------------------------------------------------------------------------


def test_pool_import_skips_numbers_doubled_in_the_file_or_already_known():
    # given a pool that holds two numbers
    sf = carrier("sf")
    pool("sf", ["SF000000000001", "SF000000000002"])

    # when a file repeats one of them, holds a new one twice, with blanks and an Excel quote
    new_pool, added, skipped = waybill_pool_import(
        carrier=sf,
        numbers=["SF000000000002\n", "", " 'SF000000000003 ", "SF000000000003", "\t"],
        file_name="sf-2.txt",
        acting_user=staff("manager"),
    )

    # then only the new number is stored, once, and the two repeats are counted as skipped
    assert (added, skipped) == (1, 2)
    assert list(new_pool.numbers.values_list("number", flat=True)) == ["SF000000000003"]
    assert WaybillNumber.objects.filter(carrier=sf).count() == 3


def test_pool_import_refuses_a_bad_number_naming_its_line_and_stores_nothing():
    # when the third line is not a waybill number
    with pytest.raises(DomainError) as refused:
        pool("sf", ["SF000000000001", "", "SF 0000/01", "SF000000000004"])

    # then the error names line 3 and the number, and no number of the file is stored
    assert "3" in refused.value.message and "SF 0000/01" in refused.value.message
    assert refused.value.field == "numbers"
    assert not WaybillNumber.objects.exists()


def test_pool_import_refuses_a_file_without_numbers():
    with pytest.raises(DomainError):
        pool("sf", ["", "  ", "\t"])
    assert not WaybillNumber.objects.exists()


def test_pool_import_skips_a_number_already_scanned_onto_a_parcel():
    # given a parcel that got a scanned 顺丰 number while the studio had no pool
    order = allocated_order()
    _pack(order, tracking_number="SF000000000001")

    # when a pool arrives that holds that number too
    _pool, added, skipped = waybill_pool_import(
        carrier=carrier("sf"),
        numbers=["SF000000000001", "SF000000000002"],
        acting_user=staff("manager"),
    )

    # then it is not handed out again: the next parcel gets the other number
    assert (added, skipped) == (1, 1)
    assert waybill_take(carrier=carrier("sf")) == "SF000000000002"


def test_waybill_take_hands_out_each_number_once_then_says_the_pool_is_empty():
    # given a pool of three numbers (and another carrier's pool that must not be touched)
    sf = carrier_with_pool("sf", how_many=3)
    pool("zto", ["750000000000001"])

    # when four numbers are taken one after the other
    taken = [waybill_take(carrier=sf) for _ in range(3)]
    with pytest.raises(DomainError) as empty:
        waybill_take(carrier=sf)

    # then each number came once, in import order, all are marked, and the fourth is refused
    assert taken == sf_numbers(3)
    assert not WaybillNumber.objects.filter(carrier=sf, taken_at__isnull=True).exists()
    assert empty.value.code == "pool_empty"
    assert WaybillNumber.objects.get(carrier__code="zto").taken_at is None


def test_waybill_take_without_any_pool_is_refused():
    with pytest.raises(DomainError) as empty:
        waybill_take(carrier=carrier("jd"))
    assert empty.value.code == "pool_empty"


# --- waves -----------------------------------------------------------------------------------


def test_wave_create_takes_only_allocated_orders_that_are_in_no_wave():
    # given orders in every state a selection may sweep up
    sku = stocked_sku(kg="20")
    allocated = allocated_order((sku, 1))
    in_a_wave = allocated_order((sku, 1))
    first_wave = wave_create(orders=[in_a_wave], acting_user=staff())
    fresh = new_order((sku, 1))
    cancelled = allocated_order((sku, 1))
    order_cancel(order=cancelled, acting_user=staff("manager"))
    backordered = new_order((sku, 10))
    order_allocate(order=backordered)
    assert backordered.status == OrderStatus.BACKORDERED

    # when a wave is made of all of them
    wave = wave_create(
        orders=[allocated, in_a_wave, fresh, cancelled, backordered],
        acting_user=staff(),
        carrier=carrier("sf"),
        selection={"oldest": 5},
    )

    # then only the allocated order joined it, moved to picking with an event naming the wave
    assert [wo.order_id for wo in wave.wave_orders.all()] == [allocated.pk]
    assert reload(allocated).status == OrderStatus.PICKING
    event = OrderEvent.objects.filter(order=allocated).latest("id")
    assert (event.from_status, event.to_status, event.note) == ("allocated", "picking", wave.code)
    assert WaveOrder.objects.get(order=in_a_wave).wave == first_wave
    assert [reload(o).status for o in (fresh, cancelled, backordered)] == [
        OrderStatus.NEW,
        OrderStatus.CANCELLED,
        OrderStatus.BACKORDERED,
    ]
    assert (wave.status, wave.carrier.code, wave.selection) == ("picking", "sf", {"oldest": 5})
    assert wave.code != first_wave.code
    _assert_stock_clean()


def test_wave_create_refuses_a_selection_with_no_order_to_pick():
    # given an order that is still new
    order = new_order((stocked_sku(), 1))

    # when a wave is made of it, or of nothing
    for orders in ([order], []):
        with pytest.raises(DomainError):
            wave_create(orders=orders, acting_user=staff())

    # then no wave exists and the order did not move
    assert not WaveOrder.objects.exists()
    assert reload(order).status == OrderStatus.NEW


def test_wave_positions_follow_the_time_the_orders_were_paid():
    # given three orders created in an order that differs from when they were paid
    sku = stocked_sku()
    now = timezone.now()
    late = allocated_order((sku, 1), paid_at=now - timedelta(minutes=5))
    early = allocated_order((sku, 1), paid_at=now - timedelta(hours=3))
    middle = allocated_order((sku, 1), paid_at=now - timedelta(hours=1))

    # when they become a wave
    wave = wave_create(orders=[late, middle, early], acting_user=staff())

    # then the first paid is picked first
    positions = list(wave.wave_orders.values_list("position", "order_id"))
    assert positions == [(1, early.pk), (2, middle.pk), (3, late.pk)]


# --- packing ---------------------------------------------------------------------------------


def test_parcel_pack_ships_the_allocated_kilograms_out_of_the_ledger():
    # given an order of two lines (a 5斤 box × 2 and chestnuts) in a wave, and a 顺丰 pool
    peach = stocked_sku("MT-5J", kg="50")
    chestnut = stocked_sku("BL-2J", kg="30", net_kg="1.000", packaging_kg="0.080")
    sf = carrier_with_pool("sf", how_many=2)
    order = allocated_order((peach, 2), (chestnut, 1))
    wave = wave_create(orders=[order], acting_user=staff())
    allocations = list(Allocation.objects.filter(line__order=order).order_by("pk"))
    lots = {a.lot for a in allocations}
    before = {lot.pk: lot_figures(lot) for lot in lots}

    # when the packer packs it at 6.9 kg (5 + 1 net, 0.68 packaging)
    result = _pack(order, weight="6.900", carrier=sf)

    # then the parcel holds exactly what was allocated, with the pool's first number
    parcel = result.parcel
    assert result.warnings == []
    assert parcel.tracking_number == "SF000000000001"
    assert WaybillNumber.objects.get(number="SF000000000001").taken_at is not None
    assert (parcel.status, parcel.order, parcel.wave, parcel.weight_kg) == (
        ParcelStatus.PACKED,
        order,
        wave,
        D("6.900"),
    )
    items = list(parcel.items.order_by("pk").values_list("line_id", "lot_id", "kg"))
    assert items == [(a.line_id, a.lot_id, a.kg) for a in allocations]
    # the lots' on-hand and reserved both fell by what was packed, with a ship-out row each
    for lot in lots:
        kg = sum(a.kg for a in allocations if a.lot_id == lot.pk)
        on_hand, reserved = before[lot.pk]
        assert lot_figures(lot) == (on_hand - kg, reserved - kg)
        movement = StockMovement.objects.get(lot=lot, kind=MovementKind.SHIP_OUT)
        assert (movement.kg_delta, movement.reference) == (-kg, f"parcel:{parcel.pk}")
    assert not Allocation.objects.filter(line__order=order).exists()
    # the order went picking → packed, the parcel has its first event, the wave is done
    assert reload(order).status == OrderStatus.PACKED
    event = OrderEvent.objects.filter(order=order).latest("id")
    assert (event.from_status, event.to_status, event.note) == (
        "picking",
        "packed",
        parcel.tracking_number,
    )
    assert list(parcel.events.values_list("status", "source")) == [("packed", "station")]
    assert reload(wave).status == WaveStatus.DONE
    _assert_stock_clean()


def test_parcel_pack_of_an_order_in_no_wave_goes_straight_to_packed():
    # given an allocated order that nobody put in a wave
    carrier_with_pool()
    order = allocated_order()

    # when it is packed
    parcel = _pack(order).parcel

    # then its history shows allocated → packed and the parcel has no wave
    moves = list(OrderEvent.objects.filter(order=order).values_list("to_status", flat=True))
    assert moves[-2:] == ["allocated", "packed"]
    assert parcel.wave is None


@pytest.mark.parametrize("status", ["new", "backordered", "cancelled", "packed"])
def test_parcel_pack_refuses_an_order_that_holds_no_allocated_stock(status):
    # given an order in the state under test, and a pool
    sku = stocked_sku(kg="5")
    sf = carrier_with_pool()
    if status == "new":
        order = new_order((sku, 1))
    elif status == "backordered":
        order = new_order((sku, 3))
        order_allocate(order=order)
    elif status == "cancelled":
        order = allocated_order((sku, 1))
        order_cancel(order=order, acting_user=staff("manager"))
    else:
        order = allocated_order((sku, 1))
        _pack(order)
    assert reload(order).status == status
    parcels, movements = Parcel.objects.count(), StockMovement.objects.count()
    free = WaybillNumber.objects.filter(taken_at__isnull=True).count()

    # when the packer tries to pack it
    with pytest.raises(DomainError) as refused:
        _pack(order, carrier=sf)

    # then nothing changed: no parcel, no ledger row, no waybill used, same status
    assert refused.value.code == "not_packable"
    assert (Parcel.objects.count(), StockMovement.objects.count()) == (parcels, movements)
    assert WaybillNumber.objects.filter(taken_at__isnull=True).count() == free
    assert reload(order).status == status
    _assert_stock_clean()


def test_parcel_pack_uses_a_scanned_number_and_marks_it_taken_in_the_pool():
    # given a pool of three numbers
    sf = carrier_with_pool(how_many=3)

    # when the packer scans the pool's second number onto the box
    result = _pack(allocated_order(), tracking_number=" SF000000000002 ", carrier=sf)

    # then the parcel carries it, it is taken, and the pool hands out the others only
    assert result.parcel.tracking_number == "SF000000000002"
    assert result.warnings == []
    assert WaybillNumber.objects.get(number="SF000000000002").taken_at is not None
    assert [waybill_take(carrier=sf), waybill_take(carrier=sf)] == [
        "SF000000000001",
        "SF000000000003",
    ]


def test_parcel_pack_accepts_an_unusual_scanned_number_with_a_warning():
    # when a number that does not look like 顺丰's is scanned (no pool exists at all)
    result = _pack(allocated_order(), tracking_number="ZT-2026-0001")

    # then the parcel is packed with it, and the packer is warned
    assert result.parcel.tracking_number == "ZT-2026-0001"
    assert len(result.warnings) == 1 and "ZT-2026-0001" in result.warnings[0]
    assert reload(result.parcel.order).status == OrderStatus.PACKED


def test_parcel_pack_refuses_a_number_already_on_another_parcel():
    # given a parcel that carries a scanned number
    sku = stocked_sku()
    _pack(allocated_order((sku, 1)), tracking_number="SF123456789012")
    second = allocated_order((sku, 1))

    # when the same number is scanned for the next order
    with pytest.raises(DomainError) as refused:
        _pack(second, tracking_number="SF123456789012")

    # then it is refused, and the order still holds its stock
    assert refused.value.field == "tracking_number"
    assert reload(second).status == OrderStatus.ALLOCATED
    assert Allocation.objects.filter(line__order=second).exists()
    _assert_stock_clean()


@pytest.mark.parametrize(
    ("weight", "outside"),
    [("2.600", False), ("3.000", False), ("3.001", True), ("2.599", True), ("0.500", True)],
)
def test_parcel_pack_stops_outside_the_band_until_the_packer_says_why(weight, outside):
    # given a 2.5 kg box in 0.3 kg of packaging, ± 0.2 kg: 2.6–3.0 kg is expected
    sf = carrier_with_pool()
    order = allocated_order((stocked_sku(tolerance_kg="0.200"), 1))
    free = WaybillNumber.objects.filter(carrier=sf, taken_at__isnull=True).count()

    # when it is weighed and packed without a reason
    if outside:
        with pytest.raises(DomainError) as refused:
            _pack(order, weight=weight)
        # then packing stops before a waybill number is taken, the order untouched
        assert refused.value.code == "weight_outside_band"
        assert refused.value.field == "weight_kg"
        assert "2.600–3.000" in refused.value.message
        assert WaybillNumber.objects.filter(carrier=sf, taken_at__isnull=True).count() == free
        assert reload(order).status == OrderStatus.ALLOCATED
        # and with a reason it packs, the reason kept on the parcel and its first event
        result = _pack(order, weight=weight, weight_reason="  加了冰袋  ")
        assert result.parcel.weight_reason == "加了冰袋"
        assert "加了冰袋" in result.parcel.events.get().description
    else:
        result = _pack(order, weight=weight, weight_reason="ignored inside the band")
        assert result.parcel.weight_reason == ""
    assert bool(result.parcel.weight_warning) == outside
    assert len(result.warnings) == int(outside)
    parcel = reload(result.parcel)
    assert parcel.weight_kg == D(weight) and parcel.expected_kg == D("2.800")
    assert reload(order).status == OrderStatus.PACKED


def test_parcel_pack_refuses_a_weight_that_is_not_a_weight():
    order = allocated_order()
    for weight in ("0", "-1", "2.5001"):
        with pytest.raises(DomainError) as refused:
            _pack(order, weight=weight, tracking_number="SF000000000009")
        assert refused.value.field == "weight_kg"
    assert reload(order).status == OrderStatus.ALLOCATED


def test_parcel_pack_merges_orders_to_the_same_recipient_into_one_parcel():
    # given two orders of one buyer to one address, in one wave
    peach = stocked_sku("MT-5J")
    honey = stocked_sku("FM-1J", kg="10", net_kg="0.500", packaging_kg="0.250")
    carrier_with_pool()
    first = allocated_order((peach, 1))
    second = allocated_order((honey, 1))
    wave = wave_create(orders=[first, second], acting_user=staff())

    # when they are packed as one parcel
    parcel = _pack(first, weight="3.550", merge=[second]).parcel

    # then one parcel holds both orders' items, both orders are packed, the wave is done
    assert Parcel.objects.count() == 1
    lines = set(ParcelItem.objects.filter(parcel=parcel).values_list("line__order_id", flat=True))
    assert lines == {first.pk, second.pk}
    assert [reload(first).status, reload(second).status] == ["packed", "packed"]
    assert not Allocation.objects.exists()
    assert reload(wave).status == WaveStatus.DONE
    _assert_stock_clean()


def test_parcel_pack_refuses_to_merge_an_order_to_another_address():
    # given two orders of one buyer, the second to a different flat
    sku = stocked_sku()
    carrier_with_pool()
    first = allocated_order((sku, 1))
    second = allocated_order((sku, 1), address_detail="小寨东路 1 号 3 栋 2 单元 502 室")

    # when the packer tries to merge them
    with pytest.raises(DomainError) as refused:
        _pack(first, weight="5.600", merge=[second])

    # then nothing is packed
    assert refused.value.field == "merge"
    assert not Parcel.objects.exists()
    assert [reload(first).status, reload(second).status] == ["allocated", "allocated"]
    _assert_stock_clean()


def test_a_wave_closes_when_its_last_order_is_packed():
    # given a wave of two orders
    sku = stocked_sku()
    carrier_with_pool()
    first = allocated_order((sku, 1))
    second = allocated_order((sku, 1), recipient_name="王五")
    wave = wave_create(orders=[first, second], acting_user=staff())

    # when the first is packed the wave is still being picked; after the second it is done
    _pack(first)
    assert reload(wave).status == WaveStatus.PICKING
    _pack(second)
    assert reload(wave).status == WaveStatus.DONE


def test_a_wave_stays_open_while_its_first_order_waits_behind_packed_later_ones():
    # given a wave of three orders, packed from the end of the pick list
    sku = stocked_sku()
    carrier_with_pool()
    orders = [allocated_order((sku, 1), recipient_name=name) for name in ("甲", "乙", "丙")]
    wave = wave_create(orders=orders, acting_user=staff())
    _pack(orders[2])
    _pack(orders[1])

    # then the first order (position 1) still keeps the wave open; packing it closes the wave
    assert reload(wave).status == WaveStatus.PICKING
    _pack(orders[0])
    assert reload(wave).status == WaveStatus.DONE


def test_merging_the_last_order_of_another_wave_closes_that_wave_too():
    # given two waves; the buyer's second order is the only one left in the second wave
    sku = stocked_sku()
    carrier_with_pool()
    first = allocated_order((sku, 1))
    second = allocated_order((sku, 1))
    wave_a = wave_create(orders=[first], acting_user=staff())
    wave_b = wave_create(orders=[second], acting_user=staff())

    # when both go into one parcel
    _pack(first, weight="5.600", merge=[second])

    # then neither wave waits for an order that has been packed
    assert [reload(wave_a).status, reload(wave_b).status] == ["done", "done"]


# --- parcel status and tracking ---------------------------------------------------------------

TRANSITIONS = [(a, b) for a in ParcelStatus.values for b in ParcelStatus.values]


@pytest.mark.parametrize(("start", "to"), TRANSITIONS)
def test_parcel_transition_follows_the_table(start, to):
    # given a parcel in ``start`` (set directly: the table, not the journey, is under test)
    parcel = _packed_parcel()
    Parcel.objects.filter(pk=parcel.pk).update(status=start)
    parcel.status = start
    events = parcel.events.count()

    # when it is moved to ``to``
    allowed = to in PARCEL_TRANSITIONS[start]
    if allowed:
        parcel_transition(parcel=parcel, to=to, source=TrackingEvent.Source.API)
    else:
        with pytest.raises(DomainError) as refused:
            parcel_transition(parcel=parcel, to=to, source=TrackingEvent.Source.API)
        assert refused.value.code == "forbidden_transition"

    # then it moved with an event if the table allows it, and not at all otherwise
    assert reload(parcel).status == (to if allowed else start)
    assert parcel.events.count() == events + int(allowed)


def test_handover_scan_ships_the_parcel_and_its_order():
    # given a packed parcel
    parcel = _packed_parcel()

    # when the carrier's pickup scans it out
    handover_scan(tracking_number=f" {parcel.tracking_number}\n", acting_user=staff())

    # then the parcel and its order are shipped, with a scan event by the packer
    assert reload(parcel).status == ParcelStatus.SHIPPED
    assert reload(parcel.order).status == OrderStatus.SHIPPED
    event = parcel.events.latest("id")
    assert (event.status, event.source, event.acting_user) == ("shipped", "scan", staff())

    # and a second scan of the same parcel is refused
    with pytest.raises(DomainError):
        handover_scan(tracking_number=parcel.tracking_number, acting_user=staff())


def _second_parcel(parcel: Parcel, number: str) -> Parcel:
    """The carrier's second box of the same order (one order, parcel 2 of 2)."""
    Parcel.objects.filter(pk=parcel.pk).update(parcel_count=2)
    return Parcel.objects.create(
        order=parcel.order,
        carrier=parcel.carrier,
        tracking_number=number,
        weight_kg=D("1.000"),
        packed_by=staff(),
        sequence=2,
        parcel_count=2,
    )


def test_an_order_in_two_parcels_ships_when_both_have_and_is_delivered_when_both_are():
    # given an order packed into two parcels
    first = _packed_parcel()
    second = _second_parcel(first, "SF000000000099")
    order = first.order

    # when the first is scanned out, the order waits; when the second is, it ships
    handover_scan(tracking_number=first.tracking_number, acting_user=staff())
    assert reload(order).status == OrderStatus.PACKED
    handover_scan(tracking_number=second.tracking_number, acting_user=staff())
    assert reload(order).status == OrderStatus.SHIPPED

    # and it is delivered only when both parcels are
    now = timezone.now()
    tracking_update(tracking_number=first.tracking_number, status="delivered", occurred_at=now)
    assert reload(order).status == OrderStatus.SHIPPED
    tracking_update(tracking_number=second.tracking_number, status="delivered", occurred_at=now)
    assert reload(order).status == OrderStatus.DELIVERED


def test_an_order_ships_when_its_other_parcel_already_had_an_exception():
    # given an order in two parcels; the first left and hit an exception on the road
    first = _packed_parcel()
    second = _second_parcel(first, "SF000000000099")
    order = first.order
    handover_scan(tracking_number=first.tracking_number, acting_user=staff())
    tracking_update(
        tracking_number=first.tracking_number, status="exception", occurred_at=timezone.now()
    )

    # when the second is scanned out, the order has left the studio
    handover_scan(tracking_number=second.tracking_number, acting_user=staff())
    assert reload(order).status == OrderStatus.SHIPPED

    # and once both arrive it is delivered
    later = timezone.now() + timedelta(days=1)
    for parcel in (first, second):
        tracking_update(
            tracking_number=parcel.tracking_number, status="delivered", occurred_at=later
        )
    assert reload(order).status == OrderStatus.DELIVERED


def test_tracking_update_delivers_a_parcel_and_its_order():
    parcel = _shipped_parcel()
    when = timezone.now() - timedelta(minutes=10)

    result, changed = tracking_update(
        tracking_number=parcel.tracking_number,
        status="delivered",
        occurred_at=when,
        description="已签收，本人签收",
    )

    assert changed and result.status == ParcelStatus.DELIVERED
    assert reload(parcel).status == ParcelStatus.DELIVERED
    assert reload(parcel.order).status == OrderStatus.DELIVERED
    event = parcel.events.latest("id")
    assert (event.status, event.occurred_at, event.source, event.description) == (
        "delivered",
        when,
        "file",
        "已签收，本人签收",
    )


def test_tracking_update_records_an_exception_and_the_order_stays_shipped():
    parcel = _shipped_parcel()

    tracking_update(
        tracking_number=parcel.tracking_number,
        status="exception",
        occurred_at=timezone.now(),
        description="地址不详，联系不上收件人",
        source=TrackingEvent.Source.API,
    )

    assert reload(parcel).status == ParcelStatus.EXCEPTION
    assert reload(parcel.order).status == OrderStatus.SHIPPED


def test_tracking_update_twice_changes_nothing_the_second_time():
    # given a delivered update already applied
    parcel = _shipped_parcel()
    when = timezone.now()
    tracking_update(tracking_number=parcel.tracking_number, status="delivered", occurred_at=when)
    events = parcel.events.count()

    # when the same file row arrives again
    _parcel, changed = tracking_update(
        tracking_number=parcel.tracking_number, status="delivered", occurred_at=when
    )

    # then it is recognised and nothing is added
    assert changed is False
    assert parcel.events.count() == events
    assert reload(parcel).status == ParcelStatus.DELIVERED


def test_tracking_update_for_an_unknown_number_is_refused():
    with pytest.raises(DomainError) as refused:
        tracking_update(
            tracking_number="SF999999999999", status="delivered", occurred_at=timezone.now()
        )
    assert refused.value.code == "not_found"


def test_tracking_update_refuses_a_status_the_carrier_cannot_report():
    parcel = _shipped_parcel()
    with pytest.raises(DomainError):
        tracking_update(
            tracking_number=parcel.tracking_number, status="returned", occurred_at=timezone.now()
        )
    assert reload(parcel).status == ParcelStatus.SHIPPED


# --- returns ---------------------------------------------------------------------------------


def _delivered_parcel(**kwargs) -> Parcel:
    parcel = _shipped_parcel(**kwargs)
    tracking_update(
        tracking_number=parcel.tracking_number, status="delivered", occurred_at=timezone.now()
    )
    return reload(parcel)


def test_parcel_return_restocks_into_the_original_lot():
    # given a delivered parcel of one 2.5 kg box
    parcel = _delivered_parcel()
    (item,) = parcel.items.all()
    on_hand, reserved = lot_figures(item.lot)

    # when the whole box comes back in good shape
    parcel_return(
        parcel=parcel,
        rows=[ReturnRow(item, D("2.500"), ReturnDisposition.RESTOCK)],
        acting_user=staff("intake"),
    )

    # then its kilograms are back in the lot with a return row, and the order is refunded
    assert lot_figures(item.lot) == (on_hand + D("2.500"), reserved)
    movement = StockMovement.objects.get(lot=item.lot, kind=MovementKind.RETURN)
    assert (movement.kg_delta, movement.reference) == (D("2.500"), f"parcel:{parcel.pk}")
    assert reload(parcel).status == ParcelStatus.RETURNED
    assert parcel.events.latest("id").source == "return"
    assert reload(parcel.order).status == OrderStatus.REFUNDED
    line = ReturnLine.objects.get()
    assert (line.item, line.kg, line.disposition) == (item, D("2.500"), "restock")
    _assert_stock_clean()


def test_parcel_return_writes_off_what_cannot_be_sold_again():
    # given a shipped parcel of two boxes
    carrier_with_pool()
    order = allocated_order((stocked_sku(), 2))
    parcel = _pack(order, weight="5.600").parcel
    handover_scan(tracking_number=parcel.tracking_number, acting_user=staff())
    (item,) = parcel.items.all()
    on_hand, _reserved = lot_figures(item.lot)

    # when one box comes back fine and one crushed
    parcel_return(
        parcel=parcel,
        rows=[
            ReturnRow(item, D("2.500"), ReturnDisposition.RESTOCK),
            ReturnRow(item, D("2.500"), ReturnDisposition.WRITE_OFF, reason="运输挤压"),
        ],
        acting_user=staff("intake"),
    )

    # then the lot gained one box: two return rows, and a write-off that takes one away again
    assert lot_figures(item.lot)[0] == on_hand + D("2.500")
    rows = list(
        StockMovement.objects.filter(lot=item.lot, reference=f"parcel:{parcel.pk}")
        .exclude(kind=MovementKind.SHIP_OUT)
        .order_by("pk")
        .values_list("kind", "kg_delta")
    )
    assert rows == [("return", D("2.500")), ("return", D("2.500")), ("write_off", D("-2.500"))]
    assert reload(parcel).status == ParcelStatus.RETURNED
    assert reload(order).status == OrderStatus.REFUNDED
    _assert_stock_clean()


def test_parcel_return_refuses_a_write_off_without_a_reason():
    parcel = _delivered_parcel()
    (item,) = parcel.items.all()
    with pytest.raises(DomainError) as refused:
        parcel_return(
            parcel=parcel,
            rows=[ReturnRow(item, D("1.000"), ReturnDisposition.WRITE_OFF)],
            acting_user=staff("intake"),
        )
    assert refused.value.field == "reason"
    assert not ReturnLine.objects.exists()


@pytest.mark.parametrize(
    "rows_kg",
    [
        pytest.param([["2.501"]], id="more-than-went-out"),
        pytest.param([["2.000", "1.000"]], id="two-rows-of-one-call"),
        pytest.param([["2.000"], ["1.000"]], id="a-second-return"),
    ],
)
def test_parcel_return_refuses_more_than_went_out(rows_kg):
    # given a delivered parcel of one 2.5 kg box
    parcel = _delivered_parcel()
    (item,) = parcel.items.all()
    *earlier, last = rows_kg
    for kgs in earlier:
        parcel_return(
            parcel=parcel,
            rows=[ReturnRow(item, D(kg), ReturnDisposition.RESTOCK) for kg in kgs],
            acting_user=staff("intake"),
        )
    movements = StockMovement.objects.count()

    # when more comes back in total than the box held
    with pytest.raises(DomainError) as refused:
        parcel_return(
            parcel=parcel,
            rows=[ReturnRow(item, D(kg), ReturnDisposition.RESTOCK) for kg in last],
            acting_user=staff("intake"),
        )

    # then nothing of that intake is recorded
    assert refused.value.field == "kg"
    assert StockMovement.objects.count() == movements
    assert sum(line.kg for line in ReturnLine.objects.all()) <= item.kg
    _assert_stock_clean()


def test_parcel_return_refuses_an_item_of_another_parcel():
    parcel = _delivered_parcel()
    other = _delivered_parcel(recipient_name="王五")
    (item,) = other.items.all()
    with pytest.raises(DomainError) as refused:
        parcel_return(
            parcel=parcel,
            rows=[ReturnRow(item, D("1.000"), ReturnDisposition.RESTOCK)],
            acting_user=staff("intake"),
        )
    assert refused.value.field == "item"


def test_a_restocked_return_fills_a_waiting_back_order(django_capture_on_commit_callbacks):
    # given the last box of the lot went out in a parcel, and the next buyer waits for one
    sku = stocked_sku(kg="2.5")
    carrier_with_pool()
    parcel = _pack(allocated_order((sku, 1))).parcel
    handover_scan(tracking_number=parcel.tracking_number, acting_user=staff())
    waiting = new_order((sku, 1), recipient_name="王五")
    order_allocate(order=waiting)
    assert waiting.status == OrderStatus.BACKORDERED
    (item,) = parcel.items.all()

    # when the parcel comes back and its box is restocked
    with django_capture_on_commit_callbacks(execute=True):
        parcel_return(
            parcel=parcel,
            rows=[ReturnRow(item, D("2.500"), ReturnDisposition.RESTOCK)],
            acting_user=staff("intake"),
        )

    # then a back-order fill is queued for the lot's product and grade, as after an intake,
    (task,) = DBTaskResult.objects.filter(task_path="orders.tasks.fill_backorders")
    assert task.args_kwargs["args"] == [[[sku.product_id, sku.grade_id]]]

    # and when it runs, the waiting order gets the box
    fill_backorders.call(*task.args_kwargs["args"])
    assert reload(waiting).status == OrderStatus.ALLOCATED
    assert Allocation.objects.get(line__order=waiting).lot == item.lot
    _assert_stock_clean()


def test_one_order_goes_into_two_boxes_each_with_its_own_waybill_and_stock():
    # given a wave with a family order of 6 boxes of sweet potatoes (15 kg)
    sf = carrier_with_pool()
    sku = stocked_sku("HS-5J", kg="40")
    order = allocated_order((sku, 6))
    wave = wave_create(orders=[order], acting_user=staff(), carrier=sf)
    line = order.lines.get()

    # when the packer closes a box of 4, then a box of 2
    first = parcel_pack(
        order=order, carrier=sf, weight_kg=D("11.2"), acting_user=staff(),
        items=[PackItem(line.pk, 4)],
    )  # fmt: skip
    assert not first.complete
    assert reload(order).status == OrderStatus.PICKING
    assert reload(wave).status == WaveStatus.PICKING  # the order is not packed yet
    second = parcel_pack(
        order=order, carrier=sf, weight_kg=D("5.6"), acting_user=staff(),
        items=[PackItem(line.pk, 2)],
    )  # fmt: skip

    # then there are two parcels with different numbers, 10 kg and 5 kg of the line
    assert second.complete
    assert first.parcel.tracking_number != second.parcel.tracking_number
    assert [sum(i.kg for i in p.parcel.items.all()) for p in (first, second)] == [D("10"), D("5")]
    assert first.warnings == second.warnings == []
    # the order is packed once both are closed, the wave done, the ledger right
    assert reload(order).status == OrderStatus.PACKED
    assert reload(wave).status == WaveStatus.DONE
    shipped = StockMovement.objects.filter(kind=MovementKind.SHIP_OUT)
    assert sorted(m.reference for m in shipped) == sorted(
        f"parcel:{p.parcel.pk}" for p in (first, second)
    )
    assert stock_mismatches() == []

    # when both are handed over, the order ships only after the second scan
    handover_scan(tracking_number=first.parcel.tracking_number, acting_user=staff())
    assert reload(order).status == OrderStatus.PACKED
    handover_scan(tracking_number=second.parcel.tracking_number, acting_user=staff())
    assert reload(order).status == OrderStatus.SHIPPED
    # the boxes are numbered 1/2 and 2/2, each weighing what was expected of it
    boxes = [reload(p.parcel) for p in (first, second)]
    assert [(b.sequence, b.parcel_count) for b in boxes] == [(1, 2), (2, 2)]
    assert [b.expected_kg for b in boxes] == [D("11.200"), D("5.600")]

    # each has its own tracking: the order is delivered when both are
    now = timezone.now()
    tracking_update(tracking_number=boxes[0].tracking_number, status="delivered", occurred_at=now)
    assert reload(order).status == OrderStatus.SHIPPED
    tracking_update(tracking_number=boxes[1].tracking_number, status="delivered", occurred_at=now)
    assert reload(order).status == OrderStatus.DELIVERED

    # a return is per parcel: box 2 comes back alone, its 5 kg restocked, the order partly
    # refunded (after-sales by line), box 1 still delivered
    (item,) = boxes[1].items.all()
    parcel_return(
        parcel=boxes[1],
        rows=[ReturnRow(item, D("5"), ReturnDisposition.RESTOCK)],
        acting_user=staff("intake"),
    )
    assert reload(boxes[1]).status == ParcelStatus.RETURNED
    assert reload(boxes[0]).status == ParcelStatus.DELIVERED
    assert reload(order).status == OrderStatus.PARTIALLY_REFUNDED
    # and when box 1 comes back too, the order is refunded
    parcel_return(
        parcel=boxes[0],
        rows=[ReturnRow(i, i.kg, ReturnDisposition.RESTOCK) for i in boxes[0].items.all()],
        acting_user=staff("intake"),
    )
    assert reload(order).status == OrderStatus.REFUNDED
    assert stock_mismatches() == []


def test_a_box_closed_with_units_left_is_one_of_at_least_two_and_the_plan_can_grow():
    # given an order of 9 boxes packed as 3 + 3 + 3, the packer planning two boxes
    sf = carrier_with_pool()
    sku = stocked_sku("HS-5J", kg="40")
    order = allocated_order((sku, 9))
    line = order.lines.get()

    def box(units, weight, planned=None):
        return parcel_pack(
            order=order, carrier=sf, weight_kg=D(weight), acting_user=staff(),
            items=[PackItem(line.pk, units)], parcel_count=planned,
        )  # fmt: skip

    first = box(3, "8.4")
    assert (first.parcel.sequence, first.parcel.parcel_count) == (1, 2)
    parcel_labels_printed(parcel_ids=[first.parcel.pk])
    # when the second box leaves units behind, the order has (at least) three boxes
    second = box(3, "8.4")
    assert (second.parcel.sequence, second.parcel.parcel_count) == (2, 3)
    # then box 1 counts three as well, and its printed label is named to print again
    assert reload(first.parcel).parcel_count == 3
    assert any("1/2" in warning and "1/3" in warning for warning in second.warnings)
    third = box(3, "8.4")
    assert third.complete and (third.parcel.sequence, third.parcel.parcel_count) == (3, 3)
    assert reload(order).status == OrderStatus.PACKED


def test_an_orders_boxes_include_the_box_it_shared_with_another_order():
    # given two orders to one buyer: the first box holds all of A and one unit of B
    sf = carrier_with_pool()
    sku = stocked_sku("HS-5J", kg="40")
    a, b = allocated_order((sku, 1)), allocated_order((sku, 2))
    a_line, b_line = a.lines.get(), b.lines.get()
    shared = parcel_pack(
        order=a, merge=[b], carrier=sf, weight_kg=D("5.6"), acting_user=staff(),
        items=[PackItem(a_line.pk, 1), PackItem(b_line.pk, 1)], parcel_count=2,
    ).parcel  # fmt: skip
    assert shared.order_id == a.pk

    # when B's last unit goes into a box of its own
    own = parcel_pack(order=b, carrier=sf, weight_kg=D("2.8"), acting_user=staff()).parcel

    # then that box is B's second: the shared box (filed under A) counts among B's boxes
    assert (own.sequence, own.parcel_count) == (2, 2)
    assert order_parcel_ids(b.pk) == [shared.pk, own.pk]
    assert order_parcel_ids(a.pk) == [shared.pk]
    assert parcel_order_ids(shared.pk) == [a.pk, b.pk]
    assert parcel_order_ids(own.pk) == [b.pk]
    assert [reload(a).status, reload(b).status] == [OrderStatus.PACKED, OrderStatus.PACKED]


def test_a_planned_count_numbers_the_first_box_of_three():
    sf = carrier_with_pool()
    order = allocated_order((stocked_sku("HS-5J", kg="40"), 9))
    line = order.lines.get()
    first = parcel_pack(
        order=order, carrier=sf, weight_kg=D("8.4"), acting_user=staff(),
        items=[PackItem(line.pk, 3)], parcel_count=3,
    )  # fmt: skip
    assert (first.parcel.sequence, first.parcel.parcel_count) == (1, 3)
    assert first.warnings == []
