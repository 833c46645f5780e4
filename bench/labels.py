"""How many shipping labels a second, and how much memory: ``labels_data`` + ``render_labels``
for 1, 100, 1,000 and 5,000 labels in one PDF, beside a bare ReportLab loop drawing the same
label without the database and WeasyPrint rendering the same label from HTML (as InvenTree
does: codes as base64 PNG images). Then labels for a thermal printer: PDFium against poppler
rasterising the same label PDFs at 203 dpi, one label to the printer (draw, rasterise, encode
as ZPL), and 1,000 labels streamed to a printer (a TCP listener on 127.0.0.1 in this process
that reads and drops what it gets).

    .venv/bin/python bench/labels.py [--counts 1,100,1000,5000] [--bare 1000] [--weasyprint 50]
                                     [--stream 1000]

A temporary SQLite database is created, migrated and filled with 5,000 packed parcels (1–3
SKUs each, cold and ambient products, several carriers, some sorting codes) in one child
process; a second child measures, so its peak memory is the rendering's alone. Also measured:
the largest batch rendered in two processes and joined with pypdf (an experiment, not in the
application). Prints one line of figures, each rate in wall-clock labels/s and, in brackets,
labels per CPU-second of this process (what the work costs when other work shares the
machine). Production settings (``DEBUG=false``).
"""

import argparse
import os
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARCELS = 5_000

PRODUCTS = [  # name, storage, SKUs (code, name, net kg)
    ("蜜桃", "cold", [("MT-5J", "蜜桃 5斤礼盒", "2.500"), ("MT-10J", "蜜桃 10斤家庭装", "5.000")]),
    ("土鸡蛋", "cold", [("JD-30", "土鸡蛋 30枚", "1.500")]),
    ("板栗", "ambient", [("BL-2J", "板栗 2斤", "1.000")]),
    ("核桃", "ambient", [("HT-1KG", "核桃 1kg 袋装", "1.000")]),
    ("蜂蜜", "ambient", [("FM-500", "土蜂蜜 500g 玻璃瓶", "0.500")]),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗欧阳"
GIVEN = ["小明", "秀英", "建国", "桂兰", "德明", "玉梅", "伟", "芳", "静怡", "子涵"]
PLACES = [
    ("陕西省", "西安市", "雁塔区", "小寨东路{n}号{b}栋{u}单元{r}室"),
    ("广东省", "深圳市", "南山区", "科技园南区高新南七道{n}号{b}栋{r}"),
    ("北京市", "北京市", "朝阳区", "望京街道阜通东大街{n}号院{b}号楼{u}单元{r}"),
    ("四川省", "成都市", "武侯区", "人民南路四段{n}号{b}幢{r}室（请放门卫处，周末在家）"),
    ("浙江省", "杭州市", "西湖区", "文三路{n}号{b}幢{u}单元{r}室"),
]
CARRIERS = ["sf", "zto", "yto", "yunda", "jd"]


def _rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


# --- the parent --------------------------------------------------------------------------------


def run_child(role: str, database_url: str, args: argparse.Namespace) -> int:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="studio.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(48),
        LOG_LEVEL="WARNING",
    )
    command = [
        sys.executable,
        __file__,
        "--child",
        role,
        "--counts",
        args.counts,
        "--bare",
        str(args.bare),
        "--weasyprint",
        str(args.weasyprint),
        "--stream",
        str(args.stream),
    ]
    return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode


# --- children: Django against the temporary database -----------------------------------------


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def sorting_code(rng: random.Random, index: int) -> str:
    """Every other parcel has a carrier's sorting code (三段码), e.g. "710-A12 03"."""
    if index % 2 == 0:
        return ""
    return f"{rng.randint(100, 999)}-{rng.choice('ABC')}{rng.randint(1, 99):02d} 0{index % 9}"


