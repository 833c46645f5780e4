"""PostgreSQL: many workers taking waybill numbers from one pool never get the same number."""

import threading

import pytest
from django.db import connection

from shipping.models import WaybillNumber
from shipping.services import waybill_take
from tests.shipping.builders_api import carrier, pool

WORKERS = 8
TAKES = 25


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_workers_take_two_hundred_numbers_and_none_twice():
    sf = carrier()
    pool([f"SF{n:012d}" for n in range(1, WORKERS * TAKES + 1)], for_carrier=sf)
    taken: list[list[str]] = [[] for _ in range(WORKERS)]
    errors: list[BaseException] = []
    start = threading.Barrier(WORKERS)

    def work(index: int) -> None:
        try:
            start.wait()
            for _ in range(TAKES):
                taken[index].append(waybill_take(carrier=sf))
        except BaseException as exc:  # reported below, with the thread's numbers
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    numbers = [number for numbers in taken for number in numbers]
    assert len(numbers) == WORKERS * TAKES
    assert len(set(numbers)) == WORKERS * TAKES
    assert all(len(numbers) == TAKES for numbers in taken)
    assert not WaybillNumber.objects.filter(carrier=sf, taken_at__isnull=True).exists()
    assert set(numbers) == set(WaybillNumber.objects.values_list("number", flat=True))
