"""Orders waiting for stock: every order left ``new`` — by an import whose process died, a
request cut short, an API call told not to allocate — is allocated first paid, first served.

One process at a time allocates them, the holder of the ``orders.allocation`` lease
(``core.leases``): an import's allocation step (which serves its own new orders and every
other waiting one together, in payment order), or the sweep every task worker runs. An order
waits here once it is older than ``LEASE_TIMEOUT_SECONDS`` (whoever created it has had time
to allocate it) and does not belong to an import still being written (that import allocates
its orders itself when its rows are all in, so that its earliest payments come first).
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
# Imports whose rows may still be coming in: their orders wait for the import's own step.
UNFINISHED_IMPORTS = frozenset(
    {ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.INTERRUPTED}
)


def waiting_order_ids(*, batch: ImportBatch | None = None) -> list[int]:
    """The orders waiting for allocation, first paid first: new, left for longer than a
    lease lives, not of an unfinished import; with ``batch``, its own new orders too."""
    unfinished = ImportBatch.objects.filter(status__in=UNFINISHED_IMPORTS)
    left = leases.stranded_since("created_at")
    if batch is not None:
        unfinished = unfinished.exclude(pk=batch.pk)
        left |= Q(import_batch=batch)
    return list(
        Order.objects.filter(status=OrderStatus.NEW)
        .filter(left)
        .exclude(import_batch__in=unfinished)
        .order_by("paid_at", "pk")
        .values_list("pk", flat=True)
    )


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
