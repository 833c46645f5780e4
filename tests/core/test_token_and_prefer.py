"""API callers with a token (a packing station): who they are and what roles they hold come
from one statement; and ``Prefer: return=minimal`` read as RFC 7240 writes it."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.api import prefers_minimal
from core.roles import user_roles


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.mark.django_db
def test_a_token_brings_its_user_and_every_role_in_one_statement(make_user):
    user = make_user("packer", "creator")
    Group.objects.create(name="not-a-role").user_set.add(user)
    client = _token_client(user)

    with CaptureQueriesContext(connection) as queries:
        parcels = client.get("/api/parcels/")  # a packer's and a creator's list
        stock = client.get("/api/lots/")

    assert parcels.status_code == stock.status_code == 200
    groups = [q["sql"] for q in queries.captured_queries if "auth_group" in q["sql"]]
    # one statement per request reads the token, the user and the groups; no other reads them
    assert len(groups) == 2
    assert all('"authtoken_token"' in sql and '"auth_user"' in sql for sql in groups)
    assert parcels.wsgi_request.user.pk == user.pk
    assert user_roles(parcels.wsgi_request.user) == {"packer", "creator"}


@pytest.mark.django_db
def test_a_token_user_holds_only_the_roles_of_their_groups(make_user):
    packer = _token_client(make_user("packer"))
    nobody = _token_client(make_user())
    boss = _token_client(make_user(username="boss", is_superuser=True))

    assert packer.get("/api/parcels/").status_code == 200
    assert packer.get("/api/dashboard/").status_code == 403  # packers see no money
    assert nobody.get("/api/parcels/").status_code == 403
    assert boss.get("/api/dashboard/").status_code == 200


@pytest.mark.django_db
def test_an_unknown_token_or_an_inactive_user_is_refused(make_user):
    user = make_user("packer")
    client = _token_client(user)
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

    unknown = stranger.get("/api/parcels/")
    assert unknown.status_code == 401
    user.is_active = False
    user.save()
    refused = client.get("/api/parcels/")
    assert refused.status_code == 401
    assert refused.json()["detail"] != unknown.json()["detail"]  # says which it was


@pytest.mark.parametrize(
    ("header", "minimal"),
    [
        ("return=minimal", True),
        ('return="minimal"', True),
        ("RETURN=Minimal", True),
        ("respond-async, wait=10, return=minimal; foo=bar", True),
        ("  return = minimal  ", True),
        ("return=representation", False),
        ("return=minimalist", False),
        ("minimal", False),
        ("handling=lenient", False),
        ("", False),
        (None, False),
    ],
)
def test_prefer_return_minimal_is_read_as_rfc_7240_writes_it(header, minimal):
    headers = {} if header is None else {"HTTP_PREFER": header}
    request = RequestFactory().post("/api/parcels/pack/", **headers)

    assert prefers_minimal(request) is minimal
