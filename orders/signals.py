"""Orders listens to inventory (never the other way round)."""

from inventory.models import Lot


def on_stock_received(sender, lot_ids, **kwargs):
    """New stock committed: queue the back-order fill for its products and grades."""
    from orders.tasks import fill_backorders

    pairs = sorted(set(Lot.objects.filter(pk__in=lot_ids).values_list("product_id", "grade_id")))
    if pairs:
        fill_backorders.enqueue([list(pair) for pair in pairs])
