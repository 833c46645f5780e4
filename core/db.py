"""Database upkeep the services ask for themselves.

``analyze``: after a bulk write (a livestream's export: thousands of orders, then their
allocations), PostgreSQL plans the next statements from statistics taken before it — an order
table it believes small, no allocation or picking order at all — and picks hash joins over
whole tables where an index lookup was right. Autovacuum refreshes them within a minute or so
(where it runs), but packers start within seconds; PostgreSQL's advice after loading data is
to ``ANALYZE`` at once ("Populating a Database"). Elsewhere (SQLite) it does nothing.
"""

from django.db import connection

# Below this many rows written, the statistics still describe the table well enough.
ANALYZE_AFTER_ROWS = 500


def analyze(*models, rows: int | None = None) -> bool:
    """``ANALYZE`` these models' tables on PostgreSQL when ``rows`` (the rows just written;
    None: always) reaches ``ANALYZE_AFTER_ROWS``. Returns whether it ran."""
    if connection.vendor != "postgresql" or not models:
        return False
    if rows is not None and rows < ANALYZE_AFTER_ROWS:
        return False
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")
    return True
