"""Orders waiting for stock: every order left ``new`` — by an import whose process died, a
request cut short, an API call told not to allocate — is allocated first paid, first served.

One process at a time allocates them, the holder of the ``orders.allocation`` lease
(``core.leases``): an import's allocation step, which serves its own new orders and every
other waiting one together in payment order, or the sweep every task worker runs. Waiting:

* an order of no import once it is older than ``LEASE_TIMEOUT_SECONDS`` (whoever created it
  has had time to allocate it);
* an order of a finished import (done, failed): its allocation step is over;
* an order of an unfinished import (queued, running, stopped) only for another import's
  allocation step, and only while no live process holds that import: a dead import's orders
  are served with the newer ones, never after them. The sweep leaves them to the import's
  own step, which runs once its resumed run has written the rest of its rows, so that its
  earliest payments come first.
"""

import logging
from collections.abc import Callable, Sequence

from django.db.models import Q

from core import leases
from core.errors import DomainError
from orders.models import ImportBatch, ImportStatus, Order, OrderStatus
from orders.services import ALLOCATE_CHUNK, orders_allocate

logger = logging.getLogger(__name__)

ALLOCATION_LEASE = "orders.allocation"
IMPORT_LEASE = "orders.import"  # + ":<batch id>", held by whoever runs that import
# Imports whose rows may still be coming in: their orders wait for the import's own step.
UNFINISHED_IMPORTS = frozenset(
    {ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.INTERRUPTED}
)


def import_lease_name(batch_id: int) -> str:
    return f"{IMPORT_LEASE}:{batch_id}"


def waiting_order_ids(*, batch: ImportBatch | None = None) -> list[int]:
    """The orders waiting for allocation (see above), first paid first; with ``batch`` (its
    allocation step), its own new orders too."""
    unfinished = set(
        ImportBatch.objects.filter(status__in=UNFINISHED_IMPORTS).values_list("pk", flat=True)
    )
    if batch is None:
        held_back = unfinished
    else:
        live = {int(key) for key in leases.live_keys(IMPORT_LEASE) if key.isdigit()}
        held_back = (unfinished & live) - {batch.pk}
    orders = Order.objects.filter(status=OrderStatus.NEW).filter(
        Q(import_batch__isnull=False) | leases.stranded_since("created_at")
    )
    if held_back:
        orders = orders.exclude(import_batch_id__in=held_back)
    return list(orders.order_by("paid_at", "pk").values_list("pk", flat=True))


def allocate_in_paid_order(
    order_ids: Sequence[int],
    *,
    acting_user,
    lease: leases.Held,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Allocate ``order_ids`` (already in payment order) ``ALLOCATE_CHUNK`` orders per
    transaction with ``orders_allocate``; the lease is checked before each chunk (a lost lease
    stops here: ``LeaseLost``), progress reported after it."""
    counts = {"allocated": 0, "backordered": 0}
    for start in range(0, len(order_ids), ALLOCATE_CHUNK):
        lease.check()
        chunk = list(Order.objects.filter(pk__in=order_ids[start : start + ALLOCATE_CHUNK]))
        try:
            result = orders_allocate(orders=chunk, acting_user=acting_user)
        except DomainError:
            # Orders moved meanwhile are skipped by orders_allocate itself; this fallback is
            # for a chunk that still fails (e.g. corrupted data): one by one, skipping the bad.
            result = {"allocated": 0, "backordered": 0}
            for order in sorted(chunk, key=lambda o: (o.paid_at, o.pk)):
                order.refresh_from_db(fields=["status"])
                if order.status != OrderStatus.NEW:
                    continue
                try:
                    one = orders_allocate(orders=[order], acting_user=acting_user)
                except DomainError:
                    logger.warning("Order %s could not be allocated", order.pk, exc_info=True)
                    continue
                for key in result:
                    result[key] += one[key]
        for key in counts:
            counts[key] += result[key]
        if on_progress is not None:
            on_progress(min(start + ALLOCATE_CHUNK, len(order_ids)))
    return counts


def allocate_waiting_orders() -> dict[str, int] | None:
    """The sweep's part: allocate every waiting order, unless another process holds the
    allocation lease (it serves them itself). Returns the counts, or None when busy."""
    try:
        with leases.hold(ALLOCATION_LEASE, kind=ALLOCATION_LEASE) as lease:
            order_ids = waiting_order_ids()
            if not order_ids:
                return {"allocated": 0, "backordered": 0}
            logger.warning("%d orders were left waiting: allocating them", len(order_ids))
            return allocate_in_paid_order(order_ids, acting_user=None, lease=lease)
    except leases.LeaseBusy:
        return None
