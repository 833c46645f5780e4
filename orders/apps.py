from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from inventory.checks import register_stock_check
        from inventory.signals import stock_received
        from orders.checks import reservations_match_allocations
        from orders.signals import on_stock_received

        stock_received.connect(on_stock_received, dispatch_uid="orders.fill_backorders")
        register_stock_check(reservations_match_allocations)
