"""Background work of orders, run by the task worker (``manage.py db_worker``)."""

from django.tasks import task

from orders.services import backorders_fill


@task()
def fill_backorders(pairs: list[list[int]]) -> int:
    """Allocate back-orders that wait for the given [product_id, grade_id] pairs."""
    return backorders_fill(product_grade_pairs=[(product, grade) for product, grade in pairs])
