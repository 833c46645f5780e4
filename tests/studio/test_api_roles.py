import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny

from core.permissions import AnyStudioRole, RolePermission, allowed_roles_for
from inventory.models import Farmer, Lot, Product, StockMovement
from shipping.models import Printer, PrintJob
from tests.factories import (
    PASSWORD,
    FarmerFactory,
    GradeFactory,
    LocationFactory,
    UserFactory,
    receive,
)
from tests.pages import asset_urls, off_site

pytestmark = pytest.mark.django_db

# Views that need no role rule: the login that hands out tokens, and the schema and docs,
# which SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"] opens to any studio role.
EXEMPT = {"api:token"}
SCHEMA_VIEWS = {"api:schema", "api:docs"}


def _api_views():
    """(route, name, view callback) of every URL pattern under /api/."""

    def walk(patterns, route, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                yield from walk(pattern.url_patterns, route + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield route + str(pattern.pattern), name, pattern.callback

    return [
        (route, name, callback)
        for route, name, callback in walk(get_resolver().url_patterns, "", "")
        if route.startswith("api/")
    ]


def _instantiate(callback):
    view = callback.cls(**getattr(callback, "initkwargs", {}))
    actions = getattr(callback, "actions", None) or {}
    # A viewset route: check the rule of each action it dispatches to.
    return view, sorted(set(actions.values())) or [None]


def test_every_api_view_declares_its_roles():
    views = _api_views()
    names = {name for _route, name, _callback in views}
    assert {"api:lots-list", "api:intakes-list", "api:farmers-detail"} <= names
    assert EXEMPT | SCHEMA_VIEWS <= names

    for _route, name, callback in views:
        if name in EXEMPT:
            continue
        assert hasattr(callback, "cls"), f"{name} is not a REST framework view"
        view, actions = _instantiate(callback)
        permissions = [type(permission) for permission in view.get_permissions()]
        if name in SCHEMA_VIEWS:
            assert permissions == [AnyStudioRole], name
            continue
        assert RolePermission in permissions, name
        assert AllowAny not in permissions, name
        assert getattr(view, "read_roles", None), f"{name} does not declare read_roles"
        for action in actions:
            view.action = action
            for method in ("GET", "POST"):
                assert allowed_roles_for(view, method), (name, action, method)
        for action in getattr(view, "action_roles", {}):
            assert callable(getattr(view, action, None)), f"{name}: no action {action!r}"


def test_a_packer_cannot_post_an_intake(client_for):
    farmer = FarmerFactory()
    grade = GradeFactory()
    client = client_for("packer")

    response = client.post(
        "/api/intakes/",
        {
            "farmer": farmer.pk,
            "product": Product.objects.create(name="板栗", shelf_life_days=60).pk,
            "harvest_date": "2026-01-01",
            "rows": [{"grade": grade.pk, "gross_kg": "10", "price_per_kg": "5"}],
        },
        content_type="application/json",
    )

    assert response.status_code == 403
    assert "detail" in response.json()
    assert not Lot.objects.exists()


@pytest.mark.parametrize("role", ["creator", "packer"])
@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("write-off", {"kg": "1", "reason": "烂了"}),
        ("count", {"counted_kg": "90", "reason": "盘点"}),
        ("move", {"location": "other"}),
    ],
)
def test_creators_and_packers_cannot_change_a_lot(client_for, role, action, body):
    lot = receive(kg="100")
    if body.get("location") == "other":
        body = {"location": LocationFactory(code="B", name="常温库", storage="ambient").pk}
    client = client_for(role)

    response = client.post(f"/api/lots/{lot.code}/{action}/", body, content_type="application/json")

    assert response.status_code == 403
    assert "detail" in response.json()
    assert StockMovement.objects.filter(lot=lot).count() == 1


@pytest.mark.parametrize("role", ["creator", "packer", "intake"])
@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("post", "/api/products/", {"name": "板栗", "shelf_life_days": 60}),
        ("patch", "/api/products/{product}/", {"shelf_life_days": 1}),
        ("delete", "/api/grades/{grade}/", None),
        ("post", "/api/locations/", {"code": "Z", "name": "Z"}),
        ("patch", "/api/farmers/{farmer}/", {"is_active": False}),
        ("delete", "/api/farmers/{farmer}/", None),
    ],
)
def test_only_managers_change_master_data(client_for, role, method, url, body):
    lot = receive()
    client = client_for(role)
    url = url.format(product=lot.product_id, grade=lot.grade_id, farmer=lot.farmer_id)

    response = getattr(client, method)(url, body, content_type="application/json")

    assert response.status_code == 403
    assert not Product.objects.filter(name="板栗").exists()
    assert Product.objects.get(pk=lot.product_id).shelf_life_days == 7
    assert Farmer.objects.get(pk=lot.farmer_id).is_active


