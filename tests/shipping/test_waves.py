"""Waves: choosing allocated orders by live session, channel, SKU, province, carrier or just
the oldest N; the orders move to picking; an order is in one wave at most; the pages and who
may use them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError
from orders.drafts import LineDraft, OrderDraft
from orders.models import Channel, LiveSession, Order, OrderStatus
from orders.services import order_allocate, orders_create
from shipping.models import Wave, WaveOrder, WaveStatus
from shipping.selectors import WaveSelection, wave_candidates
from shipping.services import wave_create
from tests.shipping.builders import (
    ADDRESS,
    allocated_order,
    carrier,
    new_order,
    reload,
    staff,
    stocked_sku,
)

pytestmark = pytest.mark.django_db


def hours_ago(hours: int):
    return timezone.now() - timedelta(hours=hours)


def order_in(channel_code: str, sku, *, number: str, hours: int = 1) -> Order:
    """An allocated order of another channel than the builders' 快手."""
    draft = OrderDraft(
        external_no=number,
        paid_at=hours_ago(hours),
        lines=[LineDraft(sku=sku, quantity=1, unit_price=sku.price)],
        **ADDRESS,
    )
    (order,) = orders_create(channel=Channel.objects.get(code=channel_code), drafts=[draft])
    assert order_allocate(order=order)
    return order


def create(client, **fields):
    data = {"limit": "200", **fields, "create": "1"}
    return client.post(reverse("shipping:wave_create"), data, HTTP_ACCEPT_LANGUAGE="en")


def wave_numbers(wave: Wave) -> list[str]:
    return list(wave.wave_orders.values_list("order__external_no", flat=True))


# --- selection -------------------------------------------------------------------------------


def test_a_wave_by_live_session_takes_only_that_sessions_orders(client_for):
    sku = stocked_sku()
    session = LiveSession.objects.create(
        channel=Channel.objects.get(code="kuaishou"),
        title="桃子专场",
        host="朱大山",
        starts_at=hours_ago(5),
        ends_at=hours_ago(3),
    )
    live = allocated_order((sku, 1), number="LIVE-1", paid_at=hours_ago(4))
    allocated_order((sku, 1), number="LATER-1", paid_at=hours_ago(1))
    assert reload(live).live_session == session

    response = create(client_for("packer"), live_session=session.pk)

    wave = Wave.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("shipping:wave_detail", args=[wave.code])
    assert wave_numbers(wave) == ["LIVE-1"]
    assert wave.selection == {"live_session_id": session.pk, "limit": 200}


def test_a_wave_by_channel(client_for):
    sku = stocked_sku()
    order_in("douyin", sku, number="DY-1")
    allocated_order((sku, 1), number="KS-1")

    create(client_for("manager"), channel=Channel.objects.get(code="douyin").pk)

    assert wave_numbers(Wave.objects.get()) == ["DY-1"]


def test_a_wave_by_sku_takes_orders_with_a_line_of_it(client_for):
    peaches, kiwis = stocked_sku("MT-5J"), stocked_sku("MHT-3J")
    allocated_order((peaches, 1), (kiwis, 2), number="BOTH")
    allocated_order((kiwis, 1), number="KIWI")
    allocated_order((peaches, 1), number="PEACH")

    create(client_for("packer"), sku="MHT-3J")

    assert sorted(wave_numbers(Wave.objects.get())) == ["BOTH", "KIWI"]


def test_a_wave_by_province(client_for):
    sku = stocked_sku()
    allocated_order((sku, 1), number="SX", province="陕西省")
    allocated_order((sku, 1), number="SC", province="四川省")

    create(client_for("packer"), province="四川省")

    assert wave_numbers(Wave.objects.get()) == ["SC"]


def test_a_province_typed_short_finds_the_canonical_name():
    sku = stocked_sku()
    allocated_order((sku, 1), number="GX", province="广西")  # stored as 广西壮族自治区
    allocated_order((sku, 1), number="SC", province="四川省")

    chosen = wave_candidates(WaveSelection(province="广西"))

    assert [order.external_no for order in chosen] == ["GX"]
    assert chosen[0].province == "广西壮族自治区"


def test_a_wave_by_carrier_takes_orders_whose_note_asks_for_it_and_preselects_it(client_for):
    sku = stocked_sku()
    allocated_order((sku, 1), number="ASKS-SF", buyer_note="请发顺丰，谢谢")
    allocated_order((sku, 1), number="NO-NOTE")
    sf = carrier("sf")

    create(client_for("packer"), carrier=sf.pk, carrier_in_note="on")

    wave = Wave.objects.get()
    assert wave_numbers(wave) == ["ASKS-SF"]
    assert wave.carrier == sf


def test_a_carrier_without_the_note_filter_only_preselects_it(client_for):
    sku = stocked_sku()
    allocated_order((sku, 1), number="A")
    allocated_order((sku, 1), number="B")

    create(client_for("packer"), carrier=carrier("zto").pk)

    wave = Wave.objects.get()
    assert sorted(wave_numbers(wave)) == ["A", "B"]
    assert wave.carrier.code == "zto"


