"""Many threads, each with its own PostgreSQL connection, changing the same lots at once."""

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from core.errors import DomainError
from inventory.models import Lot, MovementKind, StockMovement
from inventory.selectors import stock_mismatches
from inventory.services import lock_lots, lot_adjust, lot_write_off
from tests.factories import GradeFactory, UserFactory, receive

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def _race(work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(index)`` in THREADS threads released together; return what they raised."""
    barrier = threading.Barrier(THREADS, timeout=30)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as exc:  # reported to the test, which fails on it
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return errors


def _ledger_kg(lot: Lot) -> Decimal:
    return StockMovement.objects.filter(lot=lot).aggregate(kg=Sum("kg_delta"))["kg"]


def test_racing_write_offs_take_exactly_what_the_lot_holds():
    # given a lot of 100 kg and 8 threads that each want to write off 1 kg twenty times
    lot = receive(kg="100")
    user = UserFactory(username="counter", roles=["manager"])
    written_off: list[int] = []
    refused: list[int] = []

    def write_off(index: int) -> None:
        for _attempt in range(20):
            try:
                lot_write_off(lot=lot, kg=Decimal("1"), reason="烂果", acting_user=user)
            except DomainError:
                refused.append(index)
            else:
                written_off.append(index)

    # when they race
    errors = _race(write_off)

    # then exactly 100 kg went out, the other 60 attempts were refused, and nothing else failed
    assert errors == []
    assert (len(written_off), len(refused)) == (100, 60)
    lot.refresh_from_db()
    assert lot.on_hand_kg == 0
    assert _ledger_kg(lot) == lot.on_hand_kg
    write_offs = StockMovement.objects.filter(lot=lot, kind=MovementKind.WRITE_OFF)
    assert write_offs.count() == 100
    assert sorted(write_offs.values_list("on_hand_after", flat=True)) == list(range(100))
    assert stock_mismatches() == []


def test_counts_and_write_offs_on_two_lots_in_opposite_order_do_not_deadlock():
    # given two lots, and threads that each change both in one transaction: half of them
    # write off from the first and count the second, the other half the other way round
    first = receive(kg="500")
    second = receive(kg="500", grade=GradeFactory(name="一级", rank=1))
    user = UserFactory(username="counter", roles=["manager"])
    rounds = 15

    def work(index: int) -> None:
        written, counted = (first, second) if index % 2 == 0 else (second, first)
        for _round in range(rounds):
            with transaction.atomic():
                # Named in this thread's own order; lock_lots takes them in id order.
                locked = lock_lots([written.pk, counted.pk])
                lot_write_off(lot=written, kg=Decimal("1"), reason="破损", acting_user=user)
                lot_adjust(
                    lot=counted,
                    counted_kg=locked[counted.pk].on_hand_kg + Decimal("0.5"),
                    reason="盘点",
                    acting_user=user,
                )

    # when they all run at once
    errors = _race(work)

    # then every thread finished without a deadlock or any other error
    assert errors == []
    # and each lot lost 1 kg per write-off and gained 0.5 kg per count
    per_lot = THREADS // 2 * rounds
    expected = Decimal("500") - per_lot * Decimal("1") + per_lot * Decimal("0.5")
    for lot in (first, second):
        lot.refresh_from_db()
        assert lot.on_hand_kg == expected
        assert _ledger_kg(lot) == expected
        assert lot.movements.filter(kind=MovementKind.WRITE_OFF).count() == per_lot
        assert lot.movements.filter(kind=MovementKind.ADJUSTMENT).count() == per_lot
    assert stock_mismatches() == []
