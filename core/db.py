"""Database upkeep the services ask for themselves, and helpers for SQL written once.

``analyze``: after a bulk write (a livestream's export: thousands of orders, then their
allocations), PostgreSQL plans the next statements from statistics taken before it — an order
table it believes small, no allocation or picking order at all — and picks hash joins over
whole tables where an index lookup was right. Autovacuum refreshes them within a minute or so
(where it runs), but packers start within seconds; PostgreSQL's advice after loading data is
to ``ANALYZE`` at once ("Populating a Database"). Elsewhere (SQLite) it does nothing.
"""

import functools
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import signals

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


def for_update(of: str = "") -> str:
    """The end of a locking read where the database locks rows (`` FOR UPDATE``, ``OF`` the
    table named when the read joins others), nothing where it does not (SQLite)."""
    if not connection.features.has_select_for_update:
        return ""
    if of and connection.features.has_select_for_update_of:
        return f" FOR UPDATE OF {of}"
    return " FOR UPDATE"


def quoted(model, field: str | None = None) -> str:
    """A model's table name, or one of its fields' column, quoted for this database's SQL."""
    if field is None:
        return connection.ops.quote_name(model._meta.db_table)
    return connection.ops.quote_name(model._meta.get_field(field).column)


@dataclass(frozen=True)
class _Step:
    """One table of a ``Select``: its model, how SQL names it, and how it hangs from the
    table it was joined to (``parent``, an index into the steps; -1 for the model read)."""

    model: type
    alias: str
    parent: int
    link: object = None  # the parent's relation to it (set_cached_value on the parent)
    back: object = None  # its own relation back to the parent, when it has exactly one
    join: str = ""


class Select:
    """A read of a model's rows with the single-valued relations ``related`` names, as
    ``select_related`` names them (``"line__sku"``: forward foreign keys and one-to-one
    relations either way), written as SQL once and turned into model instances the way the
    ORM builds them (``Model.from_db``, the database's converters, the relations cached both
    ways; an absent one is cached as None, so reading it raises or answers None as the ORM's
    would). For the few reads of a hot path whose query the ORM would compile again on every
    call, at more cost than running it: build the SQL with ``sql`` once (keep it in a cache),
    run it with ``fetch``. Columns are named one by one (``columns``)."""

    def __init__(self, model, related: Sequence[str] = ()):
        self.model = model
        quote = connection.ops.quote_name
        self.steps = [_Step(model, quote(model._meta.db_table), -1)]
        self._by_path = {"": 0}
        for path in related:
            self._add(path.split("__"))
        self._layouts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _add(self, names: list[str]) -> int:
        path = "__".join(names)
        if path in self._by_path:
            return self._by_path[path]
        parent_index = self._add(names[:-1])
        parent = self.steps[parent_index]
        field = parent.model._meta.get_field(names[-1])
        alias = f"t{len(self.steps)}"
        optional = parent.join == "LEFT JOIN"
        if field.concrete and (field.many_to_one or field.one_to_one):  # forward
            back = field.remote_field if field.one_to_one else None
            optional = optional or field.null
        elif field.one_to_one and not field.concrete:  # reverse one-to-one
            back, optional = field.field, True
        else:
            raise ValueError(f"{path}: only single-valued relations can be read with a row")
        join = "LEFT JOIN" if optional else "INNER JOIN"
        self.steps.append(
            _Step(field.related_model, alias, parent_index, link=field, back=back, join=join)
        )
        self._by_path[path] = len(self.steps) - 1
        return self._by_path[path]

    def column(self, path: str, field: str) -> str:
        """How this read's SQL names a field of the model at ``path`` ("" for the model read)."""
        step = self.steps[self._by_path[path]]
        return f"{step.alias}.{quoted(step.model, field)}"

    def sql(
        self,
        where: str,
        *,
        order_by: str = "",
        lock: bool = False,
        extra: str = "",
        joins: str = "",
    ) -> str:
        """``SELECT`` every column of every table (then ``extra``, more columns written as
        SQL, which ``fetch`` sets as attributes on the model read; ``joins``, more tables
        they come from) ``WHERE where``. ``lock``
        locks the rows of the model read alone, as ``select_for_update(of=("self",))`` does,
        where the database locks rows."""
        quote = connection.ops.quote_name
        selected = ", ".join(columns(step.model, step.alias) for step in self.steps)
        tables = [self.steps[0].alias]  # the model read's table, named as itself
        for step in self.steps[1:]:
            parent = self.steps[step.parent]
            link = step.link
            if link.concrete:
                on = (
                    f"{step.alias}.{quote(link.target_field.column)} = "
                    f"{parent.alias}.{quote(link.column)}"
                )
            else:
                remote = link.field
                on = (
                    f"{step.alias}.{quote(remote.column)} = "
                    f"{parent.alias}.{quote(remote.target_field.column)}"
                )
            tables.append(f"{step.join} {quote(step.model._meta.db_table)} {step.alias} ON {on}")
        if joins:
            tables.append(joins)
        text = f"SELECT {selected}{', ' + extra if extra else ''} FROM {' '.join(tables)}"
        text += f" WHERE {where}"
        if order_by:
            text += f" ORDER BY {order_by}"
        if lock:
            text += for_update(self.steps[0].alias if len(self.steps) > 1 else "")
        return text

    def fetch(self, sql: str, params: Sequence, *, extra: Sequence[str] = ()) -> list:
        """Run ``sql`` (built by this read's ``sql``) and return the model read's instances,
        their relations loaded. ``extra`` names the extra columns, in order."""
        wrapper = connections[DEFAULT_DB_ALIAS]
        layout = self._layout(wrapper)
        with wrapper.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        found = []
        for row in rows:
            built = []
            for step, (start, end, names, key, converters) in zip(self.steps, layout, strict=True):
                values = row[start:end]
                parent = built[step.parent] if step.parent >= 0 else None
                if step.parent >= 0 and (parent is None or values[key] is None):
                    if parent is not None:
                        step.link.set_cached_value(parent, None)
                    built.append(None)
                    continue
                if converters:
                    values = list(values)
                    for index, functions, expression in converters:
                        for function in functions:
                            values[index] = function(values[index], expression, wrapper)
                instance = step.model.from_db(wrapper.alias, names, values)
                if parent is not None:
                    step.link.set_cached_value(parent, instance)
                    if step.back is not None:
                        step.back.set_cached_value(instance, parent)
                built.append(instance)
            for name, value in zip(extra, row[layout[-1][1] :], strict=True):
                setattr(built[0], name, value)
            found.append(built[0])
        return found

    def _layout(self, wrapper) -> list:
        """Per table: where its columns start and end in a row, their attribute names, and
        the converters this database applies to them (the ORM's own, for values such as
        SQLite's decimals and dates, or encrypted fields)."""
        layout = self._layouts.get(wrapper)
        if layout is None:
            layout, start = [], 0
            for step in self.steps:
                fields = step.model._meta.concrete_fields
                converters = []
                for index, field in enumerate(fields):
                    expression = field.get_col(step.alias)
                    functions = wrapper.ops.get_db_converters(
                        expression
                    ) + expression.get_db_converters(wrapper)
                    if functions:
                        converters.append((index, functions, expression))
                names = [field.attname for field in fields]
                key = fields.index(step.model._meta.pk)  # NULL in a joined row: none there
                layout.append((start, start + len(fields), names, key, converters))
                start += len(fields)
            self._layouts[wrapper] = layout
        return layout


