"""One interface for a source of waybill numbers: take a number for a parcel of an order,
and cancel (回收) one that will not be used. ``PoolSource`` wraps the studio's imported
pools (``shipping.services.waybill_take``); ``DouyinWaybillSource`` asks the 抖店 electronic
waybill service. ``source_for(carrier)`` picks the carrier's."""

from dataclasses import dataclass

from orders.models import Order
from shipping.models import Carrier


@dataclass
class Waybill:
    """What a source returns; the label prints it as given."""

    number: str
    sorting_code: str = ""  # 三段码
    short_address: str = ""  # 大头笔
    package_center: str = ""  # 集包地
    privacy: bool = False  # the service's privacy label: the recipient is printed masked
    virtual_number: str = ""  # a virtual phone number for the courier, where given


class WaybillSourceBase:
    kind = ""

    def __init__(self, carrier: Carrier):
        self.carrier = carrier

    def take(self, *, order: Order, pack_index: int = 1) -> Waybill:
        raise NotImplementedError

    def cancel(self, *, number: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the source holds (an HTTP client)."""
