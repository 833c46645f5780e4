"""Orders listens to inventory (never the other way round)."""

from inventory.models import Lot


def queue_backorder_fill(*, lot_ids) -> None:
    """Queue the back-order fill for the products and grades of these lots (call on commit)."""
    from orders.tasks import fill_backorders

    pairs = sorted(set(Lot.objects.filter(pk__in=lot_ids).values_list("product_id", "grade_id")))
    if pairs:
        fill_backorders.enqueue([list(pair) for pair in pairs])


def on_stock_received(sender, lot_ids, **kwargs):
    """New stock committed: back-orders waiting for it may now be served."""
    queue_backorder_fill(lot_ids=lot_ids)