def test_a_creator_cannot_register_a_farmer(client_for):
    client = client_for("creator")

    response = client.post(
        "/api/farmers/", {"name": "朱大山", "village": "朱家坪村"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert not Farmer.objects.exists()


@pytest.mark.parametrize("role", ["packer", "creator"])
def test_packers_and_creators_read_lots_and_their_ledger(client_for, role):
    lot = receive()
    client = client_for(role)

    assert client.get("/api/lots/").json()["results"][0]["code"] == lot.code
    assert client.get(f"/api/lots/{lot.code}/").status_code == 200
    assert client.get(f"/api/lots/{lot.code}/movements/").json()["count"] == 1


@pytest.mark.parametrize(
    "url", ["/api/", "/api/lots/", "/api/farmers/", "/api/intakes/", "/api/schema/", "/api/docs/"]
)
def test_anonymous_users_are_refused(client, url):
    response = client.get(url)

    assert response.status_code == 401


def test_a_user_without_a_role_is_refused(make_user):
    user = make_user()
    client = Client()
    client.force_login(user)

    assert client.get("/api/lots/").status_code == 403
    assert client.get("/api/schema/").status_code == 403


@pytest.mark.parametrize("role", ["packer", "creator", "intake", "manager"])
def test_lists_never_show_a_full_farmer_phone(client_for, role):
    farmer = FarmerFactory(phone="13912345678")
    receive(farmer=farmer)
    client = client_for(role)

    for url in ("/api/farmers/", "/api/lots/", "/api/intakes/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "13912345678" not in response.content.decode(), url
    assert "139****5678" in client.get("/api/farmers/").content.decode()


@pytest.mark.parametrize("role", ["packer", "creator"])
def test_packers_and_creators_see_one_farmer_with_the_phone_masked(client_for, role):
    farmer = FarmerFactory(phone="13912345678")
    client = client_for(role)

    response = client.get(f"/api/farmers/{farmer.pk}/")

    assert response.status_code == 200
    assert response.json()["masked_phone"] == "139****5678"
    assert "13912345678" not in response.content.decode()


def test_managers_see_one_farmer_with_the_full_phone(client_for):
    farmer = FarmerFactory(phone="13912345678")
    client = client_for("manager")

    assert client.get(f"/api/farmers/{farmer.pk}/").json()["phone"] == "13912345678"


def test_token_auth(make_user):
    user = make_user("packer")
    lot = receive()
    client = Client()

    token = client.post("/api/auth/token/", {"username": user.username, "password": PASSWORD})
    assert token.status_code == 200
    key = token.json()["token"]

    assert client.get("/api/lots/").status_code == 401
    response = client.get("/api/lots/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert response.json()["results"][0]["code"] == lot.code
    assert client.get("/api/lots/", HTTP_AUTHORIZATION="Token wrong").status_code == 401


def test_token_login_with_a_wrong_password_fails(make_user):
    user = make_user("packer")

    response = Client().post("/api/auth/token/", {"username": user.username, "password": "no"})

    assert response.status_code == 400
    assert "token" not in response.json()


def test_schema_is_served_to_a_manager(client_for):
    client = client_for("manager")

    response = client.get("/api/schema/")

    assert response.status_code == 200
    assert b"/api/lots/{code}/write-off/" in response.content


def test_api_docs_use_no_cdn(client_for):
    client = client_for("creator")

    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert any("swagger-ui" in url for url in asset_urls(html))
    assert off_site(html) == []
    assert not re.search(r"//cdn|jsdelivr|unpkg", html, re.IGNORECASE)  # nor from a script


# --- printers and print jobs -----------------------------------------------------------------

PRINTER = {"name": "打包台 1 号", "host": "192.168.1.50", "language": "tspl"}


@pytest.mark.parametrize("role", ["packer", "creator", "intake"])
def test_only_managers_add_change_or_remove_printers(client_for, role):
    printer = Printer.objects.create(name="仓库斑马", cups_queue="Zebra", language="zpl")
    client = client_for(role)

    assert (
        client.post("/api/printers/", PRINTER, content_type="application/json").status_code == 403
    )
    assert (
        client.patch(
            f"/api/printers/{printer.pk}/", {"is_active": False}, content_type="application/json"
        ).status_code
        == 403
    )
    assert client.delete(f"/api/printers/{printer.pk}/").status_code == 403
    assert list(Printer.objects.values_list("name", "is_active")) == [("仓库斑马", True)]


def test_a_manager_adds_a_printer_and_one_connection_is_required(client_for):
    client = client_for("manager")

    created = client.post("/api/printers/", PRINTER, content_type="application/json")
    both = client.post(
        "/api/printers/",
        {**PRINTER, "name": "二号", "cups_queue": "Zebra"},
        content_type="application/json",
    )

    assert created.status_code == 201, created.content
    assert created.json()["address"] == "192.168.1.50:9100"
    assert both.status_code == 400 and "host" in both.json()
    assert Printer.objects.count() == 1


@pytest.mark.parametrize(
    ("role", "reads"), [("packer", 200), ("manager", 200), ("creator", 403), ("intake", 403)]
)
def test_packers_and_managers_read_printers_and_the_print_queue(client_for, role, reads):
    Printer.objects.create(name="仓库斑马", cups_queue="Zebra")
    client = client_for(role)

    assert client.get("/api/printers/").status_code == reads
    assert client.get("/api/print-jobs/").status_code == reads


@pytest.mark.parametrize("role", ["creator", "intake"])
def test_creators_and_intake_cannot_print_or_send_a_job_again(client_for, role):
    printer = Printer.objects.create(name="仓库斑马", host="127.0.0.1", port=9)
    job = PrintJob.objects.create(
        printer=printer, label_count=1, state="failed", created_by=UserFactory()
    )
    client = client_for(role)

    create = client.post(
        "/api/print-jobs/", {"printer": printer.pk, "parcels": [1]}, content_type="application/json"
    )
    again = client.post(f"/api/print-jobs/{job.pk}/again/", {}, content_type="application/json")

    assert (create.status_code, again.status_code) == (403, 403)
    assert PrintJob.objects.get().attempts == 0
