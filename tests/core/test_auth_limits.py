"""Sign-in lockout (django-axes) on the login page, the token endpoint and the admin, and API
throttling (anonymous, user, token endpoint, trace page). Counts live in the configured
cache, the database cache here as in production (conftest empties it before each test)."""

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import base_user
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
TOKEN = "/api/auth/token/"
ADMIN_LOGIN = "/admin/login/"


def login(client, username, password, *, address="10.0.0.1", path=LOGIN):
    return client.post(
        path,
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )


def fail(client, username, times, **kwargs):
    """``times`` wrong passwords; the one that reaches the limit is answered as a lockout."""
    return [login(client, username, "wrong-password", **kwargs).status_code for _ in range(times)]


def test_five_wrong_passwords_lock_the_user_name_with_a_chinese_message(client, make_user):
    user = make_user("packer")
    assert fail(client, user.username, 5) == [200, 200, 200, 200, 429]

    response = login(client, user.username, PASSWORD)

    assert response.status_code == 429
    assert "密码错误次数过多" in response.content.decode()
    assert response["Retry-After"] == str(15 * 60)
    # another address does not help: the user name itself is locked
    assert login(client, user.username, PASSWORD, address="10.0.0.2").status_code == 429


def test_one_address_guessing_many_user_names_is_locked_out(client, make_user):
    victim = make_user("manager")
    for number in range(5):
        fail(client, f"someone-{number}", 1)

    assert login(client, victim.username, PASSWORD).status_code == 429
    # from another address the user signs in as usual
    assert login(client, victim.username, PASSWORD, address="10.0.0.9").status_code == 302


def test_a_right_password_before_the_limit_resets_the_count(client, make_user):
    user = make_user("creator")
    fail(client, user.username, 4)
    assert login(client, user.username, PASSWORD).status_code == 302
    client.logout()
    fail(client, user.username, 4)
    assert login(client, user.username, PASSWORD).status_code == 302


def cache_clock(moment):
    """The database cache's clock reads ``moment``: a lock's fifteen minutes pass at once."""
    return mock.patch("django.core.cache.backends.db.tz_now", return_value=moment)


def test_the_lock_lifts_after_the_cool_off(client, make_user):
    user = make_user("packer")
    fail(client, user.username, 5)
    assert login(client, user.username, PASSWORD).status_code == 429
    locked_at = timezone.now()

    with cache_clock(locked_at + timedelta(minutes=14)):
        assert login(client, user.username, PASSWORD).status_code == 429
    with cache_clock(locked_at + timedelta(minutes=16)):
        assert login(client, user.username, PASSWORD).status_code == 302


def test_a_count_that_runs_out_while_a_password_is_checked_starts_again(client, make_user):
    """The cache keeps expiry to the second, and reading a key asks the exact time while
    adding one asks the time rounded down (core/cache.py). A count that ran out while a
    wrong password was being checked was there for axes's first look and gone for its
    count: a server error. Now the count starts again at one."""
    user = make_user("packer")
    fail(client, user.username, 3)
    runs_out = (timezone.now() + timedelta(minutes=1)).replace(microsecond=0)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name('shanhuo_cache')} SET expires = %s",
            [connection.ops.adapt_datetimefield_value(runs_out)],
        )
    clock = [runs_out - timedelta(milliseconds=200)]
    real_check = base_user.check_password

    def check_slowly(*args, **kwargs):
        clock[0] = runs_out + timedelta(milliseconds=500)
        return real_check(*args, **kwargs)

    with (
        mock.patch("django.core.cache.backends.db.tz_now", side_effect=lambda: clock[0]),
        mock.patch.object(base_user, "check_password", side_effect=check_slowly),
    ):
        assert fail(client, user.username, 1) == [200]
        assert fail(client, user.username, 3) == [200, 200, 200]
        assert fail(client, user.username, 1) == [429]  # the fifth of the new count


def test_the_token_endpoint_locks_out_too_and_answers_json(client, make_user):
    user = make_user("manager")
    assert fail(client, user.username, 5, path=TOKEN) == [400, 400, 400, 400, 429]

    response = login(client, user.username, PASSWORD, path=TOKEN)

    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert "密码错误次数过多" in response.json()["detail"]


def test_the_admin_login_locks_out_too(client, make_user):
    user = make_user("manager", is_staff=True)
    fail(client, user.username, 5, path=ADMIN_LOGIN)
    assert login(client, user.username, PASSWORD, path=ADMIN_LOGIN).status_code == 429


def test_the_counts_are_in_the_shared_cache(client, make_user):
    user = make_user("packer")
    fail(client, user.username, 5)
    # what another web process would see: the same cache, here emptied by a manager's unlock
    cache.clear()
    assert login(client, user.username, PASSWORD).status_code == 302


RATES = {"anon": "3/min", "user": "5/min", "token": "2/min", "trace": "2/min"}


def test_anonymous_api_calls_are_throttled_per_address(settings):
    """Every endpoint but the token one needs a role (refused before any throttle is
    asked); a public endpoint added later gets the anonymous rate by default."""
    settings.API_THROTTLE_RATES = RATES

    class Public(APIView):
        permission_classes = [AllowAny]

        def get(self, request):
            return Response({"ok": True})

    view = Public.as_view()
    factory = APIRequestFactory()
    codes = [view(factory.get("/api/x/", REMOTE_ADDR="10.1.0.1")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert view(factory.get("/api/x/", REMOTE_ADDR="10.1.0.2")).status_code == 200


def test_a_users_api_calls_are_throttled_per_user(client_for, settings):
    settings.API_THROTTLE_RATES = RATES
    client = client_for("packer")
    codes = [client.get("/api/lots/").status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    assert "Retry-After" in client.get("/api/lots/")


def test_the_token_endpoint_has_its_own_stricter_rate(client, make_user, settings):
    settings.API_THROTTLE_RATES = RATES
    user = make_user("manager")
    codes = [login(client, user.username, PASSWORD, path=TOKEN).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_the_public_trace_page_is_throttled_per_address(client, settings):
    settings.API_THROTTLE_RATES = RATES
    codes = [client.get("/t/nothing-here/", REMOTE_ADDR="10.2.0.1").status_code for _ in range(3)]
    assert codes == [404, 404, 429]


def test_behind_a_proxy_the_client_address_is_the_one_the_proxy_saw(client, settings):
    settings.API_THROTTLE_RATES = RATES
    settings.WEB_PROXY_COUNT = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    headers = {"REMOTE_ADDR": "127.0.0.1"}
    for _ in range(2):
        client.get("/t/x/", HTTP_X_FORWARDED_FOR="203.0.113.7", **headers)
    assert client.get("/t/x/", HTTP_X_FORWARDED_FOR="203.0.113.7", **headers).status_code == 429
    assert client.get("/t/x/", HTTP_X_FORWARDED_FOR="203.0.113.8", **headers).status_code == 404
