"""Sessions by time (orders.sessions): a title attaches an order to a live session only if it
was paid inside the window and its grace; otherwise the window decides; otherwise none. The
sample export attached to a December session, and every dashboard answer bounded."""

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.module_loading import import_string

from orders import reports
from orders.drafts import LineDraft, OrderDraft
from orders.importers import service
from orders.models import Channel, ImportMode, LiveSession, Order, OrderStatus
from orders.services import order_cancel, orders_create
from orders.sessions import SessionFinder
from tests.factories import SkuFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "kuaishou_orders_gb18030.csv"
TITLE = "朱家坪蜜桃开园直播"
# The demo catalogue's codes the sample sells.
SAMPLE_SKUS = {
    "MT-5J-TJ": "49.90",
    "MT-5J-YJ": "39.90",
    "MT-3J-YJ": "25.90",
    "MT-10J-CG": "39.90",
    "FM-1J-TJ": "68.00",
    "JD-30M-YJ": "45.00",
}
MEGABYTE = 1_000_000


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def kuaishou():
    return Channel.objects.get(code="kuaishou")


def session(channel, title: str, start: str, hours: float = 3) -> LiveSession:
    return LiveSession.objects.create(
        channel=channel,
        title=title,
        host="阿秀",
        starts_at=at(start),
        ends_at=at(start) + timedelta(hours=hours),
    )


def test_a_title_attaches_only_inside_the_window_and_its_grace(kuaishou):
    june = session(kuaishou, TITLE, "2026-06-18 20:00")
    december = session(kuaishou, TITLE, "2026-12-03 19:30")
    other = session(kuaishou, "板栗专场", "2026-12-05 10:00", hours=2)
    pairs = [
        (at("2026-06-18 21:00"), TITLE),  # in June's window
        (at("2026-06-18 23:59"), TITLE),  # June, within the grace after it
        (at("2026-12-04 00:29"), TITLE),  # December, within the grace
        (at("2026-12-05 11:00"), TITLE),  # named, but paid in another session's window
        (at("2026-07-01 12:00"), TITLE),  # named, paid in no window at all
        (at("2026-12-05 10:30"), ""),  # no title: the window decides
    ]
    finder = SessionFinder(kuaishou, pairs)

    found = [finder.find(paid_at, title) for paid_at, title in pairs]

    assert found == [june, june, december, other, None, other]
    assert [(m.title, m.paid_on.isoformat(), m.orders) for m in finder.mismatches()] == [
        (TITLE, "2026-07-01", 1),
        (TITLE, "2026-12-05", 1),
    ]


def test_the_grace_is_a_setting(kuaishou, settings):
    settings.LIVE_SESSION_GRACE_HOURS = 0
    december = session(kuaishou, TITLE, "2026-12-03 19:30")

    finder = SessionFinder(kuaishou, [(at("2026-12-03 23:00"), TITLE)])

    assert finder.find(at("2026-12-03 23:00"), TITLE) is None
    assert finder.find(at("2026-12-03 22:00"), TITLE) == december


@pytest.fixture
def sample_catalogue():
    for code, price in SAMPLE_SKUS.items():
        SkuFactory(merchant_code=code, name=code, price=Decimal(price))


def _upload_sample(channel, user):
    with translation.override("en"):
        return service.import_upload(
            channel=channel,
            uploaded=SimpleUploadedFile(SAMPLE.name, SAMPLE.read_bytes()),
            acting_user=user,
        )


def test_the_sample_export_is_not_pulled_onto_a_december_session(
    kuaishou, sample_catalogue, make_user
):
    december = session(kuaishou, TITLE, "2026-12-03 19:30")
    user = make_user("manager")

    batch = _upload_sample(kuaishou, user)

    assert batch.created_count == 54
    assert (
        "54 orders name 朱家坪蜜桃开园直播 but were paid on 2026-06-18, outside its window "
        "(2026-12-03 19:30–22:30): they were not attached to it."
    ) in batch.message
    sample = service.preview_sample(batch)
    assert sample and all(item.live_session == "" for item in sample)

    with translation.override("en"):
        done = service.import_commit(
            batch=batch, mode=ImportMode.KEEP_GOOD, acting_user=user, allocate=False
        )
    assert done.created_count == 54
    assert "54 orders name 朱家坪蜜桃开园直播" in done.message
    assert not december.orders.exists()
    assert not Order.objects.filter(live_session__isnull=False).exists()


def test_the_sample_export_joins_the_june_session_it_was_paid_in(
    kuaishou, sample_catalogue, make_user
):
    june = session(kuaishou, TITLE, "2026-06-18 20:00", hours=2)
    session(kuaishou, TITLE, "2026-12-03 19:30")
    user = make_user("manager")

    batch = _upload_sample(kuaishou, user)

    assert "outside its window" not in batch.message
    with translation.override("en"):
        service.import_commit(batch=batch, mode=ImportMode.KEEP_GOOD, acting_user=user)
    assert june.orders.count() == 54


