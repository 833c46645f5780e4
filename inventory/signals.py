"""Hooks other apps subscribe to. Inventory never imports the apps above it.

``stock_available``: kilograms became available again — an intake, a stock count that raised
a lot, a return put back into its lot, a reservation released (a cancelled order). Sent once
the transaction that made them available commits (never for one that rolls back), by the
inventory service that did it, so every cause is announced the same way. kwargs: ``lot_ids``
(list[int]). Orders listens and fills the back-orders waiting for those products.
"""

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

from inventory.models import Lot

stock_available = Signal()


def announce_available(lot_ids: Iterable[int]) -> None:
    """Send ``stock_available`` for these lots when the current transaction commits."""
    ids = sorted(set(lot_ids))
    if not ids:
        return

    transaction.on_commit(lambda: stock_available.send(sender=Lot, lot_ids=ids), robust=True)
