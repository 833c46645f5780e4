"""Platform credentials: encrypted at rest, write-only, or taken from the environment."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from core.crypto import CredentialsKeyError, decrypt, encrypt
from core.errors import DomainError
from orders.models import PlatformAccount
from orders.platforms.errors import NotConfigured
from orders.platforms.registry import connector_for
from orders.platforms.services import platform_account_save
from tests.conftest import TEST_CREDENTIALS_KEY
from tests.orders.platform_builders import channel
from tests.shipping.builders import staff

pytestmark = pytest.mark.django_db


def _save(**kwargs):
    values = {
        "channel": channel("douyin"),
        "platform": "douyin",
        "app_key": "7123456789012345678",
        "secrets": {"app_secret": "app-secret-1", "access_token": "token-1"},
        "acting_user": staff("manager"),
    }
    return platform_account_save(**{**values, **kwargs})


def _stored(account, field):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {field} FROM orders_platformaccount WHERE id = %s", [account.pk])
        return cursor.fetchone()[0]


def test_secrets_are_stored_encrypted_and_read_back():
    account = _save()

    raw = _stored(account, "app_secret")
    assert raw.startswith("fernet:") and "app-secret-1" not in raw
    assert PlatformAccount.objects.get(pk=account.pk).app_secret == "app-secret-1"
    assert "app-secret-1" not in repr(PlatformAccount.objects.get(pk=account.pk).app_secret)


def test_an_empty_secret_keeps_the_stored_one_and_clear_removes_it():
    account = _save()
    _save(secrets={"app_secret": "", "access_token": ""})
    assert PlatformAccount.objects.get(pk=account.pk).app_secret == "app-secret-1"

    _save(secrets={}, clear=frozenset({"access_token"}))
    assert PlatformAccount.objects.get(pk=account.pk).access_token == ""


def test_an_account_without_its_secrets_cannot_be_enabled():
    with pytest.raises(DomainError) as error:
        _save(secrets={"app_secret": "x"}, is_enabled=True)
    assert error.value.field == "is_enabled"

    kuaishou = channel("kuaishou")
    with pytest.raises(DomainError):  # Kuaishou needs its sign secret too
        _save(channel=kuaishou, platform="kuaishou", is_enabled=True)


def test_a_secret_in_the_environment_wins(monkeypatch):
    account = _save()
    monkeypatch.setenv("SHANHUO_PLATFORM_DOUYIN_APP_SECRET", "from-env")

    assert account.secret("app_secret") == "from-env"
    assert account.secret_source("app_secret") == "environment"
    assert account.secret_source("refresh_token") == "missing"


def test_rotating_the_key_keeps_old_values_readable(settings):
    account = _save()
    settings.SHANHUO_CREDENTIALS_KEYS = [Fernet.generate_key().decode(), TEST_CREDENTIALS_KEY]

    assert PlatformAccount.objects.get(pk=account.pk).app_secret == "app-secret-1"


def test_a_lost_key_makes_the_secret_unreadable_not_the_page(settings):
    account = _save()
    settings.SHANHUO_CREDENTIALS_KEYS = [Fernet.generate_key().decode()]

    again = PlatformAccount.objects.get(pk=account.pk)
    assert again.app_secret == ""
    assert again.secret_source("app_secret") == "unreadable"
    with pytest.raises(CredentialsKeyError):
        decrypt(_stored(account, "app_secret"))


def test_production_needs_a_key(settings):
    settings.SHANHUO_CREDENTIALS_KEYS = []
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured):
        encrypt("x")


def test_a_channel_without_an_enabled_account_has_no_connector():
    with pytest.raises(NotConfigured):
        connector_for(channel("douyin"))
    _save()
    with pytest.raises(NotConfigured):
        connector_for(channel("douyin"))
    _save(is_enabled=True)
    assert connector_for(channel("douyin")).platform == "douyin"
