"""``/health/``: the database, the task queue and the task workers' leases, as a person on call
sees them, and ``?scope=web`` as a load balancer does; open to anyone, never cached, nothing
about the studio's data."""

import json
from datetime import timedelta

import pytest
from django.db import OperationalError, connections
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core import leases
from core.models import Lease
from orders.tasks import fill_backorders

pytestmark = pytest.mark.django_db
WORKER_ID = "app-1:4242:abcdef"


@pytest.fixture
def live_worker():
    """A task worker's lease, renewed a moment ago: a worker runs somewhere."""
    return claim(leases.worker_lease_name(WORKER_ID), kind=leases.WORKER, seconds_ago=1)


def claim(name: str, *, kind: str, seconds_ago: float) -> Lease:
    moment = timezone.now() - timedelta(seconds=seconds_ago)
    return Lease.objects.create(
        name=name, kind=kind, holder="app-1:4242:abcdef", acquired_at=moment, heartbeat_at=moment
    )


def health(client, **headers):
    response = client.get(reverse("health"), **headers)
    return response, json.loads(response.content)


def waiting_task(*, minutes_ago: float) -> DBTaskResult:
    """A real task in the real task table, enqueued ``minutes_ago`` and taken by no worker."""
    result = fill_backorders.enqueue([])
    DBTaskResult.objects.filter(pk=result.id).update(
        enqueued_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return DBTaskResult.objects.get(pk=result.id)


def test_all_is_well_with_a_database_a_live_worker_and_no_waiting_task(client, live_worker):
    response, body = health(client)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["tasks"] == {
        "status": "ok",
        "waiting": 0,
        "oldest_waiting_seconds": None,
        "running": 0,
        "max_wait_seconds": 5 * 60,
    }
    assert body["workers"] == {
        "status": "ok",
        "live": 1,
        "stale_claims": 0,
        "orphaned_tasks": 0,
        "lease_timeout_seconds": 30,
    }


def test_no_live_worker_is_degraded_and_a_503(client):
    claim(leases.worker_lease_name("gone"), kind=leases.WORKER, seconds_ago=31)

    response, body = health(client)

    assert response.status_code == 503
    assert body["status"] == "degraded"
    assert body["database"]["status"] == "ok"
    assert body["workers"]["status"] == "degraded"
    assert body["workers"]["live"] == 0
    assert body["workers"]["stale_claims"] == 1  # the dead worker's own lease


def test_a_stale_claim_is_degraded_although_a_worker_lives(client, live_worker):
    claim("orders.import:7", kind="orders.import", seconds_ago=45)
    claim("orders.allocation", kind="orders.allocation", seconds_ago=2)  # renewed: alive

    response, body = health(client)

    assert response.status_code == 503
    assert body["status"] == "degraded"
    assert body["workers"]["live"] == 1
    assert body["workers"]["stale_claims"] == 1


def test_a_task_running_on_a_worker_that_is_gone_is_degraded(client, live_worker):
    on_the_live_one = waiting_task(minutes_ago=1)
    on_the_live_one.claim(WORKER_ID)
    orphan = waiting_task(minutes_ago=1)
    orphan.claim("app-2:99:gone00")

    response, body = health(client)

    assert response.status_code == 503
    assert body["workers"]["orphaned_tasks"] == 1
    assert body["tasks"]["running"] == 2


def test_the_lease_timeout_comes_from_the_settings(client, live_worker, settings):
    settings.LEASE_TIMEOUT_SECONDS = 60
    claim("orders.import:7", kind="orders.import", seconds_ago=45)

    response, body = health(client)

    assert response.status_code == 200
    assert body["workers"]["stale_claims"] == 0
    assert body["workers"]["lease_timeout_seconds"] == 60


def test_the_load_balancer_asks_about_the_web_only(client):
    """No task worker at all: the web process still belongs in rotation."""
    response, body = health(client, QUERY_STRING="scope=web")

    assert response.status_code == 200
    assert set(body) == {"status", "database"}
    assert body["status"] == "ok"


def test_a_task_waiting_a_moment_is_normal(client, live_worker):
    waiting_task(minutes_ago=1)

    response, body = health(client)

    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["tasks"]["waiting"] == 1
    assert 60 <= body["tasks"]["oldest_waiting_seconds"] < 5 * 60


def test_a_task_waiting_too_long_means_the_workers_are_stuck(client, live_worker):
    waiting_task(minutes_ago=1)
    waiting_task(minutes_ago=12)

    response, body = health(client)

    assert response.status_code == 503  # the load balancer probes ?scope=web instead
    assert body["status"] == "degraded"
    assert body["tasks"]["status"] == "degraded"
    assert body["tasks"]["waiting"] == 2
    assert body["tasks"]["oldest_waiting_seconds"] >= 12 * 60


def test_the_wait_limit_comes_from_the_settings(client, settings, live_worker):
    settings.HEALTH_TASKS_MAX_WAIT_MINUTES = 30
    waiting_task(minutes_ago=12)

    _response, body = health(client)

    assert body["status"] == "ok"
    assert body["tasks"]["max_wait_seconds"] == 30 * 60


def test_tasks_a_worker_has_taken_or_finished_are_not_waiting(client, live_worker):
    running = waiting_task(minutes_ago=20)
    running.claim(WORKER_ID)
    finished = waiting_task(minutes_ago=40)
    finished.set_successful(0)

    _response, body = health(client)

    assert body["status"] == "ok"
    assert body["tasks"]["waiting"] == 0
    assert body["tasks"]["running"] == 1


def test_a_task_scheduled_for_later_waits_only_from_its_time(client, live_worker):
    task = waiting_task(minutes_ago=60)
    DBTaskResult.objects.filter(pk=task.pk).update(run_after=timezone.now() - timedelta(minutes=2))
    waiting_task(minutes_ago=0)
    later = fill_backorders.using(run_after=timezone.now() + timedelta(hours=1)).enqueue([])

    _response, body = health(client)

    assert body["status"] == "ok"
    assert body["tasks"]["waiting"] == 2  # the one due in an hour is not waiting yet
    assert 120 <= body["tasks"]["oldest_waiting_seconds"] < 5 * 60
    assert DBTaskResult.objects.filter(pk=later.id).exists()


def test_a_database_that_does_not_answer_is_down_and_says_no_more(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError('connection to "db.internal" failed: password hunter2 rejected')

    monkeypatch.setattr(connections["default"], "cursor", refuse)

    response, body = health(client)

    assert response.status_code == 503
    assert body == {
        "status": "down",
        "database": {"status": "down", "error": "OperationalError"},
        "tasks": {"status": "unknown"},
        "workers": {"status": "unknown"},
    }
    assert b"hunter2" not in response.content
    assert b"db.internal" not in response.content
    web, web_body = health(client, QUERY_STRING="scope=web")
    assert web.status_code == 503
    assert web_body["status"] == "down"


def test_anyone_may_ask_and_the_answer_is_never_cached(client, live_worker):
    response, body = health(client)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert set(body) == {"status", "database", "tasks", "workers"}
    assert client.head(reverse("health")).status_code == 200
    assert client.post(reverse("health")).status_code == 405


def test_the_view_is_marked_public_for_the_role_walk():
    from studio.health import health as view

    assert view.public is True


def test_health_is_probed_over_plain_http_while_pages_are_redirected(client, settings, live_worker):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get(reverse("health")).status_code == 200
    redirected = client.get(reverse("login"))
    assert redirected.status_code == 301
    assert redirected["Location"].startswith("https://")
