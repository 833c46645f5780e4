"""The platform sync: for one channel with an enabled account, pull the orders the platform
changed since the cursor, push the shipments that left, pull the after-sales since the
cursor. The task worker runs it (``orders.tasks.sync_platform``, queued by every worker's
sweep for each account whose last run is ``PLATFORM_SYNC_SECONDS`` old, or by a manager's
"sync now"); ``manage.py sync_platforms`` runs it in the foreground.

Each stream keeps a ``SyncState``: read up to (``cursor_time``), the page inside an
unfinished window (``cursor``: ``<window end>|<page>``), last success, last error, next
attempt and what the last run did (``last_result``). A stream that fails records the error
and when to try again (the breaker's time, the platform's rate limit, or a backoff) and the
run goes on with the next stream; a platform that is down costs no more than its breaker's
answer (``CircuitOpen``, nothing sent), so a worker is never held up by it. A run reads at
most ``PLATFORM_SYNC_MAX_PAGES`` pages of a stream; the next run carries on from the cursor.

Pulled orders take the one path into orders: new ones are created with
``orders.services.orders_create`` (order numbers the channel already has are skipped) and
allocated, closed ones cancelled with ``order_cancel``, a changed recipient or address goes
through ``order_address_change`` (applied before packing, flagged after). Pulled after-sales
go through ``apply_pulled_after_sale``. Shipments are pushed by shipping
(``shipping.platform_push``), which registers its stream here: shipping may import orders,
not the reverse.
"""

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import leases
from core.errors import DomainError
from orders.aftersales import after_sale_apply
from orders.importers.rows import REFUNDED_STATUSES
from orders.lifecycle import CANCELLABLE, CLOSED
from orders.models import (
    AddressChangeStatus,
    AfterSale,
    AfterSaleSource,
    Channel,
    Order,
    OrderStatus,
)
from orders.platforms.base import PlatformConnector, PulledAfterSale, PulledOrder, PulledStatus
from orders.platforms.errors import CircuitOpen, NotConfigured, PlatformError, RateLimited
from orders.platforms.models import PlatformAccount, SyncState, SyncStream
from orders.platforms.registry import connector_for
from orders.platforms.services import sync_state_failure, sync_state_for, sync_state_success
from orders.services import (
    DuplicateOrder,
    order_address_change,
    order_cancel,
    orders_allocate,
    orders_create,
)
from orders.waiting import ALLOCATION_LEASE

logger = logging.getLogger(__name__)

SYNC_LEASE = "platforms.sync"  # + ":<channel code>", held by whoever syncs that channel

# A stream: (connector, its state, read up to) -> what it did, in a line.
Runner = Callable[[PlatformConnector, SyncState, datetime], str]
# The order the streams run in: new orders first, then what left, then after-sales.
STREAM_ORDER = (SyncStream.ORDERS, SyncStream.SHIPMENTS, SyncStream.AFTER_SALES)
_runners: dict[str, Runner] = {}


def register_sync_stream(stream: str, runner: Runner) -> None:
    """Add a stream to every run (shipping's ``ShippingConfig.ready`` adds the shipments)."""
    _runners[stream] = runner


def sync_lease_name(channel: Channel) -> str:
    return f"{SYNC_LEASE}:{channel.code}"


# --- one run -----------------------------------------------------------------------------------


def platform_sync(
    channel: Channel,
    *,
    force: bool = False,
    connector: PlatformConnector | None = None,
    now: datetime | None = None,
) -> dict[str, str]:
    """Run every stream of ``channel`` once; returns each stream's outcome in a line. A
    stream waiting for its next attempt (after a failure) is skipped unless ``force`` (a
    manager's "sync now"; the breaker still decides whether anything is sent). A channel
    without an enabled account, or one another process is syncing, is left alone (``{}``)."""
    own = connector is None
    try:
        connector = connector or connector_for(channel)
    except NotConfigured:
        return {}
    try:
        with leases.hold(sync_lease_name(channel), kind=SYNC_LEASE):
            return _run(connector, force=force, now=now or timezone.now())
    except leases.LeaseBusy:
        return {}
    finally:
        if own:
            connector.close()