def fill(count: int) -> None:
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from inventory.models import Grade, Location, Product, Sku
    from inventory.services import IntakeRow, farmer_create, intake_record
    from orders.drafts import LineDraft, OrderDraft
    from orders.models import Channel, LiveSession, OrderLine
    from orders.services import orders_create
    from shipping.models import Carrier, Parcel, ParcelItem

    call_command("migrate", verbosity=0, interactive=False)
    rng = random.Random(20261121)
    user = get_user_model().objects.create_user("bench-labels")
    grade = Grade.objects.create(name="特级", rank=0)
    location = Location.objects.create(code="A", name="冷库 A")
    now = timezone.now()
    farmers = [
        farmer_create(
            name=f"{SURNAMES[i]}{GIVEN[i % len(GIVEN)]}",
            village="朱家坪村",
            phone=f"139{i:08d}",
            acting_user=user,
        )
        for i in range(12)
    ]
    skus, lots = [], {}
    for name, storage, sku_rows in PRODUCTS:
        product = Product.objects.create(name=name, shelf_life_days=30, storage=storage)
        lots[product.pk] = [
            intake_record(
                farmer=rng.choice(farmers),
                product=product,
                rows=[IntakeRow(grade=grade, gross_kg=Decimal("50000"), price_per_kg=Decimal(8))],
                harvest_date=timezone.localdate(),
                location=location,
                acting_user=user,
            ).lots.get()
            for _ in range(3)
        ]
        for code, sku_name, net_kg in sku_rows:
            skus.append(
                Sku.objects.create(
                    merchant_code=code,
                    name=sku_name,
                    product=product,
                    grade=grade,
                    net_kg=Decimal(net_kg),
                    price=Decimal("39.90"),
                )
            )
    channel, _created = Channel.objects.get_or_create(code="kuaishou", defaults={"name": "快手"})
    session = LiveSession.objects.create(
        channel=channel,
        title="蜜桃专场",
        host="小朱",
        starts_at=now - timedelta(hours=3),
        ends_at=now + timedelta(hours=1),
    )
    drafts = []
    for i in range(count):
        province, city, district, street = rng.choice(PLACES)
        lines = rng.sample(skus, rng.randint(1, 3))
        drafts.append(
            OrderDraft(
                external_no=f"37{i:017d}",
                recipient_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                phone=f"13{rng.randint(100000000, 999999999)}",
                province=province,
                city=city,
                district=district,
                address_detail=street.format(
                    n=rng.randint(1, 999),
                    b=rng.randint(1, 30),
                    u=rng.randint(1, 6),
                    r=rng.randint(101, 3306),
                ),
                paid_at=now,
                live_session=session,
                lines=[
                    LineDraft(sku=s, quantity=rng.randint(1, 3), unit_price=s.price) for s in lines
                ],
            )
        )
    orders = orders_create(channel=channel, drafts=drafts, acting_user=user)
    carriers = {carrier.code: carrier for carrier in Carrier.objects.filter(code__in=CARRIERS)}
    parcels = [
        Parcel(
            order=order,
            carrier=carriers[CARRIERS[i % len(CARRIERS)]],
            tracking_number=f"SF{i + 1:012d}" if i % 5 == 0 else f"7731{i:011d}",
            sorting_code=sorting_code(rng, i),
            weight_kg=Decimal("6.500"),
            packed_by=user,
        )
        for i, order in enumerate(orders)
    ]
    Parcel.objects.bulk_create(parcels, batch_size=1000)
    by_order = {parcel.order_id: parcel for parcel in parcels}
    items = []
    for line in OrderLine.objects.select_related("sku").order_by("pk"):
        lot = rng.choice(lots[line.sku.product_id])
        items.append(ParcelItem(parcel=by_order[line.order_id], line=line, lot=lot, kg=line.kg))
    ParcelItem.objects.bulk_create(items, batch_size=2000)


