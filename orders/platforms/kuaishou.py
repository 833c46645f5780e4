"""快手电商开放平台 (open.kwaixiaodian.com).

Follows the platform's documents:

- API调用说明 (pageSign 8cca5d25…): ``POST {base}/{method with / for .}``, form-encoded, with
  ``appkey``, ``method``, ``version=1``, ``param`` (the business parameters as JSON),
  ``access_token``, ``timestamp`` (milliseconds), ``signMethod`` and ``sign``;
- the signature: every parameter but ``sign`` as ``key=value`` sorted by key, joined with
  ``&``, then ``&signSecret=<signSecret>``; ``MD5`` gives lower-case hex, ``HMAC_SHA256``
  (keyed with the signSecret) gives Base64 (the document's Java ``HMACSHA256SignUtils``);
- the envelope ``{"result", "error_msg", "data"}``, ``result`` 1 is success;
- APP授权说明 (pageSign e1d9e229…): ``POST /oauth2/refresh_token`` with ``grant_type``,
  ``refresh_token``, ``app_id``, ``app_secret``; a refresh token is used once; result
  100200102 ``access_denied`` for any token error, 100200500 ``server_error``;
- K0006 (``result`` 24 ``AUTHORIZATION_REVOKED``), K1008 (``Exceed qps limit`` /
  ``Exceed quota limit``: rate limits), API限流说明;
- ``open.order.cursor.list`` (≤ 7 days a query, ≤ 50 a page, ``cursor`` until ``nomore``),
  ``open.seller.order.goods.deliver``, ``open.seller.order.goods.logistics.append`` (a further
  parcel of a shipped order), ``open.seller.order.refund.pcursor.list`` (≤ 1 day a query,
  ``pcursor``), 物流公司编号 (``expressCode``).
"""

import base64
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

SUCCESS = 1
REFRESH = "oauth2.refresh_token"
ORDER_PAGE = 50
REFUND_PAGE = 100
NO_MORE = "nomore"
SIGN_METHODS = {SignMethod.HMAC_SHA256: "HMAC_SHA256", SignMethod.MD5: "MD5"}


def kuaishou_sign(params: dict[str, str], *, sign_secret: str, sign_method: str) -> str:
    text = "&".join(f"{key}={params[key]}" for key in sorted(params) if params[key] is not None)
    text += f"&signSecret={sign_secret}"
    if sign_method == "MD5":
        return hashlib.md5(text.encode()).hexdigest()
    digest = hmac.new(sign_secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class KuaishouApi(PlatformApi):
    platform = Platform.KUAISHOU

    def build(self, method: str, params: dict, access_token: str) -> httpx.Request:
        if method == REFRESH:
            return self.http.build_request(
                "POST",
                f"{self.account.api_base_url}/oauth2/refresh_token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": str(self.account.secret("refresh_token")),
                    "app_id": self.account.app_key,
                    "app_secret": str(self.account.secret("app_secret")),
                },
            )
        fields = {
            "access_token": str(access_token),
            "appkey": self.account.app_key,
            "method": method,
            "param": json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
            "signMethod": SIGN_METHODS[self.account.sign_method],
            "timestamp": str(int(self.now().timestamp() * 1000)),
            "version": "1",
        }
        fields["sign"] = kuaishou_sign(
            fields,
            sign_secret=str(self.account.secret("sign_secret")),
            sign_method=fields["signMethod"],
        )
        return self.http.build_request(
            "POST", f"{self.account.api_base_url}/{method.replace('.', '/')}", data=fields
        )

    def read(self, method: str, response: httpx.Response, answer: Answer):
        body = self.json_or_bad(method, response)
        result = body.get("result")
        answer.code = str(result)
        answer.request_id = str(
            body.get("requestId")
            or body.get("request_id")
            or response.headers.get("x-request-id", "")
        )
        if result == SUCCESS:
            return body if method == REFRESH else body.get("data")
        message = str(body.get("error_msg") or body.get("error") or result)
        lowered = message.lower()
        kwargs = {"method": method, "code": answer.code}
        if result == 24 or "authorization_revoked" in lowered:
            raise self.error(AuthRevoked, message, **kwargs)
        if result == 100200102:
            if method == REFRESH or "refreshtoken" in lowered:
                raise self.error(AuthRevoked, message, **kwargs)
            raise self.error(TokenExpired, message, **kwargs)
        if "exceed qps limit" in lowered:
            raise self.error(RateLimited, message, retry_after=1.0, **kwargs)
        if "exceed quota limit" in lowered:
            # A day's quota is spent: wait an hour before trying again.
            raise self.error(RateLimited, message, retry_after=3600.0, **kwargs)
        if result == 100200500:
            raise self.error(PlatformUnavailable, message, **kwargs)
        if "验签失败" in message or "签名" in message or "sign" in lowered:
            raise self.error(SignatureRejected, message, **kwargs)
        raise self.error(PlatformRejected, message, **kwargs)

    def refresh_tokens(self) -> None:
        stale = self.account.secret("access_token")
        if not self.account.secret("refresh_token"):
            raise self.error(
                AuthRevoked, "No refresh token: authorise the shop again.", method=REFRESH
            )
        data = self.request(REFRESH, {}, authorised=False)
        platform_tokens_save(
            account=self.account,
            stale_access_token=stale,
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token", ""),
            expires_in=data.get("expires_in"),
        )


