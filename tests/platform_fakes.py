"""Stand-ins for the platforms, as local HTTP servers on 127.0.0.1 (a thread each, ports
18600–18799). Each checks the request signature the way its platform documents it —
independently of the code under test — and answers in the documented envelope.

``script`` makes the next requests misbehave, one entry each: ``"expired"`` (the token has
expired), ``"rate_limit"``, ``"down"`` (HTTP 503), ``"slow"`` (answers after ``slow_seconds``,
longer than the client waits). ``down_for`` answers 503 to that many requests in a row.
``calls`` records (method, params, had a valid signature) of every request.
"""

import base64
import hashlib
import hmac
import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORTS = range(18600, 18800)


class FakePlatform:
    def __init__(self):
        self.calls: list[tuple[str, dict, bool]] = []
        self.script: list[str] = []
        self.down_for = 0
        self.slow_seconds = 1.0
        self.lock = threading.Lock()
        self.server = None
        self.thread = None

    # --- server plumbing -------------------------------------------------------------------

    def start(self, ports=None):
        """Listen on a free port of ``ports`` (the module's range unless given)."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                status, answer, headers = fake.handle(self.path, body, dict(self.headers))
                payload = json.dumps(answer, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout case)

            def log_message(self, *args):
                pass

        ports = list(ports or PORTS)
        random.shuffle(ports)
        for port in ports:
            try:
                self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
                break
            except OSError:
                continue
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def methods(self) -> list[str]:
        return [method for method, _params, _signed in self.calls]

    def handle(self, path: str, body: str, headers: dict):
        method, params, signed = self.parse(path, body)
        with self.lock:
            self.calls.append((method, params, signed))
            if self.down_for > 0:
                self.down_for -= 1
                return 503, {"message": "Service Unavailable"}, {}
            step = self.script.pop(0) if self.script else ""
        if step == "slow":
            time.sleep(self.slow_seconds)
        if step == "down":
            return 503, {"message": "Service Unavailable"}, {}
        if not signed:
            return 200, self.bad_signature(), {}
        if step == "expired" or (step == "" and self.token_is_stale(method, params)):
            return 200, self.expired(), {}
        if step == "rate_limit":
            return 200, self.rate_limited(), {}
        return 200, self.answer(method, params), {}


# --- 抖店 -------------------------------------------------------------------------------------


class FakeDouyin(FakePlatform):
    """op.jinritemai.com as its SDK documents it."""

    def __init__(
        self,
        *,
        app_key="7123456789012345678",
        app_secret="dy-secret",
        access_token="dy-token-1",
        refresh_token="dy-refresh-1",
    ):
        super().__init__()
        self.app_key = app_key
        self.app_secret = app_secret
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.orders: list[dict] = []
        self.after_sales: list[dict] = []
        self.shipped: list[dict] = []
        self.waybills: dict[str, dict] = {}
        self.cancelled: list[str] = []
        self.next_waybill = 75000000000001
        self.privacy_label = True

    def parse(self, path, body):
        url = urlparse(path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        method = query.get("method", "")
        # The string to sign, built here from the documentation, not from the code under test.
        text = (
            f"{self.app_secret}app_key{query.get('app_key')}method{method}param_json{body}"
            f"timestamp{query.get('timestamp')}v{query.get('v')}{self.app_secret}"
        )
        if query.get("sign_method") == "md5":
            expected = hashlib.md5(text.encode()).hexdigest()
        else:
            expected = hmac.new(self.app_secret.encode(), text.encode(), hashlib.sha256).hexdigest()
        signed = (
            query.get("sign") == expected
            and query.get("app_key") == self.app_key
            and url.path == "/" + method.replace(".", "/")
        )
        params = json.loads(body or "{}")
        params["_access_token"] = query.get("access_token", "")
        # param_json must be canonical: sorted keys, compact, unescaped.
        params["_canonical"] = body == json.dumps(
            json.loads(body or "{}"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return method, params, signed

    def token_is_stale(self, method, params):
        return method != "token.refresh" and params["_access_token"] != self.access_token

    def envelope(self, data=None, code=10000, msg="success", sub_code="", sub_msg=""):
        return {
            "code": code,
            "msg": msg,
            "sub_code": sub_code,
            "sub_msg": sub_msg,
            "log_id": f"2026{len(self.calls):010d}",
            "data": data,
        }

    def bad_signature(self):
        return self.envelope(None, 40003, "非法的参数", "isv.signature-invalid", "签名校验失败")

    def expired(self):
        return self.envelope(
            None, 40003, "非法的参数", "isv.access-token-expired", "access_token已过期"
        )

    def rate_limited(self):
        return self.envelope(None, 60000, "触发限流，请稍后重试")

    def answer(self, method, params):
        if method == "token.refresh":
            if params.get("refresh_token") != self.refresh_token:
                return self.envelope(
                    None,
                    50001,
                    "平台处理失败",
                    "dop.token-generate-failed:token-invalid",
                    "token不存在",
                )
            self.access_token = self.access_token[:-1] + str(int(self.access_token[-1]) + 1)
            self.refresh_token = self.refresh_token + "x"
            return self.envelope(
                {
                    "access_token": self.access_token,
                    "expires_in": 604800,
                    "refresh_token": self.refresh_token,
                    "shop_id": 1,
                }
            )
        if method == "order.searchList":
            start, end = params["update_time_start"], params["update_time_end"]
            rows = [o for o in self.orders if start <= o["update_time"] <= end]
            rows.sort(key=lambda o: o["update_time"])
            page, size = params["page"], params["size"]
            return self.envelope(
                {
                    "page": page,
                    "size": size,
                    "total": len(rows),
                    "shop_order_list": rows[page * size : (page + 1) * size],
                }
            )
        if method == "order.orderDetail":
            order = next(o for o in self.orders if o["order_id"] == params["shop_order_id"])
            return self.envelope({"shop_order_detail": order})
        if method == "order.logisticsAdd":
            self.shipped.append(
                {
                    "order_id": params["order_id"],
                    "packs": [
                        {
                            "company_code": params["company_code"],
                            "logistics_code": params["logistics_code"],
                        }
                    ],
                }
            )
            return self.envelope({})
        if method == "order.logisticsAddMultiPack":
            self.shipped.append(
                {
                    "order_id": params["order_id"],
                    "packs": params["pack_list"],
                    "request_id": params.get("request_id"),
                }
            )
            return self.envelope(
                {
                    "pack_list": [
                        {"pack_id": f"P{index}", "logistics_code": pack["logistics_code"]}
                        for index, pack in enumerate(params["pack_list"], start=1)
                    ]
                }
            )
        if method == "afterSale.List":
            start, end = params["update_start_time"], params["update_end_time"]
            rows = [
                a for a in self.after_sales if start <= a["aftersale_info"]["update_time"] <= end
            ]
            page, size = params["page"], params["size"]
            chunk = rows[page * size : (page + 1) * size]
            return self.envelope(
                {
                    "items": chunk,
                    "has_more": (page + 1) * size < len(rows),
                    "total": len(rows),
                    "page": page,
                }
            )
        if method == "order.logisticsCompanyList":
            return self.envelope(
                [
                    {"id": 7, "name": "中通快递", "code": "zhongtong"},
                    {"id": 12, "name": "顺丰速运", "code": "shunfeng"},
                ]
            )
        if method == "logistics.newCreateOrder":
            info = params["order_infos"][0]
            receiver = info["receiver_info"]
            if not receiver["address"].get("detail_address") or not params.get(
                "sender_info", {}
            ).get("address", {}).get("province_name"):
                return self.envelope(
                    {
                        "ebill_infos": [],
                        "err_infos": [
                            {
                                "order_id": info["order_id"],
                                "err_code": "1001",
                                "err_msg": "地址不全",
                            }
                        ],
                    }
                )
            number = str(self.next_waybill)
            self.next_waybill += 1
            self.waybills[number] = {
                "order_id": info["order_id"],
                "pack_id": info.get("pack_id", ""),
            }
            return self.envelope(
                {
                    "ebill_infos": [
                        {
                            "order_id": info["order_id"],
                            "pack_id": info.get("pack_id", ""),
                            "track_no": number,
                            "sort_code": "351-W12 08",
                            "company": params["logistics_code"],
                            "short_address_code": "351",
                            "short_address_name": "陕西汉中",
                            "package_center_code": "029",
                            "package_center_name": "西安转运中心",
                        }
                    ],
                    "err_infos": [],
                }
            )
        if method == "logistics.cancelOrder":
            number = params["track_no"]
            ok = number in self.waybills and number not in self.cancelled
            if ok:
                self.cancelled.append(number)
            return self.envelope({"cancel_result": {"success": ok}})
        return self.envelope(None, 70000, "接口服务已下线", "isp.api-service-off")


def douyin_order(
    order_id: str,
    *,
    code="QB-MT",
    quantity=1,
    status=2,
    update_time=0,
    province="陕西省",
    city="汉中市",
    town="留坝县",
    detail="朱家坪村3组",
    receiver="王小明",
    tel="13800001234",
    more_lines=(),
) -> dict:
    """One shop order in the documented order.searchList shape (amounts in fen)."""
    lines = [(code, quantity), *more_lines]
    return {
        "order_id": order_id,
        "order_status": status,
        "order_status_desc": {2: "备货中", 3: "已发货", 4: "已取消", 1: "待支付"}.get(status, ""),
        "pay_time": update_time - 60,
        "create_time": update_time - 120,
        "update_time": update_time,
        "buyer_words": "",
        "post_amount": 0,
        "pay_amount": sum(3990 * q for _c, q in lines),
        "post_receiver": receiver,
        "post_tel": tel,
        "post_addr": {
            "province": {"name": province, "id": "61"},
            "city": {"name": city, "id": "6107"},
            "town": {"name": town, "id": "610729"},
            "street": {"name": "", "id": ""},
            "detail": detail,
        },
        "sku_order_list": [
            {
                "order_id": f"{order_id}-{index}",
                "parent_order_id": order_id,
                "code": c,
                "item_num": q,
                "origin_amount": 3990,
                "sum_amount": 3990 * q,
                "product_name": "蜜桃",
            }
            for index, (c, q) in enumerate(lines, start=1)
        ],
    }


# --- 快手 -------------------------------------------------------------------------------------


class FakeKuaishou(FakePlatform):
    """openapi.kwaixiaodian.com as API调用说明 and APP授权说明 describe it."""

    def __init__(
        self,
        *,
        app_key="ks7000000000000001",
        app_secret="ks-app-secret",
        sign_secret="ks-sign-secret",
        access_token="ks-token-1",
        refresh_token="ks-refresh-1",
    ):
        super().__init__()
        self.app_key = app_key
        self.app_secret = app_secret
        self.sign_secret = sign_secret
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.orders: list[dict] = []
        self.refunds: list[dict] = []
        self.delivered: list[dict] = []

    def parse(self, path, body):
        url = urlparse(path)
        form = {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}
        if url.path == "/oauth2/refresh_token":
            signed = (
                form.get("app_id") == self.app_key and form.get("app_secret") == self.app_secret
            )
            return "oauth2.refresh_token", form, signed
        method = form.get("method", "")
        unsigned = {key: value for key, value in form.items() if key != "sign"}
        text = "&".join(f"{key}={unsigned[key]}" for key in sorted(unsigned))
        text += f"&signSecret={self.sign_secret}"
        if form.get("signMethod") == "MD5":
            expected = hashlib.md5(text.encode()).hexdigest()
        else:
            expected = base64.b64encode(
                hmac.new(self.sign_secret.encode(), text.encode(), hashlib.sha256).digest()
            ).decode()
        signed = (
            form.get("sign") == expected
            and form.get("appkey") == self.app_key
            and url.path == "/" + method.replace(".", "/")
            and form.get("version") == "1"
        )
        params = json.loads(form.get("param") or "{}")
        params["_access_token"] = form.get("access_token", "")
        return method, params, signed

    def token_is_stale(self, method, params):
        return method != "oauth2.refresh_token" and params["_access_token"] != self.access_token

    def bad_signature(self):
        return {"result": 1004, "error_msg": "验签失败"}

    def expired(self):
        return {"result": 100200102, "error": "access_denied", "error_msg": "token已过期"}

    def rate_limited(self):
        return {
            "result": 1017,
            "error_msg": "Exceed qps limit, KEY [apiId:open.order.cursor."
            "list;appkey:ks7000000000000001], MAX_QPS [300.0]",
        }

    def ok(self, data):
        return {
            "result": 1,
            "error_msg": "SUCCESS",
            "requestId": f"ks{len(self.calls):08d}",
            "data": data,
        }

    def answer(self, method, params):
        if method == "oauth2.refresh_token":
            if params.get("refresh_token") != self.refresh_token:
                return {
                    "result": 100200102,
                    "error": "access_denied",
                    "error_msg": "refreshToken.discarded",
                }
            self.access_token = self.access_token[:-1] + str(int(self.access_token[-1]) + 1)
            self.refresh_token += "x"  # a refresh token is good once
            return {
                "result": 1,
                "access_token": self.access_token,
                "expires_in": 172800,
                "refresh_token": self.refresh_token,
                "refresh_token_expires_in": 15552000,
                "scopes": ["merchant_order"],
            }
        if method == "open.order.cursor.list":
            start, end = params["beginTime"], params["endTime"]
            rows = [o for o in self.orders if start <= o["orderBaseInfo"]["updateTime"] <= end]
            rows.sort(key=lambda o: o["orderBaseInfo"]["updateTime"])
            offset = int(params["cursor"] or 0)
            size = params["pageSize"]
            chunk = rows[offset : offset + size]
            cursor = str(offset + size) if offset + size < len(rows) else "nomore"
            return self.ok({"cursor": cursor, "orderList": chunk})
        if method == "open.seller.order.goods.deliver":
            self.delivered.append(
                {
                    "orderId": params["orderId"],
                    "expressNo": params["expressNo"],
                    "expressCode": params["expressCode"],
                }
            )
            return self.ok(None)
        if method == "open.seller.order.goods.logistics.append":
            if not any(d["orderId"] == params["oid"] for d in self.delivered):
                return {"result": 801, "error_msg": "订单未发货，不能追加包裹"}
            self.delivered.append(
                {
                    "orderId": params["oid"],
                    "expressNo": params["expressNo"],
                    "expressCode": params["expressCode"],
                }
            )
            return self.ok(None)
        if method == "open.seller.order.refund.pcursor.list":
            start, end = params["beginTime"], params["endTime"]
            rows = [r for r in self.refunds if start <= r["updateTime"] <= end]
            offset = int(params["pcursor"] or 0)
            chunk = rows[offset : offset + params["pageSize"]]
            more = offset + params["pageSize"] < len(rows)
            return self.ok(
                {
                    "pcursor": str(offset + params["pageSize"]) if more else "nomore",
                    "refundOrderInfoList": chunk,
                }
            )
        return {"result": 404, "error_msg": "API不存在"}


def kuaishou_order(
    oid: int,
    *,
    sku_nick="QB-MT",
    num=1,
    status=30,
    update_ms=0,
    mobile="13900005678",
    address="朱家坪村5组",
) -> dict:
    """One order in the documented open.order.cursor.list shape (amounts in fen)."""
    return {
        "orderBaseInfo": {
            "oid": oid,
            "status": status,
            "payTime": update_ms - 60000,
            "createTime": update_ms - 120000,
            "updateTime": update_ms,
            "totalFee": 3990 * num,
            "expressFee": 0,
            "remark": "轻拿轻放",
        },
        "orderItemInfo": {
            "skuId": 1,
            "relSkuId": 2,
            "skuNick": sku_nick,
            "num": num,
            "price": 3990,
            "originalPrice": 4990,
            "itemTitle": "蜜桃",
        },
        "orderAddress": {
            "consignee": "李四",
            "mobile": mobile,
            "province": "陕西省",
            "city": "汉中市",
            "district": "留坝县",
            "town": "火烧店镇",
            "address": address,
        },
    }
