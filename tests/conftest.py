import pytest
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
        assert client.login(username=user.username, password=PASSWORD)
        client.user = user
        return client

    return login


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Users are made in most tests; the default hasher costs half a second a password."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
