"""Printing as the packing floor meets it: the station prints each label to its printer at
once (or says plainly why not), the laptop remembers its station, the print queue shows jobs
and sends them again, the browser prints a label page at the label's size, the API and the
``print_labels`` command reach printers too."""

from decimal import Decimal
from io import BytesIO, StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.urls import reverse
from PIL import Image

from shipping.models import PackingStation, Parcel, Printer, PrinterLanguage, PrintJob
from shipping.printing.services import labels_print
from shipping.printing.stations import STATION_COOKIE
from shipping.services import parcel_pack, wave_create
from tests.pdf_tools import decode_barcodes
from tests.shipping.builders import (
    allocated_order,
    carrier,
    carrier_with_pool,
    staff,
    stocked_sku,
)
from tests.shipping.printers import (
    FakePrinter,
    closed_port,
    decode_tspl,
    decode_zpl,
    to_image,
)

pytestmark = pytest.mark.django_db

STATION = reverse("shipping:station")
QUEUE = reverse("shipping:print_jobs")


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _pack_data(order, the_carrier) -> dict:
    return {
        "order": order.pk,
        "lines": [line.pk for line in order.lines.all()],
        "weight_kg": "2.8",
        "carrier": the_carrier.pk,
        "tracking_number": "",
        "sorting_code": "",
    }


@pytest.fixture
def packer(client_for):
    return client_for("packer")


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Callbacks run when the request's transactions commit, as outside a test."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _printer(port: int, **fields) -> Printer:
    return Printer.objects.create(
        **{"name": "打包台 1 号", "host": "127.0.0.1", "port": port, **fields}
    )


def _packed_parcels(count: int, *, wave: bool = False) -> list[Parcel]:
    sku = stocked_sku()
    sf = carrier_with_pool("sf", how_many=count + 2)
    orders = [allocated_order((sku, 1)) for _ in range(count)]
    if wave:
        made = wave_create(orders=orders, acting_user=staff(), carrier=sf)
        orders = [wave_order.order for wave_order in made.wave_orders.order_by("position")]
    for order in reversed(orders):
        parcel_pack(order=order, carrier=sf, weight_kg=Decimal("2.8"), acting_user=staff())
    return [Parcel.objects.get(order=order) for order in orders]


