"""A circuit breaker kept in the database (``CircuitBreaker``), shared by every process.

Closed: calls go through; each failure (timeout, dropped connection, 5xx, "service
unavailable") adds one, a success resets the count. At ``threshold`` failures in a row it
opens for ``cooldown`` seconds: calls fail at once with ``CircuitOpen`` and nothing is sent,
so a task worker is never held up by a platform that is down. When the time is up, the first
caller claims the half-open state (a conditional update: only one wins) and makes one trial
call; success closes the breaker, failure opens it again. A rate-limit answer pauses the
breaker for as long as the platform asked, without counting a failure.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orders.platforms.errors import CircuitOpen
from orders.platforms.models import BreakerState, CircuitBreaker

# How long a half-open trial may take before another caller may try instead (the first one
# died, say): longer than one call with its timeouts.
TRIAL_LEASE = timedelta(seconds=60)


class Breaker:
    def __init__(
        self,
        key: str,
        *,
        threshold: int | None = None,
        cooldown: float | None = None,
        now: Callable[[], datetime] = timezone.now,
    ):
        self.key = key[:60]
        self.threshold = threshold or settings.PLATFORM_BREAKER_THRESHOLD
        self.cooldown = timedelta(
            seconds=settings.PLATFORM_BREAKER_COOLDOWN_SECONDS if cooldown is None else cooldown
        )
        self.now = now

    def _row(self) -> CircuitBreaker:
        row, _created = CircuitBreaker.objects.get_or_create(key=self.key)
        return row

    def state(self) -> CircuitBreaker:
        return self._row()

    def before_call(self) -> None:
        """Return if a call may go out now; raise ``CircuitOpen`` if not."""
        row = self._row()
        if row.state == BreakerState.CLOSED:
            return
        now = self.now()
        if row.open_until and row.open_until > now:
            raise CircuitOpen(key=self.key, until=row.open_until)
        claimed = CircuitBreaker.objects.filter(
            pk=row.pk, state=row.state, open_until=row.open_until
        ).update(state=BreakerState.HALF_OPEN, open_until=now + TRIAL_LEASE)
        if not claimed:  # another process took the trial call
            raise CircuitOpen(key=self.key, until=now + TRIAL_LEASE)

    def success(self) -> None:
        CircuitBreaker.objects.filter(key=self.key).exclude(
            state=BreakerState.CLOSED, failures=0
        ).update(state=BreakerState.CLOSED, failures=0, open_until=None, reason="")

    @transaction.atomic
    def failure(self, reason: str) -> bool:
        """Count a failure; returns True when the breaker is (now) open."""
        row = CircuitBreaker.objects.select_for_update().get(pk=self._row().pk)
        row.failures += 1
        row.reason = reason[:200]
        if row.state == BreakerState.HALF_OPEN or row.failures >= self.threshold:
            row.state = BreakerState.OPEN
            row.open_until = self.now() + self.cooldown
        row.save(update_fields=["failures", "reason", "state", "open_until", "changed_at"])
        return row.state == BreakerState.OPEN

    def pause(self, seconds: float, reason: str) -> datetime:
        """Hold every call until ``seconds`` from now (a platform's rate limit)."""
        until = self.now() + timedelta(seconds=seconds)
        row = self._row()
        CircuitBreaker.objects.filter(pk=row.pk).update(
            state=BreakerState.OPEN, open_until=until, reason=reason[:200]
        )
        return until

    def reset(self) -> None:
        CircuitBreaker.objects.filter(key=self.key).update(
            state=BreakerState.CLOSED, failures=0, open_until=None, reason=""
        )