def bare_loop(labels, count: int) -> None:
    """The same label drawn with ReportLab and nothing else: fixed positions, no fitting or
    wrapping, the Code 128 and the QR (zxing-cpp's matrix, runs of modules written straight
    into the page stream) drawn as one path each in printer dots."""
    from io import BytesIO

    import numpy
    import zxingcpp
    from reportlab.graphics.barcode.code128 import Code128
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from core.pdf import cjk_font_name, cjk_mono_font_name

    font, mono = cjk_font_name(), cjk_mono_font_name()
    dot = 72 / 203
    width, height = 100 * mm, 150 * mm
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1)
    for index in range(count):
        label = labels[index % len(labels)]
        canvas.setFont(font, 22)
        canvas.drawString(6, height - 30, label.carrier_name)
        canvas.setFont(font, 16)
        canvas.drawString(width - 40, height - 30, f"{label.sequence}/{label.parcel_count}")
        canvas.line(6, height - 40, width - 6, height - 40)
        if label.sorting_code:
            canvas.setFont(font, 28)
            canvas.drawCentredString(width / 2, height - 75, label.sorting_code)
        barcode = Code128(label.tracking_number, barWidth=1, quiet=0)
        barcode.validate()
        barcode.encode()
        pattern = barcode.decompose()
        canvas.saveState()
        canvas.translate(40, height - 150)
        canvas.scale(dot, dot)
        path, x = canvas.beginPath(), 0
        for ch in pattern:
            span = (ord(ch) - (64 if ch.isupper() else 96)) * 4
            if ch.isupper():
                path.rect(x, 0, span, 136)
            x += span
        canvas.drawPath(path, stroke=0, fill=1)
        canvas.restoreState()
        canvas.setFont(mono, 13)
        canvas.drawCentredString(width / 2, height - 165, label.tracking_number)
        canvas.setFont(font, 16)
        canvas.drawString(30, height - 195, label.recipient_name)
        canvas.drawRightString(width - 6, height - 195, label.recipient_phone)
        canvas.setFont(font, 12)
        canvas.drawString(30, height - 213, label.recipient_region)
        canvas.drawString(30, height - 228, label.recipient_detail)
        canvas.setFont(font, 8)
        canvas.drawString(30, height - 255, label.sender_name)
        canvas.drawRightString(width - 6, height - 255, label.sender_phone)
        canvas.drawString(30, height - 265, label.sender_address)
        y = height - 290
        for mark_x, mark in zip((6, 70), label.marks, strict=False):
            canvas.rect(mark_x, y - 4, 58, 18, stroke=0, fill=1)
            canvas.setFillGray(1)
            canvas.setFont(font, 13)
            canvas.drawString(mark_x + 3, y, mark)
            canvas.setFillGray(0)
        canvas.setFont(font, 9)
        for item in label.items:
            y -= 12
            canvas.drawString(12, y, f"{item.name} × {item.quantity}")
        canvas.setFont(font, 11)
        canvas.drawString(6, 20, f"重量 {label.weight_kg} kg  净重 {label.net_kg} kg")
        canvas.setFont(mono, 9)
        canvas.drawString(6, 8, f"订单 {label.order_number}")
        symbol = zxingcpp.create_barcode(
            label.trace_url, zxingcpp.BarcodeFormat.QRCode, ec_level="M"
        ).to_image(scale=1, add_quiet_zones=False)
        modules = numpy.asarray(symbol) < 128
        edges = numpy.zeros((modules.shape[0], modules.shape[1] + 2), dtype=numpy.int8)
        edges[:, 1:-1] = modules
        steps = numpy.diff(edges, axis=1)
        rows, starts = numpy.nonzero(steps == 1)
        _rows, ends = numpy.nonzero(steps == -1)
        top = modules.shape[0] - 1
        runs = " ".join(
            f"{x} {top - y} {end - x} 1 re"
            for y, x, end in zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True)
        )
        canvas.saveState()
        canvas.translate(width - 30 * mm + 20 * dot, 14 + 20 * dot)
        canvas.scale(5 * dot, 5 * dot)
        canvas.addLiteral(f"{runs} f")
        canvas.restoreState()
        canvas.setFont(font, 8)
        canvas.drawString(width - 25 * mm, 6, "扫码溯源")
        canvas.showPage()
    canvas.save()
    assert buffer.getvalue().startswith(b"%PDF")


