"""Take and cancel waybill numbers through a carrier's source, and record them.

``waybill_issue`` is what packing will call instead of ``waybill_take`` once it is wired:
it returns the ``IssuedWaybill`` whose sorting code, destination mark and privacy flag the
label prints. ``waybill_cancel`` is for a parcel unpacked or voided."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from orders.models import Order
from shipping.models import Carrier
from shipping.waybills.base import WaybillSourceBase
from shipping.waybills.douyin import DouyinWaybillSource
from shipping.waybills.models import IssuedWaybill, SourceKind, WaybillSource
from shipping.waybills.pool import PoolSource


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
