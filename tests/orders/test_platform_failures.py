"""What every connector does when its platform misbehaves: a rate limit, a timeout, a
platform down for a while and then back. Run against both stand-ins."""

from datetime import timedelta

import pytest

from orders.models import CircuitBreaker, PlatformCall
from orders.platforms.errors import CircuitOpen, PlatformTimeout, PlatformUnavailable, RateLimited
from orders.platforms.services import sync_state_failure, sync_state_for
from tests.orders.platform_builders import NOW, Clock, connect, douyin_account, kuaishou_account
from tests.platform_fakes import FakeDouyin, FakeKuaishou

pytestmark = pytest.mark.django_db

SETUPS = {
    "douyin": (FakeDouyin, douyin_account),
    "kuaishou": (FakeKuaishou, kuaishou_account),
}


@pytest.fixture(params=sorted(SETUPS))
def platform(request):
    fake_class, make_account = SETUPS[request.param]
    fake = fake_class().start()
    yield fake, make_account
    fake.stop()


def _pull(connector):
    return connector.pull_orders(since=NOW - timedelta(hours=1), until=NOW)


def test_a_short_rate_limit_is_waited_out(platform):
    fake, make_account = platform
    fake.script = ["rate_limit"]
    sleeps = []

    _pull(connect(make_account(fake), sleeps=sleeps))

    assert len(fake.calls) == 2
    assert sleeps == [1.0]
    assert list(PlatformCall.objects.order_by("id").values_list("outcome", flat=True)) == [
        "rate_limited",
        "ok",
    ]


def test_a_rate_limit_that_does_not_pass_pauses_the_breaker(platform, settings):
    fake, make_account = platform
    settings.PLATFORM_MAX_ATTEMPTS = 2
    fake.script = ["rate_limit", "rate_limit"]
    clock = Clock()
    connector = connect(make_account(fake), clock=clock)

    with pytest.raises(RateLimited):
        _pull(connector)
    with pytest.raises(CircuitOpen):
        _pull(connector)

    assert len(fake.calls) == 2  # the paused breaker sent nothing
    clock.time += timedelta(seconds=2)
    _pull(connector)
    assert len(fake.calls) == 3


def test_a_platform_that_does_not_answer_in_time_fails_after_three_tries(platform):
    fake, make_account = platform
    fake.script = ["slow", "slow", "slow"]
    fake.slow_seconds = 1.0
    sleeps = []

    with pytest.raises(PlatformTimeout):
        _pull(connect(make_account(fake), sleeps=sleeps, timeout=0.2))

    assert len(fake.calls) == 3
    assert len(sleeps) == 2  # a backoff between tries, none after the last
    assert set(PlatformCall.objects.values_list("outcome", flat=True)) == {"timeout"}
    assert sorted(PlatformCall.objects.values_list("attempt", flat=True)) == [1, 2, 3]


def test_a_platform_down_for_a_while_opens_the_breaker_then_comes_back(platform, settings):
    fake, make_account = platform
    settings.PLATFORM_BREAKER_THRESHOLD = 4
    settings.PLATFORM_BREAKER_COOLDOWN_SECONDS = 120
    fake.down_for = 100
    clock = Clock()
    connector = connect(make_account(fake), clock=clock)
    key = f"platform:{connector.channel.code}"

    with pytest.raises(PlatformUnavailable):
        _pull(connector)  # three tries, three failures
    with pytest.raises(PlatformUnavailable):
        _pull(connector)  # the fourth failure opens the breaker: no third try
    assert len(fake.calls) == 4
    assert CircuitBreaker.objects.get(key=key).state == "open"

    # While open, nothing is sent and the worker is not held up.
    with pytest.raises(CircuitOpen) as refused:
        _pull(connector)
    assert len(fake.calls) == 4
    state = sync_state_failure(
        state=sync_state_for(connector.channel, "orders"),
        error=refused.value,
        retry_at=refused.value.until,
    )
    assert state.next_attempt_at == NOW + timedelta(seconds=120)

    # The platform is back; after the cooldown one trial call goes out and closes it.
    fake.down_for = 0
    clock.time += timedelta(seconds=121)
    _pull(connector)
    assert len(fake.calls) == 5
    breaker = CircuitBreaker.objects.get(key=key)
    assert (breaker.state, breaker.failures) == ("closed", 0)


def test_a_failed_trial_call_opens_the_breaker_again(platform, settings):
    fake, make_account = platform
    settings.PLATFORM_BREAKER_THRESHOLD = 1
    fake.down_for = 100
    clock = Clock()
    connector = connect(make_account(fake), clock=clock)

    with pytest.raises(PlatformUnavailable):
        _pull(connector)
    clock.time += timedelta(seconds=settings.PLATFORM_BREAKER_COOLDOWN_SECONDS + 1)
    with pytest.raises(PlatformUnavailable):
        _pull(connector)  # the one trial call

    assert len(fake.calls) == 2
    assert CircuitBreaker.objects.get().state == "open"


def test_the_call_log_holds_no_secret_and_no_buyer_data(platform):
    fake, make_account = platform
    fake.script = ["expired"]
    account = make_account(fake)

    _pull(connect(account))

    secrets = {
        fake.app_secret,
        fake.access_token,
        fake.refresh_token,
        "ks-token-1",
        "dy-token-1",
        getattr(fake, "sign_secret", fake.app_secret),
    }
    for row in PlatformCall.objects.values():
        text = " ".join(str(value) for value in row.values())
        assert not any(secret in text for secret in secrets), row
        assert "1380000" not in text and "1390000" not in text
    assert PlatformCall.objects.exclude(request_id="").exists()
