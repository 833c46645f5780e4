"""The 抖店 electronic waybill service (抖音电商电子面单): ``logistics.newCreateOrder`` takes
a number, ``logistics.cancelOrder`` cancels (回收) it. Same gateway, signature, envelope,
retries, breaker and call log as the 抖店 connector (``orders.platforms.douyin``).

Fields follow the SDK's request and response types: sender and receiver as ``address``
(``province_name``, ``city_name``, ``district_name``, ``detail_address``) and ``contact``;
``order_infos`` with ``order_id``, ``pack_id`` (from the second parcel of an order on),
``items``; the answer's ``ebill_infos`` give ``track_no``, ``sort_code`` (三段码),
``short_address_name`` (大头笔) and ``package_center_name`` (集包地), ``err_infos`` the
orders refused. For the shop's own orders the service prints its privacy label (the
receiver comes from the platform's encrypted data), so those waybills are privacy labels.
"""

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.regions import parse_address
from orders.models import Order
from orders.platforms.douyin import DouyinApi, DouyinConnector
from orders.platforms.errors import PlatformRejected
from shipping.models import Carrier
from shipping.waybills.base import Waybill, WaybillSourceBase
from shipping.waybills.models import SourceKind, WaybillSource


class DouyinWaybillSource(WaybillSourceBase):
    kind = SourceKind.DOUYIN

    def __init__(self, carrier: Carrier, config: WaybillSource, **options):
        super().__init__(carrier)
        self.config = config
        self.account = config.account
        self.api = options.pop("api", None) or DouyinApi(
            self.account,
            purpose=f"waybill {carrier.code}",
            breaker_key=f"waybill:{carrier.code}",
            **options,
        )

    def close(self) -> None:
        self.api.close()

    @property
    def logistics_code(self) -> str:
        return self.config.logistics_code or DouyinConnector.carrier_codes.get(
            self.carrier.code, self.carrier.code
        )

    def _sender(self) -> dict:
        text = self.carrier.sender_address or settings.STUDIO_ADDRESS
        parts = parse_address(text)
        if not parts.province:
            raise DomainError(
                _("The sender address “%(address)s” must start with a province.")
                % {"address": text},
                field="sender_address",
            )
        return {
            "address": {
                "country_code": "CHN",
                "province_name": parts.province,
                "city_name": parts.city,
                "district_name": parts.district,
                "detail_address": parts.detail,
            },
            "contact": {
                "name": self.carrier.sender_name or settings.STUDIO_NAME,
                "mobile": self.carrier.sender_phone or settings.STUDIO_PHONE,
            },
        }

    def take(self, *, order: Order, pack_index: int = 1) -> Waybill:
        own = order.channel_id == self.account.channel_id
        if not own and not self.config.other_order_channel:
            raise DomainError(
                _("The 抖店 waybill service issues numbers for %(channel)s orders only.")
                % {"channel": self.account.channel.name},
                field="carrier",
            )
        info = {
            "order_id": order.external_no,
            "receiver_info": {
                "address": {
                    "country_code": "CHN",
                    "province_name": order.province,
                    "city_name": order.city,
                    "district_name": order.district,
                    "detail_address": order.address_detail,
                },
                "contact": {"name": order.recipient_name, "mobile": order.phone},
            },
            "items": [
                {"item_name": line.sku.name[:60], "item_count": line.quantity}
                for line in order.lines.select_related("sku")
            ],
        }
        if pack_index > 1:
            info["pack_id"] = f"{order.external_no}_{pack_index}"
        params = {
            "sender_info": self._sender(),
            "logistics_code": self.logistics_code,
            "order_infos": [info],
        }
        if not own:
            params["order_channel"] = self.config.other_order_channel
        data = self.api.request("logistics.newCreateOrder", params) or {}
        issued = data.get("ebill_infos") or []
        if not issued:
            errors = data.get("err_infos") or [{}]
            message = errors[0].get("err_msg") or _("The service issued no number.")
            raise PlatformRejected(
                str(message),
                platform="douyin",
                method="logistics.newCreateOrder",
                code=str(errors[0].get("err_code") or ""),
            )
        bill = issued[0]
        return Waybill(
            number=str(bill.get("track_no") or ""),
            sorting_code=str(bill.get("sort_code") or ""),
            short_address=str(
                bill.get("short_address_name") or bill.get("short_address_code") or ""
            ),
            package_center=str(bill.get("package_center_name") or ""),
            privacy=own,
        )

    def cancel(self, *, number: str) -> None:
        data = (
            self.api.request(
                "logistics.cancelOrder", {"logistics_code": self.logistics_code, "track_no": number}
            )
            or {}
        )
        if not (data.get("cancel_result") or {}).get("success"):
            raise PlatformRejected(
                _("The service did not cancel waybill %(number)s.") % {"number": number},
                platform="douyin",
                method="logistics.cancelOrder",
            )
