"""The periodic platform sync against the local 抖店 stand-in (127.0.0.1, ports 19600–19699):
orders pulled page by page into orders once, closed ones cancelled, changed addresses, a
platform down and back, a rate limit, after-sales, and the worker's sweep queueing runs."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from core.errors import DomainError
from orders.models import (
    AddressChangeStatus,
    CircuitBreaker,
    Order,
    OrderAddressChange,
    OrderStatus,
    SyncState,
)
from orders.platforms import sync
from orders.platforms.base import PulledAfterSale
from orders.platforms.sync import apply_pulled_after_sale, platform_sync
from orders.tasks import sweep_platform_sync, sync_platform
from shipping.services import parcel_pack
from tests.orders.platform_builders import NOW, Clock, connect, douyin_account
from tests.platform_fakes import FakeDouyin, douyin_order
from tests.shipping.builders import carrier_with_pool, staff, stocked_sku

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The runs' summaries are read in English here."""
    with translation.override("en"):
        yield


PORTS = range(19600, 19700)
T0 = int((NOW - timedelta(hours=2)).timestamp())
T1 = int(NOW.timestamp())  # changes after the first run


@pytest.fixture
def fake():
    server = FakeDouyin().start(ports=PORTS)
    yield server
    server.stop()


@pytest.fixture
def peach():
    return stocked_sku("QB-MT", kg="100")


def _sync(account, *, clock=None, sleeps=None, page_size=100, **options):
    connector = connect(account, clock=clock, sleeps=sleeps)
    connector.page_size = page_size
    return platform_sync(account.channel, connector=connector, now=(clock or Clock())(), **options)


def _state(account, stream="orders") -> SyncState:
    return SyncState.objects.get(channel=account.channel, stream=stream)


def test_two_pages_of_orders_are_created_once_and_allocated(fake, peach):
    fake.orders = [douyin_order(f"69{n:016d}", update_time=T0 + n) for n in range(3)]
    account = douyin_account(fake)

    outcome = _sync(account, page_size=2)

    assert fake.methods().count("order.searchList") == 2
    assert sorted(Order.objects.values_list("external_no", flat=True)) == [
        f"69{n:016d}" for n in range(3)
    ]
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.ALLOCATED}
    state = _state(account)
    assert state.cursor_time == NOW and state.cursor == ""
    assert state.last_success_at is not None and state.failures == 0
    assert state.last_result.startswith("3 ")
    assert "orders" in outcome and "after_sales" in outcome

    # A second run reads the same orders again (the overlap) and creates nothing.
    _sync(account, page_size=2)
    assert Order.objects.count() == 3
    assert _state(account).last_result.startswith("0 ")


def test_an_order_the_database_refuses_does_not_hold_up_the_others(fake, peach, monkeypatch):
    fake.orders = [douyin_order(f"69{n:016d}", update_time=T0 + n) for n in range(3)]
    account = douyin_account(fake)
    create = sync.orders_create

    def refusing(*, channel, drafts, **kwargs):
        if any(draft.external_no.endswith("1") for draft in drafts):
            raise DomainError("refused", field="external_no")
        return create(channel=channel, drafts=drafts, **kwargs)

    monkeypatch.setattr(sync, "orders_create", refusing)
    _sync(account)

    assert Order.objects.count() == 2
    state = _state(account)
    assert state.cursor_time == NOW  # the run went on past it
    assert "1 unreadable" in state.last_result and "refused" in state.last_result


def test_a_run_stopped_by_the_page_limit_resumes_from_the_page_cursor(fake, peach, settings):
    settings.PLATFORM_SYNC_MAX_PAGES = 1
    fake.orders = [douyin_order(f"69{n:016d}", update_time=T0 + n) for n in range(3)]
    account = douyin_account(fake)

    _sync(account, page_size=2)

    assert Order.objects.count() == 2
    state = _state(account)
    assert state.cursor.endswith("|1") and state.cursor_time < NOW
    assert "next run" in state.last_result

    _sync(account, page_size=2)

    assert Order.objects.count() == 3
    orders_calls = [params for method, params, _s in fake.calls if method == "order.searchList"]
    assert orders_calls[-1]["page"] == 1  # straight to the page where the first run stopped
    assert _state(account).cursor == ""


def test_an_order_closed_on_the_platform_is_cancelled_and_its_stock_released(fake, peach):
    fake.orders = [douyin_order("6900000000000000001", update_time=T0)]
    account = douyin_account(fake)
    _sync(account)
    order = Order.objects.get()
    assert order.status == OrderStatus.ALLOCATED

    fake.orders = [douyin_order("6900000000000000001", status=4, update_time=T1 + 600)]
    _sync(account, clock=Clock(NOW + timedelta(minutes=15)))

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert not order.lines.filter(allocations__isnull=False).exists()


