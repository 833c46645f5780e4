"""Reserve, release and ship out: inventory's side of an order, without any order."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from core.errors import DomainError
from inventory.models import Lot, MovementKind, StockMovement
from inventory.selectors import stock_mismatches
from inventory.services import (
    InsufficientStock,
    Reservation,
    ReserveRequest,
    stock_release,
    stock_reserve,
    stock_reserve_many,
    stock_ship_out,
)
from tests.factories import GradeFactory, ProductFactory, receive

D = Decimal
pytestmark = pytest.mark.django_db


def _days_ago(days: int):
    return timezone.localdate() - timedelta(days=days)


def _request(lot: Lot, kg: str) -> ReserveRequest:
    return ReserveRequest(lot.product_id, lot.grade_id, D(kg))


def _quantities(*lots: Lot) -> list[tuple[Decimal, Decimal]]:
    """(on-hand, reserved) of each lot, as stored."""
    stored = {lot.pk: lot for lot in Lot.objects.filter(pk__in=[lot.pk for lot in lots])}
    return [(stored[lot.pk].on_hand_kg, stored[lot.pk].reserved_kg) for lot in lots]


# --- reserve ---------------------------------------------------------------------------------


def test_reserve_sets_kilograms_aside_without_touching_on_hand_or_the_ledger():
    # given a lot of 100 kg
    lot = receive(kg="100")
    ledger_rows = StockMovement.objects.count()

    # when 12.5 kg are reserved
    result = stock_reserve(requests=[_request(lot, "12.5")], reference="order:1")

    # then the lot says so, and nothing left the warehouse
    assert result == [[Reservation(lot.pk, D("12.5"))]]
    assert _quantities(lot) == [(D("100.000"), D("12.500"))]
    assert StockMovement.objects.count() == ledger_rows
    assert stock_mismatches() == []


def test_reserve_answers_one_list_per_request_in_request_order_splitting_by_expiry():
    # given two grades; the first grade has a small lot expiring first and a big one
    top, second = GradeFactory(name="特级", rank=0), GradeFactory(name="一级", rank=1)
    big = receive(kg="100", grade=top, harvest_date=_days_ago(0))
    small = receive(kg="2", grade=top, harvest_date=_days_ago(3))
    other = receive(kg="50", grade=second)

    # when one document asks for 10 kg of the second grade, then 5 kg and 1 kg of the first
    result = stock_reserve(
        requests=[_request(other, "10"), _request(big, "5"), _request(big, "1")],
        reference="order:7",
    )

    # then each request got its own lots: the first-grade ones from the small lot first
    assert result == [
        [Reservation(other.pk, D("10"))],
        [Reservation(small.pk, D("2")), Reservation(big.pk, D("3"))],
        [Reservation(big.pk, D("1"))],
    ]
    assert _quantities(small, big, other) == [
        (D("2.000"), D("2.000")),
        (D("100.000"), D("4.000")),
        (D("50.000"), D("10.000")),
    ]
    assert stock_mismatches() == []


def test_reserve_skips_what_is_already_reserved():
    # given a lot expiring first that is fully reserved, and one that is not
    first = receive(kg="10", harvest_date=_days_ago(3))
    second = receive(kg="10", harvest_date=_days_ago(0))
    stock_reserve(requests=[_request(first, "10")], reference="order:1")

    # when more is asked for
    result = stock_reserve(requests=[_request(first, "4")], reference="order:2")

    # then it comes from the second lot
    assert result == [[Reservation(second.pk, D("4"))]]
    assert _quantities(first, second) == [(D("10.000"), D("10.000")), (D("10.000"), D("4.000"))]


def test_reserve_short_on_one_request_changes_nothing_and_says_how_much_is_missing():
    # given 10 kg of one grade and 3 kg of another
    top, second = GradeFactory(name="特级", rank=0), GradeFactory(name="一级", rank=1)
    plenty = receive(kg="10", grade=top)
    scarce = receive(kg="3", grade=second)

    # when a document asks for 5 kg of the first and 4.5 kg of the second, it is refused
    with pytest.raises(InsufficientStock) as refused:
        stock_reserve(
            requests=[_request(plenty, "5"), _request(scarce, "4.5")], reference="order:1"
        )

    # naming the shortage by product and grade
    assert refused.value.shortages == {(scarce.product_id, scarce.grade_id): D("1.5")}
    assert refused.value.code == "insufficient_stock"
    assert isinstance(refused.value, DomainError)
    # and nothing was reserved, not even for the request that could be served
    assert _quantities(plenty, scarce) == [(D("10.000"), D("0.000")), (D("3.000"), D("0.000"))]


def test_reserve_finds_nothing_for_a_product_without_lots():
    # given a lot of one product only
    lot = receive(kg="10")
    chestnut = ProductFactory(name="板栗")

    # when another product is asked for, it is refused and the lot is untouched
    with pytest.raises(InsufficientStock):
        stock_reserve(
            requests=[ReserveRequest(chestnut.pk, lot.grade_id, D("1"))], reference="order:1"
        )
    assert _quantities(lot) == [(D("10.000"), D("0.000"))]


@pytest.mark.parametrize("kg", ["0", "-1", "0.0001"])
def test_reserve_refuses_a_weight_that_is_not_a_positive_number_of_grams(kg):
    lot = receive(kg="10")
    with pytest.raises(DomainError) as refused:
        stock_reserve(requests=[_request(lot, kg)], reference="order:1")
    assert refused.value.field == "kg"
    assert not isinstance(refused.value, InsufficientStock)
    assert _quantities(lot) == [(D("10.000"), D("0.000"))]


# --- reserve for many documents at once ------------------------------------------------------


def test_reserve_many_serves_documents_in_order_each_all_or_nothing():
    # given 10 kg of one grade (4 kg expiring first) and 3 kg of another
    top, second = GradeFactory(name="特级", rank=0), GradeFactory(name="一级", rank=1)
    early = receive(kg="4", grade=top, harvest_date=_days_ago(3))
    late = receive(kg="6", grade=top, harvest_date=_days_ago(0))
    scarce = receive(kg="3", grade=second)

    # when four documents ask, in this order: 3 kg; 5 kg + 4 kg of the scarce grade (too much);
    # 5 kg; 3 kg
    outcomes = stock_reserve_many(
        documents=[
            [_request(early, "3")],
            [_request(early, "5"), _request(scarce, "4")],
            [_request(early, "5")],
            [_request(early, "3")],
        ]
    )

    # then the first and third are served first expiry first, the second reserves nothing (not
    # even its first request) and says what was short, and the fourth finds only 2 kg left
    assert outcomes[0] == [[Reservation(early.pk, D("3"))]]
    assert isinstance(outcomes[1], InsufficientStock)
    assert outcomes[1].shortages == {(scarce.product_id, scarce.grade_id): D("1")}
    assert outcomes[2] == [[Reservation(early.pk, D("1")), Reservation(late.pk, D("4"))]]
    assert isinstance(outcomes[3], InsufficientStock)
    assert outcomes[3].shortages == {(early.product_id, early.grade_id): D("1")}
    assert _quantities(early, late, scarce) == [
        (D("4.000"), D("4.000")),
        (D("6.000"), D("4.000")),
        (D("3.000"), D("0.000")),
    ]
    assert stock_mismatches() == []


def test_reserve_many_with_nothing_asked_answers_empty_lists():
    lot = receive(kg="10")
    assert stock_reserve_many(documents=[[], []]) == [[], []]
    assert stock_reserve_many(documents=[]) == []
    assert _quantities(lot) == [(D("10.000"), D("0.000"))]


def test_reserve_many_refuses_every_document_when_one_weight_is_not_whole_grams():
    lot = receive(kg="10")
    with pytest.raises(DomainError) as refused:
        stock_reserve_many(documents=[[_request(lot, "1")], [_request(lot, "0.0001")]])
    assert refused.value.field == "kg"
    assert _quantities(lot) == [(D("10.000"), D("0.000"))]


# --- release ---------------------------------------------------------------------------------


def test_release_gives_reserved_kilograms_back():
    # given 6 kg reserved over two lots
    first = receive(kg="4", harvest_date=_days_ago(2))
    second = receive(kg="10", harvest_date=_days_ago(0))
    (taken,) = stock_reserve(requests=[_request(first, "6")], reference="order:1")
    assert taken == [Reservation(first.pk, D("4")), Reservation(second.pk, D("2"))]

    # when they are released
    stock_release(reservations=taken, reference="order:1")

    # then both lots are free again, with on-hand untouched
    assert _quantities(first, second) == [(D("4.000"), D("0.000")), (D("10.000"), D("0.000"))]
    assert stock_mismatches() == []


def test_release_of_part_of_a_reservation_leaves_the_rest():
    lot = receive(kg="10")
    stock_reserve(requests=[_request(lot, "6")], reference="order:1")

    stock_release(reservations=[Reservation(lot.pk, D("2.5"))], reference="order:1")

    assert _quantities(lot) == [(D("10.000"), D("3.500"))]


def test_release_of_what_is_not_reserved_is_refused_and_changes_nothing():
    # given one lot with 5 kg reserved, and one with nothing reserved
    held = receive(kg="10", grade=GradeFactory(name="特级", rank=0))
    free = receive(kg="10", grade=GradeFactory(name="一级", rank=1))
    stock_reserve(requests=[_request(held, "5")], reference="order:1")

    # when a release names both (the good part first), it is refused naming the free lot
    with pytest.raises(DomainError) as refused:
        stock_release(
            reservations=[Reservation(held.pk, D("5")), Reservation(free.pk, D("1"))],
            reference="order:1",
        )
    assert free.code in refused.value.message
    assert "order:1" in refused.value.message

    # and even the good part was not released
    assert _quantities(held, free) == [(D("10.000"), D("5.000")), (D("10.000"), D("0.000"))]


def test_release_of_more_than_is_reserved_is_refused():
    lot = receive(kg="10")
    stock_reserve(requests=[_request(lot, "5")], reference="order:1")

    with pytest.raises(DomainError):
        stock_release(
            reservations=[Reservation(lot.pk, D("3")), Reservation(lot.pk, D("3"))],
            reference="order:1",
        )

    assert _quantities(lot) == [(D("10.000"), D("5.000"))]


# --- ship out --------------------------------------------------------------------------------


def test_ship_out_takes_reserved_kilograms_out_with_one_ledger_row_per_lot(manager_user):
    # given 9 kg reserved over two lots (4 + 5)
    first = receive(kg="4", harvest_date=_days_ago(2))
    second = receive(kg="10", harvest_date=_days_ago(0))
    (taken,) = stock_reserve(requests=[_request(first, "9")], reference="order:1")
    before = StockMovement.objects.count()

    # when a parcel ships them, naming the second lot in two pieces
    stock_ship_out(
        items=[taken[0], Reservation(second.pk, D("2")), Reservation(second.pk, D("3"))],
        reference="parcel:1",
        acting_user=manager_user,
    )

    # then on-hand and reserved both fell
    assert _quantities(first, second) == [(D("0.000"), D("0.000")), (D("5.000"), D("0.000"))]
    # and the ledger has one ship_out row per lot, summed
    rows = StockMovement.objects.order_by("id")[before:]
    assert [
        (r.lot_id, r.kind, r.kg_delta, r.on_hand_after, r.reference, r.acting_user_id) for r in rows
    ] == [
        (first.pk, MovementKind.SHIP_OUT, D("-4.000"), D("0.000"), "parcel:1", manager_user.pk),
        (second.pk, MovementKind.SHIP_OUT, D("-5.000"), D("5.000"), "parcel:1", manager_user.pk),
    ]
    assert stock_mismatches() == []


def test_ship_out_from_one_lot_writes_its_ledger_row_with_what_is_left(manager_user):
    # given 7.5 kg reserved on a 10 kg lot (on PostgreSQL, one lot is one statement)
    lot = receive(kg="10")
    stock_reserve(requests=[_request(lot, "7.5")], reference="order:1")
    before = StockMovement.objects.count()

    # when a parcel ships 4.25 kg of it, in two pieces
    stock_ship_out(
        items=[Reservation(lot.pk, D("4")), Reservation(lot.pk, D("0.25"))],
        reference="parcel:7",
        acting_user=manager_user,
    )

    # then both figures fell by the sum, and one ledger row says what is left
    assert _quantities(lot) == [(D("5.750"), D("3.250"))]
    (row,) = StockMovement.objects.order_by("id")[before:]
    assert (row.lot_id, row.kind, row.kg_delta, row.on_hand_after, row.reference) == (
        lot.pk,
        MovementKind.SHIP_OUT,
        D("-4.250"),
        D("5.750"),
        "parcel:7",
    )
    assert (row.acting_user_id, row.note) == (manager_user.pk, "")
    assert stock_mismatches() == []


def test_ship_out_of_more_than_reserved_is_refused_and_changes_nothing(manager_user):
    # given 5 kg reserved on a 10 kg lot
    lot = receive(kg="10")
    stock_reserve(requests=[_request(lot, "5")], reference="order:1")
    before = StockMovement.objects.count()

    # when 6 kg are shipped, it is refused: unreserved stock is not the parcel's to take
    # (ship-out runs in its caller's transaction: a refusal rolls the caller back)
    with pytest.raises(DomainError) as refused, transaction.atomic():
        stock_ship_out(
            items=[Reservation(lot.pk, D("6"))], reference="parcel:1", acting_user=manager_user
        )
    assert lot.code in refused.value.message

    # and nothing moved
    assert _quantities(lot) == [(D("10.000"), D("5.000"))]
    assert StockMovement.objects.count() == before


def test_ship_out_refused_on_one_lot_ships_nothing_from_the_others(manager_user):
    # given two lots with 5 kg reserved each
    first = receive(kg="10", grade=GradeFactory(name="特级", rank=0))
    second = receive(kg="10", grade=GradeFactory(name="一级", rank=1))
    stock_reserve(requests=[_request(first, "5"), _request(second, "5")], reference="order:1")
    before = StockMovement.objects.count()

    # when a parcel ships 5 kg of the first but 7 kg of the second, it is refused
    with pytest.raises(DomainError), transaction.atomic():
        stock_ship_out(
            items=[Reservation(first.pk, D("5")), Reservation(second.pk, D("7"))],
            reference="parcel:1",
            acting_user=manager_user,
        )

    # and the first lot's part did not leave either
    assert _quantities(first, second) == [(D("10.000"), D("5.000")), (D("10.000"), D("5.000"))]
    assert StockMovement.objects.count() == before
    assert stock_mismatches() == []