def test_every_dashboard_answer_is_bounded_even_with_orders_far_outside_the_window(
    kuaishou, sample_catalogue, make_user, client_for
):
    """Orders attached to a December session by the old rule of titles (paid in June): the
    session's dashboard, the compare page and the API stay small, the timeline covers the
    session's window, and the figures still count them."""
    december = session(kuaishou, TITLE, "2026-12-03 19:30")
    long_one = session(kuaishou, "三天助农节", "2026-11-20 08:00", hours=72)
    empty = session(kuaishou, "空场", "2026-11-01 20:00")
    user = make_user("manager")
    with translation.override("en"):
        service.import_commit(
            batch=_upload_sample(kuaishou, user),
            mode=ImportMode.KEEP_GOOD,
            acting_user=user,
            allocate=False,
        )
    Order.objects.update(live_session=december)  # what the old rule did
    for order in Order.objects.order_by("pk")[:3]:
        order_cancel(order=order)
    client = client_for("creator")

    for each in (december, long_one, empty):
        query = {"live_session": each.pk}
        page = client.get(reverse("orders:dashboard"), query)
        api = client.get(reverse("api:dashboard"), query)
        assert page.status_code == api.status_code == 200
        assert len(page.content) < MEGABYTE and len(api.content) < MEGABYTE
        body = api.json()
        assert len(body["timeline"]) <= reports.MAX_TIMELINE_POINTS
    compare = client.get(reverse("orders:dashboard_compare"), {"a": december.pk, "b": long_one.pk})
    assert compare.status_code == 200 and len(compare.content) < MEGABYTE
    compare_api = client.get(reverse("api:dashboard_compare"), {"a": december.pk, "b": empty.pk})
    assert compare_api.status_code == 200 and len(compare_api.content) < MEGABYTE

    sales = reports.sales_dashboard(live_session=december)
    assert (sales.summary.orders, sales.summary.cancelled, sales.outside_window) == (51, 3, 51)
    assert sales.timeline[0].at == at("2026-12-03 19:30")
    assert sales.timeline[-1].at <= at("2026-12-03 22:30")
    assert sum(point.orders for point in sales.timeline) == 0
    long_sales = reports.sales_dashboard(live_session=long_one)
    assert long_sales.bucket_minutes == 10  # 76 hours with the grace: 456 points of 10 min
    assert len(long_sales.timeline) <= reports.MAX_TIMELINE_POINTS
    comparison = reports.sales_compare(december, long_one)
    assert comparison.a.bucket_minutes == comparison.b.bucket_minutes == 10
    assert {point.minute % 10 for point in comparison.minutes} == {0}


def test_stored_orders_outside_their_session_are_decided_again_by_time(kuaishou):
    """Migration 0007 on what the old rule left: the June order named the December session."""
    june = session(kuaishou, TITLE, "2026-06-18 20:00")
    december = session(kuaishou, TITLE, "2026-12-03 19:30")
    sku = SkuFactory()
    (in_june, in_december, nowhere) = orders_create(
        channel=kuaishou,
        drafts=[
            OrderDraft(
                external_no=number,
                recipient_name="王秀英",
                phone="13812345678",
                province="浙江省",
                address_detail="杭州市西湖区文三路1号",
                paid_at=at(paid),
                lines=[LineDraft(sku=sku, quantity=1, unit_price=sku.price)],
            )
            for number, paid in (
                ("J1", "2026-06-18 21:00"),
                ("D1", "2026-12-03 20:00"),
                ("X1", "2026-08-01 12:00"),
            )
        ],
    )
    Order.objects.update(live_session=december)
    migration = import_string("orders.migrations.0008_orders_sessions_by_time.sessions_by_time")

    migration(apps, None)

    assert dict(Order.objects.values_list("external_no", "live_session")) == {
        "J1": june.pk,
        "D1": december.pk,
        "X1": None,
    }


def test_the_live_session_page_and_compare_count_orders_the_same_way(kuaishou, client_for):
    """The demo's 210 against 202: the page counted cancelled and refunded orders too."""
    first = session(kuaishou, TITLE, "2026-12-03 19:30")
    second = session(kuaishou, "板栗专场", "2026-12-04 10:00", hours=2)
    sku = SkuFactory()
    orders = orders_create(
        channel=kuaishou,
        drafts=[
            OrderDraft(
                external_no=f"N{n}",
                recipient_name="王秀英",
                phone="13812345678",
                province="浙江省",
                address_detail="杭州市西湖区文三路1号",
                paid_at=at("2026-12-03 20:00") + timedelta(minutes=n),
                lines=[LineDraft(sku=sku, quantity=1, unit_price=sku.price)],
            )
            for n in range(6)
        ],
    )
    order_cancel(order=orders[0])
    order_cancel(order=orders[1], to=OrderStatus.REFUNDED)
    client = client_for("manager")

    listed = client.get(f"/api/live-sessions/{first.pk}/").json()
    compared = reports.sales_compare(first, second).a.summary
    page = client.get(reverse("orders:live_detail", args=[first.pk]))

    assert (listed["sold_count"], listed["cancelled_count"], listed["order_count"]) == (4, 2, 6)
    assert (compared.orders, compared.cancelled) == (4, 2)
    facts = page.content.decode()
    assert "<dd>4 <span" in facts


def test_the_api_refuses_a_session_the_order_was_not_paid_in(kuaishou, client_for):
    december = session(kuaishou, TITLE, "2026-12-03 19:30")
    SkuFactory(merchant_code="MT-5J-TJ")
    client = client_for("manager")
    body = {
        "channel": "kuaishou",
        "external_no": "2611210000000012345",
        "recipient_name": "王小明",
        "phone": "13912345678",
        "address_detail": "陕西省西安市雁塔区小寨东路1号",
        "paid_at": "2026-06-18T20:15:00+08:00",
        "live_session": december.pk,
        "lines": [{"sku": "MT-5J-TJ", "quantity": 1, "unit_price": "39.90"}],
        "allocate": False,
    }

    refused = client.post("/api/orders/", body, content_type="application/json")
    body["paid_at"] = "2026-12-03T23:50:00+08:00"  # within the grace
    taken = client.post("/api/orders/", body, content_type="application/json")

    assert refused.status_code == 400 and "live_session" in refused.json()
    assert taken.status_code == 201, taken.json()
    assert taken.json()["live_session"] == december.pk
    assert (taken.json()["province"], taken.json()["adcode"]) == ("陕西省", "610113")
