"""The ``Idempotency-Key`` header: a repeated create replays the first answer and creates
nothing twice, also when the repeats arrive at the same moment (PostgreSQL, real threads)."""

import json
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from core.idempotency import body_sha256
from core.models import IdempotencyKey
from core.roles import Role
from inventory.models import Lot, Sku
from inventory.selectors import stock_mismatches
from orders.models import Channel, LiveSession, Order
from tests.factories import SkuFactory, UserFactory, receive

D = Decimal
URL = "/api/orders/"
pytestmark = pytest.mark.django_db


def _channel(code: str = "kuaishou") -> Channel:
    channel, _created = Channel.objects.get_or_create(code=code, defaults={"name": code})
    return channel


def _sku() -> Sku:
    return SkuFactory(merchant_code="MT-5J-TJ", net_kg=D("2.500"), price=D("39.90"))


def _body(**overrides) -> dict:
    body = {
        "channel": "kuaishou",
        "external_no": "2611210000000012345",
        "recipient_name": "王小明",
        "phone": "13912345678",
        "province": "陕西省",
        "city": "西安市",
        "district": "雁塔区",
        "address_detail": "小寨东路 1 号",
        "paid_at": "2026-03-01T20:15:00+08:00",
        "lines": [{"sku": "MT-5J-TJ", "quantity": 2, "unit_price": "39.90"}],
    }
    body.update(overrides)
    return body


def _post(client, body: dict, key: str | None = "key-1", url: str = URL):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(url, body, content_type="application/json", headers=headers)


@pytest.fixture
def stock():
    sku = _sku()
    _channel()
    _channel("douyin")
    return receive(kg="100", product=sku.product, grade=sku.grade)


# --- replay and conflict ---------------------------------------------------------------------


def test_the_same_key_and_body_replays_the_first_response_and_creates_once(client_for, stock):
    client = client_for("manager")

    first = _post(client, _body())
    again = _post(client, _body())

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["Content-Type"] == "application/json"
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Order.objects.count() == 1
    stock.refresh_from_db()
    assert stock.reserved_kg == D("5.000")  # allocated once, not twice
    assert stock_mismatches() == []


def test_the_replay_is_the_first_answer_even_after_the_order_changed(client_for, stock):
    client = client_for("manager")
    first = _post(client, _body())
    order_id = first.json()["id"]
    assert client.post(f"/api/orders/{order_id}/cancel/").status_code == 200

    again = _post(client, _body())

    assert again.status_code == 201
    assert again.json()["status"] == "allocated"
    assert again.json() == first.json()
    assert Order.objects.get().status == "cancelled"


def test_the_same_body_in_another_key_order_is_the_same_request(client_for, stock):
    client = client_for("manager")
    body = _body()

    first = _post(client, body)
    again = _post(client, dict(reversed(list(body.items()))))

    assert again.status_code == 201
    assert again.json() == first.json()
    assert Order.objects.count() == 1


def test_the_same_key_with_another_body_is_a_409(client_for, stock):
    client = client_for("manager")
    first = _post(client, _body())

    other = _post(client, _body(external_no="9999"))

    assert first.status_code == 201
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in other.json()["detail"]
    assert list(Order.objects.values_list("external_no", flat=True)) == ["2611210000000012345"]


def test_without_a_key_a_repeat_is_a_new_request(client_for, stock):
    client = client_for("manager")

    first = _post(client, _body(), key=None)
    again = _post(client, _body(), key=None)

    assert (first.status_code, again.status_code) == (201, 409)  # the order number exists
    assert not IdempotencyKey.objects.exists()
    assert Order.objects.count() == 1


def test_a_new_key_is_a_new_request(client_for, stock):
    client = client_for("manager")

    first = _post(client, _body(), key="key-1")
    other = _post(client, _body(external_no="2"), key="key-2")

    assert (first.status_code, other.status_code) == (201, 201)
    assert Order.objects.count() == 2


def test_keys_belong_to_their_user(make_user, stock):
    alice, bob = Client(), Client()
    alice.force_login(make_user("manager", username="alice"))
    bob.force_login(make_user("manager", username="bob"))

    first = _post(alice, _body())
    other = _post(bob, _body(external_no="2"))

    assert (first.status_code, other.status_code) == (201, 201)
    assert Order.objects.count() == 2


def test_a_refused_request_does_not_use_up_its_key(client_for, stock):
    client = client_for("manager")

    refused = _post(client, _body(phone="12345"))
    fixed = _post(client, _body())

    assert refused.status_code == 400
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed.headers
    assert Order.objects.count() == 1
    assert IdempotencyKey.objects.get().status_code == 201


def test_a_duplicate_order_is_not_stored_under_the_key(client_for, stock):
    client = client_for("manager")
    assert _post(client, _body(), key="key-1").status_code == 201

    duplicate = _post(client, _body(), key="key-2")

    assert duplicate.status_code == 409
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["key-1"]


def test_a_key_is_remembered_for_24_hours(client_for, stock):
    client = client_for("manager")
    _post(client, _body())
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=23))

    other = _post(client, _body(external_no="2"))

    assert other.status_code == 409
    assert Order.objects.count() == 1


def test_a_key_older_than_24_hours_is_forgotten(client_for, stock):
    client = client_for("manager")
    _post(client, _body())
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))

    other = _post(client, _body(external_no="2"))

    assert other.status_code == 201
    assert Order.objects.count() == 2
    record = IdempotencyKey.objects.get()
    assert json.loads(record.response)["external_no"] == "2"


