from importlib import import_module

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection

from tests.factories import PASSWORD, UserFactory


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need real row locks: outside a PostgreSQL run they are skipped
    (./test runs them in its PostgreSQL pass, and CI fails if PostgreSQL is missing)."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run with DATABASE_URL=postgres://…")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def make_user(db):
    def make(*roles: str, username: str | None = None, **kwargs):
        username = username or ("-".join(roles) or "norole") + "-user"
        return UserFactory(username=username, roles=list(roles), **kwargs)

    return make


@pytest.fixture
def intake_user(make_user):
    return make_user("intake")


@pytest.fixture
def manager_user(make_user):
    return make_user("manager")


@pytest.fixture
def client_for(client, make_user):
    """``client_for("packer")``: Django's test client logged in as a user with that role."""

    def login(*roles: str):
        user = make_user(*roles)
        # force_login: Client.login() calls authenticate() without a request, which the
        # lockout backend (django-axes) refuses; sign-in itself is tested through the pages.
        assert user.check_password(PASSWORD)
        client.force_login(user)
        client.user = user
        return client

    return login


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Users are made in most tests; the default hasher costs half a second a password."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_throttle(settings):
    """Tests call the API far faster than a person: no rate limits unless a test sets them
    (tests/core/test_auth_limits.py)."""
    settings.API_THROTTLE_RATES = {}


@pytest.fixture(autouse=True)
def no_dashboard_cache(settings):
    """Tests change the data between two dashboard calls: the API's few-second cache is off
    unless a test turns it on (tests/orders/test_dashboard_access.py does)."""
    settings.DASHBOARD_CACHE_SECONDS = 0


# Rows the data migrations create. A transactional test empties every table when it ends, so
# they are put back before each test that uses the database: no test depends on the order in
# which the suite runs.
REFERENCE_DATA = [
    ("core.migrations.0001_roles", "create_groups"),
    ("orders.migrations.0002_channels", "create_channels"),
    ("shipping.migrations.0002_carriers", "create_carriers"),
]
DB_FIXTURES = {"db", "transactional_db", "live_server", "client_for", "make_user"}


@pytest.fixture(autouse=True)
def reference_data(request):
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not DB_FIXTURES & set(request.fixturenames):
        return
    transactional = bool(marker and marker.kwargs.get("transaction")) or (
        "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    for module, function in REFERENCE_DATA:
        getattr(import_module(module), function)(apps, None)
    # The cache is a database table that no test's rollback or flush empties: sign-in
    # failures and throttle counts of one test must not lock out the next.
    cache.clear()


# A fixed Fernet key for the tests' stored platform credentials (production sets its own in
# SHANHUO_CREDENTIALS_KEY; see docs/PLATFORMS.md).
TEST_CREDENTIALS_KEY = "8J1r8hGc3T4oHkRz3m0cJt3b8sS3c2T3o0Lx8v1KJ0s="


@pytest.fixture(autouse=True)
def _credentials_key(settings):
    settings.SHANHUO_CREDENTIALS_KEYS = [TEST_CREDENTIALS_KEY]