# Up to this many rows, ``insert_rows`` writes SQL kept per row count; more are a batch.
FEW_ROWS = 8


def insert_rows(objects: Sequence) -> list:
    """Insert new instances of one model, as ``bulk_create`` would (no ``save()``, no
    signals), by one ``INSERT … RETURNING`` written once per model and number of rows: for
    the few rows a hot path writes on every call (a pack's parcel, its items and events),
    which the ORM would compile again each time. Values are prepared as ``save()`` prepares
    them (``pre_save``: ``auto_now_add`` stamps; ``get_db_prep_save``); each instance gets
    its primary key and is saved. Returns ``objects``. More than ``FEW_ROWS`` go through
    ``bulk_create``, which batches them as the database needs."""
    if not objects:
        return []
    model = type(objects[0])
    if len(objects) > FEW_ROWS:
        return model.objects.bulk_create(objects)
    fields = _inserted_fields(model)
    params = []
    for instance in objects:
        if type(instance) is not model or instance.pk is not None:
            raise ValueError("insert_rows() takes new instances of one model")
        for field in fields:
            value = field.pre_save(instance, True)
            if hasattr(value, "resolve_expression"):
                raise ValueError(f"{field.name}: insert_rows() writes values, not expressions")
            params.append(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(model, len(objects)), params)
        keys = [row[0] for row in cursor.fetchall()]
    alias = connection.alias
    for instance, key in zip(objects, keys, strict=True):
        instance.pk = key
        instance._state.adding = False
        instance._state.db = alias
    return list(objects)


def delete_rows(model, ids: Sequence[int]) -> int:
    """Delete these rows of a model by primary key, as ``filter(pk__in=ids).delete()`` would,
    by one ``DELETE`` written once per number of rows: for the few rows a hot path deletes (a
    pack's allocations). Where deleting needs more than the statement — a model other rows
    refer to (cascades), a delete signal listened to — or there are more than ``FEW_ROWS``,
    the ORM deletes them. Returns how many were deleted."""
    ids = list(ids)
    if not ids:
        return 0
    if (
        len(ids) > FEW_ROWS
        or model._meta.related_objects
        or signals.pre_delete.has_listeners(model)
        or signals.post_delete.has_listeners(model)
    ):
        return model.objects.filter(pk__in=ids).delete()[0]
    with connection.cursor() as cursor:
        cursor.execute(_delete_sql(model, len(ids)), ids)
        return cursor.rowcount


@functools.lru_cache(maxsize=64)
def _delete_sql(model, count: int) -> str:
    marks = ", ".join(["%s"] * count)
    return f"DELETE FROM {quoted(model)} WHERE {quoted(model, model._meta.pk.name)} IN ({marks})"


def _inserted_fields(model) -> list:
    """The columns an insert writes: every concrete one but a primary key the database gives."""
    key = model._meta.pk
    return [
        field
        for field in model._meta.concrete_fields
        if not (field is key and key.db_returning) and not field.generated
    ]


@functools.lru_cache(maxsize=64)
def _insert_sql(model, count: int) -> str:
    fields = _inserted_fields(model)
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    row = f"({', '.join(['%s'] * len(fields))})"
    return (
        f"INSERT INTO {quoted(model)} ({names}) VALUES {', '.join([row] * count)} "
        f"RETURNING {quoted(model, model._meta.pk.name)}"
    )


@functools.cache
def select(model, related: tuple[str, ...] = ()) -> Select:
    """The ``Select`` of a model with these relations, built once."""
    return Select(model, related)
