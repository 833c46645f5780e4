"""Platform accounts pointed at the fake platforms of ``tests.platform_fakes``."""

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx

from orders.models import Channel
from orders.platforms.douyin import DouyinConnector
from orders.platforms.kuaishou import KuaishouConnector
from orders.platforms.services import platform_account_save
from tests.shipping.builders import staff

ZONE = ZoneInfo("Asia/Shanghai")
# A fixed "now" for the pulls: 2026-06-12 09:00 in the studio's zone.
NOW = datetime(2026, 6, 12, 9, 0, tzinfo=ZONE)


def channel(code: str) -> Channel:
    names = {"douyin": "抖音", "kuaishou": "快手"}
    found, _created = Channel.objects.get_or_create(code=code, defaults={"name": names[code]})
    return found


def douyin_account(fake, *, sign_method="hmac-sha256", app_secret=None):
    return platform_account_save(
        channel=channel("douyin"),
        platform="douyin",
        app_key=fake.app_key,
        base_url=fake.url,
        sign_method=sign_method,
        is_enabled=True,
        secrets={
            "app_secret": app_secret or fake.app_secret,
            "access_token": fake.access_token,
            "refresh_token": fake.refresh_token,
        },
        acting_user=staff("manager"),
    )


def kuaishou_account(fake, *, sign_method="hmac-sha256", sign_secret=None):
    return platform_account_save(
        channel=channel("kuaishou"),
        platform="kuaishou",
        app_key=fake.app_key,
        base_url=fake.url,
        sign_method=sign_method,
        is_enabled=True,
        secrets={
            "app_secret": fake.app_secret,
            "sign_secret": sign_secret or fake.sign_secret,
            "access_token": fake.access_token,
            "refresh_token": fake.refresh_token,
        },
        acting_user=staff("manager"),
    )


class Clock:
    """A clock the breaker reads; tests move it instead of waiting."""

    def __init__(self, start: datetime = NOW):
        self.time = start

    def __call__(self) -> datetime:
        return self.time


def connect(account, *, sleeps=None, clock=None, timeout=2.0):
    """The account's connector, with a short timeout, recorded (not slept) pauses and an
    optional clock."""
    cls = {"douyin": DouyinConnector, "kuaishou": KuaishouConnector}[account.platform]
    options = {
        "http": httpx.Client(timeout=timeout, trust_env=False),
        "sleep": (sleeps if sleeps is not None else []).append,
    }
    if clock is not None:
        options["now"] = clock
    return cls(account, **options)
