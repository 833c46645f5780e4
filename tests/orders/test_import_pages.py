"""The import pages: upload → (mapping) → preview → commit → progress → result, for managers
only."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders.importers import service
from orders.models import Channel, ImportBatch, ImportStatus, Order, OrderStatus
from tests.data.make_fixtures import SKUS
from tests.factories import GradeFactory, ProductFactory, SkuFactory, receive

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def stock():
    """Every fixture SKU, on one product and grade with plenty of stock."""
    product, grade = ProductFactory(name="蜜桃"), GradeFactory(name="特级")
    for code, name, kg, price in SKUS:
        SkuFactory(
            merchant_code=code,
            name=name,
            product=product,
            grade=grade,
            net_kg=Decimal(kg),
            price=Decimal(price),
        )
    return receive(kg="900", product=product, grade=grade)


@pytest.fixture
def manager_client(client_for):
    return client_for("manager")


def file(name: str, data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (DATA / name).read_bytes() if data is None else data)


def post_upload(client, name: str, channel: str = "kuaishou", data: bytes | None = None):
    return client.post(
        reverse("imports:upload"),
        {"channel": Channel.objects.get(code=channel).pk, "file": file(name, data)},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_upload_preview_commit_result(manager_client, stock):
    page = manager_client.get(reverse("imports:upload"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.content.decode()

    # upload: the file is checked, nothing is imported yet
    response = post_upload(manager_client, "bad_rows_gb18030.csv")
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:preview", args=[batch.pk])
    assert not Order.objects.exists()

    # preview: counts, the first errors, a sample of parsed orders, the two modes
    preview = manager_client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "11 bad rows" in html
    assert "No SKU has the merchant code “NO-SUCH-SKU”." in html
    assert "2611190000000000101" in html  # a sample order
    assert "蜜桃 5斤礼盒 特级 × 1" in html
    assert "138****0101" in html and "13800000101" not in html  # phones masked
    assert 'value="all_or_nothing"' in html and 'value="keep_good"' in html
    assert reverse("imports:errors_csv", args=[batch.pk]) in html

    # commit, keeping the good rows: a small file is done at once
    response = manager_client.post(
        reverse("imports:commit", args=[batch.pk]), {"mode": "keep_good"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response["Location"] == reverse("imports:result", args=[batch.pk])
    result = manager_client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    html = result.content.decode()
    assert "3 orders created: 3 allocated, 0 back-ordered." in html
    assert Order.objects.filter(status=OrderStatus.ALLOCATED).count() == 3

    # the errors download
    download = manager_client.get(reverse("imports:errors_csv", args=[batch.pk]))
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in download["Content-Disposition"]
    assert download.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][-3:] == ["错误", "行号", "列"]
    assert len(rows) == 12  # the header and rows 4–14

    # the list of recent imports links to the result
    listing = manager_client.get(reverse("imports:list"), HTTP_ACCEPT_LANGUAGE="en")
    assert reverse("imports:result", args=[batch.pk]) in listing.content.decode()


def test_markup_in_a_file_is_shown_as_text(manager_client, stock):
    response = post_upload(manager_client, "kuaishou_gb18030.csv")

    html = manager_client.get(response["Location"]).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html


def test_a_bad_file_is_refused_on_the_upload_form(manager_client, stock):
    response = post_upload(manager_client, "photo.png", data=b"\x89PNG\r\n\x1a\n\x00\x00")

    assert response.status_code == 400
    assert "CSV or XLSX" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_a_file_over_the_limit_is_refused_on_the_upload_form(manager_client, stock, settings):
    settings.ORDER_IMPORT_MAX_BYTES = 100

    response = post_upload(manager_client, "kuaishou_gb18030.csv")

    assert response.status_code == 400
    assert "the limit is 0.0 MB" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_the_mapping_screen_saves_the_choice_and_the_next_file_skips_it(manager_client, stock):
    response = post_upload(manager_client, "unknown_layout.csv", channel="wechat")
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("imports:mapping", args=[batch.pk])
    page = manager_client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert "These fields were not found in the file" in html
    assert "W0001" in html  # the first row's values help to choose
    headers = ["单号", "货号", "件数", "姓名", "电话", "地址", "成交时间", "备注"]
    fields = [
        "external_no",
        "merchant_code",
        "quantity",
        "recipient_name",
        "phone",
        "full_address",
        "paid_at",
        "",
    ]

    # a choice that leaves out the order number is refused, nothing is saved
    incomplete = {f"col_{i}": "" if f == "external_no" else f for i, f in enumerate(fields)}
    refused = manager_client.post(response["Location"], incomplete, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert "Choose a column for: Order number" in refused.content.decode()
    assert Channel.objects.get(code="wechat").column_mapping == {}

    saved = manager_client.post(response["Location"], {f"col_{i}": f for i, f in enumerate(fields)})
    assert saved["Location"] == reverse("imports:preview", args=[batch.pk])
    assert Channel.objects.get(code="wechat").column_mapping == dict(
        zip(headers, fields, strict=True)
    )
    batch.refresh_from_db()
    assert (batch.status, batch.created_count) == (ImportStatus.PREVIEWED, 2)

    # the same layout again goes straight to the preview
    again = post_upload(manager_client, "unknown_layout.csv", channel="wechat")
    newest = ImportBatch.objects.latest("id")
    assert again["Location"] == reverse("imports:preview", args=[newest.pk])


def test_a_queued_import_shows_progress_and_a_status_document(manager_client, stock, settings):
    settings.ORDER_IMPORT_INLINE_ROWS = 1
    response = post_upload(manager_client, "kuaishou_gb18030.csv")
    batch = ImportBatch.objects.get()

    response = manager_client.post(
        reverse("imports:commit", args=[batch.pk]), {"mode": "all_or_nothing"}
    )

    assert response["Location"] == reverse("imports:progress", args=[batch.pk])
    page = manager_client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert reverse("imports:status", args=[batch.pk]) in html
    assert "js/import.js" in html
    assert "db_worker" in html  # what to check when nothing moves
    status = manager_client.get(reverse("imports:status", args=[batch.pk])).json()
    assert status["status"] == "queued"
    assert (status["rows_done"], status["rows_total"], status["finished"]) == (0, 12, False)
    assert status["result_url"] == reverse("imports:result", args=[batch.pk])
    # the result page waits for the import to finish
    waiting = manager_client.get(reverse("imports:result", args=[batch.pk]))
    assert waiting["Location"] == reverse("imports:progress", args=[batch.pk])
    # committing twice is refused
    twice = manager_client.post(
        reverse("imports:commit", args=[batch.pk]), {"mode": "keep_good"}, follow=True
    )
    assert twice.status_code == 200
    assert ImportBatch.objects.get().mode == "all_or_nothing"


@pytest.mark.parametrize("role", ["packer", "creator", "intake"])
def test_only_managers_import(client_for, make_user, stock, role):
    channel = Channel.objects.get(code="kuaishou")
    batch = service.import_upload(
        channel=channel, uploaded=file("kuaishou_gb18030.csv"), acting_user=make_user("manager")
    )
    client = client_for(role)

    pages = [
        reverse("imports:list"),
        reverse("imports:upload"),
        reverse("imports:mapping", args=[batch.pk]),
        reverse("imports:preview", args=[batch.pk]),
        reverse("imports:progress", args=[batch.pk]),
        reverse("imports:status", args=[batch.pk]),
        reverse("imports:result", args=[batch.pk]),
        reverse("imports:errors_csv", args=[batch.pk]),
    ]
    for url in pages:
        assert client.get(url).status_code == 403, url
    upload = client.post(
        reverse("imports:upload"), {"channel": channel.pk, "file": file("douyin_utf8_bom.csv")}
    )
    assert upload.status_code == 403
    commit = client.post(reverse("imports:commit", args=[batch.pk]), {"mode": "keep_good"})
    assert commit.status_code == 403
    assert ImportBatch.objects.count() == 1
    assert ImportBatch.objects.get().status == ImportStatus.PREVIEWED
    assert not Order.objects.exists()


def test_anonymous_users_go_to_the_login_page(client):
    response = client.get(reverse("imports:upload"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
