import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import DomainError
from inventory.models import (
    AppendOnlyError,
    Delivery,
    Farmer,
    Lot,
    MovementKind,
    StockMovement,
)
from inventory.services import (
    IntakeRow,
    farmer_create,
    intake_record,
    lot_adjust,
    lot_move,
    lot_write_off,
)
from tests.factories import (
    FarmerFactory,
    GradeFactory,
    LocationFactory,
    ProductFactory,
    receive,
)

D = Decimal
pytestmark = pytest.mark.django_db


def _stock_counts() -> tuple[int, int, int]:
    return Lot.objects.count(), StockMovement.objects.count(), Delivery.objects.count()


def _lot_code_re() -> re.Pattern:
    month = timezone.localtime().strftime("%y%m")
    return re.compile(rf"^L{month}-\d{{4,}}$")


# --- intake ----------------------------------------------------------------------------------


def test_intake_of_one_grade_makes_one_lot_with_its_ledger_row(intake_user):
    # given a farmer bringing 5 crates of peaches
    farmer, product = FarmerFactory(), ProductFactory(shelf_life_days=7)
    grade, location = GradeFactory(), LocationFactory()
    harvest = timezone.localdate() - timedelta(days=1)

    # when intake weighs them
    delivery = intake_record(
        farmer=farmer,
        product=product,
        rows=[
            IntakeRow(
                grade=grade,
                gross_kg=D("189.000"),
                price_per_kg=D("8.50"),
                crates=5,
                tare_per_crate_kg=D("1.800"),
            )
        ],
        harvest_date=harvest,
        location=location,
        acting_user=intake_user,
        note="早上现摘",
    )

    # then one lot holds the net kilograms, with one intake row in the ledger
    lot = delivery.lots.get()
    assert _lot_code_re().match(lot.code)
    assert re.match(r"^R\d{4}-\d{4,}$", delivery.code)
    assert (lot.farmer, lot.product, lot.grade, lot.location) == (farmer, product, grade, location)
    assert lot.received_kg == lot.on_hand_kg == D("180.000")
    assert lot.reserved_kg == 0
    assert lot.expiry_date == harvest + timedelta(days=7)
    assert lot.amount == D("1530.00")
    movement = lot.movements.get()
    assert movement.kind == MovementKind.INTAKE
    assert movement.kg_delta == movement.on_hand_after == D("180.000")
    assert movement.acting_user == intake_user
    assert movement.reference == f"delivery:{delivery.code}"


def test_intake_of_a_multi_grade_delivery_makes_one_lot_per_grade(intake_user):
    # given one delivery weighed in three grades
    special, first, second = (
        GradeFactory(name="特级", rank=0),
        GradeFactory(name="一级", rank=1),
        GradeFactory(name="二级", rank=2),
    )
    harvest = timezone.localdate() - timedelta(days=2)
    chestnuts = ProductFactory(name="板栗", shelf_life_days=90)
    rows = [
        IntakeRow(grade=special, gross_kg=D("60.5"), price_per_kg=D("13.20")),
        IntakeRow(
            grade=first,
            gross_kg=D("101.750"),
            price_per_kg=D("12.00"),
            crates=5,
            tare_per_crate_kg=D("0.150"),
        ),
        IntakeRow(
            grade=second,
            gross_kg=D("40.000"),
            price_per_kg=D("10.50"),
            crates=2,
            tare_per_crate_kg=D("0.2"),
        ),
    ]

    # when it is recorded
    delivery = intake_record(
        farmer=FarmerFactory(),
        product=chestnuts,
        rows=rows,
        harvest_date=harvest,
        location=LocationFactory(),
        acting_user=intake_user,
    )

    # then each grade is its own lot with a distinct code and its own ledger row
    lots = list(delivery.lots.order_by("grade__rank"))
    assert [lot.grade for lot in lots] == [special, first, second]
    assert len({lot.code for lot in lots}) == 3
    assert all(_lot_code_re().match(lot.code) for lot in lots)
    assert [lot.received_kg for lot in lots] == [D("60.500"), D("101.000"), D("39.600")]
    assert {lot.expiry_date for lot in lots} == {harvest + timedelta(days=90)}
    for lot, row in zip(lots, rows, strict=True):
        (movement,) = lot.movements.all()
        assert movement.kind == MovementKind.INTAKE
        assert movement.kg_delta == row.gross_kg - row.crates * row.tare_per_crate_kg
        assert movement.reference == f"delivery:{delivery.code}"
    assert Delivery.objects.count() == 1


