"""Write new orders, their lines and first events in bulk.

Two writers with one result. On PostgreSQL the rows go in with ``COPY`` (ids are taken
from the tables' own sequences first, so lines and events can point at their orders); on
other databases with ``bulk_create``. ``COPY`` writes the columns listed below: if a model
gains a column this list does not know, the ``bulk_create`` writer is used instead, so a new
field is never left empty by accident. Both run inside the caller's transaction.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.utils import timezone

from orders.addresses import address_normalise_draft
from orders.drafts import WRITE_CHUNK, OrderDraft, created_note, goods_total, line_kg
from orders.models import Order, OrderEvent, OrderLine, OrderStatus
from orders.rollup import rollup_orders_added

ORDER_COLUMNS = (
    "id",
    "channel_id",
    "external_no",
    "status",
    "platform_status",
    "live_session_id",
    "recipient_name",
    "phone",
    "phone_masked_by_platform",
    "province",
    "city",
    "district",
    "address_detail",
    "raw_address",
    "adcode",
    "address_status",
    "buyer_note",
    "paid_at",
    "goods_total",
    "shipping_fee",
    "backorder_reason",
    "import_batch_id",
    "shipment_reported_at",
    "created_at",
    "updated_at",
)
LINE_COLUMNS = ("id", "order_id", "sku_id", "quantity", "unit_price", "kg")
EVENT_COLUMNS = (
    "id",
    "order_id",
    "from_status",
    "to_status",
    "acting_user_id",
    "created_at",
    "note",
)
ZERO = Decimal("0")


def _columns(model) -> set[str]:
    return {f.column for f in model._meta.concrete_fields}


def copy_matches_models() -> bool:
    """True when the COPY column lists cover every column of the three tables."""
    return (
        _columns(Order) == set(ORDER_COLUMNS)
        and _columns(OrderLine) == set(LINE_COLUMNS)
        and _columns(OrderEvent) == set(EVENT_COLUMNS)
    )


def uses_copy() -> bool:
    return (
        connection.vendor == "postgresql"
        and getattr(settings, "ORDER_IMPORT_COPY", True)
        and copy_matches_models()
    )


@dataclass
class Written:
    orders: int
    lines: int


def _order_row(order_id, draft: OrderDraft, channel_id, batch_id, now) -> tuple:
    """One new order's values in ``ORDER_COLUMNS`` order: what both writers write."""
    session = draft.live_session
    return (
        order_id,
        channel_id,
        draft.external_no,
        OrderStatus.NEW.value,
        draft.platform_status,
        session.pk if session else None,
        draft.recipient_name,
        draft.phone,
        draft.phone_masked_by_platform,
        draft.province,
        draft.city,
        draft.district,
        draft.address_detail,
        draft.raw_address,
        draft.adcode,
        draft.address_status,
        draft.buyer_note,
        draft.paid_at,
        goods_total(draft),
        draft.shipping_fee,
        "",  # backorder_reason: allocation writes it
        batch_id,
        None,
        now,
        now,
    )


def write_orders(*, channel, drafts: list[OrderDraft], import_batch, acting_user) -> Written:
    """Insert ``drafts`` as new orders of ``channel`` (status new, one event each). The drafts
    passed ``orders.drafts.draft_errors`` when the rows were read (``build_drafts``); the
    database's constraints check them again."""
    if not drafts:
        return Written(0, 0)
    for draft in drafts:
        address_normalise_draft(draft)  # the row reader has done it: a no-op then
    if uses_copy():
        written, order_ids = _copy(channel, drafts, import_batch, acting_user)
    else:
        written, order_ids = _bulk_create(channel, drafts, import_batch, acting_user)
    rollup_orders_added(order_ids)  # the dashboard's daily roll-up (orders.rollup)
    return written


def _bulk_create(channel, drafts, import_batch, acting_user) -> tuple[Written, list[int]]:
    orders, lines = [], []
    note = created_note(imported=True)
    now = timezone.now()
    batch_id = import_batch.pk if import_batch else None
    for draft in drafts:
        values = _order_row(None, draft, channel.pk, batch_id, now)
        order = Order(**dict(zip(ORDER_COLUMNS, values, strict=True)))  # columns = attnames
        orders.append(order)
        for line in draft.lines:
            lines.append(
                OrderLine(
                    order=order,
                    sku_id=line.sku.pk,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    kg=line_kg(line),
                )
            )
    Order.objects.bulk_create(orders, batch_size=WRITE_CHUNK)
    for line in lines:
        line.order_id = line.order.pk
    OrderLine.objects.bulk_create(lines, batch_size=WRITE_CHUNK)
    user_id = acting_user.pk if acting_user else None
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order_id=order.pk,
                from_status="",
                to_status=OrderStatus.NEW,
                acting_user_id=user_id,
                note=note,
            )
            for order in orders
        ],
        batch_size=WRITE_CHUNK,
    )
    return Written(len(orders), len(lines)), [order.pk for order in orders]


def _next_ids(cursor, model, count: int) -> list[int]:
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [model._meta.db_table, model._meta.pk.column, count],
    )
    return [row[0] for row in cursor.fetchall()]


def _copy_statement(model, columns) -> str:
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    return f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN (FORMAT BINARY)"


def _copy_types(model, columns) -> list[str]:
    """The PostgreSQL type of each column, as binary COPY needs them exactly."""
    by_column = {f.column: f for f in model._meta.concrete_fields}
    return [by_column[column].db_type(connection).split("(")[0] for column in columns]


def _copy(channel, drafts, import_batch, acting_user) -> tuple[Written, list[int]]:
    now = timezone.now()
    note = created_note(imported=True)
    channel_id = channel.pk
    batch_id = import_batch.pk if import_batch else None
    user_id = acting_user.pk if acting_user else None
    new = OrderStatus.NEW.value
    line_count = sum(len(draft.lines) for draft in drafts)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        order_ids = _next_ids(cursor, Order, len(drafts))
        line_ids = iter(_next_ids(cursor, OrderLine, line_count))
        event_ids = _next_ids(cursor, OrderEvent, len(drafts))
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(_copy_statement(Order, ORDER_COLUMNS)) as copy:
            copy.set_types(_copy_types(Order, ORDER_COLUMNS))
            for order_id, draft in zip(order_ids, drafts, strict=True):
                copy.write_row(_order_row(order_id, draft, channel_id, batch_id, now))
        with raw.copy(_copy_statement(OrderLine, LINE_COLUMNS)) as copy:
            copy.set_types(_copy_types(OrderLine, LINE_COLUMNS))
            for order_id, d in zip(order_ids, drafts, strict=True):
                for line in d.lines:
                    copy.write_row(
                        (
                            next(line_ids),
                            order_id,
                            line.sku.pk,
                            line.quantity,
                            line.unit_price,
                            line_kg(line),
                        )
                    )
        with raw.copy(_copy_statement(OrderEvent, EVENT_COLUMNS)) as copy:
            copy.set_types(_copy_types(OrderEvent, EVENT_COLUMNS))
            for event_id, order_id in zip(event_ids, order_ids, strict=True):
                copy.write_row((event_id, order_id, "", new, user_id, now, note))
    return Written(len(drafts), line_count), order_ids