def test_a_changed_address_updates_an_order_before_packing_and_is_flagged_after(fake, peach):
    fake.orders = [douyin_order("6900000000000000001", update_time=T0)]
    account = douyin_account(fake)
    _sync(account)
    order = Order.objects.get()

    fake.orders = [douyin_order("6900000000000000001", update_time=T1 + 600, detail="庙台子村1组")]
    _sync(account, clock=Clock(NOW + timedelta(minutes=15)))

    order.refresh_from_db()
    assert order.address_detail == "庙台子村1组"
    assert OrderAddressChange.objects.get().status == AddressChangeStatus.APPLIED

    parcel_pack(
        order=order, carrier=carrier_with_pool(), weight_kg=Decimal("2.8"), acting_user=staff()
    )
    fake.orders = [douyin_order("6900000000000000001", update_time=T1 + 1200, detail="江西营村")]
    _sync(account, clock=Clock(NOW + timedelta(minutes=30)))

    order.refresh_from_db()
    assert order.address_detail == "庙台子村1组"  # packed: left alone
    flagged = OrderAddressChange.objects.get(status=AddressChangeStatus.NEEDS_ATTENTION)
    assert flagged.address_detail == "江西营村"
    assert "6900000000000000001" in _state(account).last_result


def test_a_platform_down_opens_the_breaker_and_the_sync_resumes_from_its_cursor(
    fake, peach, settings
):
    settings.PLATFORM_BREAKER_THRESHOLD = 2
    settings.PLATFORM_BREAKER_COOLDOWN_SECONDS = 120
    fake.orders = [douyin_order("6900000000000000001", update_time=T0)]
    account = douyin_account(fake)
    _sync(account)
    assert _state(account).cursor_time == NOW

    # Down: the orders stream fails twice and opens the breaker; the other streams send
    # nothing and are told to come back when the breaker lets them.
    fake.down_for = 100
    clock = Clock(NOW + timedelta(minutes=10))
    sleeps = []
    outcome = _sync(account, clock=clock, sleeps=sleeps)
    calls_while_down = len(fake.calls)

    assert CircuitBreaker.objects.get(key="platform:douyin").state == "open"
    state = _state(account)
    assert state.cursor_time == NOW  # nothing read: the cursor stays
    assert state.failures == 1 and state.last_error
    after_sales = _state(account, "after_sales")
    assert after_sales.next_attempt_at == clock.time + timedelta(seconds=120)
    assert set(outcome) == {"orders", "shipments", "after_sales"}

    # While it is open, a run (even "sync now") sends nothing: the worker is not held up.
    outcome = _sync(account, clock=clock, force=True)
    assert len(fake.calls) == calls_while_down
    assert "platform:douyin" in outcome["orders"]

    # Back: after the cooldown the run reads from where it stopped, less the overlap.
    fake.down_for = 0
    fake.orders.append(douyin_order("6900000000000000002", update_time=T1 + 600))
    clock.time += timedelta(seconds=121)
    _sync(account, clock=clock)

    first = next(
        params
        for method, params, _s in fake.calls[calls_while_down:]
        if method == "order.searchList"
    )
    overlap = settings.PLATFORM_SYNC_OVERLAP_SECONDS
    assert first["update_time_start"] == int(NOW.timestamp()) - overlap
    assert Order.objects.count() == 2
    state = _state(account)
    assert (state.failures, state.cursor_time) == (0, clock.time)
    assert CircuitBreaker.objects.get(key="platform:douyin").state == "closed"


def test_a_rate_limit_answer_is_waited_out_or_puts_the_stream_off(fake, peach, settings):
    fake.orders = [douyin_order("6900000000000000001", update_time=T0)]
    account = douyin_account(fake)
    fake.script = ["rate_limit"]
    sleeps = []

    _sync(account, sleeps=sleeps)

    assert sleeps == [1.0]  # a short limit is waited out within the call
    assert Order.objects.count() == 1

    settings.PLATFORM_MAX_ATTEMPTS = 1
    fake.script = ["rate_limit"]
    _sync(account, clock=Clock(NOW + timedelta(minutes=10)))

    state = _state(account)
    assert state.failures == 1
    assert state.next_attempt_at > state.last_error_at
    assert "限流" in state.last_error


def test_a_channel_without_an_enabled_account_is_not_synced(fake):
    account = douyin_account(fake)
    account.is_enabled = False
    account.save()

    assert platform_sync(account.channel) == {}
    assert fake.calls == []


