"""Every page states which roles may use it, and refuses the others."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from shipping.models import Printer, PrintJob
from tests.factories import receive
from tests.shipping.label_factories import cold_sku, parcel_for

pytestmark = pytest.mark.django_db

# Namespaces and names that are not the studio's own pages: Django's login/logout and
# language switch, the admin (staff-only by its own rules), the API (tested separately).
PUBLIC_NAMES = {"login", "logout", "password_change", "password_change_done",
                "password_reset", "password_reset_done", "password_reset_confirm",
                "password_reset_complete", "set_language"}  # fmt: skip
SEPARATE_NAMESPACES = {"admin", "api"}


def walk(resolver, namespace=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            if inner in SEPARATE_NAMESPACES:
                continue
            yield from walk(pattern, inner)
        elif isinstance(pattern, URLPattern):
            yield namespace, pattern


def test_every_page_declares_its_roles():
    undeclared, public = [], []
    for namespace, pattern in walk(get_resolver()):
        if pattern.name in PUBLIC_NAMES or pattern.name is None:
            continue
        view = pattern.callback
        if getattr(view, "public", False):  # open to anyone with the link, on purpose
            public.append(f"{namespace}:{pattern.name}")
            continue
        roles = getattr(view, "allowed_roles", None) or getattr(
            getattr(view, "view_class", None), "allowed_roles", None
        )
        if not roles:
            undeclared.append(f"{namespace}:{pattern.name}")
    assert undeclared == []
    assert public == ["trace:parcel", ":health"]


@pytest.fixture
def lot():
    return receive(kg="50")


def page_urls(lot):
    return {
        "home": reverse("home"),
        "intake": reverse("inventory:intake"),
        "delivery": reverse("inventory:delivery", args=[lot.delivery_id]),
        "lot_tags": reverse("inventory:lot_tags", args=[lot.delivery_id]),
        "intake_slip": reverse("inventory:intake_slip", args=[lot.delivery_id]),
        "stock": reverse("inventory:stock"),
        "lot": reverse("inventory:lot", args=[lot.code]),
        "lot_tag": reverse("inventory:lot_tag", args=[lot.code]),
    }


# role -> pages it may open with GET
ALLOWED_GET = {
    "intake": {"home", "intake", "delivery", "lot_tags", "intake_slip", "stock", "lot", "lot_tag"},
    "manager": {"home", "intake", "delivery", "lot_tags", "intake_slip", "stock", "lot", "lot_tag"},
    "packer": {"home", "stock", "lot"},
    "creator": {"home", "stock", "lot"},
}


@pytest.mark.parametrize("role", sorted(ALLOWED_GET))
def test_page_role_matrix(client_for, lot, role):
    client = client_for(role)
    for name, url in page_urls(lot).items():
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        expected = 200 if name in ALLOWED_GET[role] else 403
        assert response.status_code == expected, (role, name)
        if expected == 403:
            assert "Not for your role" in response.content.decode()


@pytest.mark.parametrize("role", ["packer", "creator"])
def test_packer_and_creator_cannot_change_stock(client_for, lot, role):
    client = client_for(role)
    posts = {
        reverse("inventory:intake"): {},
        reverse("inventory:lot_write_off", args=[lot.code]): {"w-kg": "1", "w-reason": "x"},
        reverse("inventory:lot_adjust", args=[lot.code]): {"c-counted_kg": "1", "c-reason": "x"},
        reverse("inventory:lot_move", args=[lot.code]): {"m-location": lot.location_id},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    lot.refresh_from_db()
    assert lot.on_hand_kg == 50
    assert lot.movements.count() == 1


def test_anonymous_users_go_to_the_login_page(client, lot):
    for url in page_urls(lot).values():
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_a_user_without_a_role_gets_the_friendly_403(client, make_user, lot):
    user = make_user()
    client.force_login(user)

    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 403
    assert "ask a manager" in response.content.decode()


def test_home_shows_each_role_its_own_work(client_for):
    intake_home = client_for("intake").get(reverse("home")).content.decode()
    assert reverse("inventory:intake") in intake_home


def test_home_hides_intake_from_packers(client_for):
    packer_home = client_for("packer").get(reverse("home")).content.decode()
    assert reverse("inventory:intake") not in packer_home
    assert reverse("inventory:stock") in packer_home


def test_language_switcher_turns_the_page_english(client_for):
    client = client_for("intake")
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = client.get(reverse("inventory:intake")).content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    chinese = client.get(reverse("inventory:intake")).content.decode()

    assert "Intake desk" in english
    assert "收货台" in chinese


@pytest.mark.parametrize("role", sorted(ALLOWED_GET))
def test_every_menu_link_a_role_sees_opens_for_that_role(client_for, role):
    """The menu is built from the same role sets as the views: no link leads to a 403."""
    import re

    client = client_for(role)
    menu = client.get(reverse("home")).content.decode()
    nav = menu[menu.index('<nav class="nav"') : menu.index("</nav>")]
    links = re.findall(r'href="([^"]+)"', nav)
    assert links
    for link in links:
        assert client.get(link).status_code == 200, (role, link)


# --- printing: the print queue, the laptop's station, labels printed by the browser ----------


@pytest.fixture
def printing_urls():
    parcel = parcel_for((cold_sku(), 1))
    printer = Printer.objects.create(name="打包台 1 号", host="127.0.0.1", port=9)
    job = PrintJob.objects.create(
        printer=printer, label_count=1, state="failed", error="x", created_by=parcel.packed_by
    )
    return {
        "get": [
            reverse("shipping:print_jobs"),
            reverse("shipping:label_print", args=[parcel.pk]),
            reverse("shipping:label_png", args=[parcel.pk]),
        ],
        "post": [
            reverse("shipping:print_jobs"),
            reverse("shipping:print_job_again", args=[job.pk]),
            reverse("shipping:station_choose"),
            reverse("shipping:label_to_printer", args=[parcel.pk]),
        ],
        "job": job,
    }


@pytest.mark.parametrize("role", ["packer", "manager"])
def test_packers_and_managers_use_the_printing_pages(client_for, printing_urls, role):
    client = client_for(role)
    for url in printing_urls["get"]:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", ["intake", "creator"])
def test_intake_and_creators_are_refused_the_printing_pages(client_for, printing_urls, role):
    client = client_for(role)
    for url in printing_urls["get"]:
        assert client.get(url).status_code == 403, url
    for url in printing_urls["post"]:
        assert client.post(url, {"wave": "W1", "station": ""}).status_code == 403, url
    printing_urls["job"].refresh_from_db()
    assert (printing_urls["job"].state, printing_urls["job"].attempts) == ("failed", 0)