@pytest.mark.parametrize("key", ["", "   ", "k" * 101])
def test_an_empty_or_overlong_key_is_a_400(client_for, stock, key):
    client = client_for("manager")

    response = _post(client, _body(), key=key)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert not Order.objects.exists()


def test_live_session_creates_honour_the_key_too(client_for):
    _channel()
    client = client_for("creator")
    body = {
        "channel": "kuaishou",
        "title": "蜜桃专场",
        "host": "朱小妹",
        "starts_at": "2026-03-01T19:00:00+08:00",
        "ends_at": "2026-03-01T23:00:00+08:00",
    }

    first = _post(client, body, url="/api/live-sessions/")
    again = _post(client, body, url="/api/live-sessions/")
    other = _post(client, {**body, "title": "板栗专场"}, url="/api/live-sessions/")

    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 409)
    assert again.json() == first.json()
    assert LiveSession.objects.count() == 1


def test_a_packer_cannot_create_with_a_key_either(client_for, stock):
    client = client_for("packer")

    response = _post(client, _body())

    assert response.status_code == 403
    assert not IdempotencyKey.objects.exists()
    assert not Order.objects.exists()


def test_the_body_hash_ignores_key_order_and_spacing_but_not_values():
    one = body_sha256({"a": 1, "b": [{"x": "桃", "y": "2"}]})

    assert one == body_sha256({"b": [{"y": "2", "x": "桃"}], "a": 1})
    assert one != body_sha256({"a": 1, "b": [{"x": "桃", "y": "3"}]})
    assert one != body_sha256({"a": 1, "b": [{"y": "2", "x": "桃"}], "c": None})


@pytest.mark.parametrize("url", ["/api/orders/", "/api/live-sessions/"])
def test_the_schema_documents_the_header_on_creates(client_for, url):
    client = client_for("manager")

    schema = client.get("/api/schema/?format=json").json()

    parameters = schema["paths"][url]["post"]["parameters"]
    assert {"name": "Idempotency-Key", "in": "header"}.items() <= parameters[0].items()
    assert all(p["name"] != "Idempotency-Key" for p in schema["paths"][url]["get"]["parameters"])


# --- concurrency (PostgreSQL) ----------------------------------------------------------------


def _manager() -> Client:
    # A transactional test may run after another one flushed the roles the migrations made.
    Group.objects.get_or_create(name=Role.MANAGER)
    user = UserFactory(username="racer", roles=[Role.MANAGER])
    client = Client()
    client.force_login(user)
    return client


def _in_threads(client: Client, bodies: list[dict]) -> tuple[list, list, list]:
    """Post each body with the same key, each from its own thread and connection."""
    responses: list = [None] * len(bodies)
    errors: list[BaseException] = []

    def post(index: int) -> None:
        try:
            responses[index] = _post(client, bodies[index], key="same-key")
        except BaseException as exc:  # reported to the test, which fails on it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    return responses, threads, errors


def _join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request hung"


def _wait_until_blocked(count: int) -> bool:
    """True once ``count`` other sessions of this database wait on a lock."""
    deadline = time.monotonic() + 30
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] >= count:
                return True
            time.sleep(0.01)
    return False


def _hold_lot_while_two_requests_queue(client: Client, lot: Lot, bodies: list[dict]):
    """The first request to take the key stops at the lot's row lock (the test holds it);
    the second must then wait for the first. Both are released together."""
    with transaction.atomic():
        Lot.objects.select_for_update().get(pk=lot.pk)
        responses, threads, errors = _in_threads(client, bodies)
        both_waiting = _wait_until_blocked(2)
    _join(threads)
    assert errors == []
    assert both_waiting, "the second request did not wait for the first"
    return responses


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_repeat_waits_for_the_first_and_replays_it():
    # given stock, and two identical requests with one key, the first held at the lot's lock
    _channel()
    sku = _sku()
    lot = receive(kg="100", product=sku.product, grade=sku.grade)
    client = _manager()

    # when both are in flight at once
    responses = _hold_lot_while_two_requests_queue(client, lot, [_body(), _body()])

    # then one order was made and allocated once, and both got its answer
    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].json() == responses[1].json()
    assert sorted(r.headers.get("Idempotent-Replayed", "") for r in responses) == ["", "true"]
    assert Order.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    lot.refresh_from_db()
    assert lot.reserved_kg == D("5.000")
    assert stock_mismatches() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_request_with_the_key_and_another_body_gets_409():
    _channel()
    sku = _sku()
    lot = receive(kg="100", product=sku.product, grade=sku.grade)
    client = _manager()

    responses = _hold_lot_while_two_requests_queue(
        client, lot, [_body(external_no="A"), _body(external_no="B")]
    )

    assert sorted(r.status_code for r in responses) == [201, 409]
    [created] = [r for r in responses if r.status_code == 201]
    assert list(Order.objects.values_list("external_no", flat=True)) == [
        created.json()["external_no"]
    ]
    assert Lot.objects.get(pk=lot.pk).reserved_kg == D("5.000")
    assert stock_mismatches() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_simultaneous_repeats_create_one_order():
    _channel()
    sku = _sku()
    lot = receive(kg="100", product=sku.product, grade=sku.grade)
    client = _manager()

    responses, threads, errors = _in_threads(client, [_body() for _ in range(8)])
    _join(threads)

    assert errors == []
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert Order.objects.count() == 1
    assert Lot.objects.get(pk=lot.pk).reserved_kg == D("5.000")
    assert stock_mismatches() == []