def weasyprint_pdf(labels, count: int) -> str:
    """The same label as HTML rendered by WeasyPrint into one PDF, the way InvenTree prints
    labels: each code made in Python as a PNG image and put in an ``<img>`` as a base64 data
    URI, the CJK font loaded from its file. Returns the version used, or why it could not."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # not installed, or pango missing
        return f"weasyprint unavailable: {type(exc).__name__}: {exc}"
    import base64
    from html import escape
    from io import BytesIO

    import segno
    from PIL import Image, ImageDraw

    from core.pdf import CJK_FONT_CANDIDATES
    from shipping.labels.render import code128_pattern

    font_path = next((path for path in CJK_FONT_CANDIDATES if Path(path).is_file()), "")

    def barcode_png(value: str) -> str:
        pattern = code128_pattern(value)
        modules = sum(ord(ch) - (64 if ch.isupper() else 96) for ch in pattern)
        image = Image.new("1", ((modules + 20) * 4, 136), 1)
        draw, x = ImageDraw.Draw(image), 40
        for ch in pattern:
            span = (ord(ch) - (64 if ch.isupper() else 96)) * 4
            if ch.isupper():
                draw.rectangle((x, 0, x + span - 1, 135), fill=0)
            x += span
        buffer = BytesIO()
        image.save(buffer, format="PNG")
        return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()

    pages = []
    for index in range(count):
        label = labels[index % len(labels)]
        qr = segno.make_qr(label.trace_url, error="m").png_data_uri(scale=5, border=4)
        marks = "".join(f'<span class="mark">{escape(mark)}</span>' for mark in label.marks)
        items = "".join(
            f"<li>{escape(item.name)} <b>× {item.quantity}</b></li>" for item in label.items
        )
        pages.append(
            f"""<section>
<header><b class="carrier">{escape(label.carrier_name)}</b>
<span class="count">{label.sequence}/{label.parcel_count}</span></header>
<div class="sort">{escape(label.sorting_code)}</div>
<img class="bars" src="{barcode_png(label.tracking_number)}">
<div class="digits">{escape(label.tracking_number)}</div>
<div class="to"><span class="cap">收</span><b>{escape(label.recipient_name)}</b>
<span class="phone">{escape(label.recipient_phone)}</span>
<p>{escape(label.recipient_address)}</p></div>
<div class="from"><span class="cap">寄</span>{escape(label.sender_name)}
{escape(label.sender_phone)}<br>{escape(label.sender_address)}</div>
<div class="marks">{marks}</div><ul>{items}</ul>
<img class="qr" src="{qr}"><div class="weight">重量 {label.weight_kg} kg · 订单
{escape(label.order_number)}</div></section>"""
        )
    html = f"""<html><head><style>
