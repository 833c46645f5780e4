from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        # Receivers are connected once the app registry is ready, as Django asks.
        from core.leases import register_sweeper
        from inventory.checks import register_stock_check
        from inventory.signals import stock_available
        from orders.checks import reservations_match_allocations
        from orders.importers.service import sweep_imports
        from orders.lifecycle import on_moved
        from orders.receivers import fill_backorders_on_stock
        from orders.rollup import rollup_fold, rollup_orders_moved
        from orders.tasks import sweep_platform_sync
        from orders.waiting import allocate_waiting_orders

        stock_available.connect(fill_backorders_on_stock, dispatch_uid="orders.fill_backorders")
        register_stock_check(reservations_match_allocations)
        # Every status move keeps the dashboard's daily roll-up, in the move's transaction.
        on_moved(rollup_orders_moved)
        # The task workers' sweep (core.leases): stopped imports first, so that their orders
        # wait for their own allocation step; then every order left waiting for stock.
        register_sweeper("imports", sweep_imports)
        register_sweeper("waiting_orders", allocate_waiting_orders)
        register_sweeper("sales_rollup", rollup_fold)  # the dashboard's daily roll-up
        # Each enabled platform account's sync, queued when its last run is old enough.
        register_sweeper("platform_sync", sweep_platform_sync)
