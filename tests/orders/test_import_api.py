"""The import API: upload (a dry-run preview comes back), mapping, commit, status, errors."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks_db.models import DBTaskResult

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


def upload(client, name: str, channel: str = "kuaishou", data: bytes | None = None):
    data = (DATA / name).read_bytes() if data is None else data
    return client.post(
        "/api/imports/",
        {"channel": channel, "file": SimpleUploadedFile(name, data)},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_upload_returns_a_preview_and_commit_imports(client_for, stock):
    client = client_for("manager")

    response = upload(client, "bad_rows_gb18030.csv")

    assert response.status_code == 201
    body = response.json()
    batch_id = body["import"]["id"]
    assert body["needs_mapping"] is False
    assert body["import"]["status"] == "previewed"
    assert (body["import"]["created"], body["import"]["invalid"]) == (3, 11)
    assert len(body["errors"]) == 11
    assert body["errors"][1] == {
        "row_number": 5,
        "column": "订单号",
        "reason": body["errors"][1]["reason"],
        "raw": body["errors"][1]["raw"],
    }
    assert "2.61121E+15" in body["errors"][1]["reason"]
    assert body["errors"][1]["raw"]["订单号"] == "2.61121E+15"
    sample = {order["external_no"]: order for order in body["sample"]}
    assert sample["2611190000000000101"]["state"] == "new"
    assert sample["2611190000000000101"]["masked_phone"] == "138****0101"
    assert sample["2611190000000000106"]["state"] == "invalid"
    assert not Order.objects.exists()

    committed = client.post(
        f"/api/imports/{batch_id}/commit/", {"mode": "keep_good"}, content_type="application/json"
    )

    assert committed.status_code == 200
    assert committed.json()["status"] == "done"
    assert committed.json()["allocated"] == 3
    assert Order.objects.filter(status=OrderStatus.ALLOCATED).count() == 3
    status = client.get(f"/api/imports/{batch_id}/").json()
    assert (status["rows_done"], status["rows_total"], status["percent"]) == (16, 16, 100)
    again = client.post(
        f"/api/imports/{batch_id}/commit/", {"mode": "keep_good"}, content_type="application/json"
    )
    assert again.status_code == 409


def test_errors_as_json_and_as_csv(client_for, stock):
    client = client_for("manager")
    batch_id = upload(client, "bad_rows_gb18030.csv").json()["import"]["id"]

    errors = client.get(f"/api/imports/{batch_id}/errors/").json()
    as_csv = client.get(f"/api/imports/{batch_id}/errors-csv/", HTTP_ACCEPT="text/csv")

    assert errors["count"] == 11
    assert [e["row_number"] for e in errors["results"]] == list(range(4, 15))
    assert as_csv.status_code == 200
    assert as_csv["Content-Type"].startswith("text/csv")
    assert as_csv.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0][-3:] == ["错误", "行号", "列"]
    assert [row[-2] for row in rows[1:]] == [str(n) for n in range(4, 15)]


def test_an_unknown_layout_asks_for_a_mapping_that_the_channel_keeps(client_for, stock):
    client = client_for("manager")

    body = upload(client, "unknown_layout.csv", channel="wechat").json()

    assert body["needs_mapping"] is True
    assert "external_no" in body["missing_fields"]
    assert "单号" in body["unknown_headers"]
    batch_id = body["import"]["id"]
    mapping = {
        "单号": "external_no",
        "货号": "merchant_code",
        "件数": "quantity",
        "姓名": "recipient_name",
        "电话": "phone",
        "地址": "full_address",
        "成交时间": "paid_at",
        "备注": "",
    }
    refused = client.post(
        f"/api/imports/{batch_id}/mapping/",
        {"mapping": {**mapping, "单号": "no_such_field"}},
        content_type="application/json",
    )
    assert refused.status_code == 400
    mapped = client.post(
        f"/api/imports/{batch_id}/mapping/", {"mapping": mapping}, content_type="application/json"
    )
    assert mapped.status_code == 200
    assert mapped.json()["import"]["created"] == 2
    assert Channel.objects.get(code="wechat").column_mapping == mapping
    assert upload(client, "unknown_layout.csv", channel="wechat").json()["needs_mapping"] is False


def test_a_bad_file_is_a_400_and_nothing_is_stored(client_for, stock, settings):
    client = client_for("manager")

    not_csv = upload(client, "photo.png", data=b"\x89PNG\r\n\x1a\n\x00\x00")
    empty = upload(client, "empty.csv", data=b"")
    settings.ORDER_IMPORT_MAX_BYTES = 100
    too_big = upload(client, "kuaishou_gb18030.csv")

    assert not_csv.status_code == 400
    assert "CSV or XLSX" in not_csv.json()["file"][0]
    assert empty.status_code == 400  # the REST framework refuses an empty upload itself
    assert too_big.status_code == 400
    assert "the limit is 0.0 MB" in too_big.json()["file"][0]
    assert not ImportBatch.objects.exists()


def test_a_large_file_is_queued(client_for, stock, settings):
    settings.ORDER_IMPORT_INLINE_ROWS = 1
    client = client_for("manager")
    batch_id = upload(client, "kuaishou_gb18030.csv").json()["import"]["id"]

    response = client.post(f"/api/imports/{batch_id}/commit/", {"mode": "keep_good"})

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    # The task is written in the transaction that queues the import: no queued import
    # without its task, even if the process dies right after the commit.
    task = DBTaskResult.objects.get(pk=ImportBatch.objects.get().task_id)
    assert task.status == "READY"
    assert task.args_kwargs == {"args": [batch_id], "kwargs": {}}
    assert not Order.objects.exists()


@pytest.mark.parametrize("role", ["packer", "creator", "intake"])
def test_only_managers_use_the_import_api(client_for, make_user, stock, role):
    from orders.importers import service

    batch = service.import_upload(
        channel=Channel.objects.get(code="kuaishou"),
        uploaded=SimpleUploadedFile("k.csv", (DATA / "kuaishou_gb18030.csv").read_bytes()),
        acting_user=make_user("manager"),
    )
    client = client_for(role)

    assert upload(client, "douyin_utf8_bom.csv").status_code == 403
    for url in (
        "/api/imports/",
        f"/api/imports/{batch.pk}/",
        f"/api/imports/{batch.pk}/errors/",
        f"/api/imports/{batch.pk}/errors-csv/",
    ):
        assert client.get(url).status_code == 403, url
    for action, body in (("commit", {"mode": "keep_good"}), ("mapping", {"mapping": {}})):
        response = client.post(
            f"/api/imports/{batch.pk}/{action}/", body, content_type="application/json"
        )
        assert response.status_code == 403, action
    assert ImportBatch.objects.get().status == ImportStatus.PREVIEWED
    assert not Order.objects.exists()


def test_the_import_endpoints_are_in_the_schema(client_for):
    schema = client_for("manager").get("/api/schema/").content.decode()

    for path in ("/api/imports/", "/api/imports/{id}/commit/", "/api/imports/{id}/errors-csv/"):
        assert path in schema
