"""Which connector serves a channel."""

from django.utils.translation import gettext as _

from orders.models import Channel
from orders.platforms.base import PlatformConnector
from orders.platforms.douyin import DouyinConnector
from orders.platforms.errors import NotConfigured
from orders.platforms.kuaishou import KuaishouConnector
from orders.platforms.models import Platform, PlatformAccount

CONNECTORS: dict[str, type[PlatformConnector]] = {
    Platform.DOUYIN: DouyinConnector,
    Platform.KUAISHOU: KuaishouConnector,
}


def connector_for(channel: Channel, **options) -> PlatformConnector:
    """The connector for a channel's enabled account; ``NotConfigured`` without one."""
    account = PlatformAccount.objects.select_related("channel").filter(channel=channel).first()
    if account is None or not account.is_enabled:
        raise NotConfigured(
            _("Channel %(channel)s has no enabled platform account.") % {"channel": channel.name}
        )
    return CONNECTORS[account.platform](account, **options)