# --- the packing station ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_packing_at_a_station_with_a_printer_prints_the_label_at_once(packer, committing):
    sf = carrier_with_pool("sf")
    order = allocated_order((stocked_sku(), 1))
    with FakePrinter() as fake:
        PackingStation.objects.create(
            name="一号台", printer=_printer(fake.port, language=PrinterLanguage.TSPL)
        )
        with committing():
            response = packer.post(STATION, _pack_data(order, sf), HTTP_ACCEPT_LANGUAGE="en")
        (received,) = fake.wait_for(1)

    parcel = Parcel.objects.get(order=order)
    assert response.status_code == 302
    assert "Label sent to 打包台 1 号." in _messages(response)
    ((kind, number),) = [
        code for code in decode_barcodes(to_image(decode_tspl(received)[0])) if code[0] == "Code128"
    ]
    assert number == parcel.tracking_number
    assert PrintJob.objects.get().state == "sent"
    page = packer.get(STATION).content.decode()
    assert "data-autoprint" not in page  # the printer has it: the browser prints nothing
    again_url = reverse("shipping:label_to_printer", args=[parcel.pk])
    assert f'action="{again_url}"' in page

    with FakePrinter() as fake:  # the label tore: print it again, on the same desk
        Printer.objects.update(port=fake.port)
        with committing():
            again = packer.post(again_url, HTTP_ACCEPT_LANGUAGE="en")
        fake.wait_for(1)
    assert again.status_code == 302
    assert PrintJob.objects.filter(state="sent").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_dead_printer_does_not_stop_packing_and_says_why(packer, committing):
    sf = carrier_with_pool("sf")
    order = allocated_order((stocked_sku(), 1))
    PackingStation.objects.create(name="一号台", printer=_printer(closed_port()))

    with committing():
        response = packer.post(STATION, _pack_data(order, sf), HTTP_ACCEPT_LANGUAGE="en")

    said = " ".join(_messages(response))
    assert Parcel.objects.filter(order=order).exists()
    assert "Label not printed" in said and "refused the connection" in said
    assert "print queue" in said
    job = PrintJob.objects.get()
    assert job.state == "failed"
    queue = packer.get(QUEUE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "refused the connection" in queue
    assert reverse("shipping:print_job_again", args=[job.pk]) in queue and "Send again" in queue


def test_a_laptop_remembers_its_station_whoever_logs_in(client_for, committing):
    first = PackingStation.objects.create(name="一号台", carrier=carrier("zto"))
    PackingStation.objects.create(name="二号台")
    client = client_for("packer")
    assert (
        "No packing station chosen"
        in client.get(STATION, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )

    response = client.post(
        reverse("shipping:station_choose"), {"station": first.pk}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 302
    cookie = response.cookies[STATION_COOKIE]
    assert cookie["max-age"] == 365 * 24 * 3600 and cookie["httponly"]
    client.logout()  # the test client forgets every cookie; a browser keeps this one
    client_for("manager")  # another person on the same laptop
    client.cookies[STATION_COOKIE] = cookie.value
    page = client.get(STATION, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "This desk: 一号台" in page and "labels print through the browser" in page
    # the station's carrier is preselected for an order whose wave names none
    order = allocated_order((stocked_sku(), 1))
    loaded = client.get(STATION, {"order": order.external_no})
    assert loaded.context["form"].initial["carrier"] == carrier("zto").pk


def test_a_forged_station_cookie_is_ignored(packer):
    PackingStation.objects.create(name="一号台")
    PackingStation.objects.create(name="二号台")
    packer.cookies[STATION_COOKIE] = "1"  # not signed

    page = packer.get(STATION, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "No packing station chosen" in page


def test_with_one_station_there_is_nothing_to_choose(packer):
    PackingStation.objects.create(name="唯一的台")

    assert "This desk: 唯一的台" in packer.get(STATION, HTTP_ACCEPT_LANGUAGE="en").content.decode()


# --- the browser prints a label --------------------------------------------------------------


def test_the_label_page_is_the_label_alone_at_its_size_and_its_image_scans(packer):
    (parcel,) = _packed_parcels(1)

    page = packer.get(reverse("shipping:label_print", args=[parcel.pk]))
    image = packer.get(reverse("shipping:label_png", args=[parcel.pk]))

    html = page.content.decode()
    assert "@page { size: 100mm 150mm; margin: 0; }" in html
    assert reverse("shipping:label_png", args=[parcel.pk]) in html
    assert page["Cache-Control"] == image["Cache-Control"] == "private, no-store"
    assert page["X-Frame-Options"] == "SAMEORIGIN"  # the station frames it; no other site
    assert image["Content-Type"] == "image/png"
    label = Image.open(BytesIO(image.content))
    assert label.mode == "1" and label.size == (800, 1199)
    assert round(label.info["dpi"][0]) == 203
    assert ("Code128", parcel.tracking_number) in decode_barcodes(label.convert("L"))
    parcel.refresh_from_db()
    assert parcel.label_printed_at is not None


# --- the print queue -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_wave_goes_to_a_printer_in_wave_order_from_the_queue_page(packer, committing):
    parcels = _packed_parcels(3, wave=True)
    with FakePrinter() as fake:
        printer = _printer(fake.port, language=PrinterLanguage.ZPL)
        with committing():
            response = packer.post(
                QUEUE,
                {"wave": parcels[0].wave.code.lower(), "printer": printer.pk},
                HTTP_ACCEPT_LANGUAGE="en",
            )
        (received,) = fake.wait_for(1)

    assert response.status_code == 302
    assert "Print job" in " ".join(_messages(response))
    numbers = [
        [text for kind, text in decode_barcodes(to_image(dots)) if kind == "Code128"]
        for dots in decode_zpl(received)
    ]
    assert numbers == [[p.tracking_number] for p in parcels]
    job = PrintJob.objects.get()
    assert (job.wave_id, job.state, job.label_count) == (parcels[0].wave_id, "sent", 3)


def test_the_wave_page_leads_to_the_queue_with_the_wave_filled_in(packer):
    parcels = _packed_parcels(1, wave=True)
    code = parcels[0].wave.code

    wave_page = packer.get(reverse("shipping:wave_detail", args=[code])).content.decode()
    queue = packer.get(QUEUE, {"wave": code})

    assert f"{QUEUE}?wave={code}" in wave_page
    assert queue.context["form"]["wave"].value() == code


def test_an_unknown_wave_is_named_in_the_form(packer):
    printer = _printer(9)

    response = packer.post(QUEUE, {"wave": "W9999-0001", "printer": printer.pk})

    assert response.status_code == 400
    assert "W9999-0001" in response.content.decode()
    assert not PrintJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_queue_page_sends_a_failed_job_again_to_another_printer(packer, committing):
    (parcel,) = _packed_parcels(1)
    dead = _printer(closed_port())
    job = labels_print(parcels=[parcel], printer=dead, acting_user=staff())
    assert job.state == "failed"
    with FakePrinter() as fake:
        spare = _printer(fake.port, name="备用", language=PrinterLanguage.TSPL)
        with committing():
            response = packer.post(
                reverse("shipping:print_job_again", args=[job.pk]),
                {"printer": spare.pk},
                HTTP_ACCEPT_LANGUAGE="en",
            )
        (received,) = fake.wait_for(1)

    job.refresh_from_db()
    assert response.status_code == 302
    assert (job.state, job.printer_id, job.attempts) == ("sent", spare.pk, 2)
    assert len(decode_tspl(received)) == 1


# --- the API ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_api_prints_parcels_and_names_unknown_ones(client_for, committing):
    parcels = _packed_parcels(2)
    client = client_for("packer")
    with FakePrinter() as fake:
        printer = _printer(fake.port, language=PrinterLanguage.ZPL)
        with committing():
            created = client.post(
                "/api/print-jobs/",
                {"printer": printer.pk, "parcels": [parcels[1].pk, parcels[0].pk]},
                content_type="application/json",
            )
        (received,) = fake.wait_for(1)
    unknown = client.post(
        "/api/print-jobs/",
        {"printer": printer.pk, "parcels": [parcels[0].pk, 999999]},
        content_type="application/json",
    )
    neither = client.post(
        "/api/print-jobs/", {"printer": printer.pk}, content_type="application/json"
    )

    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["state"], body["label_count"], body["labels_sent"]) == ("sent", 2, 2)
    assert body["printer_name"] == "打包台 1 号" and body["created_by"]
    numbers = [
        [text for kind, text in decode_barcodes(to_image(dots)) if kind == "Code128"]
        for dots in decode_zpl(received)
    ]
    assert numbers == [[parcels[1].tracking_number], [parcels[0].tracking_number]]
    assert unknown.status_code == 400 and "999999" in unknown.json()["parcels"][0]
    assert neither.status_code == 400 and "parcels" in neither.json()
    assert PrintJob.objects.count() == 1
    listed = client.get("/api/print-jobs/?state=sent").json()
    assert [job["id"] for job in listed["results"]] == [body["id"]]


def test_the_api_refuses_to_send_a_queued_job_again(client_for):
    printer = _printer(9)
    job = PrintJob.objects.create(printer=printer, label_count=1, created_by=staff())

    response = client_for("manager").post(
        f"/api/print-jobs/{job.pk}/again/", {}, content_type="application/json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "not_failed"


# --- the command line ------------------------------------------------------------------------


def test_print_labels_sends_a_wave_to_a_tcp_printer(tmp_path):
    parcels = _packed_parcels(2, wave=True)
    out = StringIO()
    with FakePrinter() as fake:
        call_command(
            "print_labels",
            wave=parcels[0].wave.code,
            to=f"tcp://127.0.0.1:{fake.port}",
            language="tspl",
            dpi=300,
            stdout=out,
        )
        (received,) = fake.wait_for(1)

    labels = decode_tspl(received)
    assert [
        [text for kind, text in decode_barcodes(to_image(dots)) if kind == "Code128"]
        for dots in labels
    ] == [[p.tracking_number] for p in parcels]
    assert labels[0].shape[1] == 1184  # 100 mm at 300 dpi, in whole bytes
    assert f"2 labels sent to 127.0.0.1:{fake.port}" in out.getvalue()
    assert not Parcel.objects.filter(label_printed_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_print_labels_through_a_printer_of_the_studio_makes_a_job():
    _packed_parcels(1)
    with FakePrinter() as fake:
        _printer(fake.port)
        call_command("print_labels", unprinted=True, printer="打包台 1 号", stdout=StringIO())
        fake.wait_for(1)

    job = PrintJob.objects.get()
    assert (job.state, job.created_by, job.labels_sent) == ("sent", None, 1)


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"to": "http://printer"}, "tcp://HOST:PORT or cups://QUEUE"),
        ({"to": "tcp://127.0.0.1:9100"}, "--language"),
        ({"printer": "没有这台"}, "No printer is named"),
    ],
)
def test_print_labels_says_what_is_wrong_with_the_printer(options, said):
    _packed_parcels(1)

    with pytest.raises(CommandError, match=said):
        call_command("print_labels", unprinted=True, stdout=StringIO(), **options)


def test_print_labels_to_a_dead_printer_fails_saying_why():
    _packed_parcels(1)
    port = closed_port()

    with pytest.raises(CommandError, match="refused|拒绝"):
        call_command(
            "print_labels",
            unprinted=True,
            to=f"tcp://127.0.0.1:{port}",
            language="zpl",
            stdout=StringIO(),
        )
    assert Parcel.objects.filter(label_printed_at__isnull=True).count() == 1
