"""``core.db``'s SQL written once, on SQLite and PostgreSQL alike: ``Select``, a read that gives
what the ORM's ``select_related`` gives — the same field values (through the database's
converters), the relations loaded both ways and nothing more to read — and ``insert_rows``,
which writes what ``bulk_create`` writes."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Value
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from core.db import FEW_ROWS, delete_rows, insert_rows, select
from orders.lifecycle import lock_orders
from orders.models import Allocation, Order, OrderEvent, OrderLine
from orders.platforms.models import PlatformAccount
from shipping.models import WaveOrder
from shipping.services import wave_create
from tests.shipping.builders import _channel, allocated_order, carrier, staff, stocked_sku

pytestmark = pytest.mark.django_db

PACKED_WITH = ("line__sku", "lot__farmer")


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.fields}


def _allocations(order_ids: list[int]) -> list[Allocation]:
    read = select(Allocation, PACKED_WITH)
    marks = ", ".join(["%s"] * len(order_ids))
    sql = read.sql(f"{read.column('line', 'order')} IN ({marks})", order_by=read.column("", "id"))
    return read.fetch(sql, order_ids)


def test_rows_and_relations_are_what_select_related_reads():
    sku_a, sku_b = stocked_sku(kg="50"), stocked_sku(kg="50")
    first, second = allocated_order((sku_a, 2), (sku_b, 1)), allocated_order((sku_a, 1))
    expected = list(
        Allocation.objects.filter(line__order__in=[first, second])
        .select_related(*PACKED_WITH)
        .order_by("id")
    )
    assert len(expected) == 3

    found = _allocations([first.pk, second.pk])

    assert [_fields(a) for a in found] == [_fields(a) for a in expected]
    with CaptureQueriesContext(connection) as queries:
        relations = [
            (_fields(a.line), _fields(a.line.sku), _fields(a.lot), _fields(a.lot.farmer))
            for a in found
        ]
    assert len(queries) == 0, "every relation named is loaded with the row"
    assert relations == [
        (_fields(a.line), _fields(a.line.sku), _fields(a.lot), _fields(a.lot.farmer))
        for a in expected
    ]
    # Converted as the ORM converts them: SQLite keeps decimals as text or floats.
    assert all(isinstance(a.kg, Decimal) and a.kg == a.kg.quantize(Decimal("0.001")) for a in found)
    assert found[0].lot.received_at.tzinfo is not None


def test_a_relation_not_named_is_read_as_the_orm_reads_it():
    order = allocated_order()
    (allocation,) = _allocations([order.pk])
    with CaptureQueriesContext(connection) as queries:
        assert allocation.line.order.external_no == order.external_no
    assert len(queries) == 1


def test_an_absent_reverse_one_to_one_raises_without_a_query_and_a_present_one_answers():
    waiting, in_wave = allocated_order(), allocated_order()
    wave = wave_create(orders=[in_wave], acting_user=staff(), carrier=carrier())
    read = select(Order, ("wave_order__wave", "channel"))
    sql = read.sql(f"{read.column('', 'id')} IN (%s, %s)", order_by=read.column("", "id"))

    found = {order.pk: order for order in read.fetch(sql, [waiting.pk, in_wave.pk])}

    with CaptureQueriesContext(connection) as queries:
        with pytest.raises(WaveOrder.DoesNotExist):
            found[waiting.pk].wave_order  # noqa: B018
        assert found[in_wave.pk].wave_order.wave.pk == wave.pk
        assert found[in_wave.pk].wave_order.order is found[in_wave.pk]  # cached both ways
        assert found[waiting.pk].channel.code == waiting.channel.code
    assert len(queries) == 0


def test_a_null_foreign_key_is_none_without_a_query():
    order = allocated_order()
    assert order.live_session_id is None
    read = select(Order, ("live_session",))
    (found,) = read.fetch(read.sql(f"{read.column('', 'id')} = %s"), [order.pk])
    with CaptureQueriesContext(connection) as queries:
        assert found.live_session is None
    assert len(queries) == 0


def test_an_encrypted_field_is_read_decrypted():
    account = PlatformAccount.objects.create(
        channel=_channel("douyin"), platform="douyin", app_key="k", app_secret="s3cret"
    )
    read = select(PlatformAccount)
    (found,) = read.fetch(read.sql(f"{read.column('', 'id')} = %s"), [account.pk])
    assert found.app_secret == "s3cret"
    with connection.cursor() as cursor:
        cursor.execute("SELECT app_secret FROM orders_platformaccount WHERE id = %s", [account.pk])
        assert cursor.fetchone()[0] != "s3cret", "stored encrypted"


def test_extra_columns_become_attributes():
    order = allocated_order()
    read = select(Order)
    sql = read.sql(
        f"{read.column('', 'id')} = %s",
        extra=f"(SELECT COUNT(*) FROM {OrderLine._meta.db_table} l "
        f"WHERE l.order_id = {read.column('', 'id')}) AS line_count",
    )
    (found,) = read.fetch(sql, [order.pk], extra=("line_count",))
    assert found.line_count == order.lines.count() == 1


def test_a_relation_of_many_rows_is_refused():
    with pytest.raises(ValueError, match="lines"):
        select(Order, ("lines",))


def test_locking_locks_the_model_read_alone_where_the_database_locks_rows():
    read = select(Order, ("channel",))
    sql = read.sql("1 = 1", lock=True)
    if connection.features.has_select_for_update_of:
        assert sql.endswith('FOR UPDATE OF "orders_order"')
    else:
        assert "FOR UPDATE" not in sql
    assert "FOR UPDATE" not in read.sql("1 = 1")


@pytest.mark.postgres
def test_lock_orders_by_list_takes_the_row_lock():
    order = allocated_order()
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        locked = lock_orders([order.pk], related=("channel",))
        assert locked[order.pk].channel.code == order.channel.code
    (sql,) = [query["sql"] for query in queries if "FOR UPDATE" in query["sql"]]
    assert 'FROM "orders_order"' in sql and sql.endswith('FOR UPDATE OF "orders_order"')


def _event(order, note="") -> OrderEvent:
    return OrderEvent(order=order, from_status="allocated", to_status="picking", note=note)


def test_insert_rows_writes_what_bulk_create_writes():
    order = allocated_order()
    user = staff()
    ours = insert_rows([_event(order, "一"), _event(order, "二")])
    ours[1].acting_user = user  # set after: not written
    theirs = OrderEvent.objects.bulk_create([_event(order, "一"), _event(order, "二")])

    assert all(event.pk and not event._state.adding for event in ours)
    assert ours[0].pk < ours[1].pk < theirs[0].pk, "keys come back in the rows' order"
    assert ours[0].created_at is not None, "auto_now_add is stamped as save() stamps it"
    read = {event.pk: event for event in OrderEvent.objects.filter(order=order)}
    for mine, other in zip(ours, theirs, strict=True):
        stored, expected = _fields(read[mine.pk]), _fields(read[other.pk])
        for name in ("id", "created_at"):
            stored.pop(name), expected.pop(name)
        assert stored == expected
    assert read[ours[0].pk].created_at == ours[0].created_at


def test_insert_rows_of_many_goes_through_bulk_create():
    order = allocated_order()
    events = insert_rows([_event(order, str(n)) for n in range(FEW_ROWS + 3)])
    assert len({event.pk for event in events}) == FEW_ROWS + 3
    assert OrderEvent.objects.filter(order=order, note__in=["0", str(FEW_ROWS + 2)]).count() == 2


def test_insert_rows_refuses_saved_rows_mixed_models_and_expressions():
    order = allocated_order()
    (saved,) = insert_rows([_event(order)])
    with pytest.raises(ValueError, match="new instances of one model"):
        insert_rows([saved])
    with pytest.raises(ValueError, match="new instances of one model"):
        insert_rows([_event(order), Order()])
    expression = _event(order)
    expression.note = Value("x")
    with pytest.raises(ValueError, match="note"):
        insert_rows([expression])
    assert insert_rows([]) == []


def test_delete_rows_deletes_those_rows_alone():
    events = insert_rows([_event(allocated_order(), str(n)) for n in range(3)])
    with CaptureQueriesContext(connection) as queries:
        assert delete_rows(OrderEvent, [events[0].pk, events[2].pk]) == 2
    assert len(queries) == 1 and queries[0]["sql"].startswith("DELETE")
    assert list(OrderEvent.objects.filter(pk__in=[e.pk for e in events])) == [events[1]]
    assert delete_rows(OrderEvent, []) == 0


def test_delete_rows_of_a_model_others_refer_to_cascades_as_the_orm_does():
    order = allocated_order()
    line_ids = list(order.lines.values_list("pk", flat=True))
    allocation_ids = list(Allocation.objects.filter(line__order=order).values_list("pk", flat=True))
    assert line_ids and allocation_ids
    # An order line has allocations (and more) that refer to it: the ORM deletes them too.
    delete_rows(OrderLine, line_ids)
    assert not OrderLine.objects.filter(pk__in=line_ids).exists()
    assert not Allocation.objects.filter(pk__in=allocation_ids).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_lock_orders_by_list_outside_a_transaction_is_refused_as_select_for_update_is():
    order = allocated_order()
    assert connection.get_autocommit()
    with pytest.raises(TransactionManagementError, match="inside a transaction"):
        lock_orders([order.pk])
    with transaction.atomic():
        assert list(lock_orders([order.pk])) == [order.pk]
