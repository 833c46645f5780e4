"""``GET /health/``: is the work getting done? ``GET /health/?scope=web``: may a load balancer
send this process traffic?

The answer is JSON, never cached, open to anyone (it says nothing about the studio's data):

    {"status": "ok" | "degraded" | "down",
     "database": {"status": "ok", "ms": 0.8},
     "tasks": {"status": "ok", "waiting": 0, "oldest_waiting_seconds": null, "running": 0,
               "max_wait_seconds": 300},
     "workers": {"status": "ok", "live": 1, "stale_claims": 0, "orphaned_tasks": 0,
                 "lease_timeout_seconds": 30}}

* ``down`` (HTTP 503): the database does not answer a trivial query, or the task or lease
  table cannot be read. The process cannot serve pages: take it out of rotation.
* ``degraded`` (HTTP 503): pages work, but background work is not getting done: no task
  worker holds a live lease (none runs, on any machine), a claim is stale (a process died
  holding an import, a task or the allocation, and no sweep has recovered it yet), a task runs
  on a worker that is gone, or a task has waited longer than
  ``HEALTH_TASKS_MAX_WAIT_MINUTES`` (all workers busy that long). Alert on it.
* ``ok`` (HTTP 200) otherwise.

``?scope=web`` answers only for the database (``ok`` 200 or ``down`` 503): what a load
balancer should probe, so that a dead task worker never takes the web out of rotation.

An error is reported by its class name only: a driver's message can name hosts and users.
"""

import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Case, Count, F, Min, When
from django.db.models.functions import Greatest
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_tasks_db.models import DBTaskResult, get_date_max

from core import leases

OK, DEGRADED, DOWN, UNKNOWN = "ok", "degraded", "down", "unknown"


def check_database() -> dict:
    """A trivial query on the default database, and how long it took."""
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return {"status": DOWN, "error": type(exc).__name__}
    return {"status": OK, "ms": round((time.perf_counter() - started) * 1000, 1)}


def check_tasks() -> dict:
    """How many tasks wait for a worker, and for how long the oldest has waited: since it was
    enqueued, or since the time it was scheduled to run after, whichever is later."""
    max_wait = settings.HEALTH_TASKS_MAX_WAIT_MINUTES * 60
    waiting_since = Case(
        When(run_after=get_date_max(), then=F("enqueued_at")),
        default=Greatest("enqueued_at", "run_after"),
    )
    try:
        waiting = DBTaskResult.objects.ready().aggregate(
            count=Count("pk"), oldest=Min(waiting_since)
        )
        running = DBTaskResult.objects.running().count()
    except DatabaseError as exc:
        return {"status": DOWN, "error": type(exc).__name__}
    oldest = waiting["oldest"]
    age = max(0, int((timezone.now() - oldest).total_seconds())) if oldest else None
    return {
        "status": DEGRADED if age is not None and age > max_wait else OK,
        "waiting": waiting["count"],
        "oldest_waiting_seconds": age,
        "running": running,
        "max_wait_seconds": max_wait,
    }


def check_workers() -> dict:
    """Live task workers and claims left by processes that are gone (``core.leases``)."""
    try:
        report = leases.lease_report()
    except DatabaseError as exc:
        return {"status": DOWN, "error": type(exc).__name__}
    stuck = report["live"] == 0 or report["stale_claims"] or report["orphaned_tasks"]
    return {
        "status": DEGRADED if stuck else OK,
        **report,
        "lease_timeout_seconds": leases.timeout_seconds(),
    }


@never_cache
@require_safe
def health(request):
    database = check_database()
    if request.GET.get("scope") == "web":
        return JsonResponse(
            {"status": database["status"], "database": database},
            status=503 if database["status"] == DOWN else 200,
        )
    if database["status"] == OK:
        tasks, workers = check_tasks(), check_workers()
    else:
        tasks = workers = {"status": UNKNOWN}
    states = {database["status"], tasks["status"], workers["status"]}
    if DOWN in states:
        overall = DOWN
    elif DEGRADED in states:
        overall = DEGRADED
    else:
        overall = OK
    return JsonResponse(
        {"status": overall, "database": database, "tasks": tasks, "workers": workers},
        status=200 if overall == OK else 503,
    )


# Open to anyone, load balancers included: the URL-walking role test accepts views marked public.
health.public = True
