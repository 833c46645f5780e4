"""Hostile uploads: small files that unpack or parse into a great deal. Each is refused with
a message naming the limit it broke, and reading it costs the process at most
``MAX_GROWTH_MB`` of memory: measured in a fresh Python process (the kernel's peak RSS,
VmHWM, reset just before the read, against the RSS then), because the test process's own
memory says nothing (and ``ru_maxrss`` would carry the parent's peak across the fork).

The files are made here, by a few lines each (nothing binary is committed)."""

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from core.errors import DomainError
from orders.importers.reading import read_table
from orders.importers.service import import_upload
from orders.models import Channel, ImportBatch
from shipping.services import tracking_file_apply
from tests.shipping.builders_api import shipped_parcel, worker

ROOT = Path(__file__).resolve().parents[2]
MAX_GROWTH_MB = 100

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/></Types>'
)
WORKBOOK = (
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="订单" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    '<Relationship Id="rId2" Target="sharedStrings.xml" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>'
)
SHEET_OPEN = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_CLOSE = b"</sheetData></worksheet>"
HEADER_ROW = (
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>tracking number</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>status</t></is></c>'
    b'<c r="C1" t="inlineStr"><is><t>time</t></is></c></row>'
)


def workbook(sheet_chunks, strings_chunks=()) -> bytes:
    """An XLSX whose sheet (and shared strings) are written chunk by chunk, so a part of
    hundreds of megabytes never sits in this process's memory either."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", RELS)
        for name, chunks in (
            ("xl/worksheets/sheet1.xml", sheet_chunks),
            ("xl/sharedStrings.xml", strings_chunks),
        ):
            if not chunks:
                continue
            with archive.open(name, "w", force_zip64=True) as part:
                for chunk in chunks:
                    part.write(chunk)
    return out.getvalue()


def zip_bomb() -> bytes:
    """A sheet that inflates to 300 MB: the same row, over and over."""
    row = b'<row><c t="inlineStr"><is><t>' + b"9" * 100 + b"</t></is></c></row>"
    block = row * (1024 * 1024 // len(row))
    return workbook([SHEET_OPEN, HEADER_ROW, *([block] * 300), SHEET_CLOSE])


def giant_shared_string(megabytes: int) -> bytes:
    """One shared string of ``megabytes`` MB, used by one cell."""
    strings = [
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>',
        *([b"A" * 1024 * 1024] * megabytes),
        b"</t></si></sst>",
    ]
    sheet = [SHEET_OPEN, HEADER_ROW, b'<row r="2"><c r="A2" t="s"><v>0</v></c></row>', SHEET_CLOSE]
    return workbook(sheet, strings)


def xfd_rows(rows: int = 6000) -> bytes:
    """Rows with one cell in the sheet's last column, XFD (16,384 columns wide)."""
    body = b"".join(
        b'<row r="%d"><c r="A%d"><v>1</v></c><c r="XFD%d"><v>1</v></c></row>' % (n, n, n)
        for n in range(2, rows + 2)
    )
    return workbook([SHEET_OPEN, HEADER_ROW, body, SHEET_CLOSE])


def many_rows_xlsx(rows: int = 200_000) -> bytes:
    """200,000 rows of one short cell each: a megabyte or two."""
    body = b"".join(
        b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n) for n in range(2, rows + 2)
    )
    return workbook([SHEET_OPEN, HEADER_ROW, body, SHEET_CLOSE])


def many_rows_csv(rows: int = 200_000) -> bytes:
    return ("订单号,收货人\r\n" + ",\r\n" * rows).encode()


def huge_csv_cell() -> bytes:
    return ("订单号,收货人\r\n1," + "长" * 1024 * 1024 + "\r\n").encode()


HOSTILE = {
    "zip-bomb.xlsx": (zip_bomb, "unpacks to more than 100 MB"),
    "shared-string-200mb.xlsx": (lambda: giant_shared_string(200), "unpacks to more than 100 MB"),
    "shared-string-20mb.xlsx": (lambda: giant_shared_string(20), "more than 2,000 characters"),
    "xfd.xlsx": (xfd_rows, "more than 200 columns"),
    "rows.xlsx": (many_rows_xlsx, "more than 35,000 rows"),
    "rows.csv": (many_rows_csv, "more than 35,000 rows"),
    "cell.csv": (huge_csv_cell, "more than 2,000 characters"),
}

