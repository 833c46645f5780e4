"""Background work survives a crash: real task workers (``manage.py db_worker`` processes on
the test database) are killed with SIGKILL in the middle of their work, as a power cut or the
kernel's out-of-memory killer would, and a new worker finishes it.

* An import of a 6,000-order export (about 9,000 rows, some bad, some closed): the first worker
  is killed while it writes the orders, the second while it allocates them (each phase read
  from the batch's progress in the database), the third finishes. Every good order exists once,
  every one is allocated or back-ordered exactly as first paid, first served would have it
  from the stock there was, ``check_stock`` is clean, and ``/health/`` said "degraded" (503)
  while no worker lived and "ok" once the work was done.
* A label batch: the worker is killed while it draws the labels, a new one draws the batch
  again under the same task id, and the PDF holds one page per parcel.

The leases are shortened (a heartbeat every 0.25 s, stale after 3 s, a sweep every 0.5 s) so
that the test takes about a minute; every wait is bounded."""

import io
import signal
import subprocess
import time
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import Count, Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bench.peakday.export import peak_export
from bench.peakday.studio import create_studio
from core.models import Lease
from inventory.models import Lot
from orders.drafts import LineDraft, OrderDraft
from orders.importers import service
from orders.models import Channel, ImportBatch, ImportMode, ImportStatus, Order, OrderLine
from orders.services import orders_allocate, orders_create
from shipping import tasks as shipping_tasks
from shipping.models import Parcel
from shipping.services import parcel_pack, wave_create
from tests.pdf_tools import read_pdf
from tests.shipping.builders import ADDRESS, carrier_with_pool, staff, stocked_sku
from tests.workers import start_worker, stop_worker

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LEASES = {
    "LEASE_HEARTBEAT_SECONDS": "0.25",
    "LEASE_TIMEOUT_SECONDS": "3",
    "LEASE_SWEEP_SECONDS": "0.5",
    "LEASE_MAX_ATTEMPTS": "5",
}
ORDERS = 6000
WAIT = 120  # seconds, the most any one step may take on a busy 2-core machine


@pytest.fixture
def short_leases(settings, tmp_path):
    """The same lease timings in this process (its live server answers /health/) as in the
    workers it starts."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LEASE_HEARTBEAT_SECONDS = float(LEASES["LEASE_HEARTBEAT_SECONDS"])
    settings.LEASE_TIMEOUT_SECONDS = float(LEASES["LEASE_TIMEOUT_SECONDS"])
    settings.LEASE_SWEEP_SECONDS = float(LEASES["LEASE_SWEEP_SECONDS"])
    settings.LEASE_MAX_ATTEMPTS = int(LEASES["LEASE_MAX_ATTEMPTS"])
    return settings


class Workers:
    """Start workers, kill them, and always stop what is left."""

    def __init__(self, media_root, log):
        self.media_root, self.log, self.started = media_root, log, []

    def start(self):
        worker = start_worker(self.media_root, self.log, **LEASES)
        self.started.append(worker)
        return worker

    def kill(self, worker) -> None:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def stop_all(self) -> None:
        for worker in self.started:
            stop_worker(worker)


@pytest.fixture
def workers(short_leases, tmp_path):
    pool = Workers(short_leases.MEDIA_ROOT, tmp_path / "workers.log")
    yield pool
    pool.stop_all()


def wait_for(what: str, check, workers: Workers, *, timeout: float = WAIT, every=0.01):
    """Poll ``check`` until it answers something true; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = check()
        if answer:
            return answer
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}\n{workers.output()}")


def health(live_server) -> tuple[int, dict]:
    response = httpx.get(f"{live_server.url}/health/", timeout=10)
    return response.status_code, response.json()


def no_live_worker(live_server):
    """/health/ says degraded, and why: no task worker holds a live lease."""
    status, body = health(live_server)
    if status == 503 and body["status"] == "degraded" and body["workers"]["live"] == 0:
        return body
    return None


def both_stale(live_server):
    """Degraded with no live worker, and the import's own lease seen stale too."""
    body = no_live_worker(live_server)
    return body if body and body["workers"]["stale_claims"] >= 2 else None


def healthy(live_server):
    status, body = health(live_server)
    return body if status == 200 and body["status"] == "ok" else None


# --- the import ------------------------------------------------------------------------------


