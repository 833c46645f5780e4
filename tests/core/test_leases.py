"""Leases (``core.leases``): taken once, refused while their holder lives, taken over once it
is gone; renewed by a heartbeat thread that notices a lease taken from it; the sweep queues
again the tasks of a worker that is gone and drops stale leases; ``db_worker`` is core's and
runs inside its own lease."""

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command, get_commands
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core import leases
from core.models import Lease
from orders.tasks import fill_backorders

pytestmark = pytest.mark.django_db


def lease_row(name: str, *, seconds_ago: float, holder: str = "other:1:aaaaaa", kind="test"):
    moment = timezone.now() - timedelta(seconds=seconds_ago)
    return Lease.objects.create(
        name=name, kind=kind, holder=holder, acquired_at=moment, heartbeat_at=moment
    )


def wait_until(check, *, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


# --- taking and releasing ----------------------------------------------------------------------


def test_a_free_lease_is_taken_for_the_block_and_released_after():
    with leases.hold("job:1", kind="job") as held:
        row = Lease.objects.get(name="job:1")
        assert (row.kind, row.holder) == ("job", leases.holder_id())
        assert held.took_over is False
        assert leases.is_live("job:1")

    assert not Lease.objects.filter(name="job:1").exists()


def test_a_lease_whose_holder_lives_is_refused_and_left_alone():
    lease_row("job:1", seconds_ago=1)

    with pytest.raises(leases.LeaseBusy):
        with leases.hold("job:1", kind="job"):
            pytest.fail("two holders")

    assert Lease.objects.get(name="job:1").holder == "other:1:aaaaaa"


def test_a_lease_whose_holder_stopped_renewing_it_is_taken_over(settings):
    settings.LEASE_TIMEOUT_SECONDS = 30
    lease_row("job:1", seconds_ago=31)

    with leases.hold("job:1", kind="job") as held:
        assert held.took_over is True
        assert Lease.objects.get(name="job:1").holder == leases.holder_id()

    assert not Lease.objects.exists()


def test_a_process_never_takes_its_own_work_away(settings):
    """Its heartbeat was late (a busy machine): its own sweep and its other threads still see
    its leases as live."""
    lease_row("job:1", seconds_ago=60, holder=leases.holder_id())

    assert leases.is_live("job:1")
    assert leases.drop_stale_leases() == 0
    with pytest.raises(leases.LeaseBusy):
        with leases.hold("job:1", kind="job"):
            pytest.fail("taken from itself")


def test_the_holder_names_this_process():
    host, pid, token = leases.holder_id().split(":")
    assert pid == str(os.getpid())
    assert len(token) == 6 and host
    assert leases.holder_id() == leases.holder_id()


# --- the heartbeat -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_renews_the_lease_and_notices_when_it_is_taken(settings):
    settings.LEASE_HEARTBEAT_SECONDS = 0.05
    settings.LEASE_TIMEOUT_SECONDS = 1
    with leases.hold("job:1", kind="job") as held:
        long_ago = timezone.now() - timedelta(minutes=5)
        Lease.objects.filter(name="job:1").update(heartbeat_at=long_ago)
        assert wait_until(lambda: Lease.objects.get(name="job:1").heartbeat_at > long_ago)
        held.check()  # still ours

        # A sweeper elsewhere judged this process dead and another took the work over.
        Lease.objects.filter(name="job:1").update(holder="other:2:bbbbbb")
        assert wait_until(lambda: held.lost)
        with pytest.raises(leases.LeaseLost):
            held.check()

    # The release leaves the new holder's lease alone.
    assert Lease.objects.get(name="job:1").holder == "other:2:bbbbbb"


@pytest.mark.django_db(transaction=True)
def test_a_worker_lease_dropped_while_its_worker_lives_comes_back(settings):
    settings.LEASE_HEARTBEAT_SECONDS = 0.05
    settings.LEASE_TIMEOUT_SECONDS = 1
    with leases.hold("worker:w1", kind=leases.WORKER, renew=True) as held:
        Lease.objects.filter(name="worker:w1").delete()
        assert wait_until(lambda: Lease.objects.filter(name="worker:w1").exists())
        assert not held.lost
    assert not Lease.objects.exists()


def test_a_lease_taken_inside_a_transaction_beats_nothing():
    """Invisible to other processes until the transaction commits (a test's, here), so no
    thread renews it from another connection."""
    with leases.hold("job:1", kind="job"):
        assert "lease job:1" not in {thread.name for thread in threading.enumerate()}


# --- the sweep ---------------------------------------------------------------------------------


def running_task(*worker_ids: str) -> DBTaskResult:
    row = DBTaskResult.objects.get(pk=fill_backorders.enqueue([]).id)
    for worker_id in worker_ids:
        row.claim(worker_id)
    return row


def test_tasks_of_a_worker_that_is_gone_are_queued_again_or_failed(settings):
    settings.LEASE_MAX_ATTEMPTS = 3
    lease_row(leases.worker_lease_name("live"), seconds_ago=1, kind=leases.WORKER)
    lease_row(leases.worker_lease_name("dead"), seconds_ago=60, kind=leases.WORKER)
    on_live = running_task("live")
    on_dead = running_task("dead")
    unknown = running_task("never-leased")
    third_death = running_task("dead-1", "dead-2", "dead")

    assert set(leases.orphaned_tasks()) == {on_dead.pk, unknown.pk, third_death.pk}
    counts = leases.requeue_orphaned_tasks()

    assert counts == {"requeued": 2, "failed": 1}
    for row in (on_live, on_dead, unknown, third_death):
        row.refresh_from_db()
    assert on_live.status == "RUNNING"
    assert (on_dead.status, on_dead.started_at, on_dead.worker_ids) == ("READY", None, ["dead"])
    assert on_dead.run_after > timezone.now() - timedelta(minutes=1)  # waits from now
    assert unknown.status == "READY"
    assert third_death.status == "FAILED"
    assert third_death.exception_class_path == "core.leases.WorkerLost"
    assert "stopped 3 times" in third_death.traceback
    assert leases.task_orphaned(str(on_dead.pk)) is False
    assert leases.orphaned_tasks() == []


def test_stale_leases_are_dropped_and_live_ones_kept():
    lease_row("orders.import:1", seconds_ago=31)
    lease_row("orders.import:2", seconds_ago=3)

    assert leases.drop_stale_leases() == 1

    assert list(Lease.objects.values_list("name", flat=True)) == ["orders.import:2"]


def test_a_sweep_runs_every_apps_own_recovery():
    report = leases.sweep()

    assert set(report) == {
        "requeued",
        "failed",
        "dropped",
        "imports",
        "waiting_orders",
        "sales_rollup",
        "platform_sync",
    }


def test_the_health_report_counts_live_workers_stale_claims_and_orphans():
    lease_row(leases.worker_lease_name("live"), seconds_ago=1, kind=leases.WORKER)
    lease_row("orders.allocation", seconds_ago=45)
    running_task("gone")

    assert leases.lease_report() == {"live": 1, "stale_claims": 1, "orphaned_tasks": 1}


# --- the worker --------------------------------------------------------------------------------


def test_db_worker_is_cores_leased_worker():
    assert get_commands()["db_worker"] == "core"


@pytest.mark.django_db(transaction=True)
def test_the_worker_sweeps_when_it_starts_and_runs_inside_its_lease():
    """A task left running by a worker that died is run again by the next worker."""
    left = running_task("app-2:99:gone00")

    call_command("db_worker", batch=True, stdout=StringIO(), stderr=StringIO())

    left.refresh_from_db()
    assert left.status == "SUCCESSFUL"
    assert left.worker_ids[0] == "app-2:99:gone00"
    host, pid, _token = left.worker_ids[1].split(":")
    assert pid == str(os.getpid())
    assert not Lease.objects.exists()  # its own lease released when it stopped


def test_the_timeout_must_cover_two_heartbeats():
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "LEASE_HEARTBEAT_SECONDS": "20",
        "LEASE_TIMEOUT_SECONDS": "30",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "LEASE_TIMEOUT_SECONDS must be at least twice LEASE_HEARTBEAT_SECONDS" in result.stderr
