"""The demo's platform accounts: the 抖音 and 快手 shops are set up but switched off (the demo
has no credentials and never calls out), with where each sync stream stood when the studio
last ran it, so the Platforms page shows believable rows."""

from datetime import datetime, timedelta

from orders.models import Channel
from orders.platforms.models import Platform, PlatformAccount, SyncState, SyncStream

# (channel, platform, app key, shop ID)
ACCOUNTS = [
    ("douyin", Platform.DOUYIN, "7311582046193741862", "48213906"),
    ("kuaishou", Platform.KUAISHOU, "ks702638195527431168", "1839204751"),
]
# (channel, stream, hours before now it read up to, its last run, last error or "")
STATES = [
    (
        "douyin",
        SyncStream.ORDERS,
        2,
        "新建 186 单，取消 3 单，改地址 2 单，0 单待处理，0 单无法读取",
        "",
    ),
    ("douyin", SyncStream.SHIPMENTS, 2, "回传 164 单，0 单被拒", ""),
    ("douyin", SyncStream.AFTER_SALES, 2, "发货前退款取消 3 单，1 单待处理", ""),
    (
        "kuaishou",
        SyncStream.ORDERS,
        26,
        "新建 241 单，取消 5 单，改地址 1 单，0 单待处理，0 单无法读取",
        "platform:kuaishou 暂无响应；山货会等待一段时间后再调用。",
    ),
    ("kuaishou", SyncStream.SHIPMENTS, 26, "回传 198 单，1 单被拒", ""),
    ("kuaishou", SyncStream.AFTER_SALES, 26, "发货前退款取消 2 单，0 单待处理", ""),
]


def demo_platforms_present() -> bool:
    return SyncState.objects.exists()


def create_platform_states(*, now: datetime, acting_user) -> None:
    channels = {channel.code: channel for channel in Channel.objects.all()}
    for code, platform, app_key, shop_id in ACCOUNTS:
        if code in channels:
            PlatformAccount.objects.get_or_create(
                channel=channels[code],
                defaults={
                    "platform": platform,
                    "app_key": app_key,
                    "shop_id": shop_id,
                    "is_enabled": False,
                    "updated_by": acting_user,
                },
            )
    for code, stream, hours, result, error in STATES:
        if code not in channels:
            continue
        read_up_to = now - timedelta(hours=hours)
        SyncState.objects.create(
            channel=channels[code],
            stream=stream,
            cursor_time=read_up_to,
            last_success_at=read_up_to,
            last_result=result,
            last_error=error,
            last_error_at=read_up_to + timedelta(minutes=5) if error else None,
            failures=3 if error else 0,
        )
