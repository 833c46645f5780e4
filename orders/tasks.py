"""Background work of orders that the task worker (``manage.py db_worker``) runs. The import
of a large file has its task beside the import it runs: ``orders.importers.service``."""

from django.tasks import task

from orders.services import backorders_fill


@task()
def fill_backorders(pairs: list[list[int]]) -> int:
    """Allocate back-orders that wait for the given [product_id, grade_id] pairs."""
    return backorders_fill(product_grade_pairs=[(product, grade) for product, grade in pairs])
