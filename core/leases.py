"""Leases: background work that survives a crash.

Every claimed piece of background work holds a ``core.models.Lease`` row while it runs:

* a task worker (``manage.py db_worker``, core's command) holds ``worker:<worker id>`` for its
  whole life; the tasks it runs are leased through it (the task row names the worker);
* an import holds ``orders.import:<id>``, in a task worker or in the web request that runs a
  small one; whoever allocates the orders waiting for stock holds ``orders.allocation``.

The holder's thread renews the row's ``heartbeat_at`` every ``LEASE_HEARTBEAT_SECONDS``. A
lease not renewed for ``LEASE_TIMEOUT_SECONDS`` is stale: its process is gone (killed, out of
memory, its machine off). Every task worker runs ``sweep()`` when it starts and every
``LEASE_SWEEP_SECONDS``: tasks running on a worker that is gone are queued again (or failed
once they have been started ``LEASE_MAX_ATTEMPTS`` times), stale leases are dropped, and each
app's sweeper (registered in its ``ready()``) resumes its own stopped work. The database is
the only thing the processes share: acquiring is one conditional ``UPDATE`` (taking over a
stale lease) or one ``INSERT`` (a unique name), and the times are the database's.

A lease whose heartbeat found it gone (a sweeper judged its process dead during a long stall)
is *lost*: the work calls ``Held.check()`` between chunks and stops (``LeaseLost``), leaving
the work to whoever resumed it.
"""

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.models import DBTaskResult

from core.models import Lease

logger = logging.getLogger(__name__)

WORKER = "worker"


class LeaseBusy(Exception):
    """Another live process holds the lease."""


class LeaseLost(Exception):
    """The lease this process held was taken over: stop, the work is someone else's now."""


class WorkerLost(Exception):
    """Recorded on a task whose worker stopped while running it too many times."""


# --- settings --------------------------------------------------------------------------------


def heartbeat_seconds() -> float:
    return float(settings.LEASE_HEARTBEAT_SECONDS)


def timeout_seconds() -> float:
    return float(settings.LEASE_TIMEOUT_SECONDS)


def sweep_seconds() -> float:
    return float(settings.LEASE_SWEEP_SECONDS)


def max_attempts() -> int:
    return int(settings.LEASE_MAX_ATTEMPTS)


# --- who holds -------------------------------------------------------------------------------

_holder: dict[int, str] = {}


def holder_id() -> str:
    """This process: ``host:pid:token``, at most 55 characters. Computed again after a fork
    (gunicorn's workers are forks of its master)."""
    pid = os.getpid()
    if pid not in _holder:
        _holder.clear()
        _holder[pid] = f"{socket.gethostname()[:40]}:{pid}:{get_random_string(6)}"
    return _holder[pid]


def worker_lease_name(worker_id: str) -> str:
    return f"{WORKER}:{worker_id}"


def _stale_before():
    """The database's now, less the timeout: a heartbeat older than this is stale."""
    return Now() - timedelta(seconds=timeout_seconds())


def _live() -> Q:
    """Renewed within the timeout, or held by this very process: a process that asks is
    alive, even if a busy moment delayed its heartbeat (its own sweep must never take its own
    work away)."""
    return Q(heartbeat_at__gte=_stale_before()) | Q(holder=holder_id())


def live_leases():
    return Lease.objects.filter(_live())


def stale_leases():
    return Lease.objects.exclude(_live())


def is_live(name: str) -> bool:
    return live_leases().filter(name=name).exists()


def live_keys(kind: str) -> set[str]:
    """What follows ``kind:`` in the names of the live leases of that kind."""
    prefix = f"{kind}:"
    return {
        name.removeprefix(prefix)
        for name in live_leases().filter(kind=kind).values_list("name", flat=True)
    }


def live_worker_ids() -> set[str]:
    return live_keys(WORKER)


# --- holding a lease -------------------------------------------------------------------------


@dataclass
class Held:
    """A lease this process holds."""

    name: str
    kind: str
    holder: str
    took_over: bool  # it was taken from a process that had stopped renewing it
    _lost: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def check(self) -> None:
        """Raise ``LeaseLost`` when the heartbeat found the lease taken over."""
        if self._lost.is_set():
            raise LeaseLost(self.name)


