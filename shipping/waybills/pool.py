"""The studio's imported pools, behind the waybill source interface."""

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import DomainError
from orders.models import Order
from shipping import services as shipping_services  # packing imports the sources too
from shipping.models import Parcel, WaybillNumber
from shipping.waybills.base import Waybill, WaybillSourceBase
from shipping.waybills.models import SourceKind


class PoolSource(WaybillSourceBase):
    kind = SourceKind.POOL

    def take(self, *, order: Order, pack_index: int = 1) -> Waybill:
        # A pool number comes with nothing else: no sorting code, no privacy service.
        return Waybill(number=shipping_services.waybill_take(carrier=self.carrier))

    @transaction.atomic
    def cancel(self, *, number: str) -> None:
        """Put an unused number back into its pool, to be taken again. A number on a parcel
        is refused: the parcel must be unpacked first."""
        if Parcel.objects.filter(carrier=self.carrier, tracking_number=number).exists():
            raise DomainError(
                _("Waybill %(number)s is on a parcel.") % {"number": number},
                field="number",
            )
        WaybillNumber.objects.filter(carrier=self.carrier, number=number).update(taken_at=None)