def test_two_intakes_get_different_lot_and_delivery_codes(intake_user):
    # given two deliveries on the same day
    first = receive(kg="50", user=intake_user)
    second = receive(kg="60", user=intake_user)

    # then their codes differ
    assert first.code != second.code
    assert first.delivery.code != second.delivery.code


def _row(**overrides) -> IntakeRow:
    values = {
        "grade": GradeFactory(),
        "gross_kg": D("100.000"),
        "price_per_kg": D("6.00"),
        "crates": 0,
        "tare_per_crate_kg": D("0"),
    }
    values.update(overrides)
    return IntakeRow(**values)


def _intake(user, **overrides):
    values = {
        "farmer": FarmerFactory(),
        "product": ProductFactory(),
        "rows": [_row()],
        "harvest_date": timezone.localdate(),
        "location": LocationFactory(),
        "acting_user": user,
    }
    values.update(overrides)
    return intake_record(**values)


@pytest.mark.parametrize(
    ("row_overrides", "field"),
    [
        ({"gross_kg": D("0")}, "gross_kg"),
        ({"gross_kg": D("-5.000")}, "gross_kg"),
        ({"gross_kg": D("100.0001")}, "gross_kg"),
        ({"tare_per_crate_kg": D("0.0005"), "crates": 1}, "tare_per_crate_kg"),
        ({"price_per_kg": D("6.005")}, "price_per_kg"),
        ({"price_per_kg": D("-1.00")}, "price_per_kg"),
        ({"crates": 5, "tare_per_crate_kg": D("20.000")}, "tare_per_crate_kg"),
        ({"crates": 4, "tare_per_crate_kg": D("30.000")}, "tare_per_crate_kg"),
        ({"crates": -1}, "crates"),
    ],
    ids=[
        "zero",
        "negative",
        "four-decimals",
        "tare-four-decimals",
        "price-three-decimals",
        "negative-price",
        "tare-equals-gross",
        "tare-above-gross",
        "negative-crates",
    ],
)
def test_intake_refuses_a_bad_row_and_saves_nothing(intake_user, row_overrides, field):
    # given a delivery whose second row is wrong
    rows = [_row(), _row(grade=GradeFactory(name="一级", rank=1), **row_overrides)]
    before = _stock_counts()

    # when it is recorded
    with pytest.raises(DomainError) as error:
        _intake(intake_user, rows=rows)

    # then the error names the row and field, and nothing was written
    assert (error.value.field, error.value.row) == (field, 1)
    assert _stock_counts() == before


def test_intake_refuses_a_harvest_date_in_the_future(intake_user):
    before = _stock_counts()

    with pytest.raises(DomainError) as error:
        _intake(intake_user, harvest_date=timezone.localdate() + timedelta(days=1))

    assert (error.value.field, error.value.row) == ("harvest_date", None)
    assert _stock_counts() == before


def test_intake_refuses_an_inactive_farmer(intake_user):
    before = _stock_counts()

    with pytest.raises(DomainError) as error:
        _intake(intake_user, farmer=FarmerFactory(is_active=False))

    assert error.value.field == "farmer"
    assert _stock_counts() == before


def test_intake_refuses_an_inactive_product(intake_user):
    before = _stock_counts()

    with pytest.raises(DomainError) as error:
        _intake(intake_user, product=ProductFactory(name="核桃", is_active=False))

    assert error.value.field == "product"
    assert _stock_counts() == before


def test_intake_refuses_an_inactive_location(intake_user):
    before = _stock_counts()

    with pytest.raises(DomainError) as error:
        _intake(intake_user, location=LocationFactory(code="C", name="旧仓", is_active=False))

    assert error.value.field == "location"
    assert _stock_counts() == before


def test_intake_refuses_a_delivery_without_rows(intake_user):
    before = _stock_counts()

    with pytest.raises(DomainError) as error:
        _intake(intake_user, rows=[])

    assert error.value.field == "rows"
    assert _stock_counts() == before


# --- write-off -------------------------------------------------------------------------------