def _acquire(name: str, kind: str, holder: str) -> bool | None:
    """Take the lease: True when taken over from a stale holder, False when new, None when a
    live process holds it. One statement each way, so two processes never both win."""
    stale = Lease.objects.filter(name=name, heartbeat_at__lt=_stale_before())
    took = stale.exclude(holder=holder).update(
        kind=kind, holder=holder, acquired_at=Now(), heartbeat_at=Now()
    )
    if took:
        return True
    try:
        with transaction.atomic():
            Lease.objects.create(
                name=name, kind=kind, holder=holder, acquired_at=Now(), heartbeat_at=Now()
            )
    except IntegrityError:
        return None
    return False


class _Heartbeat(threading.Thread):
    """Renews one lease every ``LEASE_HEARTBEAT_SECONDS`` with its own connection, until
    stopped. ``renew``: a lease found gone is taken again (a worker that is alive after all)
    instead of being marked lost."""

    def __init__(self, held: Held, *, renew: bool):
        super().__init__(name=f"lease {held.name}", daemon=True)
        self.held = held
        self.renew = renew
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.wait(heartbeat_seconds()):
                self.beat()
        finally:
            connections.close_all()  # this thread's own connections

    def beat(self) -> None:
        held = self.held
        try:
            beaten = Lease.objects.filter(name=held.name, holder=held.holder).update(
                heartbeat_at=Now()
            )
            if not beaten and self.renew:
                beaten = _acquire(held.name, held.kind, held.holder) is not None
                if beaten:
                    logger.warning(
                        "Lease %s was dropped while its holder lived: taken again", held.name
                    )
        except DatabaseError:
            logger.warning("Lease %s: the heartbeat failed; trying again", held.name, exc_info=True)
            connection.close()
            return
        if not beaten:
            logger.error("Lease %s was taken over: its work stops here", held.name)
            held._lost.set()
            self.stopping.set()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=max(5.0, heartbeat_seconds()))


@contextmanager
def hold(name: str, *, kind: str, wait: float | None = None, renew: bool = False) -> Iterator[Held]:
    """Hold the lease ``name`` for the block, renewed by a heartbeat thread, and release it
    at the end. A live holder elsewhere: ``LeaseBusy`` at once, or after waiting up to
    ``wait`` seconds (``math.inf``: until it is free or its holder is gone).

    Taken inside a transaction (a test, a caller's ``atomic``) the lease is invisible to
    other processes until that commits, so it beats nothing."""
    holder = holder_id()
    deadline = time.monotonic() + (wait or 0)
    while (took_over := _acquire(name, kind, holder)) is None:
        if wait is None or time.monotonic() >= deadline:
            raise LeaseBusy(name)
        time.sleep(min(1.0, heartbeat_seconds()))
    held = Held(name=name, kind=kind, holder=holder, took_over=took_over)
    if took_over:
        logger.warning("Lease %s taken over from a holder that stopped", name)
    heartbeat = None
    if not transaction.get_connection().in_atomic_block:
        heartbeat = _Heartbeat(held, renew=renew)
        heartbeat.start()
    try:
        yield held
    finally:
        if heartbeat is not None:
            heartbeat.stop()
        try:
            Lease.objects.filter(name=name, holder=holder).delete()
        except Exception:  # the release is a courtesy: a lease left behind goes stale
            logger.warning("Lease %s could not be released", name, exc_info=True)


# --- the sweep -------------------------------------------------------------------------------

_sweepers: dict[str, Callable[[], object]] = {}


def register_sweeper(name: str, sweeper: Callable[[], object]) -> None:
    """An app's recovery of its own stopped work, run by every sweep after the tasks and the
    stale leases (``OrdersConfig.ready`` registers the import sweep and the allocation of
    waiting orders)."""
    _sweepers[name] = sweeper


def orphaned_tasks():
    """Task rows RUNNING on a worker that holds no live lease (its process is gone)."""
    live = live_worker_ids()
    return [
        pk
        for pk, worker_ids in DBTaskResult.objects.running().values_list("pk", "worker_ids")
        if not worker_ids or worker_ids[-1] not in live
    ]


