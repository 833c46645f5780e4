"""Labels straight to a thermal printer: the ZPL and TSPL encoders carry exactly the bitmap
they were given, a printer on 127.0.0.1 receives labels whose barcodes scan, a dead printer
makes a failed job with a clear reason that can be sent again, CUPS gets ``lp -d Q -o raw``,
and large jobs run in the task worker in wave order."""

import os
import stat
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import numpy
import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from core.errors import DomainError
from shipping.labels import LabelData, LabelItem, label_data, render_labels
from shipping.labels.render import PAGE_SIZES, code128_pattern
from shipping.models import (
    LabelSize,
    Parcel,
    Printer,
    PrinterLanguage,
    PrintJob,
    PrintJobState,
    ZplGraphics,
)
from shipping.printing import transport
from shipping.printing.languages import label_bytes
from shipping.printing.raster import Bitmap, rasterise
from shipping.printing.services import labels_print, print_job_retry, print_job_send
from shipping.services import parcel_pack, wave_create
from tests.pdf_tools import decode_barcodes, page_texts
from tests.shipping.builders import allocated_order, carrier, carrier_with_pool, staff, stocked_sku
from tests.shipping.printers import (
    FakePrinter,
    closed_port,
    decode_tspl,
    decode_zpl,
    to_image,
)

D = Decimal
TRACE = "http://127.0.0.1:8000/t/Zq3xV9kLm2Pa7RtY8uWc1A"


def sample_label(**fields) -> LabelData:
    values = {
        "carrier_name": "顺丰速运",
        "tracking_number": "SF100200300400",
        "sorting_code": "710-A12 03",
        "recipient_name": "王小明",
        "recipient_phone": "13812341234",
        "recipient_region": "陕西省 西安市 雁塔区",
        "recipient_detail": "小寨东路 12 号 3 单元 301 室",
        "sender_name": "朱家坪村山货直播间",
        "sender_phone": "0916-5551234",
        "sender_address": "陕西省汉中市留坝县朱家坪村",
        "items": (LabelItem("蜜桃 5斤礼盒", 2, D("5.000")),),
        "weight_kg": D("5.600"),
        "sequence": 1,
        "parcel_count": 1,
        "marks": ("生鲜易腐", "请冷藏"),
        "trace_url": TRACE,
        "order_number": "3700000000000000001",
    }
    return LabelData(**{**values, **fields})


def decode(data: bytes, language: str) -> list[numpy.ndarray]:
    return decode_zpl(data) if language == PrinterLanguage.ZPL else decode_tspl(data)


# --- encoders --------------------------------------------------------------------------------

