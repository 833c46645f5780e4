"""Batch label printing: one PDF, one label per page, in pick order; small batches in the
request, large ones through the real task worker; the ``print_labels`` command; parcels are
marked printed."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shipping import tasks
from shipping.models import Parcel
from shipping.services import parcel_pack, wave_create
from tests.pdf_tools import page_texts
from tests.shipping.builders import allocated_order, carrier_with_pool, staff, stocked_sku

D = Decimal
TASK_PATH = "shipping.tasks.print_label_batch"


def packed_wave(size: int = 3):
    """A wave of ``size`` orders, packed last position first (so packing time and pick order
    differ). Returns the wave and its parcels' tracking numbers in pick order."""
    sku = stocked_sku()
    sf = carrier_with_pool("sf", how_many=size + 5)
    orders = [allocated_order((sku, 1)) for _ in range(size)]
    wave = wave_create(orders=orders, acting_user=staff(), carrier=sf)
    in_pick_order = [wave_order.order for wave_order in wave.wave_orders.order_by("position")]
    for order in reversed(in_pick_order):
        parcel_pack(order=order, carrier=sf, weight_kg=D("2.8"), acting_user=staff())
    numbers = [Parcel.objects.get(order=order).tracking_number for order in in_pick_order]
    return wave, numbers


def numbers_per_page(pdf: bytes, numbers: list[str]) -> list[list[str]]:
    return [[n for n in numbers if n in text] for text in page_texts(pdf)]


def print_labels(client, **fields):
    return client.post(reverse("shipping:wave_labels"), fields, HTTP_ACCEPT_LANGUAGE="en")


# --- in the request --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_small_batch_is_one_pdf_one_label_a_page_in_wave_order(client_for):
    wave, numbers = packed_wave(3)
    assert Parcel.objects.order_by("packed_at", "pk").first().tracking_number == numbers[-1]

    response = print_labels(client_for("packer"), wave=wave.code)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert numbers_per_page(response.content, numbers) == [[n] for n in numbers]
    assert not Parcel.objects.filter(label_printed_at__isnull=True).exists()
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db
def test_a_batch_of_labels_with_recipients_addresses_is_never_cached(client_for):
    wave, _numbers = packed_wave(1)

    response = print_labels(client_for("packer"), wave=wave.code)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


@pytest.mark.django_db
def test_unprinted_prints_only_labels_not_yet_printed(client_for):
    wave, numbers = packed_wave(3)
    Parcel.objects.filter(tracking_number=numbers[1]).update(label_printed_at=timezone.now())
    client = client_for("packer")

    response = print_labels(client, wave=wave.code, unprinted="on")

    assert numbers_per_page(response.content, numbers) == [[numbers[0]], [numbers[2]]]
    again = print_labels(client, wave=wave.code, unprinted="on")
    assert again.status_code == 400
    assert "No parcel matches" in again.content.decode()


@pytest.mark.django_db
def test_parcels_filtered_by_carrier_and_packing_day(client_for):
    _wave, numbers = packed_wave(2)
    client = client_for("manager")

    today = print_labels(client, carrier="sf", packed_on=timezone.localdate().isoformat())
    other_carrier = print_labels(client, carrier="zto")

    assert numbers_per_page(today.content, numbers) == [[n] for n in numbers]
    assert other_carrier.status_code == 400


@pytest.mark.django_db
def test_printing_needs_a_choice_of_parcels(client_for):
    packed_wave(1)

    response = print_labels(client_for("packer"))

    assert response.status_code == 400
    assert "Choose a wave" in response.content.decode()
    assert not Parcel.objects.filter(label_printed_at__isnull=False).exists()


@pytest.mark.django_db
def test_the_labels_page_is_for_packers_and_managers(client_for):
    wave, _numbers = packed_wave(1)

    for role, status in [("creator", 403), ("intake", 403), ("packer", 200)]:
        response = print_labels(client_for(role), wave=wave.code)
        assert response.status_code == status, role


# --- in the task worker ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_large_batch_runs_in_the_worker_and_the_page_follows_it(
    client_for, monkeypatch, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(tasks, "IN_REQUEST_LIMIT", 2)
    wave, numbers = packed_wave(3)
    client = client_for("packer")

    response = print_labels(client, wave=wave.code)

    task = DBTaskResult.objects.get(task_path=TASK_PATH)
    status_url = reverse("shipping:wave_labels_status", args=[task.id])
    assert response.status_code == 302
    assert response["Location"] == status_url
    assert not Parcel.objects.filter(label_printed_at__isnull=False).exists()
    queued = client.get(status_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Queued" in queued
    assert 'http-equiv="refresh"' in queued
    download_url = reverse("shipping:wave_labels_download", args=[task.id])
    assert client.get(download_url).status_code == 404

    call_command("db_worker", batch=True, stdout=StringIO(), stderr=StringIO())

    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    assert task.return_value == {"path": f"labels/{task.id}.pdf", "count": 3}
    done = client.get(status_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Done" in done and download_url in done
    assert 'http-equiv="refresh"' not in done
    pdf = b"".join(client.get(download_url).streaming_content)
    assert numbers_per_page(pdf, numbers) == [[n] for n in numbers]
    assert (tmp_path / "labels" / f"{task.id}.pdf").exists()
    assert not Parcel.objects.filter(label_printed_at__isnull=True).exists()


@pytest.mark.django_db
def test_an_unknown_task_is_404(client_for):
    client = client_for("packer")
    for name in ("shipping:wave_labels_status", "shipping:wave_labels_download"):
        assert client.get(reverse(name, args=["not-a-task"])).status_code == 404
        url = reverse(name, args=["00000000-0000-0000-0000-000000000000"])
        assert client.get(url).status_code == 404


# --- the command -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_print_labels_writes_the_pdf_and_says_how_many(tmp_path):
    wave, numbers = packed_wave(3)
    out = tmp_path / "wave.pdf"
    stdout = StringIO()

    call_command("print_labels", wave=wave.code, out=str(out), stdout=stdout)

    assert numbers_per_page(out.read_bytes(), numbers) == [[n] for n in numbers]
    assert stdout.getvalue().startswith("3 labels")
    assert not Parcel.objects.filter(label_printed_at__isnull=True).exists()


@pytest.mark.django_db
def test_print_labels_unprinted_and_carrier(tmp_path):
    _wave, numbers = packed_wave(2)
    Parcel.objects.filter(tracking_number=numbers[0]).update(label_printed_at=timezone.now())
    out = tmp_path / "rest.pdf"

    call_command("print_labels", "--unprinted", "--carrier", "sf", "--out", str(out),
                 stdout=StringIO())  # fmt: skip

    assert numbers_per_page(out.read_bytes(), numbers) == [[numbers[1]]]
    with pytest.raises(CommandError, match="nothing to print"):
        call_command("print_labels", "--unprinted", "--out", str(out), stdout=StringIO())


@pytest.mark.django_db
def test_print_labels_refuses_no_choice_and_unknown_codes(tmp_path):
    out = str(tmp_path / "x.pdf")
    with pytest.raises(CommandError, match="Choose the parcels"):
        call_command("print_labels", out=out)
    with pytest.raises(CommandError, match="No wave"):
        call_command("print_labels", wave="W0000-0001", out=out)
    with pytest.raises(CommandError, match="No carrier"):
        call_command("print_labels", carrier="nope", out=out)