def test_write_off_takes_kilograms_out_with_a_ledger_row(manager_user):
    # given a lot of 100 kg
    lot = receive(kg="100")

    # when 3.5 kg of rotten peaches go out
    lot_write_off(lot=lot, kg=D("3.500"), reason="烂果", acting_user=manager_user)

    # then on-hand is 96.5 kg and the ledger says why and who
    lot.refresh_from_db()
    assert lot.on_hand_kg == D("96.500")
    movement = lot.movements.get(kind=MovementKind.WRITE_OFF)
    assert (movement.kg_delta, movement.on_hand_after) == (D("-3.500"), D("96.500"))
    assert (movement.note, movement.acting_user) == ("烂果", manager_user)


def test_write_off_of_more_than_on_hand_is_refused(manager_user):
    lot = receive(kg="100")
    before = _stock_counts()

    with pytest.raises(DomainError) as error:
        lot_write_off(lot=lot, kg=D("100.001"), reason="烂果", acting_user=manager_user)

    assert error.value.field == "kg"
    assert _stock_counts() == before
    lot.refresh_from_db()
    assert lot.on_hand_kg == D("100.000")


def test_write_off_cannot_touch_reserved_kilograms(manager_user):
    # given 60 of 100 kg reserved for orders
    lot = receive(kg="100")
    Lot.objects.filter(pk=lot.pk).update(reserved_kg=D("60.000"))
    before = _stock_counts()

    # when 41 kg would be written off, it is refused
    with pytest.raises(DomainError) as error:
        lot_write_off(lot=lot, kg=D("41"), reason="运输挤压", acting_user=manager_user)
    assert error.value.field == "kg"
    assert _stock_counts() == before

    # and the 40 kg that are free can go
    lot_write_off(lot=lot, kg=D("40"), reason="运输挤压", acting_user=manager_user)
    lot.refresh_from_db()
    assert (lot.on_hand_kg, lot.reserved_kg) == (D("60.000"), D("60.000"))


@pytest.mark.parametrize(("kg", "reason", "field"), [("5", "  ", "reason"), ("0", "烂果", "kg")])
def test_write_off_needs_a_reason_and_a_weight(manager_user, kg, reason, field):
    lot = receive(kg="100")
    before = _stock_counts()

    with pytest.raises(DomainError) as error:
        lot_write_off(lot=lot, kg=D(kg), reason=reason, acting_user=manager_user)

    assert error.value.field == field
    assert _stock_counts() == before


# --- count adjustment ------------------------------------------------------------------------


@pytest.mark.parametrize(("counted", "delta"), [("102.400", "2.400"), ("97.250", "-2.750")])
def test_count_adjustment_records_the_difference(manager_user, counted, delta):
    # given a lot of 100 kg
    lot = receive(kg="100")

    # when a stock count finds another weight
    lot_adjust(lot=lot, counted_kg=D(counted), reason="盘点", acting_user=manager_user)

    # then on-hand is the count and the ledger holds the difference
    lot.refresh_from_db()
    assert lot.on_hand_kg == D(counted)
    movement = lot.movements.get(kind=MovementKind.ADJUSTMENT)
    assert (movement.kg_delta, movement.on_hand_after) == (D(delta), D(counted))
    assert movement.note == "盘点"


def test_count_equal_to_on_hand_is_refused(manager_user):
    lot = receive(kg="100")
    before = _stock_counts()

    with pytest.raises(DomainError) as error:
        lot_adjust(lot=lot, counted_kg=D("100.000"), reason="盘点", acting_user=manager_user)

    assert error.value.field == "counted_kg"
    assert _stock_counts() == before


def test_count_below_reserved_is_refused(manager_user):
    lot = receive(kg="100")
    Lot.objects.filter(pk=lot.pk).update(reserved_kg=D("30.000"))
    before = _stock_counts()

    with pytest.raises(DomainError) as error:
        lot_adjust(lot=lot, counted_kg=D("29.999"), reason="盘点", acting_user=manager_user)

    assert error.value.field == "counted_kg"
    assert _stock_counts() == before
    lot.refresh_from_db()
    assert lot.on_hand_kg == D("100.000")


# --- move ------------------------------------------------------------------------------------


def test_move_changes_location_with_a_zero_kg_ledger_row(manager_user):
    # given a lot in the cold store
    lot = receive(kg="100", location=LocationFactory())
    ambient = LocationFactory(code="B", name="常温区 B", storage="ambient")

    # when it moves to the ambient room
    lot_move(lot=lot, location=ambient, acting_user=manager_user)

    # then the lot is there, its kilograms unchanged, and the ledger has a move row
    lot.refresh_from_db()
    assert (lot.location, lot.on_hand_kg) == (ambient, D("100.000"))
    movement = lot.movements.get(kind=MovementKind.MOVE)
    assert (movement.kg_delta, movement.on_hand_after) == (0, D("100.000"))
    assert movement.reference == "location:B"


