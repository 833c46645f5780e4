"""The Platforms pages and API: managers only, secrets write-only, the call log readable."""

import pytest
from django.urls import reverse

from orders.models import AddressChangeStatus, OrderAddressChange, PlatformAccount, PlatformCall
from orders.platforms.services import sync_state_failure, sync_state_for
from tests.orders.platform_builders import channel
from tests.shipping.builders import allocated_order

pytestmark = pytest.mark.django_db

SECRET = "very-secret-app-secret"


def _call(**kwargs):
    values = {
        "platform": "douyin",
        "channel": channel("douyin"),
        "method": "order.searchList",
        "http_status": 200,
        "platform_code": "10000",
        "request_id": "2026000001",
        "duration_ms": 120,
        "attempt": 1,
        "outcome": "ok",
    }
    return PlatformCall.objects.create(**{**values, **kwargs})


@pytest.mark.parametrize("role", ["intake", "packer", "creator"])
def test_only_managers_open_the_platform_pages(client_for, role):
    client = client_for(role)
    for url in [
        reverse("platforms:list"),
        reverse("platforms:calls"),
        reverse("platforms:account", args=["douyin"]),
    ]:
        assert client.get(url).status_code == 403, url
    for url in ["/api/platform-calls/", "/api/sync-states/", "/api/platform-accounts/"]:
        assert client.get(url).status_code == 403, url


def test_a_manager_enters_credentials_that_are_never_shown_again(client_for):
    client = client_for("manager")
    url = reverse("platforms:account", args=["douyin"])

    response = client.post(
        url,
        {
            "platform": "douyin",
            "app_key": "7123456789012345678",
            "app_secret": SECRET,
            "access_token": "tok-abc",
            "refresh_token": "ref-abc",
            "sign_method": "hmac-sha256",
            "is_enabled": "on",
        },
    )

    assert response.status_code == 302
    account = PlatformAccount.objects.get(channel__code="douyin")
    assert account.app_secret == SECRET and account.is_enabled
    page = client.get(url).content.decode()
    assert SECRET not in page and "tok-abc" not in page
    assert "7123456789012345678" in page
    listing = client.get(reverse("platforms:list")).content.decode()
    assert SECRET not in listing
    api = client.get("/api/platform-accounts/").json()
    assert SECRET not in str(api)
    assert api["results"][0]["secrets"]["app_secret"] == "stored"


def test_saving_again_with_empty_secrets_keeps_them(client_for):
    client = client_for("manager")
    url = reverse("platforms:account", args=["douyin"])
    base = {"platform": "douyin", "app_key": "7123456789012345678", "sign_method": "hmac-sha256"}
    client.post(url, {**base, "app_secret": SECRET, "access_token": "tok"})

    client.post(url, {**base, "shop_id": "88"})

    account = PlatformAccount.objects.get(channel__code="douyin")
    assert (account.app_secret, account.access_token, account.shop_id) == (SECRET, "tok", "88")


def test_enabling_without_a_token_is_refused_beside_the_field(client_for):
    response = client_for("manager").post(
        reverse("platforms:account", args=["kuaishou"]),
        {
            "platform": "kuaishou",
            "app_key": "ks1",
            "app_secret": "s",
            "sign_method": "md5",
            "is_enabled": "on",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["is_enabled"]
    assert not PlatformAccount.objects.exists()


def test_the_call_log_is_paged_and_filtered(client_for):
    for n in range(3):
        _call(request_id=f"r{n}")
    _call(outcome="timeout", http_status=None, request_id="late")
    client = client_for("manager")

    page = client.get(reverse("platforms:calls"), {"outcome": "timeout"})
    api = client.get("/api/platform-calls/", {"outcome": "timeout"}).json()

    assert [call.request_id for call in page.context["page"]] == ["late"]
    assert api["count"] == 1 and api["results"][0]["request_id"] == "late"
    assert client.get("/api/platform-calls/").json()["count"] == 4


def test_the_overview_shows_sync_states_and_waiting_address_changes(client_for):
    state = sync_state_for(channel("kuaishou"), "orders")
    sync_state_failure(state=state, error=Exception("Connection failed: ConnectError"))
    order = allocated_order()
    change = OrderAddressChange.objects.create(
        order=order,
        status=AddressChangeStatus.NEEDS_ATTENTION,
        recipient_name="李四",
        phone="13912345678",
        province="陕西省",
        city="汉中市",
        district="留坝县",
        address_detail="朱家坪村 2 组",
        previous_address="x",
        order_status="packed",
    )
    client = client_for("manager")

    page = client.get(reverse("platforms:list")).content.decode()
    assert "Connection failed: ConnectError" in page
    assert order.external_no in page
    assert "朱家坪村 2 组" not in page  # the street stays off a list page

    client.post(reverse("platforms:address_change_done", args=[change.pk]))
    change.refresh_from_db()
    assert change.status == AddressChangeStatus.RESOLVED
    assert change.resolved_by.username == "manager-user"
    assert client.get("/api/sync-states/").json()["results"][0]["failures"] == 1
