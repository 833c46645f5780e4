"""Who may see the sales dashboard, what it refuses, and what it costs in queries."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Channel, LiveSession
from orders.reports import sales_dashboard
from tests.orders.test_dashboard import S, at, make_order, make_skus

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_sessions():
    channel = Channel.objects.get(code="kuaishou")
    return [
        LiveSession.objects.create(
            channel=channel,
            title=title,
            host="阿秀",
            starts_at=at(f"2025-06-{day} 20:00"),
            ends_at=at(f"2025-06-{day} 22:00"),
        )
        for title, day in (("蜜桃专场", 18), ("板栗专场", 19))
    ]


def urls(sessions) -> dict[str, str]:
    a, b = sessions
    page = reverse("orders:dashboard")
    compare = reverse("orders:dashboard_compare")
    return {
        "page": page,
        "page_session": f"{page}?live_session={a.pk}",
        "page_range": f"{page}?date_from=2025-06-01&date_to=2025-06-30",
        "export_csv": f"{page}?live_session={a.pk}&format=csv&table=skus",
        "export_xlsx": f"{page}?date=2025-06-18&format=xlsx&table=provinces",
        "compare": compare,
        "compare_ab": f"{compare}?a={a.pk}&b={b.pk}",
        "compare_export": f"{compare}?a={a.pk}&b={b.pk}&format=csv&table=minutes",
        "api": f"{reverse('api:dashboard')}?live_session={a.pk}",
        "api_default": reverse("api:dashboard"),
        "api_compare": f"{reverse('api:dashboard_compare')}?a={a.pk}&b={b.pk}",
    }


@pytest.mark.parametrize(
    ("role", "expected"), [("creator", 200), ("manager", 200), ("packer", 403), ("intake", 403)]
)
def test_creators_and_managers_see_sales_packers_and_intake_do_not(
    client_for, two_sessions, role, expected
):
    client = client_for(role)

    for name, url in urls(two_sessions).items():
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == expected, (role, name)
        if expected == 403:
            assert "Not for your role" in response.content.decode() or "detail" in response.json()
            assert b"\xc2\xa5" not in response.content  # no ¥ figure leaks out


def test_anonymous_users_log_in_first(client, two_sessions):
    pages = urls(two_sessions)

    assert client.get(pages["page"]).status_code == 302
    assert client.get(pages["export_csv"]).status_code == 302
    assert client.get(pages["api"]).status_code == 401


@pytest.mark.parametrize(("role", "shown"), [("creator", True), ("packer", False)])
def test_the_menu_offers_the_dashboard_to_its_readers_only(client_for, role, shown):
    home = client_for(role).get(reverse("home")).content.decode()

    assert (reverse("orders:dashboard") in home) is shown


# --- bad parameters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"live_session": "abc"}, "live_session"),
        ({"live_session": "999999"}, "live_session"),
        ({"date": "2025-13-01"}, "date"),
        ({"date_from": "2025-06-01"}, "date_to"),
        ({"date_to": "2025-06-01"}, "date_from"),
        ({"date_from": "2025-06-02", "date_to": "2025-06-01"}, "date_to"),
        ({"date_from": "2024-01-01", "date_to": "2025-06-01"}, "date_to"),
        ({"date": "2025-06-01", "date_from": "2025-06-01", "date_to": "2025-06-02"}, "date_from"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(client_for, two_sessions, query, field):
    client = client_for("creator")
    if query.get("live_session") == "999999":
        query = {"live_session": str(max(s.pk for s in two_sessions) + 1)}

    api = client.get(reverse("api:dashboard"), query)
    page = client.get(reverse("orders:dashboard"), query)
    export = client.get(reverse("orders:dashboard"), query | {"format": "csv", "table": "skus"})

    assert api.status_code == 400
    assert list(api.json()) == [field]
    assert page.status_code == 400
    assert field in page.context["form"].errors
    assert export.status_code == 400
    assert export.content.decode().startswith(f"{field}:")


def test_a_live_session_with_dates_is_refused(client_for, two_sessions):
    a, _b = two_sessions

    response = client_for("creator").get(
        reverse("api:dashboard"), {"live_session": a.pk, "date": "2025-06-18"}
    )

    assert response.status_code == 400
    assert list(response.json()) == ["date"]


def test_an_unknown_table_is_a_400_naming_it(client_for, two_sessions):
    a, b = two_sessions
    client = client_for("creator")

    page = client.get(reverse("orders:dashboard"), {"format": "csv", "table": "phones"})
    compare = client.get(
        reverse("orders:dashboard_compare"),
        {"a": a.pk, "b": b.pk, "format": "xlsx", "table": "skus"},
    )

    assert page.status_code == 400
    assert page.content.decode().startswith("table:")
    assert compare.status_code == 400
    assert compare.content.decode().startswith("table:")


def test_compare_needs_two_different_sessions(client_for, two_sessions):
    a, _b = two_sessions
    client = client_for("creator")

    same = client.get(reverse("api:dashboard_compare"), {"a": a.pk, "b": a.pk})
    missing = client.get(reverse("api:dashboard_compare"), {"a": a.pk})

    assert (same.status_code, list(same.json())) == (400, ["b"])
    assert (missing.status_code, list(missing.json())) == (400, ["b"])


def test_compare_page_without_two_sessions_says_so(client_for):
    response = client_for("creator").get(
        reverse("orders:dashboard_compare"), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    assert "Two live sessions are needed" in response.content.decode()


def test_the_schema_documents_the_dashboard(client_for):
    schema = client_for("manager").get(reverse("api:schema")).content.decode()

    assert "/api/dashboard/:" in schema
    assert "/api/dashboard/compare/:" in schema
    assert "median_hours_to_ship" in schema


# --- the number of queries does not grow with the orders -------------------------------------


def add_orders(session: LiveSession, count: int, start: int = 0) -> None:
    peach, chestnut = make_skus()
    statuses = [S.NEW, S.ALLOCATED, S.PACKED, S.SHIPPED, S.DELIVERED, S.CANCELLED]
    provinces = ["浙江省", "广东省", "陕西省", "北京市"]
    for i in range(start, start + count):
        make_order(
            f"q{i}",
            paid=f"2025-06-18 20:{i % 60:02d}:00",
            province=provinces[i % len(provinces)],
            lines=[(peach, 1 + i % 2), (chestnut, 1)] if i % 3 else [(peach, 1)],
            status=statuses[i % len(statuses)],
            session=session,
            shipped="2025-06-19 08:00:00" if statuses[i % len(statuses)] == S.SHIPPED else None,
        )


def count_queries(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    if hasattr(response, "status_code"):
        assert response.status_code == 200
    # The test's own transaction turns atomic() blocks into savepoints: not the report's work.
    return sum(1 for query in queries.captured_queries if "SAVEPOINT" not in query["sql"].upper())


def test_the_dashboard_costs_the_same_queries_for_3_and_30_orders(client_for, two_sessions):
    session, other = two_sessions
    client = client_for("creator")
    page = reverse("orders:dashboard")
    api = reverse("api:dashboard")

    def costs() -> dict[str, int]:
        return {
            "selector": count_queries(lambda: sales_dashboard(live_session=session)),
            "page": count_queries(lambda: client.get(page, {"live_session": session.pk})),
            "default": count_queries(lambda: client.get(page)),
            "api": count_queries(lambda: client.get(api, {"live_session": session.pk})),
            "range": count_queries(
                lambda: client.get(api, {"date_from": "2025-06-01", "date_to": "2025-06-30"})
            ),
            "export": count_queries(
                lambda: client.get(
                    page, {"live_session": session.pk, "format": "xlsx", "table": "skus"}
                )
            ),
            "compare": count_queries(
                lambda: client.get(
                    reverse("api:dashboard_compare"), {"a": session.pk, "b": other.pk}
                )
            ),
        }

    add_orders(session, 3)
    few = costs()
    assert sales_dashboard(live_session=session).summary.orders == 3
    add_orders(session, 27, start=3)
    many = costs()

    assert sales_dashboard(live_session=session).summary.orders == 25
    assert sales_dashboard(live_session=session).summary.gross_sales > Decimal("1000")
    assert many == few
    # Five grouped queries for a live session and one of its refunds by line (and SET LOCAL
    # jit = off on PostgreSQL).
    assert few["selector"] == (7 if connection.vendor == "postgresql" else 6)


def test_a_day_without_orders_shows_zeros_and_dashes(client_for):
    client = client_for("creator")

    body = client.get(reverse("api:dashboard"), {"date": "2025-01-02"}).json()
    page = client.get(reverse("orders:dashboard"), {"date": "2025-01-02"})

    assert body["summary"] | {"kg": None} == {
        "orders": 0,
        "cancelled": 0,
        "cancel_percent": None,
        "units": 0,
        "kg": None,
        "gross_sales": "0.00",
        "average_order_value": None,
        "backlog": 0,
        "median_hours_to_ship": None,
        "shipped_measured": 0,
        "refunded_amount": "0.00",
        "refund_percent": None,
    }
    assert (body["skus"], body["provinces"]) == ([], [])
    assert len(body["timeline"]) == 24
    assert {point["orders"] for point in body["timeline"]} == {0}
    assert [stage["percent"] for stage in body["funnel"]] == [None] * 5
    assert page.status_code == 200
    assert page.context["figures"]["average_order_value"] == "—"
    assert page.context["figures"]["gross_sales"] == "¥0.00"


# --- the API's answer is cached for a few seconds ---------------------------------------------


@pytest.fixture
def dashboard_cache(settings):
    """The cache on, as in production (the suite turns it off), and empty before and after."""
    settings.DASHBOARD_CACHE_SECONDS = 10
    cache.clear()
    yield
    cache.clear()


def test_the_same_dashboard_question_within_seconds_is_answered_from_the_cache(
    client_for, two_sessions, dashboard_cache
):
    session, other = two_sessions
    add_orders(session, 3)
    client = client_for("creator")
    api = reverse("api:dashboard")

    first = client.get(api, {"live_session": session.pk})
    with CaptureQueriesContext(connection) as queries:
        again = client.get(api, {"live_session": session.pk})
    # Another session, a range and another language are questions of their own.
    other_session = client.get(api, {"live_session": other.pk}).json()
    in_range = client.get(api, {"date_from": "2025-06-01", "date_to": "2025-06-30"}).json()
    english = client.get(api, {"live_session": session.pk}, HTTP_ACCEPT_LANGUAGE="en").json()

    assert first.status_code == again.status_code == 200
    # Only the session and the user are read; the report is not run again.
    assert [q["sql"] for q in queries.captured_queries if "orders_" in q["sql"]] == []
    assert again.json() == first.json()
    assert first.json()["summary"]["orders"] > 0
    assert other_session["live_session"]["id"] == other.pk
    assert other_session["summary"]["orders"] == 0
    assert in_range["scope"] == "range"
    assert in_range["summary"]["orders"] == first.json()["summary"]["orders"]
    labels = [stage["label"] for stage in english["funnel"]]
    assert labels != [stage["label"] for stage in first.json()["funnel"]]
    assert "Paid" in labels


def test_the_cached_dashboard_is_computed_once_for_all_readers(
    client_for, two_sessions, dashboard_cache
):
    session, _other = two_sessions
    add_orders(session, 3)
    api = reverse("api:dashboard")
    creator, manager = client_for("creator"), client_for("manager")
    first = creator.get(api, {"live_session": session.pk}).json()
    manager.get(api)  # the session and user are read before counting

    calls = count_queries(lambda: manager.get(api, {"live_session": session.pk}))
    add_orders(session, 2, start=3)  # within the seconds the answer is kept
    cached = manager.get(api, {"live_session": session.pk}).json()
    cache.clear()
    fresh = manager.get(api, {"live_session": session.pk}).json()

    # The manager's session, user and groups, and the answer read from the cache (a table of
    # the database by default): no report query.
    assert calls == 4
    assert cached == first
    assert fresh["summary"]["orders"] > first["summary"]["orders"]


def test_dashboard_cache_seconds_0_turns_the_cache_off(
    client_for, two_sessions, dashboard_cache, settings
):
    settings.DASHBOARD_CACHE_SECONDS = 0
    session, _other = two_sessions
    add_orders(session, 3)
    client = client_for("creator")
    api = reverse("api:dashboard")
    before = client.get(api, {"live_session": session.pk}).json()

    add_orders(session, 2, start=3)
    after = client.get(api, {"live_session": session.pk}).json()

    assert after["summary"]["orders"] > before["summary"]["orders"]


def test_a_refused_question_is_not_cached(client_for, two_sessions, dashboard_cache):
    client = client_for("creator")
    api = reverse("api:dashboard")

    assert client.get(api, {"live_session": 999999}).status_code == 400
    assert client.get(api, {"live_session": 999999}).status_code == 400
    assert client.get(api, {"date": "2025-06-18", "date_from": "2025-06-01"}).status_code == 400