ENCODINGS = [
    (PrinterLanguage.ZPL, ZplGraphics.Z64),
    (PrinterLanguage.ZPL, ZplGraphics.HEX),
    (PrinterLanguage.TSPL, ZplGraphics.Z64),
]


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("size", list(LabelSize))
@pytest.mark.parametrize(("language", "graphics"), ENCODINGS, ids=["zpl-z64", "zpl-hex", "tspl"])
def test_an_encoder_carries_exactly_the_bitmap_it_was_given(dpi, size, language, graphics):
    pdf = render_labels([sample_label()], size=size, dpi=dpi)
    (bitmap,) = rasterise(pdf, dpi=dpi)

    (decoded,) = decode(label_bytes(bitmap, language=language, zpl_graphics=graphics), language)

    width_mm, height_mm = (points / 72 * 25.4 for points in PAGE_SIZES[size])
    assert bitmap.width == -(-round(width_mm * dpi / 25.4) // 8) * 8  # whole bytes a row
    assert bitmap.height == round(height_mm * dpi / 25.4)  # the label's dots, none stretched
    assert decoded.shape == bitmap.dots.shape
    assert numpy.array_equal(decoded, bitmap.dots)
    assert 0.03 < decoded.mean() < 0.4  # a label, not a blank or a black page


def test_an_encoder_keeps_odd_dots_at_the_right_edge_and_the_last_row():
    dots = numpy.zeros((5, 13), dtype=bool)
    dots[0, 0] = dots[4, 12] = dots[2, 7] = True
    bitmap = Bitmap.from_dots(dots, 203)

    for language in PrinterLanguage:
        (decoded,) = decode(label_bytes(bitmap, language=language), language)
        assert decoded.shape == (5, 16)
        assert numpy.array_equal(decoded[:, :13], dots) and not decoded[:, 13:].any()


@pytest.mark.parametrize("dpi", [203, 300])
def test_drawn_for_a_printer_every_bar_is_whole_dots_of_that_printer(dpi):
    """A label drawn for a 300-dpi printer puts its bars on 300-dpi dots: every bar of the
    Code 128 is a whole number of modules, each module the same whole number of dots."""
    number = "SF100200300400"
    pdf = render_labels([sample_label(tracking_number=number)], dpi=dpi)
    (bitmap,) = rasterise(pdf, dpi=dpi)
    dots = bitmap.dots
    pattern = code128_pattern(number)
    bars = [ord(ch) - 64 for ch in pattern if ch.isupper()]
    for y in range(dots.shape[0] // 10, dots.shape[0] // 3):  # the barcode's band
        row = numpy.concatenate(([False], dots[y], [False])).astype(numpy.int8)
        steps = numpy.diff(row)
        runs = (numpy.nonzero(steps == -1)[0] - numpy.nonzero(steps == 1)[0]).tolist()
        if len(runs) == len(bars) and min(runs) > 1:
            break
    else:
        pytest.fail("no row crosses the bars alone")
    module = runs[bars.index(1)]
    assert module == round(4 * dpi / 203) or module >= 2
    assert runs == [bar * module for bar in bars]


def test_a_label_at_the_printers_resolution_scans_after_the_round_trip():
    for dpi in (203, 300):
        (bitmap,) = rasterise(render_labels([sample_label()], dpi=dpi), dpi=dpi)
        for language in PrinterLanguage:
            (decoded,) = decode(label_bytes(bitmap, language=language), language)
            codes = decode_barcodes(to_image(decoded))
            assert ("Code128", "SF100200300400") in codes, (dpi, language)
            assert ("QRCode", TRACE) in codes, (dpi, language)


# --- printers on the network -----------------------------------------------------------------


def tcp_printer(port: int, **fields) -> Printer:
    values = {
        "name": "打包台 1 号",
        "host": "127.0.0.1",
        "port": port,
        "language": PrinterLanguage.ZPL,
    }
    return Printer.objects.create(**{**values, **fields})


@pytest.fixture
def english():
    """Messages in English, whatever language an earlier test left active."""
    with translation.override("en"):
        yield


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what a service does once its transaction commits (sending the labels), as it
    would outside the test's own transaction."""

    def run(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return run


def packed(count: int = 1, *, wave: bool = False) -> list[Parcel]:
    """``count`` parcels packed from allocated orders (of one wave if asked), in wave order."""
    sku = stocked_sku()
    sf = carrier_with_pool("sf", how_many=count + 2)
    orders = [allocated_order((sku, 1)) for _ in range(count)]
    if wave:
        made = wave_create(orders=orders, acting_user=staff(), carrier=sf)
        orders = [wave_order.order for wave_order in made.wave_orders.order_by("position")]
    for order in reversed(orders):  # packed in another order than the wave's
        parcel_pack(order=order, carrier=sf, weight_kg=D("2.8"), acting_user=staff())
    return [Parcel.objects.get(order=order) for order in orders]


@pytest.mark.django_db
@pytest.mark.parametrize("language", list(PrinterLanguage))
def test_a_printer_on_the_network_receives_the_label_and_its_codes_scan(language, committed):
    (parcel,) = packed()
    with FakePrinter() as fake:
        printer = tcp_printer(fake.port, language=language, dpi=203)

        job = committed(labels_print, parcels=[parcel], printer=printer, acting_user=staff())

        (received,) = fake.wait_for(1)
    assert (job.state, job.labels_sent, job.attempts, job.error) == (PrintJobState.SENT, 1, 1, "")
    assert job.sent_at is not None
    (dots,) = decode(received, language)
    codes = decode_barcodes(to_image(dots))
    assert ("Code128", parcel.tracking_number) in codes
    assert ("QRCode", label_data(parcel).trace_url) in codes
    parcel.refresh_from_db()
    assert parcel.label_printed_at is not None


@pytest.mark.django_db
def test_nothing_listening_fails_the_job_with_a_clear_reason_and_a_reprint_then_prints(
    english, committed
):
    (parcel,) = packed()
    port = closed_port()
    printer = tcp_printer(port)  # nothing listens there

    job = committed(labels_print, parcels=[parcel], printer=printer, acting_user=staff())

    assert job.state == PrintJobState.FAILED
    assert "refused the connection" in job.error and f"127.0.0.1:{port}" in job.error
    parcel.refresh_from_db()
    assert parcel.label_printed_at is None
    with FakePrinter() as fake:
        Printer.objects.filter(pk=printer.pk).update(port=fake.port)  # the right port now

        again = committed(
            print_job_retry, job=PrintJob.objects.get(pk=job.pk), acting_user=staff("manager")
        )

        (received,) = fake.wait_for(1)
    assert again.pk == job.pk
    assert (again.state, again.attempts, again.error) == (PrintJobState.SENT, 2, "")
    assert ("Code128", parcel.tracking_number) in decode_barcodes(to_image(decode_zpl(received)[0]))


@pytest.mark.django_db
def test_a_printer_that_does_not_answer_fails_within_the_connect_timeout(
    english, monkeypatch, committed
):
    monkeypatch.setattr(transport, "CONNECT_TIMEOUT", 0.3)
    (parcel,) = packed()
    with FakePrinter(mute=True) as mute, FakePrinter() as spare:
        job = committed(
            labels_print, parcels=[parcel], printer=tcp_printer(mute.port), acting_user=staff()
        )

        assert job.state == PrintJobState.FAILED
        assert "did not answer within 0.3 s" in job.error
        # sent again to another printer: the whole job goes there
        other = tcp_printer(spare.port, name="打包台 2 号", language=PrinterLanguage.TSPL)
        again = committed(print_job_retry, job=job, acting_user=staff(), printer=other)

        (received,) = spare.wait_for(1)
    assert (again.state, again.printer_id, again.labels_sent) == (PrintJobState.SENT, other.pk, 1)
    assert len(decode_tspl(received)) == 1


@pytest.mark.django_db
def test_a_sent_job_printed_again_is_a_new_job_and_a_queued_one_is_refused(committed):
    parcels = packed(2)
    with FakePrinter() as fake:
        printer = tcp_printer(fake.port)
        job = committed(labels_print, parcels=parcels, printer=printer, acting_user=staff())
        reprint = committed(print_job_retry, job=job, acting_user=staff("manager"))
        first, second = fake.wait_for(2)
    assert reprint.pk != job.pk and reprint.state == PrintJobState.SENT
    assert len(decode_zpl(first)) == len(decode_zpl(second)) == 2
    assert list(reprint.job_parcels.values_list("parcel_id", flat=True)) == [p.pk for p in parcels]
    PrintJob.objects.filter(pk=job.pk).update(state=PrintJobState.QUEUED)
    with pytest.raises(DomainError) as refused:
        committed(print_job_retry, job=PrintJob.objects.get(pk=job.pk), acting_user=staff())
    assert refused.value.code == "not_failed"


@pytest.mark.django_db
def test_an_inactive_printer_is_refused(committed):
    (parcel,) = packed()
    printer = tcp_printer(9, is_active=False)
    with pytest.raises(DomainError) as refused:
        committed(labels_print, parcels=[parcel], printer=printer, acting_user=staff())
    assert refused.value.field == "printer"
    assert not PrintJob.objects.exists()


# --- a wave through the task worker ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_waves_labels_go_through_the_worker_in_wave_order(monkeypatch):
    monkeypatch.setattr("shipping.printing.services.IN_REQUEST_LIMIT", 2)
    parcels = packed(3, wave=True)
    with FakePrinter() as fake:
        printer = tcp_printer(fake.port, language=PrinterLanguage.TSPL)
        job = labels_print(
            parcels=parcels, printer=printer, acting_user=staff(), wave=parcels[0].wave
        )
        assert PrintJob.objects.get(pk=job.pk).state == PrintJobState.QUEUED

        call_command("db_worker", batch=True, stdout=StringIO(), stderr=StringIO())

        (received,) = fake.wait_for(1)
    job.refresh_from_db()
    assert (job.state, job.labels_sent, job.label_count) == (PrintJobState.SENT, 3, 3)
    labels = decode_tspl(received)
    numbers = [
        [text for kind, text in decode_barcodes(to_image(dots)) if kind == "Code128"]
        for dots in labels
    ]
    assert numbers == [[parcel.tracking_number] for parcel in parcels]


# --- CUPS ------------------------------------------------------------------------------------


def fake_lp(directory, *, fail: bool = False) -> None:
    """An ``lp`` that keeps its arguments and standard input, as CUPS would spool them."""
    script = directory / "lp"
    body = (
        'echo "lp: The printer or class does not exist." >&2; exit 1'
        if fail
        else f'printf "%s\\n" "$@" > {directory}/args; cat > {directory}/data; '
        'echo "request id is Zebra-7 (1 file(s))"'
    )
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.mark.django_db
def test_a_cups_queue_gets_the_labels_raw_through_lp(tmp_path, monkeypatch, committed):
    fake_lp(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    parcels = packed(2)
    printer = Printer.objects.create(name="仓库斑马", cups_queue="Zebra; rm -rf /", dpi=300)

    job = committed(labels_print, parcels=parcels, printer=printer, acting_user=staff())

    assert job.state == PrintJobState.SENT
    assert (tmp_path / "args").read_text().splitlines() == ["-d", "Zebra; rm -rf /", "-o", "raw"]
    labels = decode_tspl((tmp_path / "data").read_bytes())
    assert [
        [text for kind, text in decode_barcodes(to_image(dots)) if kind == "Code128"]
        for dots in labels
    ] == [[parcel.tracking_number] for parcel in parcels]


@pytest.mark.django_db
def test_cups_refusing_the_job_fails_it_with_what_lp_said(
    tmp_path, monkeypatch, english, committed
):
    fake_lp(tmp_path, fail=True)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    (parcel,) = packed()
    printer = Printer.objects.create(name="仓库斑马", cups_queue="Zebra")

    job = committed(labels_print, parcels=[parcel], printer=printer, acting_user=staff())

    assert job.state == PrintJobState.FAILED
    assert "CUPS refused the job" in job.error
    assert "The printer or class does not exist." in job.error


# --- masking on the label that reaches the printer -------------------------------------------


@pytest.mark.django_db
def test_the_printed_bitmap_is_the_masked_label_under_a_privacy_service(committed):
    (parcel,) = packed()
    carrier("sf")
    parcel.carrier.privacy_service = True
    parcel.carrier.save(update_fields=["privacy_service"])
    parcel.virtual_number = "17012345678-1234"
    parcel.save(update_fields=["virtual_number"])
    masked_pdf = render_labels([label_data(parcel)])
    full_pdf = render_labels([label_data(parcel, mask=False)])
    (masked_text,), (full_text,) = page_texts(masked_pdf), page_texts(full_pdf)
    assert "李*" in masked_text and "17012345678-1234" in masked_text
    assert "13912345678" not in masked_text and "501" not in masked_text
    assert "李四" in full_text and "13912345678" in full_text

    with FakePrinter() as fake:
        printer = tcp_printer(fake.port, label_size=parcel.carrier.label_size)
        committed(labels_print, parcels=[parcel], printer=printer, acting_user=staff())
        (received,) = fake.wait_for(1)

    (printed,) = decode_zpl(received)
    (masked,) = rasterise(masked_pdf, dpi=203)
    (full,) = rasterise(full_pdf, dpi=203)
    assert numpy.array_equal(printed, masked.dots)
    assert not numpy.array_equal(printed, full.dots)


@pytest.mark.django_db
def test_a_job_whose_sender_died_can_be_sent_again_after_a_while(committed):
    """A worker that died left the job queued: after 15 minutes it may be sent again, and a
    sender that was only slow then finds its attempt taken and sends nothing."""
    (parcel,) = packed()
    with FakePrinter() as fake:
        printer = tcp_printer(fake.port)
        job = PrintJob.objects.create(printer=printer, label_count=1, created_by=staff())
        job.job_parcels.create(parcel=parcel, position=1)
        PrintJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=16))
        late = PrintJob.objects.get(pk=job.pk)  # the slow sender's view: attempt 0

        again = committed(print_job_retry, job=PrintJob.objects.get(pk=job.pk), acting_user=staff())
        print_job_send(job=late)

        fake.wait_for(1)
    assert (again.state, again.attempts) == (PrintJobState.SENT, 1)
    assert len(fake.jobs) == 1
