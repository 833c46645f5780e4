"""Background work of orders, run by the task worker (``manage.py db_worker``)."""

from django.tasks import task

from orders.services import backorders_fill


@task()
def fill_backorders(pairs: list[list[int]]) -> int:
    """Allocate back-orders that wait for the given [product_id, grade_id] pairs."""
    return backorders_fill(product_grade_pairs=[(product, grade) for product, grade in pairs])


@task()
def import_orders_file(batch_id: int) -> dict:
    """Import a committed order file (``orders.importers.service.import_run``): write the new
    orders, cancel what the platform closed, allocate. Progress is kept on the batch."""
    from orders.importers.service import import_run, status_json

    return status_json(import_run(batch_id=batch_id))