def test_move_to_the_same_location_is_refused(manager_user):
    location = LocationFactory()
    lot = receive(location=location)
    before = _stock_counts()

    with pytest.raises(DomainError) as error:
        lot_move(lot=lot, location=location, acting_user=manager_user)

    assert error.value.field == "location"
    assert _stock_counts() == before


def test_move_to_an_inactive_location_is_refused(manager_user):
    lot = receive()
    closed = LocationFactory(code="C", name="旧仓", is_active=False)
    before = _stock_counts()

    with pytest.raises(DomainError) as error:
        lot_move(lot=lot, location=closed, acting_user=manager_user)

    assert error.value.field == "location"
    assert _stock_counts() == before
    lot.refresh_from_db()
    assert lot.location.code == "A"


# --- farmers ---------------------------------------------------------------------------------


def test_farmer_create_registers_a_farmer(intake_user):
    farmer = farmer_create(
        name=" 朱大山 ", village="朱家坪村", phone="13891601287", acting_user=intake_user
    )

    assert Farmer.objects.get(pk=farmer.pk).name == "朱大山"
    assert farmer.masked_phone == "138****1287"


def test_farmer_create_refuses_a_phone_that_another_farmer_has(intake_user):
    FarmerFactory(phone="13891601287")

    with pytest.raises(DomainError) as error:
        farmer_create(
            name="朱小山", village="朱家坪村", phone="13891601287", acting_user=intake_user
        )

    assert error.value.field == "phone"
    assert Farmer.objects.count() == 1


@pytest.mark.parametrize("phone", ["12345", "12891601287", "1389160128x", "138916012870"])
def test_farmer_create_refuses_a_bad_phone(intake_user, phone):
    with pytest.raises(DomainError) as error:
        farmer_create(name="朱小山", village="朱家坪村", phone=phone, acting_user=intake_user)

    assert error.value.field == "phone"
    assert not Farmer.objects.exists()


# --- the ledger and the database's own guards ------------------------------------------------


def test_ledger_rows_cannot_be_changed_or_deleted():
    movement = receive(kg="100").movements.get()

    movement.note = "改一下"
    with pytest.raises(AppendOnlyError):
        movement.save()
    with pytest.raises(AppendOnlyError):
        movement.delete()

    assert StockMovement.objects.get(pk=movement.pk).note == ""


def test_the_ledger_refuses_bulk_changes_and_raw_sql_updates():
    lot = receive(kg="100")
    movements = StockMovement.objects.filter(lot=lot)

    with pytest.raises(AppendOnlyError):
        movements.update(note="改一下")
    with pytest.raises(AppendOnlyError):
        movements.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE inventory_stockmovement SET kg_delta = 1 WHERE lot_id = %s", [lot.pk]
            )

    assert movements.get().kg_delta == D("100")


@pytest.mark.parametrize(
    "change",
    [
        {"reserved_kg": F("on_hand_kg") + 1},
        {"on_hand_kg": D("-1")},
        {"reserved_kg": D("-1")},
    ],
    ids=["reserved-above-on-hand", "negative-on-hand", "negative-reserved"],
)
def test_database_refuses_impossible_quantities_even_when_code_is_bypassed(change):
    lot = receive(kg="100")

    with pytest.raises(IntegrityError), transaction.atomic():
        Lot.objects.filter(pk=lot.pk).update(**change)

    lot.refresh_from_db()
    assert (lot.on_hand_kg, lot.reserved_kg) == (D("100.000"), D("0.000"))


def test_history_entered_afterwards_carries_its_own_time_and_never_a_future_one(manager_user):
    lot = receive(kg="20")
    three_days_ago = timezone.now() - timedelta(days=3)

    lot_write_off(lot=lot, kg=D("1.5"), reason="烂果", acting_user=manager_user, at=three_days_ago)

    row = StockMovement.objects.filter(lot=lot, kind=MovementKind.WRITE_OFF).get()
    assert row.created_at == three_days_ago
    with pytest.raises(DomainError) as refused:
        lot_write_off(
            lot=lot,
            kg=D("1"),
            reason="烂果",
            acting_user=manager_user,
            at=timezone.now() + timedelta(minutes=5),
        )
    assert refused.value.field == "at"