def _run(connector: PlatformConnector, *, force: bool, now: datetime) -> dict[str, str]:
    outcomes = {}
    runners = {SyncStream.ORDERS: sync_orders, SyncStream.AFTER_SALES: sync_after_sales}
    runners.update(_runners)
    for stream in STREAM_ORDER:
        runner = runners.get(stream)
        if runner is None:
            continue
        state = sync_state_for(connector.channel, stream)
        if not force and state.next_attempt_at and state.next_attempt_at > timezone.now():
            outcomes[stream] = _("waiting until %(time)s") % {
                "time": timezone.localtime(state.next_attempt_at).strftime("%H:%M:%S")
            }
            continue
        try:
            result = runner(connector, state, now)
        except (PlatformError, DomainError) as error:
            sync_state_failure(state=state, error=error, retry_at=_retry_at(error))
            outcomes[stream] = str(getattr(error, "message", error))
            logger.warning(
                "Platform sync %s %s failed: %s",
                connector.channel.code,
                stream,
                getattr(error, "message", error),
            )
        except Exception as error:  # a bug or the database: recorded, the other streams go on
            logger.exception("Platform sync %s %s failed", connector.channel.code, stream)
            sync_state_failure(state=state, error=error)
            outcomes[stream] = type(error).__name__
        else:
            outcomes[stream] = result
    return outcomes


def _retry_at(error: Exception) -> datetime | None:
    if isinstance(error, CircuitOpen):
        return error.until
    if isinstance(error, RateLimited):
        return timezone.now() + timedelta(seconds=max(1.0, error.retry_after))
    return None


# --- cursors ---------------------------------------------------------------------------------


def _windows(
    connector: PlatformConnector, state: SyncState, until: datetime, span: timedelta
) -> Iterator[tuple[datetime, datetime, str]]:
    """(start, end, first page) of each window still to read: the unfinished window of the
    last run from its page first, then the rest up to ``until`` in the platform's spans,
    starting ``PLATFORM_SYNC_OVERLAP_SECONDS`` before where the last run stopped."""
    start = state.cursor_time
    if start is None:
        start = until - timedelta(hours=settings.PLATFORM_SYNC_FIRST_HOURS)
    elif state.cursor and "|" in state.cursor:
        end_text, page = state.cursor.split("|", 1)
        try:
            end = datetime.fromtimestamp(int(end_text), tz=timezone.get_current_timezone())
        except ValueError:
            end = None
        if end is not None and start < end:
            yield start, end, page
            start = end
    else:
        start -= timedelta(seconds=settings.PLATFORM_SYNC_OVERLAP_SECONDS)
    for window_start, window_end in connector.windows(start, until, span):
        yield window_start, window_end, ""


def _read(
    connector: PlatformConnector,
    state: SyncState,
    until: datetime,
    *,
    span: timedelta,
    pull: Callable,
    apply: Callable[[list], None],
) -> bool:
    """Walk the windows page by page, applying each page and saving the cursor after it.
    Returns True when everything up to ``until`` was read, False when the page limit
    stopped the run first."""
    pages = 0
    for start, end, page in _windows(connector, state, until, span):
        while True:
            if pages >= settings.PLATFORM_SYNC_MAX_PAGES:
                return False
            result = pull(since=start, until=end, page=page)
            pages += 1
            apply(result)
            if result.next_page is None:
                break
            page = result.next_page
            _save_cursor(state, start, f"{int(end.timestamp())}|{page}")
        _save_cursor(state, end, "")
    return True


def _save_cursor(state: SyncState, cursor_time: datetime, cursor: str) -> None:
    state.cursor_time = cursor_time
    state.cursor = cursor[:200]
    SyncState.objects.filter(pk=state.pk).update(cursor_time=state.cursor_time, cursor=state.cursor)


def _finish(state: SyncState, complete: bool, until: datetime, summary: str) -> str:
    if not complete:
        summary = _("%(summary)s; more to read next run") % {"summary": summary}
    sync_state_success(
        state=state,
        cursor_time=until if complete else state.cursor_time,
        cursor="" if complete else state.cursor,
        result=summary,
    )
    return summary


# --- orders ----------------------------------------------------------------------------------


def sync_orders(connector: PlatformConnector, state: SyncState, until: datetime) -> str:
    """Pull the orders changed since the cursor and apply each page (``apply_pulled_orders``)."""
    counts: Counter = Counter()
    notes: list[str] = []

    def apply(page) -> None:
        apply_pulled_orders(connector.channel, page.orders, counts=counts, notes=notes)

    complete = _read(
        connector, state, until, span=connector.window, pull=connector.pull_orders, apply=apply
    )
    summary = _(
        "%(created)d new, %(cancelled)d cancelled, %(applied)d addresses changed, "
        "%(attention)d need attention, %(unreadable)d unreadable"
    ) % {
        "created": counts["created"],
        "cancelled": counts["cancelled"],
        "applied": counts["address_applied"],
        "attention": counts["attention"],
        "unreadable": counts["unreadable"],
    }
    if notes:
        summary += ": " + "; ".join(notes[:3])
    return _finish(state, complete, until, summary)