def batch_state(batch_id: int) -> dict:
    state = ImportBatch.objects.values(
        "status", "rows_done", "rows_total", "created_count", "attempts"
    ).get(pk=batch_id)
    by_status = dict(
        Order.objects.filter(import_batch_id=batch_id)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    state["new"] = by_status.pop("new", 0)
    state["served"] = sum(by_status.values())
    return state


def writing(batch_id: int):
    """Some chunks of orders committed, others still to come."""
    state = batch_state(batch_id)
    written = state["new"] + state["served"]
    if state["status"] == "running" and written and state["rows_done"] < state["rows_total"]:
        return state
    return None


def allocating(batch_id: int):
    """Every row written, some orders allocated (a chunk committed), others still new."""
    state = batch_state(batch_id)
    if state["rows_done"] >= state["rows_total"] and state["served"] and state["new"] > 500:
        return state
    return None


def first_paid_first_served(stock: dict[tuple[int, int], Decimal]) -> dict[int, str]:
    """Each order's fate if the orders had been allocated one after another in payment order
    from ``stock`` (kg available by product and grade), every order all or nothing."""
    needs: dict[int, dict[tuple[int, int], Decimal]] = {}
    for order_id, product, grade, kg in OrderLine.objects.values_list(
        "order_id", "sku__product_id", "sku__grade_id", "kg"
    ):
        need = needs.setdefault(order_id, {})
        need[(product, grade)] = need.get((product, grade), Decimal(0)) + kg
    left = dict(stock)
    fate = {}
    for order_id in Order.objects.order_by("paid_at", "pk").values_list("pk", flat=True):
        need = needs[order_id]
        if all(left.get(pair, 0) >= kg for pair, kg in need.items()):
            for pair, kg in need.items():
                left[pair] -= kg
            fate[order_id] = "allocated"
        else:
            fate[order_id] = "backordered"
    return fate


def stock_by_pair() -> dict[tuple[int, int], Decimal]:
    stock: dict[tuple[int, int], Decimal] = {}
    for product, grade, on_hand, reserved in Lot.objects.values_list(
        "product_id", "grade_id", "on_hand_kg", "reserved_kg"
    ):
        stock[(product, grade)] = stock.get((product, grade), Decimal(0)) + on_hand - reserved
    return stock


def test_an_import_survives_its_workers_being_killed_while_writing_and_allocating(
    live_server, workers
):
    export = peak_export(ORDERS, bad_rows=40, closed_orders=15)
    studio = create_studio(export, packers=0, creators=0, password="crash-test")
    manager = get_user_model().objects.get(username=studio.manager)
    stock = stock_by_pair()
    batch = service.import_upload(
        channel=Channel.objects.get(code="kuaishou"),
        uploaded=SimpleUploadedFile(export.file_name, export.data),
        acting_user=manager,
    )
    batch = service.import_commit(batch=batch, mode=ImportMode.KEEP_GOOD, acting_user=manager)
    assert batch.status == ImportStatus.QUEUED  # far too large for a request

    # 1. Killed while it writes the orders.
    first = workers.start()
    during_write = wait_for("the write phase", lambda: writing(batch.pk), workers)
    workers.kill(first)
    after = batch_state(batch.pk)
    assert after["status"] == "running"
    assert 0 < after["new"] < len(export.good)  # some chunks written, stranded in "new"
    assert after["served"] == 0
    assert after["created_count"] == after["new"] >= during_write["new"]

    # The worker's lease and the import's go stale a few milliseconds apart: wait for both.
    body = wait_for("/health/ to notice", lambda: both_stale(live_server), workers)
    assert body["workers"]["stale_claims"] >= 2  # the worker's lease and the import's
    assert body["workers"]["orphaned_tasks"] == 1
    status = service.status_json(ImportBatch.objects.get(pk=batch.pk))
    assert status["resuming"] is True  # "stopped — resuming", not a frozen bar

    # 2. A new worker resumes it, and is killed while it allocates.
    second = workers.start()
    wait_for("the allocation phase", lambda: allocating(batch.pk), workers, every=0.005)
    workers.kill(second)
    after = batch_state(batch.pk)
    assert after["created_count"] == len(export.good)
    assert after["new"] > 0 and after["served"] > 0
    wait_for("/health/ to notice again", lambda: no_live_worker(live_server), workers)

    # 3. A third worker finishes.
    workers.start()
    wait_for(
        "the import to finish",
        lambda: ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.DONE).exists(),
        workers,
        every=0.2,
    )
    done = wait_for("/health/ to be ok again", lambda: healthy(live_server), workers, every=0.2)
    assert done["workers"] == {
        "status": "ok",
        "live": 1,
        "stale_claims": 0,
        "orphaned_tasks": 0,
        "lease_timeout_seconds": 3,
    }

    batch = ImportBatch.objects.get(pk=batch.pk)
    assert batch.attempts >= 3  # started, killed, resumed, killed, resumed
    assert batch.created_count == len(export.good)
    assert batch.duplicate_count == 0  # what it wrote before was recognised as its own
    assert batch.invalid_count == export.expected_invalid_rows
    assert batch.skipped_count == export.closed_orders
    task = DBTaskResult.objects.get(pk=batch.task_id)
    assert task.status == "SUCCESSFUL"
    assert len(task.worker_ids) >= 3  # the same task, queued again after each kill

    # Each good order once, nothing else.
    numbers = list(Order.objects.values_list("external_no", flat=True))
    assert len(numbers) == len(set(numbers)) == len(export.good)
    assert set(numbers) == set(export.good)
    # Allocated or back-ordered exactly as first paid, first served decides.
    fate = dict(Order.objects.values_list("pk", "status"))
    assert set(fate.values()) == {"allocated", "backordered"}
    expected = first_paid_first_served(stock)
    wrong = [pk for pk in fate if fate[pk] != expected[pk]]
    assert wrong == [], f"{len(wrong)} orders out of payment order"
    out = io.StringIO()
    call_command("check_stock", stdout=out)
    # Nothing the killed workers held is left once the last one stops. (While it runs, its
    # sweep takes the allocation lease for a moment now and then: checked before the stop,
    # this would depend on when the sweep ran.)
    workers.stop_all()
    assert list(Lease.objects.filter(~Q(kind="worker")).values_list("name", flat=True)) == []


