"""What orders does when inventory announces something (``inventory.signals``). Connected in
``OrdersConfig.ready``; inventory never imports orders."""

from inventory.models import Lot
from orders.tasks import fill_backorders


def fill_backorders_on_stock(sender, lot_ids, **kwargs) -> None:
    """Stock is available again (an intake, a count that found more, a return put back, a
    released reservation): queue the back-order fill for the products and grades of these
    lots. The task worker allocates the waiting orders first paid, first served."""
    pairs = sorted(set(Lot.objects.filter(pk__in=lot_ids).values_list("product_id", "grade_id")))
    if pairs:
        fill_backorders.enqueue([list(pair) for pair in pairs])
