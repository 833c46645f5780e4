"""Take and cancel waybill numbers through a carrier's source, and record them.

``waybill_issue`` returns the ``IssuedWaybill`` whose sorting code, destination mark and
privacy flag the label prints; packing (``shipping.services.parcel_pack``) takes its number
through ``waybill_for_packing`` when the carrier's source is a service, before any lock.
``waybill_cancel`` cancels (回收) a number; ``waybill_void`` and ``waybill_void_on_commit``
are for a number that will not be used: a pack that failed, a parcel unpacked or voided."""

import functools
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.db import quoted, select
from core.errors import DomainError
from orders.models import Order
from orders.platforms.errors import PlatformError
from shipping.models import Carrier
from shipping.selectors import order_parcel_ids
from shipping.waybills.base import WaybillSourceBase
from shipping.waybills.douyin import DouyinWaybillSource
from shipping.waybills.models import IssuedWaybill, SourceKind, WaybillSource
from shipping.waybills.pool import PoolSource

logger = logging.getLogger(__name__)


def source_for(carrier: Carrier, **options) -> WaybillSourceBase:
    """The carrier's active source; its pools when it has none."""
    config = (
        WaybillSource.objects.select_related("account__channel")
        .filter(carrier=carrier, is_active=True)
        .first()
    )
    if config is None or config.kind == SourceKind.POOL:
        return PoolSource(carrier)
    return DouyinWaybillSource(carrier, config, **options)


def waybill_issue(
    *, carrier: Carrier, order: Order, pack_index: int = 1, source: WaybillSourceBase | None = None
) -> IssuedWaybill:
    """Take a number for parcel ``pack_index`` of ``order`` and record it. The service call
    happens outside any transaction (a slow service holds no lock); the record is written
    after it."""
    own = source is None
    source = source or source_for(carrier)
    try:
        waybill = source.take(order=order, pack_index=pack_index)
    finally:
        if own:
            source.close()
    if not waybill.number:
        raise DomainError(_("The waybill source returned no number."), field="tracking_number")
    values = {
        "kind": source.kind,
        "order": order,
        "pack_index": pack_index,
        "sorting_code": waybill.sorting_code[:60],
        "short_address": waybill.short_address[:60],
        "package_center": waybill.package_center[:60],
        "privacy": waybill.privacy,
        "virtual_number": waybill.virtual_number[:30],
        "taken_at": timezone.now(),
        "cancelled_at": None,
    }
    with transaction.atomic():
        earlier = (
            IssuedWaybill.objects.select_for_update()
            .filter(carrier=carrier, number=waybill.number)
            .first()
        )
        if earlier is None:
            return IssuedWaybill.objects.create(carrier=carrier, number=waybill.number, **values)
        if earlier.cancelled_at is None:
            raise DomainError(
                _("Waybill %(number)s was issued twice.") % {"number": waybill.number},
                field="tracking_number",
            )
        # A cancelled pool number went back to its pool and was taken again.
        for name, value in values.items():
            setattr(earlier, name, value)
        earlier.save()
        return earlier


def waybill_cancel(
    *, carrier: Carrier, number: str, source: WaybillSourceBase | None = None
) -> IssuedWaybill | None:
    """Cancel (回收) a number taken through ``carrier``'s source: the service is told (or the
    pool gets it back), then the record is marked cancelled. A number cancelled before is
    left as it is."""
    issued = IssuedWaybill.objects.filter(carrier=carrier, number=number).first()
    if issued and issued.cancelled_at:
        return issued
    own = source is None
    source = source or source_for(carrier)
    try:
        source.cancel(number=number)
    finally:
        if own:
            source.close()
    if issued is None:
        return None
    with transaction.atomic():
        IssuedWaybill.objects.filter(pk=issued.pk, cancelled_at__isnull=True).update(
            cancelled_at=timezone.now()
        )
    issued.refresh_from_db()
    return issued


def carrier_for_packing(code: str) -> Carrier | None:
    """The active carrier of this code, read with ``has_waybill_service``: whether an active
    waybill service (not a pool) gives its numbers, as ``service_source`` finds it. One
    statement written once: the station sends the carrier with every pack."""
    found = select(Carrier).fetch(
        _carrier_for_packing_sql(), [SourceKind.POOL, code], extra=("has_waybill_service",)
    )
    if not found:
        return None
    carrier = found[0]
    carrier.has_waybill_service = bool(carrier.has_waybill_service)  # SQLite answers 0 or 1
    return carrier


@functools.cache
def _carrier_for_packing_sql() -> str:
    read = select(Carrier)
    return read.sql(
        f"{read.column('', 'code')} = %s AND {read.column('', 'is_active')}",
        extra=f"EXISTS (SELECT 1 FROM {quoted(WaybillSource)} s "
        f"WHERE s.{quoted(WaybillSource, 'carrier')} = {read.column('', 'id')} "
        f"AND s.{quoted(WaybillSource, 'is_active')} AND s.{quoted(WaybillSource, 'kind')} <> %s) "
        "AS has_waybill_service",
    )


def service_source(carrier: Carrier) -> WaybillSource | None:
    """The carrier's active waybill service (not its pools), if it has one."""
    return (
        WaybillSource.objects.filter(carrier=carrier, is_active=True)
        .exclude(kind=SourceKind.POOL)
        .first()
    )


def issues_numbers(*, carrier: Carrier, scanned: str = "") -> bool:
    """Whether packing this carrier's parcel asks its waybill service for the number (none was
    scanned and the carrier has an active service)."""
    if scanned.strip():
        return False
    known = getattr(carrier, "has_waybill_service", None)  # read with the carrier
    return known if known is not None else service_source(carrier) is not None


def waybill_for_packing(
    *, carrier: Carrier, order: Order, scanned: str = ""
) -> IssuedWaybill | None:
    """The number for the next parcel of ``order`` from the carrier's waybill service: its
    sorting code, destination mark and privacy flag go on the label. None when the packer
    scanned a number or the carrier takes its numbers from pools (packing takes one then,
    inside its transaction). Called before packing locks anything: the service is a network
    call. A service that is down raises (its breaker answers at once): the packer scans a
    number from a pool roll instead, or picks another carrier."""
    if not issues_numbers(carrier=carrier, scanned=scanned):
        return None
    earlier = len(order_parcel_ids(order.pk))
    return waybill_issue(carrier=carrier, order=order, pack_index=earlier + 1)


def waybill_void(*, carrier: Carrier, number: str) -> bool:
    """Cancel a number that will not be used, without raising: a service that refuses or
    does not answer is logged (the number stays recorded as not cancelled, for a person
    or a later cancel). True when it was cancelled."""
    try:
        waybill_cancel(carrier=carrier, number=number)
    except (PlatformError, DomainError) as error:
        logger.warning(
            "Waybill %s %s could not be cancelled: %s",
            carrier.code,
            number,
            getattr(error, "message", error),
        )
        return False
    return True


def waybill_void_on_commit(*, carrier: Carrier, number: str) -> None:
    """Cancel ``number`` once the caller's transaction commits (a parcel unpacked or voided:
    the number is off the parcel only then, and a service call must not hold its locks).
    Only numbers from a waybill service are cancelled; a pool number stays as it is."""
    if service_source(carrier) is None:
        return
    transaction.on_commit(lambda: waybill_void(carrier=carrier, number=number))
