"""Bad input is a 400 that names the field, never a 500: NUL and other unstorable text in any
path, query or body field, dates out of the studio's range, numbers that overflow, and a wave
asked for without saying which orders. These run on SQLite and again on PostgreSQL (which
refuses NUL in any text column)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from orders.models import Order
from shipping.models import Wave
from tests.shipping.builders_api import allocated_order

pytestmark = pytest.mark.django_db
NUL = "\x00"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def post_json(client, path, body):
    return client.post(
        path, json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (None, "/t/%00/"),
        ("manager", "/api/lots/%00/"),
        ("manager", "/api/lots/L%00X/movements/"),
        ("manager", "/inventory/lots/%00/"),
        ("packer", "/api/orders/?channel=%00"),
        ("manager", "/api/lots/?code=a%00b"),
        ("manager", "/orders/?q=%00"),
    ],
)
def test_a_nul_in_the_path_or_query_is_a_400(client, client_for, role, path):
    client = client_for(role) if role else client
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "cannot be stored" in response.content.decode()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/orders/", {"channel": NUL, "external_no": "1"}, "channel"),
        ("/api/waybill-pools/", {"carrier": "sf" + NUL, "numbers": ["SF1"]}, "carrier"),
        ("/api/waybill-pools/", {"carrier": "sf", "numbers": ["SF" + NUL]}, "numbers.0"),
        ("/api/parcels/pack/", {"order": "1", "channel": "kuaishou", "carrier": NUL}, "carrier"),
        ("/api/waves/", {"sku": "MT" + NUL}, "sku"),
        ("/api/farmers/", {"name": "朱\ud800"}, "name"),
    ],
)
def test_a_nul_or_a_lone_surrogate_in_a_json_field_is_a_400_naming_it(
    client_for, path, body, field
):
    response = post_json(client_for("manager"), path, body)
    assert response.status_code == 400, response.content
    assert "cannot be stored" in response.json()[field][0]


def test_a_nul_in_a_form_field_of_an_upload_is_a_400(client_for):
    upload = SimpleUploadedFile("orders.csv", "订单号\r\n1\r\n".encode())
    response = client_for("manager").post(
        "/api/imports/", {"channel": "kuaishou" + NUL, "file": upload}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "cannot be stored" in response.json()["channel"][0]


@pytest.mark.parametrize(
    "query",
    [
        "expiring_within=3000000",
        "expiring_within=99999999999",
        "farmer=99999999999999999999",
    ],
)
def test_numbers_out_of_range_in_a_query_are_a_400(client_for, query):
    response = client_for("manager").get(f"/api/lots/?{query}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400


def test_an_id_past_the_databases_integers_in_the_path_is_not_a_500(client_for):
    response = client_for("manager").get("/api/orders/99999999999999999999/")
    assert response.status_code in {400, 404}


@pytest.mark.parametrize("value", ["0004-06-18T20:00:00", "1999-12-31", "10000-01-01"])
def test_a_date_out_of_range_is_refused_naming_the_field(client_for, value):
    response = post_json(
        client_for("manager"),
        "/api/live-sessions/",
        {"channel": "kuaishou", "title": "夜场", "starts_at": value, "ends_at": value},
    )
    assert response.status_code == 400
    assert "dates from 2000 to 2099" in response.json()["starts_at"][0]


def test_a_date_out_of_range_in_a_query_is_refused(client_for):
    response = client_for("manager").get("/api/orders/?paid_from=0004-01-01")
    assert response.status_code == 400
    assert "paid_from" in response.json()


def test_a_page_date_out_of_range_is_refused(client_for):
    response = client_for("manager").get("/orders/dashboard/?date=9999-12-31")
    assert response.status_code == 400


def test_an_empty_wave_request_is_refused_and_makes_no_wave(client_for):
    allocated_order()
    response = post_json(client_for("packer"), "/api/waves/", {})
    assert response.status_code == 400
    assert "Choose the orders" in response.json()["non_field_errors"][0]
    assert not Wave.objects.exists()


def test_a_wave_of_the_oldest_n_is_explicit_enough(client_for):
    first = allocated_order()
    allocated_order()
    response = post_json(client_for("packer"), "/api/waves/", {"limit": 1})
    assert response.status_code == 201, response.content
    wave = Wave.objects.get()
    assert list(wave.wave_orders.values_list("order_id", flat=True)) == [first.pk]
    assert Order.objects.count() == 2


@pytest.mark.parametrize(
    "content", [b"SF1000000001\n" + b"9" * 200_000 + b"\n", b"SF1000000001\nSF10\x0000002\n"]
)
def test_a_waybill_file_python_cannot_read_as_csv_is_a_400(client_for, content):
    upload = SimpleUploadedFile("pool.csv", content)
    response = client_for("manager").post(
        "/api/waybill-pools/", {"carrier": "sf", "file": upload}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "field larger than field limit" not in response.content.decode()
