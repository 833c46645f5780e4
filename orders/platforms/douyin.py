"""抖店 (the Douyin shop open platform, op.jinritemai.com).

Follows the platform's documents as its official Go SDK carries them
(``doudian.com/open/sdk_golang``, mirrored publicly as zsmhub/doudian-sdk):

- calls: ``POST {base}/{method with / for .}?app_key=…&method=…&timestamp=…&v=2&sign=…
  &sign_method=…&access_token=…``, the business parameters as ``param_json`` in the body;
- ``param_json``: the parameters as compact JSON, keys sorted at every level, no HTML or
  non-ASCII escaping (the SDK's ``Marshal``);
- ``sign``: ``secret + "app_key"… "method"… "param_json"… "timestamp"… "v2" + secret``,
  HMAC-SHA256 keyed with the app secret (``sign_method=hmac-sha256``), or MD5 of the same
  text (``md5``), lower-case hex (SDK ``utils/sign_util.go``);
- envelope ``{"code", "msg", "sub_code", "sub_msg", "log_id", "data"}``, ``code`` 10000 is
  success; the codes of 平台基础错误码汇总 (guide-docs/212/1427): 20000/20001 unavailable,
  30001 ``dop.authorization-*`` no authorisation, 40003 ``isv.access-token-expired`` /
  ``-no-existed`` token, ``isv.signature-invalid`` signature, 50001
  ``dop.token-generate-failed:*`` refresh refused, 60000 rate limit;
- ``token.refresh`` (``grant_type=refresh_token``), ``order.searchList`` (pages from 0, at
  most 100 a page, by update time), ``order.orderDetail``, ``order.logisticsAdd`` and
  ``order.logisticsAddMultiPack`` (idempotent by ``request_id``), ``afterSale.List``,
  ``order.logisticsCompanyList``.
"""

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from django.conf import settings

from orders.platforms.base import (
    AfterSaleKind,
    AfterSalePage,
    OrderPage,
    PlatformConnector,
    PulledAfterSale,
    PulledOrder,
    PulledStatus,
    Shipment,
    ShipmentReceipt,
    draft_or_problems,
    fen,
)
from orders.platforms.client import Answer, PlatformApi
from orders.platforms.errors import (
    AuthRevoked,
    PlatformRejected,
    PlatformUnavailable,
    RateLimited,
    SignatureRejected,
    TokenExpired,
)
from orders.platforms.models import Platform, SignMethod
from orders.platforms.services import platform_tokens_save

SUCCESS = 10000
PAGE_SIZE = 100


def param_json(params: dict) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def douyin_sign(
    *,
    app_key: str,
    app_secret: str,
    method: str,
    param_json: str,
    timestamp: str,
    sign_method: str,
) -> str:
    text = (
        f"{app_secret}app_key{app_key}method{method}param_json{param_json}"
        f"timestamp{timestamp}v2{app_secret}"
    )
    if sign_method == SignMethod.MD5:
        return hashlib.md5(text.encode()).hexdigest()
    return hmac.new(app_secret.encode(), text.encode(), hashlib.sha256).hexdigest()


class DouyinApi(PlatformApi):
    platform = Platform.DOUYIN

    def build(self, method: str, params: dict, access_token: str) -> httpx.Request:
        body = param_json(params)
        timestamp = str(int(self.now().timestamp()))
        query = {
            "app_key": self.account.app_key,
            "method": method,
            "timestamp": timestamp,
            "v": "2",
            "sign_method": self.account.sign_method,
            "sign": douyin_sign(
                app_key=self.account.app_key,
                app_secret=self.account.secret("app_secret"),
                method=method,
                param_json=body,
                timestamp=timestamp,
                sign_method=self.account.sign_method,
            ),
        }
        if access_token:
            query["access_token"] = access_token
        return self.http.build_request(
            "POST",
            f"{self.account.api_base_url}/{method.replace('.', '/')}",
            params=query,
            content=body.encode(),
            headers={"Content-Type": "application/json", "x-open-no-old-err-code": "1"},
        )

    def read(self, method: str, response: httpx.Response, answer: Answer):
        body = self.json_or_bad(method, response)
        code = body.get("code")
        sub_code = str(body.get("sub_code") or "")
        answer.code = f"{code}:{sub_code}" if sub_code else str(code)
        answer.request_id = str(body.get("log_id") or response.headers.get("x-tt-logid", ""))
        if code == SUCCESS:
            return body.get("data")
        message = f"{body.get('msg', '')} {body.get('sub_msg', '')}".strip() or str(code)
        kwargs = {"method": method, "code": answer.code}
        if sub_code in {"isv.access-token-expired", "isv.access-token-no-existed"}:
            raise self.error(TokenExpired, message, **kwargs)
        if sub_code == "isv.signature-invalid":
            raise self.error(SignatureRejected, message, **kwargs)
        if sub_code.startswith("dop.token-generate-failed") or sub_code in {
            "dop.authorization-no-existed",
            "dop.authorization-closed",
        }:
            raise self.error(AuthRevoked, message, **kwargs)
        if code == 60000:
            retry = float(response.headers.get("Retry-After") or 1)
            raise self.error(RateLimited, message, retry_after=retry, **kwargs)
        if code in {20000, 20001}:
            raise self.error(PlatformUnavailable, message, **kwargs)
        raise self.error(PlatformRejected, message, **kwargs)

    def refresh_tokens(self) -> None:
        stale = self.account.secret("access_token")
        refresh = self.account.secret("refresh_token")
        if not refresh:
            raise self.error(
                AuthRevoked, "No refresh token: authorise the shop again.", method="token.refresh"
            )
        data = self.request(
            "token.refresh",
            {"grant_type": "refresh_token", "refresh_token": str(refresh)},
            authorised=False,
        )
        platform_tokens_save(
            account=self.account,
            stale_access_token=stale,
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token", ""),
            expires_in=data.get("expires_in"),
        )


