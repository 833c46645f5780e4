"""Run code as if it were another moment, for tests that build a past (a month that is over,
lots of a certain age). Production code records past moments with its services' ``at=``;
tests that call pages, reports and services as of another day patch the clock instead."""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from unittest import mock

from inventory.models import FarmerPayment, StockMovement


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """``timezone.now()`` answers ``moment`` (aware) inside the block, and so do the ledger's
    and payments' ``created_at`` defaults (they hold the function itself)."""
    with ExitStack() as stack:
        stack.enter_context(mock.patch("django.utils.timezone.now", return_value=moment))
        for model in (StockMovement, FarmerPayment):
            stamp = model._meta.get_field("created_at")
            stack.enter_context(mock.patch.object(stamp, "get_default", return_value=moment))
        yield