def apply_pulled_orders(
    channel: Channel,
    pulled: list[PulledOrder],
    *,
    counts: Counter | None = None,
    notes: list[str] | None = None,
) -> Counter:
    """One page of pulled orders into orders: new paid orders created (and allocated), closed
    ones cancelled, changed addresses passed to ``order_address_change``. Orders the channel
    has already are never created twice."""
    counts = Counter() if counts is None else counts
    notes = [] if notes is None else notes
    latest: dict[str, PulledOrder] = {}
    for order in pulled:  # the newest state of each order on the page
        latest[order.external_no] = order
    existing = {
        order.external_no: order
        for order in Order.objects.filter(channel=channel, external_no__in=list(latest))
    }
    drafts = []
    for number, order in latest.items():
        found = existing.get(number)
        if order.status == PulledStatus.CLOSED:
            _close(found, order, counts, notes)
        elif order.status == PulledStatus.UNPAID:
            continue
        elif order.draft is None:
            counts["unreadable"] += 1
            notes.append(f"{number}: {'; '.join(order.problems)[:80]}")
        elif found is None:
            if order.status == PulledStatus.OPEN:
                drafts.append(order.draft)
            # Shipped on the platform and never seen here: someone else shipped it.
        elif found.status not in CLOSED:
            change = order_address_change(order=found, draft=order.draft)
            if change is not None:
                if change.status == AddressChangeStatus.APPLIED:
                    counts["address_applied"] += 1
                else:
                    counts["attention"] += 1
                    notes.append(
                        _("%(number)s: address changed after packing") % {"number": number}
                    )
    try:
        created = _create(channel, drafts)
    except DomainError:  # one draft the database refuses: the others still come in
        created = []
        for draft in drafts:
            try:
                created += _create(channel, [draft])
            except DomainError as error:
                counts["unreadable"] += 1
                notes.append(f"{draft.external_no}: {error.message}"[:100])
    counts["created"] += len(created)
    _allocate(created)
    return counts


def _close(found: Order | None, pulled: PulledOrder, counts: Counter, notes: list[str]) -> None:
    if found is None or found.status in CLOSED:
        return
    if found.status not in CANCELLABLE:
        counts["attention"] += 1
        notes.append(
            _("%(number)s: closed on the platform after packing") % {"number": found.external_no}
        )
        return
    refunded = pulled.platform_status.lower() in REFUNDED_STATUSES
    try:
        order_cancel(
            order=found,
            note=_("Closed on the platform (%(status)s).") % {"status": pulled.platform_status},
            to=OrderStatus.REFUNDED if refunded else OrderStatus.CANCELLED,
        )
    except DomainError as error:  # packed meanwhile
        counts["attention"] += 1
        notes.append(f"{found.external_no}: {error.message}")
        return
    Order.objects.filter(pk=found.pk).update(platform_status=pulled.platform_status)
    counts["cancelled"] += 1


def _create(channel: Channel, drafts: list) -> list[Order]:
    """``orders_create``; an order number a file import took meanwhile is skipped."""
    for _attempt in (1, 2, 3):
        if not drafts:
            return []
        try:
            with transaction.atomic():
                return orders_create(channel=channel, drafts=drafts)
        except (DuplicateOrder, IntegrityError):
            taken = set(
                Order.objects.filter(
                    channel=channel, external_no__in=[d.external_no for d in drafts]
                ).values_list("external_no", flat=True)
            )
            if not taken:
                logger.exception("Pulled orders of %s could not be saved", channel.code)
                raise DomainError(_("The order could not be saved."), field="external_no") from None
            drafts = [draft for draft in drafts if draft.external_no not in taken]
    return []


def _allocate(orders: list[Order]) -> None:
    """Allocate the new orders now, if no one else is allocating; otherwise they wait for the
    sweep's allocation of waiting orders (``orders.waiting``), first paid first served."""
    if not orders:
        return
    try:
        with leases.hold(ALLOCATION_LEASE, kind=ALLOCATION_LEASE):
            orders_allocate(orders=orders)
    except leases.LeaseBusy:
        pass


# --- after-sales -----------------------------------------------------------------------------