# orderBaseInfo.status: 10 待付款, 30 已付款, 40 已发货, 50 已签收, 70 交易成功, 80 交易失败.
STATUSES = {
    10: (PulledStatus.UNPAID, "待付款"),
    30: (PulledStatus.OPEN, "已付款"),
    40: (PulledStatus.SHIPPED, "已发货"),
    50: (PulledStatus.SHIPPED, "已签收"),
    70: (PulledStatus.SHIPPED, "交易成功"),
    80: (PulledStatus.CLOSED, "交易失败"),
}
# Refund list: handlingWay 1 退货退款, 10 仅退款, 3 换货; refundType 1 售中 (before
# shipping), 2 售后; status 60 退款成功, 70 退款关闭.
HANDLING = {
    1: AfterSaleKind.RETURN_AND_REFUND,
    10: AfterSaleKind.REFUND_ONLY,
    3: AfterSaleKind.EXCHANGE,
}


class KuaishouConnector(PlatformConnector):
    platform = Platform.KUAISHOU
    api_class = KuaishouApi
    window = timedelta(days=7)
    after_sale_window = timedelta(days=1)
    page_size = ORDER_PAGE
    # 物流公司编号 (expressCode).
    carrier_codes = {
        "sf": "4",
        "zto": "9",
        "yto": "6",
        "yunda": "11",
        "sto": "3",
        "jd": "14",
        "ems": "2",
        "jitu": "109",
    }

    @property
    def zone(self):
        return ZoneInfo(settings.TIME_ZONE)

    def _time(self, millis) -> datetime | None:
        return datetime.fromtimestamp(int(millis) / 1000, tz=self.zone) if millis else None

    def pull_orders(self, *, since: datetime, until: datetime, page: str = "") -> OrderPage:
        data = (
            self.api.request(
                "open.order.cursor.list",
                {
                    "orderViewStatus": 1,
                    "pageSize": self.page_size,
                    "sort": 2,
                    "queryType": 2,
                    "beginTime": int(since.timestamp() * 1000),
                    "endTime": int(until.timestamp() * 1000),
                    "cpsType": 0,
                    "cursor": page,
                },
            )
            or {}
        )
        rows = data.get("orderList") or []
        skus = self.skus_for(
            {str((row.get("orderItemInfo") or {}).get("skuNick") or "").strip() for row in rows}
        )
        orders = [self._order(row, skus) for row in rows]
        cursor = str(data.get("cursor") or "")
        done = not rows or not cursor or cursor == NO_MORE or cursor == page
        return OrderPage(orders=orders, next_page=None if done else cursor)

    def _order(self, row: dict, skus) -> PulledOrder:
        base = row.get("orderBaseInfo") or {}
        item = row.get("orderItemInfo") or {}
        address = row.get("orderAddress") or {}
        status, words = STATUSES.get(int(base.get("status") or 0), (PulledStatus.OPEN, ""))
        order = PulledOrder(
            external_no=str(base.get("oid") or ""),
            status=status,
            platform_status=words or str(base.get("status") or ""),
            updated_at=self._time(base.get("updateTime")),
        )
        if status not in {PulledStatus.OPEN, PulledStatus.SHIPPED}:
            return order
        fee = fen(base.get("expressFee"))
        total = base.get("totalFee")
        detail = address.get("address") or address.get("desensitiseAddress") or ""
        draft_or_problems(
            order,
            recipient_name=str(
                address.get("consignee") or address.get("desensitiseConsignee") or ""
            ),
            phone=str(address.get("mobile") or address.get("desensitiseMobile") or ""),
            province=str(address.get("province") or ""),
            city=str(address.get("city") or ""),
            district=str(address.get("district") or ""),
            address_detail=f"{address.get('town') or ''}{detail}".strip(),
            paid_at=self._time(base.get("payTime")),
            buyer_note=str(base.get("remark") or ""),
            shipping_fee=fee,
            goods_total=(fen(total) - fee) if total is not None else None,
            lines=[
                (
                    str(item.get("skuNick") or "").strip(),
                    int(item.get("num") or 0),
                    fen(item.get("price")),
                )
            ],
            skus=skus,
        )
        return order

    def push_shipment(self, shipment: Shipment) -> ShipmentReceipt:
        if not shipment.parcels:
            raise PlatformRejected("A shipment needs at least one parcel.", platform=self.platform)
        order_id = int(shipment.order_no)
        first, *more = shipment.parcels
        self.api.request(
            "open.seller.order.goods.deliver",
            {
                "orderId": order_id,
                "expressNo": first.waybill_number,
                "expressCode": int(self.platform_carrier(first.carrier_code)),
            },
        )
        for parcel in more:
            self.api.request(
                "open.seller.order.goods.logistics.append",
                {
                    "oid": order_id,
                    "expressNo": parcel.waybill_number,
                    "expressCode": int(self.platform_carrier(parcel.carrier_code)),
                },
            )
        return ShipmentReceipt(order_no=shipment.order_no, parcels=len(shipment.parcels))

    def pull_after_sales(
        self, *, since: datetime, until: datetime, page: str = ""
    ) -> AfterSalePage:
        data = (
            self.api.request(
                "open.seller.order.refund.pcursor.list",
                {
                    "beginTime": int(since.timestamp() * 1000),
                    "endTime": int(until.timestamp() * 1000),
                    "type": 9,
                    "pageSize": REFUND_PAGE,
                    "currentPage": 1,
                    "sort": 2,
                    "queryType": 2,
                    "pcursor": page,
                },
            )
            or {}
        )
        rows = data.get("refundOrderInfoList") or []
        found = [
            PulledAfterSale(
                after_sale_id=str(row.get("refundId") or ""),
                order_no=str(row.get("oid") or ""),
                kind=HANDLING.get(int(row.get("handlingWay") or 0), AfterSaleKind.OTHER),
                status=str(row.get("status") or ""),
                succeeded=int(row.get("status") or 0) == 60,
                closed=int(row.get("status") or 0) == 70,
                refund_amount=fen(row.get("refundFee")),
                quantity=int(row.get("num") or row.get("refundNum") or 1),
                merchant_code=str(row.get("skuNick") or ""),
                shipped=int(row.get("refundType") or 0) == 2,
                updated_at=self._time(row.get("updateTime")),
            )
            for row in rows
        ]
        cursor = str(data.get("pcursor") or "")
        done = not rows or not cursor or cursor == NO_MORE or cursor == page
        return AfterSalePage(after_sales=found, next_page=None if done else cursor)
