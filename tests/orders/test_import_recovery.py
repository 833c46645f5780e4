"""An import whose process died is found by the sweep and resumed where it stopped; the orders
it left ``new`` are allocated first paid, first served, across imports; a failed import is
resumed by a manager (page and API); a request never allocates many waiting orders.

A dead run is built as a killed process leaves it: the batch committed and running, some of
its orders written by the importer's own writer, and its lease no longer renewed."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from core import leases
from core.models import Lease
from inventory.selectors import stock_mismatches
from orders.checks import reservations_match_allocations
from orders.importers import service
from orders.importers.writing import write_orders
from orders.models import Channel, ImportBatch, ImportMode, ImportStatus, Order, OrderStatus
from orders.waiting import allocate_waiting_orders, import_lease_name, waiting_order_ids
from tests.data.make_fixtures import KUAISHOU_HEADER, csv_bytes, kuaishou_rows
from tests.factories import GradeFactory, ProductFactory, SkuFactory, receive
from tests.shipping.builders import new_order

pytestmark = pytest.mark.django_db

PEACH = "MT-5J-TJ"  # 2.5 kg a box


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def in_english():
    """The messages the services write are read in English here."""
    with translation.override("en"):
        yield


@pytest.fixture
def peach():
    return SkuFactory(
        merchant_code=PEACH,
        name="蜜桃 5斤礼盒 特级",
        product=ProductFactory(name="蜜桃"),
        grade=GradeFactory(name="特级", rank=0),
        net_kg=Decimal("2.500"),
        price=Decimal("49.90"),
    )


def boxes_in_stock(sku, boxes: int):
    return receive(kg=str(Decimal("2.5") * boxes), product=sku.product, grade=sku.grade)


@pytest.fixture
def manager(make_user):
    return make_user("manager")


def export(*orders: tuple[str, str]) -> bytes:
    """A 快手 export of one-box peach orders: (order number, paid at "HH:MM")."""
    return csv_bytes(
        KUAISHOU_HEADER,
        kuaishou_rows(
            [
                (
                    number,
                    "待发货",
                    "王小明",
                    "13800138001",
                    ("陕西省", "西安市", "雁塔区", "科技路48号"),
                    "",
                    f"2026-11-18 {paid}:00",
                    "",
                    [(PEACH, 1)],
                    "0.00",
                )
                for number, paid in orders
            ]
        ),
        "gb18030",
    )


def upload(data: bytes, user) -> ImportBatch:
    with translation.override("en"):
        return service.import_upload(
            channel=Channel.objects.get(code="kuaishou"),
            uploaded=SimpleUploadedFile("orders.csv", data),
            acting_user=user,
        )


def dead_run(data: bytes, user, *, written: int, attempts: int = 1) -> ImportBatch:
    """An import whose process died after writing its first ``written`` orders: committed,
    running, those orders new, its lease last renewed a minute ago."""
    batch = upload(data, user)
    table = service._read_batch_file(batch)
    plan = service.plan_import(
        channel=batch.channel, table=table, columns=service._columns_for(batch.channel, table)
    )
    write_orders(
        channel=batch.channel,
        drafts=[group.draft for group in plan.new[:written]],
        import_batch=batch,
        acting_user=user,
    )
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.RUNNING,
        dry_run=False,
        attempts=attempts,
        created_count=written,
        rows_done=written,
    )
    gone = timezone.now() - timedelta(minutes=1)
    Lease.objects.create(
        name=import_lease_name(batch.pk),
        kind="orders.import",
        holder="web-1:4242:gone00",
        acquired_at=gone,
        heartbeat_at=gone,
    )
    return ImportBatch.objects.get(pk=batch.pk)


def statuses() -> dict[str, str]:
    return dict(Order.objects.values_list("external_no", "status"))


def assert_stock_consistent():
    assert stock_mismatches() == []
    assert reservations_match_allocations() == []


# --- found and resumed -------------------------------------------------------------------------


def test_a_stopped_import_is_found_shown_as_resuming_and_resumed_where_it_stopped(peach, manager):
    boxes_in_stock(peach, 10)
    data = export(("A1", "20:01"), ("A2", "20:02"), ("A3", "20:03"), ("A4", "20:04"))
    batch = dead_run(data, manager, written=2)

    stalled = service.status_json(batch)
    assert stalled["resuming"] is True  # not a bar frozen half way
    assert stalled["status_display"] == "Stopped — resuming"

    report = leases.sweep()

    assert report["imports"] == 1
    assert not Lease.objects.exists()  # the stale lease is dropped
    batch.refresh_from_db()
    assert batch.status == ImportStatus.INTERRUPTED
    assert "resumes it where it stopped" in batch.message
    task = DBTaskResult.objects.get(pk=batch.task_id)
    assert (task.status, task.args_kwargs["args"]) == ("READY", [batch.pk])
    assert set(statuses().values()) == {"new"}  # left to the import's own allocation step

    resumed = service.import_run(batch_id=batch.pk)

    assert resumed.status == ImportStatus.DONE
    assert (resumed.created_count, resumed.duplicate_count) == (4, 0)
    assert resumed.attempts == 2
    assert statuses() == dict.fromkeys(["A1", "A2", "A3", "A4"], "allocated")
    assert Order.objects.count() == 4
    assert_stock_consistent()


def test_an_import_that_keeps_stopping_is_failed_and_says_why(peach, manager, settings):
    settings.LEASE_MAX_ATTEMPTS = 3
    batch = dead_run(export(("A1", "20:01")), manager, written=1, attempts=3)

    leases.sweep()

    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED
    assert "stopped 3 times" in batch.message
    assert service.status_json(batch)["resumable"] is True
    assert not DBTaskResult.objects.exists()


def test_an_import_with_a_live_holder_is_left_alone(peach, manager):
    batch = dead_run(export(("A1", "20:01")), manager, written=1)
    Lease.objects.filter(name=import_lease_name(batch.pk)).update(heartbeat_at=timezone.now())

    leases.sweep()

    batch.refresh_from_db()
    assert batch.status == ImportStatus.RUNNING
    assert service.status_json(batch)["resuming"] is False
    assert service.import_run(batch_id=batch.pk).status == ImportStatus.RUNNING  # not claimed


# --- first paid, first served across imports ---------------------------------------------------


def test_a_new_import_serves_the_orders_a_dead_inline_import_left_in_payment_order(peach, manager):
    """The issue's case: an import died after writing; the next import's allocation step
    serves the stranded orders with its own, earliest payment first."""
    boxes_in_stock(peach, 4)
    dead_run(
        export(("A1", "20:00"), ("A2", "20:02"), ("A3", "20:04"), ("A4", "20:06")),
        manager,
        written=4,
    )
    batch = upload(export(("B1", "20:01"), ("B2", "20:03"), ("B3", "20:05")), manager)

    with translation.override("en"):
        done = service.import_commit(batch=batch, mode=ImportMode.KEEP_GOOD, acting_user=manager)

    assert done.status == ImportStatus.DONE
    assert statuses() == {
        "A1": "allocated",
        "B1": "allocated",
        "A2": "allocated",
        "B2": "allocated",
        "A3": "backordered",
        "B3": "backordered",
        "A4": "backordered",
    }
    assert "4 earlier orders that were waiting for stock were allocated with them" in done.message
    assert "3 orders created: 2 allocated, 1 back-ordered." in done.message
    assert_stock_consistent()


@pytest.mark.django_db(transaction=True)
def test_the_sweep_resumes_two_dead_inline_imports_and_serves_them_first_paid_first(peach, manager):
    """Two requests died after writing their imports; the task worker's sweep queues both,
    and the first to run allocates the orders of both, in payment order."""
    boxes_in_stock(peach, 3)
    first = dead_run(export(("A1", "20:00"), ("A2", "20:03"), ("A3", "20:04")), manager, written=3)
    second = dead_run(export(("B1", "20:01"), ("B2", "20:02")), manager, written=2)

    call_command("db_worker", batch=True, stdout=StringIO(), stderr=StringIO())

    for batch in (first, second):
        batch.refresh_from_db()
        assert batch.status == ImportStatus.DONE
        assert batch.attempts == 2
    assert statuses() == {
        "A1": "allocated",
        "B1": "allocated",
        "B2": "allocated",
        "A2": "backordered",
        "A3": "backordered",
    }
    assert not Lease.objects.exists()
    assert_stock_consistent()


def test_the_sweep_allocates_orders_left_waiting_and_leaves_young_and_unfinished_ones(
    peach, manager
):
    boxes_in_stock(peach, 2)
    early = new_order((peach, 1), number="API-2", paid_at=timezone.now() - timedelta(hours=2))
    earlier = new_order((peach, 1), number="API-1", paid_at=timezone.now() - timedelta(hours=3))
    young = new_order((peach, 1), number="API-0", paid_at=timezone.now() - timedelta(hours=4))
    Order.objects.filter(pk__in=[early.pk, earlier.pk]).update(
        created_at=timezone.now() - timedelta(minutes=2)
    )
    unfinished = dead_run(export(("A1", "20:00")), manager, written=1)

    assert waiting_order_ids() == [earlier.pk, early.pk]  # paid order; not A1, not API-0
    assert allocate_waiting_orders() == {"allocated": 2, "backordered": 0}

    assert statuses() == {"API-1": "allocated", "API-2": "allocated", "API-0": "new", "A1": "new"}
    assert young.pk not in waiting_order_ids()
    assert Order.objects.get(import_batch=unfinished).status == OrderStatus.NEW
    assert_stock_consistent()


def test_the_allocation_lease_keeps_a_second_allocator_out(peach, manager):
    boxes_in_stock(peach, 2)
    order = new_order((peach, 1), number="API-1")
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=2))

    with leases.hold("orders.allocation", kind="orders.allocation"):
        assert allocate_waiting_orders() is None  # busy: its holder serves them

    assert allocate_waiting_orders() == {"allocated": 1, "backordered": 0}


# --- a request stays short ---------------------------------------------------------------------


def test_a_request_leaves_the_allocation_of_many_waiting_orders_to_the_worker(
    peach, manager, settings
):
    settings.ORDER_IMPORT_INLINE_ROWS = 3
    boxes_in_stock(peach, 10)
    failed = dead_run(export(("A1", "20:00"), ("A2", "20:02"), ("A3", "20:04")), manager, written=3)
    ImportBatch.objects.filter(pk=failed.pk).update(status=ImportStatus.FAILED)
    batch = upload(export(("B1", "20:01")), manager)

    with translation.override("en"):
        queued = service.import_commit(batch=batch, mode=ImportMode.KEEP_GOOD, acting_user=manager)

    assert queued.status == ImportStatus.QUEUED
    assert "the task worker allocates them" in queued.message
    assert statuses()["B1"] == "new"  # written in the request, allocated by the worker
    assert DBTaskResult.objects.get(pk=queued.task_id).status == "READY"

    done = service.import_run(batch_id=batch.pk)

    assert done.status == ImportStatus.DONE
    assert set(statuses().values()) == {"allocated"}


def test_a_request_never_imports_a_large_file_whatever_the_setting(settings):
    settings.ORDER_IMPORT_INLINE_ROWS = 1_000_000

    assert service.inline_rows() == service.INLINE_ROWS_CEILING == 5000


# --- a manager resumes a failed import ---------------------------------------------------------


@pytest.fixture
def failed_import(peach, manager, settings):
    settings.LEASE_MAX_ATTEMPTS = 3
    boxes_in_stock(peach, 10)
    batch = dead_run(export(("A1", "20:01"), ("A2", "20:02")), manager, written=1, attempts=3)
    leases.sweep()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED
    return batch


def test_the_result_page_offers_a_manager_to_resume_a_failed_import(client_for, failed_import):
    client = client_for("manager")
    page = client.get(reverse("imports:result", args=[failed_import.pk]), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert "Failed — can be resumed" in html
    assert reverse("imports:resume", args=[failed_import.pk]) in html

    response = client.post(
        reverse("imports:resume", args=[failed_import.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response["Location"] == reverse("imports:progress", args=[failed_import.pk])
    failed_import.refresh_from_db()
    assert (failed_import.status, failed_import.attempts) == (ImportStatus.QUEUED, 0)
    assert failed_import.message.startswith("Resumed by")
    assert DBTaskResult.objects.get(pk=failed_import.task_id).status == "READY"
    progress = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Queued" in progress

    done = service.import_run(batch_id=failed_import.pk)

    assert (done.status, done.created_count, done.duplicate_count) == ("done", 2, 0)
    assert statuses() == {"A1": "allocated", "A2": "allocated"}


def test_the_api_resumes_a_failed_import_once(client_for, failed_import):
    client = client_for("manager")
    url = f"/api/imports/{failed_import.pk}/resume/"

    response = client.post(url)
    again = client.post(url)

    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["resumable"], body["attempts"]) == ("queued", False, 0)
    assert again.status_code == 409
    assert again.json()["code"] == "wrong_state"


def test_only_a_committed_import_that_failed_can_be_resumed(client_for, peach, manager):
    client = client_for("manager")
    previewed = upload(export(("A1", "20:01")), manager)
    failed_preview = upload(export(("A2", "20:02")), manager)
    ImportBatch.objects.filter(pk=failed_preview.pk).update(status=ImportStatus.FAILED)

    for batch in (previewed, failed_preview):
        assert client.post(f"/api/imports/{batch.pk}/resume/").status_code == 409
    page = client.post(reverse("imports:resume", args=[previewed.pk]))
    assert page.status_code == 302
    assert ImportBatch.objects.get(pk=previewed.pk).status == ImportStatus.PREVIEWED
    assert not DBTaskResult.objects.exists()


@pytest.mark.parametrize("role", ["packer", "creator", "intake"])
def test_only_managers_resume_an_import(client_for, failed_import, role):
    client = client_for(role)

    assert client.post(f"/api/imports/{failed_import.pk}/resume/").status_code == 403
    assert client.post(reverse("imports:resume", args=[failed_import.pk])).status_code == 403
    failed_import.refresh_from_db()
    assert failed_import.status == ImportStatus.FAILED


def test_the_progress_page_says_stopped_resuming_instead_of_a_frozen_bar(
    client_for, peach, manager
):
    batch = dead_run(export(("A1", "20:01"), ("A2", "20:02")), manager, written=1)
    client = client_for("manager")

    html = client.get(
        reverse("imports:progress", args=[batch.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    status = client.get(reverse("imports:status", args=[batch.pk])).json()

    assert "Stopped — resuming" in html
    assert 'id="resuming-help" hidden' not in html
    assert (status["resuming"], status["finished"]) == (True, False)
    assert client.get("/api/imports/").json()["results"][0]["attempts"] == 1