def sync_after_sales(connector: PlatformConnector, state: SyncState, until: datetime) -> str:
    """Pull the after-sales changed since the cursor; each goes through
    ``apply_pulled_after_sale``."""
    counts: Counter = Counter()
    notes: list[str] = []

    def apply(page) -> None:
        for pulled in page.after_sales:
            outcome, note = apply_pulled_after_sale(connector.channel, pulled)
            counts[outcome] += 1
            if note:
                notes.append(note)

    complete = _read(
        connector,
        state,
        until,
        span=connector.after_sale_window,
        pull=connector.pull_after_sales,
        apply=apply,
    )
    summary = _(
        "%(cancelled)d orders refunded before shipping, %(applied)d after-sales by line, "
        "%(attention)d need attention"
    ) % {
        "cancelled": counts["cancelled"],
        "applied": counts["applied"],
        "attention": counts["attention"],
    }
    if notes:
        summary += ": " + "; ".join(notes[:3])
    return _finish(state, complete, until, summary)


def apply_pulled_after_sale(channel: Channel, pulled: PulledAfterSale) -> tuple[str, str]:
    """What one pulled after-sale does to its order; returns (outcome, note for a person).

    A refund paid out for the whole of an order that has not been packed cancels the order
    (refunded; its stock goes back). Every other refund or return goes through
    ``orders.aftersales.after_sale_apply``, the path the after-sales file takes: by line and
    by units, before shipping the units are cancelled and their stock released, after it the
    refund is recorded (and a return expected for 退货退款). What after-sales cannot take
    (an exchange, a merchant code no line has) is noted as needing attention (the sync
    state's last run, and the log). A closed request never seen before, or one for an order
    already closed, changes nothing; so does pulling the same one again."""
    order = Order.objects.filter(channel=channel, external_no=pulled.order_no).first()
    if order is None:
        return "unknown", ""
    if order.status in CLOSED:
        return "nothing", ""
    known = AfterSale.objects.filter(order=order, platform_refund_id=pulled.after_sale_id)
    if pulled.closed and not known.exists():
        return "nothing", ""
    if (
        pulled.succeeded
        and not pulled.shipped
        and order.status in CANCELLABLE
        and _whole_order(order, pulled)
    ):
        try:
            order_cancel(
                order=order,
                note=_("Refunded on the platform (after-sale %(id)s).")
                % {"id": pulled.after_sale_id},
                to=OrderStatus.REFUNDED,
            )
        except DomainError:
            pass  # packed meanwhile: recorded by line below
        else:
            return "cancelled", ""
    try:
        applied = after_sale_apply(
            channel=channel,
            order_no=pulled.order_no,
            kind=pulled.kind,
            line_code=pulled.merchant_code,
            units=pulled.quantity or None,
            amount=pulled.refund_amount or None,
            platform_refund_id=pulled.after_sale_id,
            platform_state=pulled.status,
            succeeded=pulled.succeeded,
            closed=pulled.closed,
            source=AfterSaleSource.PLATFORM,
        )
    except DomainError as error:
        note = _("%(number)s: after-sale %(id)s (%(status)s, %(amount)s): %(reason)s") % {
            "number": order.external_no,
            "id": pulled.after_sale_id,
            "status": pulled.status,
            "amount": pulled.refund_amount,
            "reason": error.message,
        }
        logger.warning("Platform after-sale needs attention: %s %s", channel.code, note)
        return "attention", note
    if applied.outcome == "unchanged":
        return "nothing", ""
    return "applied", applied.effect


def _whole_order(order: Order, pulled: PulledAfterSale) -> bool:
    """The refund covers the whole order: as much money as the order's goods, or every line
    of the order is the refunded merchant code and no more units than refunded."""
    if order.goods_total > 0 and pulled.refund_amount >= order.goods_total:
        return True
    lines = list(order.lines.select_related("sku"))
    code = pulled.merchant_code.upper()
    return (
        bool(lines)
        and bool(code)
        and all(line.sku.merchant_code.upper() == code for line in lines)
        and sum(line.quantity for line in lines) <= pulled.quantity
    )


# --- scheduling ------------------------------------------------------------------------------


def accounts_due(now: datetime | None = None) -> list[PlatformAccount]:
    """Enabled accounts whose channel last ran ``PLATFORM_SYNC_SECONDS`` ago or more (or
    never), and is not waiting for a next attempt on every stream."""
    now = now or timezone.now()
    every = timedelta(seconds=settings.PLATFORM_SYNC_SECONDS)
    due = []
    for account in PlatformAccount.objects.filter(is_enabled=True).select_related("channel"):
        states = list(SyncState.objects.filter(channel=account.channel))
        last = max(
            (
                moment
                for state in states
                for moment in (state.last_success_at, state.last_error_at)
                if moment
            ),
            default=None,
        )
        if last is not None and now - last < every:
            continue
        if states and all(
            state.next_attempt_at and state.next_attempt_at > now for state in states
        ):
            continue
        due.append(account)
    return due
