"""The platform sync and an after-sales file applying the same refunds at once, on
PostgreSQL: each platform after-sale number is applied once, units are never refunded
twice, and the released stock matches the ledger."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from inventory.models import Lot
from inventory.selectors import stock_mismatches
from orders.aftersales import after_sale_apply
from orders.checks import reservations_match_allocations
from orders.models import AfterSale, OrderStatus
from tests.shipping.builders import allocated_order, lot_figures, reload, stocked_sku

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 6


def test_the_same_refunds_applied_at_once_count_once():
    # given an allocated order of 3 boxes, and three platform refunds of one box each
    sku = stocked_sku("MT-5J")
    order = allocated_order((sku, 3))
    lot = Lot.objects.get(product=sku.product)
    barrier = threading.Barrier(WORKERS, timeout=30)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            barrier.wait()
            applied = after_sale_apply(
                channel="kuaishou",
                order_no=order.external_no,
                kind="仅退款",
                units=1,
                platform_refund_id=f"RF-{index % 3}",  # each number twice
                platform_state="退款成功",
            )
            outcomes.append(applied.outcome)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then each number was applied once, the whole order is refunded and its stock is back
    assert errors == []
    assert sorted(outcomes) == ["created"] * 3 + ["unchanged"] * 3
    assert AfterSale.objects.count() == 3
    assert reload(order).status == OrderStatus.REFUNDED
    assert lot_figures(lot)[1] == Decimal("0.000")
    assert stock_mismatches() == []
    assert reservations_match_allocations() == []
