"""A label batch whose worker died: its page says "stopped — resuming" instead of "running"
for ever, the sweep queues it again under the same task id and the next worker draws the whole
PDF; a batch that failed can be drawn again, by packers and managers."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core import leases
from core.models import Lease
from shipping import tasks
from shipping.models import Parcel
from tests.shipping.test_print_labels import numbers_per_page, packed_wave

TASK_PATH = "shipping.tasks.print_label_batch"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def queued_batch(size: int = 3) -> tuple[str, list[str]]:
    wave, numbers = packed_wave(size)
    ids = [Parcel.objects.get(tracking_number=number).pk for number in numbers]
    return tasks.label_batch_enqueue(ids), numbers


def status_page(client, task_id: str) -> str:
    url = reverse("shipping:wave_labels_status", args=[task_id])
    return client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_batch_whose_worker_died_says_so_and_is_drawn_again_in_full(client_for):
    task_id, numbers = queued_batch(3)
    DBTaskResult.objects.get(pk=task_id).claim("app-2:99:gone00")  # and then it was killed
    client = client_for("packer")

    assert "Stopped — resuming" in status_page(client, task_id)

    assert leases.requeue_orphaned_tasks() == {"requeued": 1, "failed": 0}
    assert "Stopped — resuming" in status_page(client, task_id)  # queued again, same page
    call_command("db_worker", batch=True, stdout=StringIO(), stderr=StringIO())

    task = DBTaskResult.objects.get(pk=task_id)
    assert task.status == "SUCCESSFUL"
    assert task.worker_ids[0] == "app-2:99:gone00" and len(task.worker_ids) == 2
    html = status_page(client, task_id)
    download = reverse("shipping:wave_labels_download", args=[task_id])
    assert "Done" in html and download in html
    pdf = b"".join(client.get(download).streaming_content)
    assert numbers_per_page(pdf, numbers) == [[n] for n in numbers]


@pytest.mark.django_db(transaction=True)
def test_a_batch_on_a_live_worker_is_running(client_for):
    task_id, _numbers = queued_batch(1)
    moment = timezone.now() - timedelta(seconds=1)
    Lease.objects.create(
        name=leases.worker_lease_name("app-1:7:live00"),
        kind=leases.WORKER,
        holder="app-1:7:live00",
        acquired_at=moment,
        heartbeat_at=moment,
    )
    DBTaskResult.objects.get(pk=task_id).claim("app-1:7:live00")

    html = status_page(client_for("packer"), task_id)

    assert "Running: drawing the labels" in html
    assert "Stopped — resuming" not in html


def failed_batch() -> tuple[str, list[str]]:
    task_id, numbers = queued_batch(2)
    task = DBTaskResult.objects.get(pk=task_id)
    for worker_id in ("w1", "w2", "w3"):
        task.claim(worker_id)
    leases.requeue_orphaned_tasks()
    assert DBTaskResult.objects.get(pk=task_id).status == "FAILED"
    return task_id, numbers


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ["packer", "manager"])
def test_a_failed_batch_can_be_drawn_again(client_for, role):
    task_id, _numbers = failed_batch()
    client = client_for(role)
    resume = reverse("shipping:wave_labels_resume", args=[task_id])
    assert resume in status_page(client, task_id)

    response = client.post(resume)

    again = DBTaskResult.objects.exclude(pk=task_id).get(task_path=TASK_PATH)
    assert response["Location"] == reverse("shipping:wave_labels_status", args=[again.pk])
    assert again.status == "READY"
    assert again.args_kwargs == DBTaskResult.objects.get(pk=task_id).args_kwargs


@pytest.mark.django_db(transaction=True)
def test_only_a_failed_batch_is_drawn_again_and_only_by_shipping_workers(client_for):
    task_id, _numbers = queued_batch(1)
    resume = reverse("shipping:wave_labels_resume", args=[task_id])

    refused = client_for("packer").post(resume)
    assert refused["Location"] == reverse("shipping:wave_labels_status", args=[task_id])
    failed_id, _numbers = failed_batch()
    creator = client_for("creator")
    assert creator.post(reverse("shipping:wave_labels_resume", args=[failed_id])).status_code == 403
    assert creator.get(reverse("shipping:wave_labels_resume", args=[failed_id])).status_code in {
        403,
        405,
    }
    assert DBTaskResult.objects.filter(task_path=TASK_PATH).count() == 2  # nothing queued
