from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShippingConfig(AppConfig):
    name = "shipping"
    verbose_name = _("Shipping")

    def ready(self):
        # The sync's shipments stream: shipping may import orders, not the reverse, so it
        # adds its push to every platform sync run from here.
        from orders.platforms.models import SyncStream
        from orders.platforms.sync import register_sync_stream
        from shipping.platform_push import push_shipments

        register_sync_stream(SyncStream.SHIPMENTS, push_shipments)
