"""Reads written as SQL name their columns, so a statement PostgreSQL keeps prepared survives a
migration that adds a column while the code that prepared it still runs (a deployment with
more than one machine: one migrates, the others serve on until they restart).

With ``SELECT *`` the same read fails on the next call ("cached plan must not change result
type") until its connection is closed.
"""

import pytest
from django.db import connection, transaction

from inventory.services import lock_lots
from orders.selectors import order_by_id
from tests.factories import receive
from tests.shipping.builders import allocated_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _alter(sql: str) -> None:
    """A statement from another connection, as another machine's migration would send it."""
    other = connection.get_new_connection(connection.get_connection_params())
    try:
        other.execute(sql)
        other.commit()
    finally:
        other.close()


def test_prepared_reads_go_on_after_another_connection_adds_a_column():
    order, lot = allocated_order(), receive(kg="20")
    threshold = connection.get_connection_params()["prepare_threshold"]
    assert threshold, "prepared statements are on by default"
    for _ in range(threshold + 1):  # prepared by now
        assert order_by_id(order.pk).pk == order.pk
        with transaction.atomic():
            assert list(lock_lots([lot.pk])) == [lot.pk]

    _alter('ALTER TABLE "orders_order" ADD COLUMN "later_column" integer')
    _alter('ALTER TABLE "inventory_lot" ADD COLUMN "later_column" integer')
    try:
        assert order_by_id(order.pk).external_no == order.external_no
        with transaction.atomic():
            assert lock_lots([lot.pk])[lot.pk].code == lot.code
    finally:
        connection.close()  # its prepared statements go with it
        _alter('ALTER TABLE "orders_order" DROP COLUMN "later_column"')
        _alter('ALTER TABLE "inventory_lot" DROP COLUMN "later_column"')