@font-face {{ font-family: cjk; src: url("file://{font_path}"); }}
@page {{ size: 100mm 150mm; margin: 2mm; }}
body {{ font-family: cjk; margin: 0; }}
section {{ page-break-after: always; height: 146mm; position: relative; }}
header {{ font-size: 22pt; border-bottom: 1px solid #000; }}
.count {{ float: right; font-size: 16pt; border: 1px solid #000; }}
.sort {{ font-size: 28pt; text-align: center; border-bottom: 1px solid #000; }}
.bars {{ display: block; height: 17mm; margin: 2mm auto 0; }}
.digits {{ text-align: center; font-size: 13pt; border-bottom: 1px solid #000; }}
.to {{ font-size: 16pt; }} .to p {{ font-size: 12pt; margin: 0 0 0 8mm; }}
.phone {{ float: right; }} .from {{ font-size: 8pt; border-top: 1px solid #000; }}
.cap {{ background: #000; color: #fff; padding: 0 1mm; }}
.mark {{ background: #000; color: #fff; font-size: 13pt; margin-right: 2mm; }}
ul {{ font-size: 9pt; margin: 1mm 0; }}
.qr {{ position: absolute; right: 0; bottom: 4mm; width: 30mm; }}
.weight {{ position: absolute; left: 0; bottom: 0; font-size: 10pt; }}
</style></head><body>{"".join(pages)}</body></html>"""
    pdf = weasyprint.HTML(string=html).write_pdf()
    assert pdf.startswith(b"%PDF")
    return f"weasyprint {weasyprint.__version__}"


def _render_chunk(labels, language: str) -> bytes:
    from django.utils import translation

    from shipping.labels import render_labels

    with translation.override(language):
        return render_labels(labels)


def render_in_two_processes(labels) -> bytes:
    """The experiment of rendering a large batch on both cores: this process renders the first
    half while a spawned worker (Django set up first) renders the second, and pypdf joins the
    two PDFs. Not in the application: on this machine it has not been faster (see
    docs/BENCHMARKS.md); kept here so the question can be asked again on another machine."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from io import BytesIO

    import django
    from django.utils import translation
    from pypdf import PdfReader, PdfWriter

    half = len(labels) // 2
    language = translation.get_language()
    with ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=django.setup
    ) as pool:
        second = pool.submit(_render_chunk, labels[half:], language)
        parts = [_render_chunk(labels[:half], language), second.result()]
    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(BytesIO(part)))
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def rasterisers(labels) -> dict[str, float]:
    """Milliseconds to rasterise at 203 dpi, one bit a dot: one label alone (the packing
    station's case) and a page of a 100-label PDF, with PDFium (in this process) and with
    poppler (``pdftoppm -mono``, a process per PDF). Best of three."""
    import shutil

    from shipping.labels import render_labels
    from shipping.printing.raster import rasterise

    one, hundred = render_labels(labels[:1]), render_labels(labels[:100])

    def poppler(pdf: bytes) -> None:
        with tempfile.TemporaryDirectory() as directory:
            source = Path(directory) / "labels.pdf"
            source.write_bytes(pdf)
            subprocess.run(
                ["pdftoppm", "-r", "203", "-mono", str(source), str(Path(directory) / "p")],
                check=True,
                capture_output=True,
            )

    def best(work, pages: int) -> float:
        return min(timed(work)[0] for _ in range(3)) / pages * 1000

    figures = {
        "pdfium_1": best(lambda: list(rasterise(one, dpi=203)), 1),
        "pdfium_page_of_100": best(lambda: list(rasterise(hundred, dpi=203)), 100),
    }
    if shutil.which("pdftoppm"):
        figures["poppler_1"] = best(lambda: poppler(one), 1)
        figures["poppler_page_of_100"] = best(lambda: poppler(hundred), 100)
    return figures


def to_printer(ids: list[int], count: int) -> tuple[tuple[float, float], tuple[float, float], int]:
    """One label to the printer — ``labels_data``, draw, rasterise at 203 dpi, encode as ZPL
    (Z64) — best of 20, and ``count`` labels streamed over TCP to a listener on 127.0.0.1,
    best of two: (wall, CPU) seconds of each, and the bytes of one label."""
    import socket
    import threading

    from shipping.labels import labels_data
    from shipping.models import Parcel
    from shipping.printing.stream import PrinterFormat, printer_labels
    from shipping.printing.transport import PrinterAddress, send

    fmt = PrinterFormat(language="zpl", dpi=203, size="100x150")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def drain() -> None:
        while True:
            try:
                connection, _address = listener.accept()
            except OSError:
                return
            with connection:
                while connection.recv(1 << 20):
                    pass

    threading.Thread(target=drain, daemon=True).start()
    one_label: list[bytes] = []

    def one() -> None:
        one_label[:] = list(printer_labels(labels_data([Parcel(pk=ids[0])]), fmt))

    single = min((timed(one) for _ in range(20)), key=lambda t: t[0])
    address = PrinterAddress(name="bench", host="127.0.0.1", port=port)

    def stream() -> None:
        sent = send(
            address, printer_labels(labels_data([Parcel(pk=pk) for pk in ids[:count]]), fmt)
        )
        assert sent == count, sent

    streamed = min((timed(stream) for _ in range(2)), key=lambda t: t[0])
    listener.close()
    return single, streamed, len(one_label[0])


def timed(work) -> tuple[float, float]:
    """Wall and CPU seconds of ``work()``. The CPU time of this process is what the work
    costs whatever else the machine is doing; the wall time is what a person waits."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def rate(count: int, seconds: tuple[float, float]) -> str:
    wall, cpu = seconds
    return f"{count / wall:.0f}/s(cpu {count / cpu:.0f})"


def measure(counts: list[int], bare: int, weasy: int, stream: int) -> None:
    from shipping.labels import labels_data, render_labels
    from shipping.models import Parcel

    ids = list(Parcel.objects.order_by("pk").values_list("pk", flat=True))
    render_labels(labels_data([Parcel(pk=ids[0])]))  # fonts registered, translations loaded
    load = os.getloadavg()[0]

    def pipeline(count: int):
        return lambda: render_labels(labels_data([Parcel(pk=pk) for pk in ids[:count]]))

    times: dict[int, tuple[float, float]] = {}
    for count in counts:
        repeats = max(1, min(20, 200 // count))
        times[count] = min((timed(pipeline(count)) for _ in range(repeats)), key=lambda t: t[0])
    peak = _rss_mb()
    largest = max(counts)

    def parallel() -> None:
        render_in_two_processes(labels_data([Parcel(pk=pk) for pk in ids[:largest]]))

    # One process against two, alternately: which is faster depends on whether the second
    # core is free, and that changes while the benchmark runs.
    single_wall, parallel_wall = float("inf"), float("inf")
    for _ in range(2):
        single_wall = min(single_wall, timed(pipeline(largest))[0])
        parallel_wall = min(parallel_wall, timed(parallel)[0])
    worker_peak = _rss_mb(resource.RUSAGE_CHILDREN)

    # The comparisons run interleaved, best of two, so that load from other work on the
    # machine falls on all three alike.
    labels = labels_data([Parcel(pk=pk) for pk in ids[:200]])
    notes: list[str] = []
    runs: dict[str, list[tuple[float, float]]] = {"pipeline": [], "bare": [], "weasyprint": []}
    for _ in range(2):
        runs["pipeline"].append(timed(pipeline(bare)))
        runs["bare"].append(timed(lambda: bare_loop(labels, bare)))
        if weasy:
            runs["weasyprint"].append(timed(lambda: notes.append(weasyprint_pdf(labels, weasy))))
    best = {name: min(found, key=lambda t: t[0]) for name, found in runs.items() if found}

    def per_label(name: str, count: int) -> tuple[float, float]:
        wall, cpu = best[name]
        return wall / count, cpu / count

    pipe, bare_cost = per_label("pipeline", bare), per_label("bare", bare)
    figures = " ".join(f"n={count}:{rate(count, times[count])}" for count in counts)
    line = (
        f"labels sqlite load={load:.1f} {figures} peak_rss={peak:.0f}MB | alternately n={largest}:"
        f" one process {largest / single_wall:.0f}/s, two {largest / parallel_wall:.0f}/s (main "
        f"{_rss_mb():.0f}MB, worker {worker_peak:.0f}MB) | interleaved: pipeline n={bare}:"
        f"{rate(bare, best['pipeline'])} bare_reportlab n={bare}:{rate(bare, best['bare'])} "
        f"of_bare={bare_cost[0] / pipe[0]:.2f}(cpu {bare_cost[1] / pipe[1]:.2f})"
    )
    if notes and notes[0].startswith("weasyprint "):
        weasy_cost = per_label("weasyprint", weasy)
        line += (
            f" {notes[0].replace(' ', '-')} n={weasy}:{rate(weasy, best['weasyprint'])}"
            f" x_weasyprint={weasy_cost[0] / pipe[0]:.0f}(cpu {weasy_cost[1] / pipe[1]:.0f})"
        )
    else:
        line += f" ({notes[0] if notes else 'weasyprint skipped'})"
    raster = rasterisers(labels)
    line += " | raster 203dpi ms: " + " ".join(f"{name}={ms:.1f}" for name, ms in raster.items())
    if stream:
        single, streamed, size = to_printer(ids, stream)
        line += (
            f" | to_printer zpl 203dpi: one label {single[0] * 1000:.1f}ms(cpu"
            f" {single[1] * 1000:.1f}) {size / 1024:.0f}KB, stream n={stream} tcp:"
            f"{rate(stream, streamed)}"
        )
    print(line, flush=True)


def child(role: str, args: argparse.Namespace) -> int:
    setup_django()
    counts = [int(count) for count in args.counts.split(",")]
    if role == "fill":
        fill(max(counts))
    else:
        measure(counts, args.bare, args.weasyprint, args.stream)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="1,100,1000,5000", help="labels per PDF")
    parser.add_argument("--bare", type=int, default=1000, help="labels in the bare loop")
    parser.add_argument("--weasyprint", type=int, default=50, help="labels through WeasyPrint")
    parser.add_argument(
        "--stream", type=int, default=1000, help="labels streamed to a printer (0: skip)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args)
    with tempfile.TemporaryDirectory(prefix="shanhuo-bench-labels-") as directory:
        url = f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
        status = run_child("fill", url, args)
        if status == 0:
            status = run_child("measure", url, args)
        return status


if __name__ == "__main__":
    sys.exit(main())