def _after_sale(order_no, **changes):
    values = {
        "after_sale_id": "AS1",
        "order_no": order_no,
        "kind": "refund_only",
        "status": "12",
        "succeeded": True,
        "closed": False,
        "refund_amount": Decimal("39.90"),
        "quantity": 1,
        "merchant_code": "QB-MT",
        "shipped": False,
        "updated_at": NOW,
    }
    values.update(changes)
    return PulledAfterSale(**values)


def test_a_refund_of_a_whole_unshipped_order_cancels_it_and_others_go_by_line(fake, peach):
    fake.orders = [
        douyin_order("6900000000000000001", update_time=T0),
        douyin_order("6900000000000000002", quantity=2, update_time=T0 + 1),
    ]
    account = douyin_account(fake)
    _sync(account)
    whole, part = Order.objects.order_by("external_no")

    assert apply_pulled_after_sale(account.channel, _after_sale(whole.external_no))[0] == (
        "cancelled"
    )
    outcome, note = apply_pulled_after_sale(
        account.channel, _after_sale(part.external_no, after_sale_id="AS2")
    )
    again = apply_pulled_after_sale(account.channel, _after_sale(whole.external_no))

    whole.refresh_from_db()
    part.refresh_from_db()
    assert whole.status == OrderStatus.REFUNDED
    # one of two units refunded before packing: recorded by line, that unit cancelled
    assert (outcome, part.status) == ("applied", OrderStatus.ALLOCATED)
    (after_sale,) = part.after_sales.all()
    assert (after_sale.platform_refund_id, after_sale.units) == ("AS2", 1)
    assert again == ("nothing", "")
    # the same pull again changes nothing; an exchange needs a person
    assert apply_pulled_after_sale(
        account.channel, _after_sale(part.external_no, after_sale_id="AS2")
    ) == ("nothing", "")
    outcome, note = apply_pulled_after_sale(
        account.channel, _after_sale(part.external_no, after_sale_id="AS3", kind="exchange")
    )
    assert outcome == "attention" and "AS3" in note and part.external_no in note


def test_after_sales_are_pulled_since_the_cursor_and_applied(fake, peach):
    fake.orders = [douyin_order("6900000000000000001", update_time=T0)]
    fake.after_sales = [
        {
            "aftersale_info": {
                "aftersale_id": "AS9",
                "aftersale_type": 2,
                "aftersale_status": 12,
                "refund_amount": 3990,
                "aftersale_num": 1,
                "update_time": T0 + 60,
            },
            "order_info": {
                "shop_order_id": "6900000000000000001",
                "related_order_info": [{"shop_sku_code": "QB-MT"}],
            },
        }
    ]
    account = douyin_account(fake)

    _sync(account)

    assert Order.objects.get().status == OrderStatus.REFUNDED
    state = _state(account, "after_sales")
    assert state.cursor_time == NOW and state.last_result.startswith("1 ")


def test_the_sweep_queues_one_run_per_due_account(
    fake, django_capture_on_commit_callbacks, settings
):
    account = douyin_account(fake)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_platform_sync() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_platform_sync() == 0  # one is queued already

    (queued,) = DBTaskResult.objects.filter(task_path=sync_platform.module_path)
    assert queued.status == TaskResultStatus.READY
    assert queued.args_kwargs["args"][0] == account.channel_id

    # A channel that ran a moment ago is not due.
    DBTaskResult.objects.all().delete()
    _sync(account)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_platform_sync() == 0


def test_the_command_runs_the_sync_in_the_foreground(fake, peach, capsys):
    douyin_account(fake)

    call_command("sync_platforms", "--channel", "douyin")

    assert "douyin" in capsys.readouterr().out
    assert fake.methods()[0] == "order.searchList"


def test_a_manager_syncs_now_from_the_platforms_page_which_shows_each_stream(
    fake, peach, client_for, django_capture_on_commit_callbacks
):
    fake.orders = [douyin_order("6900000000000000001", update_time=T0)]
    account = douyin_account(fake)
    _sync(account)
    url = reverse("platforms:sync_now", args=["douyin"])

    assert client_for("packer").post(url).status_code == 403
    manager = client_for("manager")
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(url)
    assert response.status_code == 302
    (queued,) = DBTaskResult.objects.filter(task_path=sync_platform.module_path)
    assert queued.args_kwargs["args"] == [account.channel_id, True]

    page = manager.get(reverse("platforms:list")).content.decode()
    assert _state(account).last_result in page
    assert url in page
