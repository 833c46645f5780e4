"""Database upkeep the services ask for themselves, and two helpers for reads written as SQL.

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


def column_values(sql: str, params: list) -> list:
    """The first column of every row of a read written as SQL (for the few reads on a hot
    path whose query the ORM would build again on every call, at more cost than running it)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def columns(model, alias: str = "") -> str:
    """Every column of a model's table, named one by one (``alias.``-qualified if given): a
    read written as SQL never says ``SELECT *``, whose columns would change under a statement
    PostgreSQL keeps prepared when a migration adds one ("cached plan must not change result
    type"), while the code that prepared it still runs."""
    prefix = f"{alias}." if alias else ""
    quote = connection.ops.quote_name
    return ", ".join(f"{prefix}{quote(field.column)}" for field in model._meta.concrete_fields)


def quoted(model, field: str | None = None) -> str:
    """A model's table name, or one of its fields' column, quoted for this database's SQL."""
    if field is None:
        return connection.ops.quote_name(model._meta.db_table)
    return connection.ops.quote_name(model._meta.get_field(field).column)