def test_the_oldest_n_orders_in_payment_order(client_for):
    sku = stocked_sku()
    for hours, number in [(2, "TWO"), (5, "FIVE"), (1, "ONE"), (9, "NINE")]:
        allocated_order((sku, 1), number=number, paid_at=hours_ago(hours))

    create(client_for("packer"), limit="3")

    wave = Wave.objects.get()
    assert wave_numbers(wave) == ["NINE", "FIVE", "TWO"]  # by position: oldest payment first
    assert list(wave.wave_orders.values_list("position", flat=True)) == [1, 2, 3]
    assert Order.objects.get(external_no="ONE").status == OrderStatus.ALLOCATED


def test_the_default_limit_is_200():
    assert WaveSelection().limit == 200
    from shipping.wave_forms import WaveForm

    assert WaveForm().fields["limit"].initial == 200


def test_only_allocated_orders_in_no_wave_are_candidates():
    sku = stocked_sku()
    waiting = allocated_order((sku, 1), number="WAITING")
    in_wave = allocated_order((sku, 1), number="IN-WAVE")
    new_order((sku, 1), number="NEW")  # not allocated
    wave_create(orders=[in_wave], acting_user=staff())

    assert list(wave_candidates(WaveSelection())) == [waiting]


# --- what a wave does ------------------------------------------------------------------------


def test_orders_move_to_picking_with_an_event_naming_the_wave(client_for):
    sku = stocked_sku()
    orders = [allocated_order((sku, 1)) for _ in range(3)]

    create(client_for("packer"))

    wave = Wave.objects.get()
    assert wave.status == WaveStatus.PICKING
    for order in orders:
        order.refresh_from_db()
        assert order.status == OrderStatus.PICKING
        assert order.events.last().note == wave.code


def test_an_order_cannot_be_in_two_waves():
    sku = stocked_sku()
    first, second = allocated_order((sku, 1)), allocated_order((sku, 1))
    wave = wave_create(orders=[first], acting_user=staff())

    later = wave_create(orders=[first, second], acting_user=staff())

    assert WaveOrder.objects.get(order=first).wave == wave
    assert wave_numbers(later) == [second.external_no]
    with pytest.raises(DomainError):
        wave_create(orders=[first], acting_user=staff())
    assert WaveOrder.objects.filter(order=first).count() == 1


def test_nothing_to_take_shows_the_error_and_makes_no_wave(client_for):
    response = create(client_for("packer"), province="西藏自治区")

    assert response.status_code == 400
    assert "None of these orders is allocated" in response.content.decode()
    assert not Wave.objects.exists()


def test_count_says_how_many_match_and_creates_nothing(client_for):
    sku = stocked_sku()
    for _ in range(3):
        allocated_order((sku, 1), province="四川省")
    allocated_order((sku, 1), province="陕西省")
    client = client_for("packer")

    response = client.post(
        reverse("shipping:wave_create"),
        {"province": "四川省", "limit": "2", "preview": "1"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "3 orders match" in html
    assert "the wave takes the oldest 2" in html
    assert not Wave.objects.exists()


def test_carrier_in_note_needs_a_carrier(client_for):
    response = create(client_for("packer"), carrier_in_note="on")

    assert response.status_code == 400
    assert not Wave.objects.exists()


# --- pages -----------------------------------------------------------------------------------


def test_wave_detail_shows_progress_and_links_to_the_station(client_for):
    sku = stocked_sku()
    orders = [allocated_order((sku, 1), number=f"N-{i}") for i in range(2)]
    wave = wave_create(orders=orders, acting_user=staff())

    html = client_for("packer").get(reverse("shipping:wave_detail", args=[wave.code])).content
    html = html.decode()

    assert "0 / 2" in html
    assert "/shipping/station/?order=N-0" in html
    assert reverse("shipping:wave_picklist", args=[wave.code]) in html


def test_wave_list_counts_packed_orders(client_for):
    sku = stocked_sku()
    wave = wave_create(orders=[allocated_order((sku, 1))], acting_user=staff())

    html = client_for("creator").get(reverse("shipping:wave_list")).content.decode()

    assert wave.code in html
    assert "0 / 1" in html


@pytest.mark.parametrize(
    ("role", "reads", "acts"),
    [
        ("packer", True, True),
        ("manager", True, True),
        ("creator", True, False),
        ("intake", False, False),
    ],
)
def test_roles_of_the_wave_pages(client_for, role, reads, acts):
    sku = stocked_sku()
    wave = wave_create(orders=[allocated_order((sku, 1))], acting_user=staff())
    client = client_for(role)

    read_urls = [
        reverse("shipping:wave_list"),
        reverse("shipping:wave_detail", args=[wave.code]),
        reverse("shipping:wave_picklist", args=[wave.code]),
    ]
    act_urls = [reverse("shipping:wave_create"), reverse("shipping:wave_labels")]
    for url in read_urls:
        assert client.get(url).status_code == (200 if reads else 403), url
    for url in act_urls:
        assert client.get(url).status_code == (200 if acts else 403), url
    if not acts:
        assert create(client).status_code == 403
        assert Wave.objects.count() == 1
    detail = client.get(read_urls[1]).content.decode() if reads else ""
    assert (reverse("shipping:wave_labels") in detail) == acts


def test_anonymous_users_are_sent_to_log_in(client):
    for name in ("shipping:wave_list", "shipping:wave_create", "shipping:wave_labels"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
