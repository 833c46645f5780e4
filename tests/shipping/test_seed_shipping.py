"""seed_demo's shipping part: pools, waves and parcels in every state, made once through the
services, the same every time, with the ledger still exact."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from inventory.models import MovementKind, StockMovement
from inventory.selectors import stock_mismatches
from orders.models import AfterSale, AfterSaleKind, OrderStatus
from shipping.models import (
    Parcel,
    ParcelItem,
    ParcelStatus,
    ReturnLine,
    TrackingEvent,
    Wave,
    WaveOrder,
    WaveStatus,
    WaybillNumber,
    WaybillPool,
)

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    pass


def shipping_counts() -> dict[str, int]:
    models = (WaybillPool, WaybillNumber, Wave, WaveOrder, Parcel, ParcelItem, TrackingEvent)
    counts = {model.__name__: model.objects.count() for model in models + (ReturnLine,)}
    counts["taken"] = WaybillNumber.objects.filter(taken_at__isnull=False).count()
    counts["ledger"] = StockMovement.objects.count()
    return counts


def parcels_of_a_seed_rolled_back() -> list[tuple[str, str, str]]:
    try:
        with transaction.atomic():
            call_command("seed_demo", verbosity=0)
            made = sorted(
                Parcel.objects.values_list("order__external_no", "tracking_number", "status")
            )
            raise Rollback
    except Rollback:
        return made


def test_seed_demo_ships_parcels_in_every_state_once_and_keeps_the_ledger_exact():
    # when the demo is loaded twice
    call_command("seed_demo", verbosity=0)
    first = shipping_counts()
    call_command("seed_demo", verbosity=0)

    # then the second run made nothing new
    assert shipping_counts() == first

    # parcels in every state, from waves; sorting codes on some; one weight warning
    statuses = set(Parcel.objects.values_list("status", flat=True))
    assert statuses == set(ParcelStatus.values)
    # (a reshipment, 补发, is a parcel of its own outside any wave)
    reshipped = [
        int(reference.split(":")[1])
        for reference in AfterSale.objects.filter(kind=AfterSaleKind.RESHIP).values_list(
            "parcel_reference", flat=True
        )
    ]
    assert len(reshipped) == 1
    assert not Parcel.objects.filter(wave__isnull=True).exclude(pk__in=reshipped).exists()
    assert Parcel.objects.exclude(sorting_code="").exists()
    assert Parcel.objects.filter(sorting_code="").exists()
    assert Parcel.objects.exclude(weight_warning="").count() == 1
    heavy = Parcel.objects.exclude(weight_warning="").get()
    assert heavy.weight_reason and heavy.weight_reason in heavy.events.first().description
    # one order went out in two boxes, 1/2 and 2/2, each with its own number
    (split,) = (
        Parcel.objects.filter(parcel_count=2).values_list("order", flat=True).order_by().distinct()
    )
    boxes = Parcel.objects.filter(order=split).order_by("sequence")
    assert [(b.sequence, b.parcel_count) for b in boxes] == [(1, 2), (2, 2)]
    assert len({b.tracking_number for b in boxes}) == 2
    assert all(b.status != ParcelStatus.PACKED for b in boxes)  # handed over, both

    # waves: one done, one still picking with orders left to pack (and some packed)
    assert Wave.objects.count() >= 2
    assert Wave.objects.filter(status=WaveStatus.DONE).exists()
    picking = WaveOrder.objects.filter(order__status=OrderStatus.PICKING)
    assert picking.exists()
    busy = Wave.objects.get(pk=picking.values("wave").order_by("wave")[:1])
    assert busy.status == WaveStatus.PICKING

    # both pools still have numbers to give, and every parcel's number came from one
    for code in ("sf", "zto"):
        assert WaybillNumber.objects.filter(carrier__code=code, taken_at__isnull=True).count() > 100
    taken = set(
        WaybillNumber.objects.filter(taken_at__isnull=False).values_list("number", flat=True)
    )
    assert set(Parcel.objects.values_list("tracking_number", flat=True)) == taken

    # the returned parcel came back half restocked, half written off, and its order refunded
    returned = Parcel.objects.get(status=ParcelStatus.RETURNED)
    dispositions = set(
        ReturnLine.objects.filter(item__parcel=returned).values_list("disposition", flat=True)
    )
    assert dispositions == {"restock", "write_off"}
    assert returned.order.status == OrderStatus.REFUNDED
    reference = f"parcel:{returned.pk}"
    kinds = set(StockMovement.objects.filter(reference=reference).values_list("kind", flat=True))
    assert kinds == {MovementKind.SHIP_OUT, MovementKind.RETURN, MovementKind.WRITE_OFF}
    for parcel in Parcel.objects.exclude(status=ParcelStatus.PACKED):
        assert parcel.order.status != OrderStatus.PACKED

    # after-sales by line: a partial refund without a return, and a reshipment of a
    # delivered order in a second parcel
    partial = AfterSale.objects.get(kind=AfterSaleKind.REFUND_ONLY)
    assert partial.order.status == OrderStatus.PARTIALLY_REFUNDED
    assert 0 < partial.amount < partial.order.goods_total
    reship = Parcel.objects.get(pk=reshipped[0])
    assert reship.order.parcels.count() == 2

    # and cache = ledger, reservations = what orders hold
    assert stock_mismatches() == []
    out = StringIO()
    call_command("check_stock", stdout=out)
    assert "Stock matches the ledger" in out.getvalue()


def test_seed_demo_parcels_are_the_same_every_time():
    first = parcels_of_a_seed_rolled_back()
    assert first and not Parcel.objects.exists()

    call_command("seed_demo", verbosity=0)

    made = sorted(Parcel.objects.values_list("order__external_no", "tracking_number", "status"))
    assert made == first


def test_seed_demo_has_a_closed_and_an_open_handover_and_skus_with_gtins():
    from inventory.models import Sku
    from shipping.models import HandoverBatch

    call_command("seed_demo", verbosity=0)

    closed, open_ = (
        HandoverBatch.objects.filter(closed_at__isnull=False).get(),
        HandoverBatch.objects.filter(closed_at__isnull=True).get(),
    )
    assert (closed.carrier.code, closed.courier_name) == ("sf", "刘师傅")
    assert (
        closed.scans.count()
        == Parcel.objects.filter(carrier=closed.carrier).exclude(status=ParcelStatus.PACKED).count()
    )
    assert (open_.carrier.code, open_.scans.count()) == ("zto", 2)
    assert Parcel.objects.filter(carrier=open_.carrier, status=ParcelStatus.PACKED).exists()
    assert set(Sku.objects.exclude(gtin="").values_list("merchant_code", flat=True)) == {
        "FM-1J-TJ",
        "XM-5J-YJ",
    }
    for sku in Sku.objects.exclude(gtin=""):
        sku.full_clean()