def task_orphaned(task_id: str) -> bool:
    """True when the task is RUNNING on a worker that is gone."""
    row = DBTaskResult.objects.filter(pk=task_id).values_list("status", "worker_ids").first()
    if row is None or row[0] != TaskResultStatus.RUNNING:
        return False
    return not row[1] or row[1][-1] not in live_worker_ids()


def requeue_orphaned_tasks() -> dict[str, int]:
    """Queue again every task whose worker is gone, so the next free worker runs it from the
    start (every task of Shanhuo may run again: an import resumes, a label batch is drawn
    again, a back-order fill finds what still waits); one started ``LEASE_MAX_ATTEMPTS``
    times is failed instead (``WorkerLost``). Rows another sweeper is handling are skipped
    (``SKIP LOCKED``)."""
    orphans = orphaned_tasks()
    counts = {"requeued": 0, "failed": 0}
    if not orphans:
        return counts
    live = live_worker_ids()
    with transaction.atomic():
        rows = DBTaskResult.objects.running().filter(pk__in=orphans)
        for row in rows.select_for_update(skip_locked=True).order_by("pk"):
            if row.worker_ids and row.worker_ids[-1] in live:
                continue
            started = len(row.worker_ids)
            if started >= max_attempts():
                row.set_failed(
                    WorkerLost(
                        f"The worker running this task stopped {started} times "
                        f"(last: {row.worker_ids[-1] if row.worker_ids else '?'})."
                    )
                )
                counts["failed"] += 1
                logger.error(
                    "Task %s (%s): its worker stopped %d times, failed",
                    row.pk,
                    row.task_path,
                    started,
                )
                continue
            DBTaskResult.objects.filter(pk=row.pk).update(
                status=TaskResultStatus.READY, started_at=None, run_after=timezone.now()
            )
            counts["requeued"] += 1
            logger.warning(
                "Task %s (%s) was running on a worker that stopped: queued again (%d of %d)",
                row.pk,
                row.task_path,
                started + 1,
                max_attempts(),
            )
    return counts


def drop_stale_leases() -> int:
    """Delete the leases whose holders are gone; each app's sweeper resumes their work. The
    delete repeats the staleness test, so a lease renewed meanwhile stays."""
    dropped, _by_model = stale_leases().delete()
    if dropped:
        logger.warning("Dropped %d stale lease(s)", dropped)
    return dropped


def sweep() -> dict[str, object]:
    """One round: tasks of gone workers, stale leases, then every app's own recovery."""
    report: dict[str, object] = dict(requeue_orphaned_tasks())
    report["dropped"] = drop_stale_leases()
    for name, sweeper in _sweepers.items():
        try:
            report[name] = sweeper()
        except Exception:
            logger.exception("Sweep %s failed", name)
    return report


class Sweeper(threading.Thread):
    """A task worker's periodic sweep, beside the task it runs (an import of an hour does not
    hold the sweep back): every ``LEASE_SWEEP_SECONDS``, ±20 % so workers spread out."""

    def __init__(self):
        super().__init__(name="lease sweep", daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(sweep_seconds() * random.uniform(0.8, 1.2)):  # noqa: S311
            try:
                sweep()
            except Exception:
                logger.exception("The sweep failed; trying again next round")
            finally:
                connections.close_all()  # this thread's own connections

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


# --- what /health/ reports -------------------------------------------------------------------


def lease_report() -> dict[str, int]:
    """Live task workers, stale leases (work whose process is gone and that no sweep has
    recovered yet) and tasks running on a worker that is gone."""
    return {
        "live": live_leases().filter(kind=WORKER).count(),
        "stale_claims": stale_leases().count(),
        "orphaned_tasks": len(orphaned_tasks()),
    }


def stranded_since(field_name: str) -> Q:
    """``field < now - LEASE_TIMEOUT_SECONDS`` by this process's clock: what was written more
    than a lease's lifetime ago by a process that should have finished with it."""
    return Q(**{f"{field_name}__lt": timezone.now() - timedelta(seconds=timeout_seconds())})