# order_status of order.searchList: 1 待确认/待支付, 105 已支付, 2 备货中, 101 部分发货,
# 3 已发货, 4 已取消, 5 已完成.
STATUSES = {
    1: PulledStatus.UNPAID,
    105: PulledStatus.OPEN,
    2: PulledStatus.OPEN,
    101: PulledStatus.OPEN,
    3: PulledStatus.SHIPPED,
    4: PulledStatus.CLOSED,
    5: PulledStatus.SHIPPED,
}
# aftersale_type: 0 退货退款, 1 已发货仅退款, 2 未发货仅退款, 3 换货.
AFTER_SALE_KINDS = {
    0: AfterSaleKind.RETURN_AND_REFUND,
    1: AfterSaleKind.REFUND_ONLY,
    2: AfterSaleKind.REFUND_ONLY,
    3: AfterSaleKind.EXCHANGE,
}
# aftersale_status: 12 售后成功; 27, 28, 29 refused or failed.
AFTER_SALE_DONE = {12}
AFTER_SALE_CLOSED = {27, 28, 29}


def _name(part) -> str:
    return str((part or {}).get("name") or "").strip() if isinstance(part, dict) else ""


class DouyinConnector(PlatformConnector):
    platform = Platform.DOUYIN
    api_class = DouyinApi
    window = timedelta(days=1)
    after_sale_window = window
    page_size = PAGE_SIZE
    # order.logisticsCompanyList codes.
    carrier_codes = {
        "sf": "shunfeng",
        "zto": "zhongtong",
        "yto": "yuantong",
        "yunda": "yunda",
        "sto": "shentong",
        "jd": "jd",
        "ems": "ems",
        "jitu": "jtexpress",
    }

    @property
    def zone(self):
        return ZoneInfo(settings.TIME_ZONE)

    def _time(self, seconds) -> datetime | None:
        return datetime.fromtimestamp(int(seconds), tz=self.zone) if seconds else None

    def pull_orders(self, *, since: datetime, until: datetime, page: str = "") -> OrderPage:
        number = int(page or 0)
        data = (
            self.api.request(
                "order.searchList",
                {
                    "update_time_start": int(since.timestamp()),
                    "update_time_end": int(until.timestamp()),
                    "order_by": "update_time",
                    "order_asc": True,
                    "page": number,
                    "size": self.page_size,
                },
            )
            or {}
        )
        rows = data.get("shop_order_list") or []
        skus = self.skus_for(
            {
                str(line.get("code") or "").strip()
                for row in rows
                for line in row.get("sku_order_list") or []
            }
        )
        orders = [self._order(row, skus) for row in rows]
        total = int(data.get("total") or 0)
        more = rows and (number + 1) * self.page_size < total
        return OrderPage(orders=orders, next_page=str(number + 1) if more else None)

    def _order(self, row: dict, skus) -> PulledOrder:
        status_code = int(row.get("order_status") or 0)
        order = PulledOrder(
            external_no=str(row.get("order_id") or ""),
            status=STATUSES.get(status_code, PulledStatus.OPEN),
            platform_status=str(row.get("order_status_desc") or status_code)[:30],
            updated_at=self._time(row.get("update_time")),
        )
        if order.status not in {PulledStatus.OPEN, PulledStatus.SHIPPED}:
            return order
        address = row.get("post_addr") or {}
        if not address.get("detail") and row.get("mask_post_addr"):
            address = row["mask_post_addr"]
        street = _name(address.get("street"))
        post_amount = fen(row.get("post_amount"))
        pay_amount = row.get("pay_amount")
        lines = []
        for line in row.get("sku_order_list") or []:
            quantity = int(line.get("item_num") or 0)
            unit = fen(line.get("origin_amount"))
            lines.append((str(line.get("code") or "").strip(), quantity, unit))
        draft_or_problems(
            order,
            recipient_name=str(row.get("post_receiver") or row.get("mask_post_receiver") or ""),
            phone=str(row.get("post_tel") or row.get("mask_post_tel") or ""),
            province=_name(address.get("province")),
            city=_name(address.get("city")),
            district=_name(address.get("town")),
            address_detail=f"{street}{address.get('detail') or ''}".strip(),
            paid_at=self._time(row.get("pay_time")),
            buyer_note=str(row.get("buyer_words") or ""),
            shipping_fee=post_amount,
            goods_total=(fen(pay_amount) - post_amount) if pay_amount is not None else None,
            lines=lines,
            skus=skus,
        )
        return order

    def push_shipment(self, shipment: Shipment) -> ShipmentReceipt:
        if not shipment.parcels:
            raise PlatformRejected("A shipment needs at least one parcel.", platform=self.platform)
        if len(shipment.parcels) == 1:
            parcel = shipment.parcels[0]
            self.api.request(
                "order.logisticsAdd",
                {
                    "order_id": shipment.order_no,
                    "company_code": self.platform_carrier(parcel.carrier_code),
                    "logistics_code": parcel.waybill_number,
                },
            )
            return ShipmentReceipt(order_no=shipment.order_no, parcels=1)
        detail = self.api.request("order.orderDetail", {"shop_order_id": shipment.order_no})
        sub_orders = [
            [
                str(line.get("order_id")),
                str(line.get("code") or "").strip(),
                int(line.get("item_num") or 0),
            ]
            for line in ((detail or {}).get("shop_order_detail") or {}).get("sku_order_list") or []
        ]
        pack_list = []
        for index, parcel in enumerate(shipment.parcels, start=1):
            if not parcel.items:
                raise PlatformRejected(
                    f"Parcel {index} of order {shipment.order_no} does not say what it holds.",
                    platform=self.platform,
                )
            shipped: dict[str, int] = {}
            for code, quantity in parcel.items:
                left = quantity
                for sub in sub_orders:
                    if sub[1] == code and sub[2] > 0 and left > 0:
                        take = min(left, sub[2])
                        sub[2] -= take
                        left -= take
                        shipped[sub[0]] = shipped.get(sub[0], 0) + take
                if left:
                    raise PlatformRejected(
                        f"Order {shipment.order_no} on the platform has no {left} more of {code}.",
                        platform=self.platform,
                    )
            pack_list.append(
                {
                    "shipped_order_info": [
                        {"shipped_order_id": sub_id, "shipped_num": num}
                        for sub_id, num in shipped.items()
                    ],
                    "logistics_code": parcel.waybill_number,
                    "company_code": self.platform_carrier(parcel.carrier_code),
                }
            )
        numbers = ",".join(p.waybill_number for p in shipment.parcels)
        request_id = hashlib.sha256(f"{shipment.order_no}|{numbers}".encode()).hexdigest()[:32]
        data = (
            self.api.request(
                "order.logisticsAddMultiPack",
                {"order_id": shipment.order_no, "pack_list": pack_list, "request_id": request_id},
            )
            or {}
        )
        return ShipmentReceipt(
            order_no=shipment.order_no,
            parcels=len(pack_list),
            platform_ids=[str(p.get("pack_id", "")) for p in data.get("pack_list") or []],
        )

    def pull_after_sales(
        self, *, since: datetime, until: datetime, page: str = ""
    ) -> AfterSalePage:
        number = int(page or 0)
        data = (
            self.api.request(
                "afterSale.List",
                {
                    "update_start_time": int(since.timestamp()),
                    "update_end_time": int(until.timestamp()),
                    "order_by": ["update_time asc"],
                    "page": number,
                    "size": self.page_size,
                },
            )
            or {}
        )
        found = []
        for item in data.get("items") or []:
            info = item.get("aftersale_info") or {}
            order_info = item.get("order_info") or {}
            related = (order_info.get("related_order_info") or [{}])[0]
            kind_code = int(info.get("aftersale_type") or 0)
            status = int(info.get("aftersale_status") or 0)
            found.append(
                PulledAfterSale(
                    after_sale_id=str(info.get("aftersale_id") or ""),
                    order_no=str(order_info.get("shop_order_id") or ""),
                    kind=AFTER_SALE_KINDS.get(kind_code, AfterSaleKind.OTHER),
                    status=str(status),
                    succeeded=status in AFTER_SALE_DONE,
                    closed=status in AFTER_SALE_CLOSED,
                    refund_amount=fen(info.get("refund_amount")),
                    quantity=int(
                        info.get("aftersale_num") or related.get("aftersale_item_num") or 0
                    ),
                    merchant_code=str(related.get("shop_sku_code") or ""),
                    shipped=kind_code != 2,
                    updated_at=self._time(info.get("update_time")),
                )
            )
        more = bool(data.get("has_more"))
        return AfterSalePage(after_sales=found, next_page=str(number + 1) if more else None)

    def company_list(self) -> list[dict]:
        """The platform's carrier list: ``[{"id", "name", "code"}, …]``."""
        return list(self.api.request("order.logisticsCompanyList", {}) or [])