# --- a label batch ---------------------------------------------------------------------------


LABELS = 200  # about a second and a half of drawing on a busy 2-core machine


def pdf_pages(pdf: bytes) -> list[str]:
    """Each page's text, by poppler's ``pdftotext`` (a few times faster than pypdf here)."""
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    return text.split("\f")[:-1]  # a form feed ends every page


def packed_parcels(count: int) -> tuple[list[int], list[str]]:
    """``count`` packed parcels (a wave of one-box orders): their ids and tracking numbers."""
    sku = stocked_sku(kg=str(Decimal("2.5") * count))
    sf = carrier_with_pool("sf", how_many=count)
    packer = staff()
    drafts = [
        OrderDraft(
            external_no=f"77{n:017d}",
            paid_at=timezone.now() - timedelta(hours=1),
            lines=[LineDraft(sku=sku, quantity=1, unit_price=sku.price)],
            **ADDRESS,
        )
        for n in range(count)
    ]
    orders = orders_create(channel=Channel.objects.get(code="kuaishou"), drafts=drafts)
    assert orders_allocate(orders=orders)["allocated"] == count
    wave_create(orders=orders, acting_user=packer, carrier=sf)
    for order in orders:
        parcel_pack(order=order, carrier=sf, weight_kg=Decimal("2.8"), acting_user=packer)
    parcels = list(Parcel.objects.order_by("pk").values_list("pk", "tracking_number"))
    return [pk for pk, _n in parcels], [number for _pk, number in parcels]


def test_a_label_batch_is_drawn_again_after_its_worker_is_killed(live_server, workers):
    parcel_ids, numbers = packed_parcels(LABELS)
    task_id = shipping_tasks.label_batch_enqueue(parcel_ids)

    first = workers.start()
    wait_for(
        "the worker to take the batch",
        lambda: DBTaskResult.objects.filter(pk=task_id, status="RUNNING").exists(),
        workers,
    )
    time.sleep(0.3)  # into the drawing
    workers.kill(first)
    task = DBTaskResult.objects.get(pk=task_id)
    assert task.status == "RUNNING"  # killed mid-render: no PDF, no result
    assert not default_storage.exists(f"{shipping_tasks.STORAGE_PREFIX}{task_id}.pdf")
    body = wait_for("/health/ to notice", lambda: no_live_worker(live_server), workers)
    assert body["workers"]["orphaned_tasks"] == 1

    workers.start()
    wait_for(
        "the batch to be drawn again",
        lambda: DBTaskResult.objects.filter(pk=task_id, status="SUCCESSFUL").exists(),
        workers,
        every=0.1,
    )
    wait_for("/health/ to be ok again", lambda: healthy(live_server), workers, every=0.2)
    task = DBTaskResult.objects.get(pk=task_id)
    assert len(task.worker_ids) == 2
    assert task.return_value["count"] == LABELS
    with default_storage.open(task.return_value["path"], "rb") as stored:
        pdf = stored.read()
    assert len(read_pdf(pdf).pages) == LABELS
    texts = pdf_pages(pdf)
    assert len(texts) == LABELS
    assert [[n for n in numbers if n in text] for text in texts] == [[n] for n in numbers]