CHILD = """
import json, os, sys
sys.path.insert(0, {root!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "studio.settings"
import django
django.setup()
from django.utils import translation
from core.errors import DomainError
from orders.importers.reading import read_table


def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024


data = open(sys.argv[1], "rb").read()
# The peak so far (the kernel's VmHWM) starts again from the memory in use now.
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")
before = status("VmRSS")
message = ""
with translation.override("en"):
    try:
        read_table(data, sys.argv[2])
    except DomainError as exc:
        message = exc.message
print(json.dumps({{"growth_mb": (status("VmHWM") - before) / 2**20, "message": message}}))
"""


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    paths = {}
    for name, (make, _expected) in HOSTILE.items():
        path = folder / name
        path.write_bytes(make())
        paths[name] = path
    return paths


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_file_is_refused_naming_the_limit_within_the_memory_target(hostile_files, name):
    path = hostile_files[name]
    assert path.stat().st_size < 20 * 1024 * 1024  # each fits the upload size limit
    result = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT)), str(path), name],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "true", "LANG": "C.UTF-8"},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert HOSTILE[name][1] in measured["message"]
    assert len(measured["message"]) < 300  # it quotes no cell
    assert measured["growth_mb"] < MAX_GROWTH_MB, measured


def test_the_refusal_names_where_the_file_broke_the_limit():
    with translation.override("en"), pytest.raises(DomainError) as refused:
        read_table(xfd_rows(3), "xfd.xlsx")
    assert "row 2, column XFD" in refused.value.message
    with translation.override("zh-hans"), pytest.raises(DomainError) as refused:
        read_table(huge_csv_cell(), "cell.csv")
    assert "2,000" in refused.value.message and "字" in refused.value.message


def test_a_csv_cell_over_pythons_own_field_limit_gets_our_message_not_pythons():
    data = ('订单号,收货人\r\n1,"' + "x" * 200_000 + '"\r\n').encode()
    with translation.override("en"), pytest.raises(DomainError) as refused:
        read_table(data, "orders.csv")
    assert "field larger than field limit" not in refused.value.message
    assert "more than 2,000 characters" in refused.value.message


def test_the_limits_come_from_the_settings(settings):
    settings.UPLOAD_MAX_ROWS = 3
    data = ("订单号,收货人\r\n" + "1,王\r\n" * 4).encode()
    with translation.override("en"), pytest.raises(DomainError) as refused:
        read_table(data, "orders.csv")
    assert "more than 3 rows" in refused.value.message
    settings.UPLOAD_MAX_ROWS = 4
    assert len(read_table(data, "orders.csv").rows) == 4


@pytest.mark.django_db
def test_an_order_import_refuses_a_hostile_workbook_and_keeps_nothing(manager_user):
    channel = Channel.objects.get(code="kuaishou")
    with translation.override("en"), pytest.raises(DomainError) as refused:
        import_upload(
            channel=channel,
            uploaded=SimpleUploadedFile("orders.xlsx", xfd_rows(10)),
            acting_user=manager_user,
        )
    assert "more than 200 columns" in refused.value.message
    assert not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_an_order_file_with_more_bad_rows_than_the_limit_is_refused(settings, manager_user):
    settings.UPLOAD_MAX_ERROR_ROWS = 5
    header = "订单号,订单状态,商家编码,商品数量,收货人,收货人手机号,详细地址,省,支付时间\r\n"
    rows = "".join(
        f"X{n},待发货,NOPE,1,王,13800000000,路1号,陕西省,2026-06-18 20:00\r\n" for n in range(9)
    )
    channel = Channel.objects.get(code="kuaishou")
    with translation.override("en"), pytest.raises(DomainError) as refused:
        import_upload(
            channel=channel,
            uploaded=SimpleUploadedFile("orders.csv", (header + rows).encode()),
            acting_user=manager_user,
        )
    assert "More than 5 rows are bad" in refused.value.message
    assert "row 7" in refused.value.message


@pytest.mark.django_db
def test_the_tracking_upload_reads_within_the_same_limits(client_for):
    client = client_for("packer")
    upload = SimpleUploadedFile("tracking.xlsx", xfd_rows(10))
    with translation.override("en"):
        response = client.post("/shipping/tracking/", {"file": upload}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "more than 200 columns" in response.content.decode()


@pytest.mark.django_db
def test_a_tracking_file_of_mostly_bad_rows_applies_nothing(settings):
    settings.UPLOAD_MAX_ERROR_ROWS = 2
    parcel = shipped_parcel()
    user = worker()
    rows = f"{parcel.tracking_number},delivered,2026-11-20 14:30\r\n" + "X,lost,yesterday\r\n" * 3
    data = ("tracking number,status,time\r\n" + rows).encode()
    with translation.override("en"), pytest.raises(DomainError) as refused:
        tracking_file_apply(data=data, file_name="t.csv", carrier=None, acting_user=user)
    assert "More than 2 rows are bad" in refused.value.message
    parcel.refresh_from_db()
    assert parcel.status != "delivered"


def test_a_long_cell_is_quoted_short_in_a_row_error():
    from orders.importers.rows import Bad, parse_quantity

    with translation.override("en"), pytest.raises(Bad) as bad:
        parse_quantity("9" * 1500)
    assert len(bad.value.reason) < 120
