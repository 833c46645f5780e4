"""Who sees what, for every page and API endpoint of the URL conf, as every role, over the
demo studio (``seed_demo``) plus a few sentinel values:

- farmers' prices and intake amounts (a lot priced at ¥7.31/kg, its amount): intake staff and
  managers only;
- farmers' payments and balances (a payment of ¥4,321.09): managers only;
- sales money (a SKU and an order line at ¥66.61): creators and managers only; a packer sees
  no money at all (no "¥" on a page, no money field in the API);
- a buyer's full phone number or street address: nowhere, for any role, but the packing
  station, the label and the import errors file (README, "Who sees what").

Pages, JSON, CSV, XLSX and PDF answers are all read (a PDF by its text), and so is every CSV
or Excel download a page links to. A URL pattern the walk cannot fill fails the test until it
gets a value or a reason to be skipped."""

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from openpyxl import load_workbook

from inventory.models import Delivery, Farmer, FarmerPayment, Lot, Sku
from orders.aftersale_files import after_sales_upload
from orders.importers.service import import_upload
from orders.models import (
    AfterSale,
    AfterSaleImport,
    Channel,
    ImportBatch,
    LiveSession,
    Order,
    OrderLine,
    TransitTime,
)
from orders.platforms.models import PlatformAccount, PlatformCall, SyncState
from shipping.models import (
    HandoverBatch,
    Parcel,
    ParcelStatus,
    Printer,
    PrintJob,
    ShipmentReport,
    Wave,
)
from shipping.shipments import shipments_export
from tests.pdf_tools import page_texts

ROLES = ["intake", "packer", "creator", "manager"]
# A superuser holds every role and opens every admin page: buyers' data stays masked there too.
USERS = {**{role: role for role in ROLES}, "superuser": "root"}
FARMER_PRICE = Decimal("7.31")
PAYMENT = Decimal("4321.09")
SALES_PRICE = Decimal("66.61")
# Where a buyer's full phone and address belong: the packing station, the label (in full, so
# a courier can deliver and call, unless the waybill comes with a privacy service), and the
# import errors file for managers.
RECIPIENT_PAGES = {
    "shipping:station",
    "shipping:parcel_label",
    "shipping:station_label",
    "shipping:label_print",
    "shipping:label_png",
    "api:parcels-label",
    "api:parcels-labels",
    "imports:errors_csv",
}
# Patterns the walk does not request, and why.
SKIPPED = {
    "password_reset_confirm": "needs a reset token; shows no data",
    "shipping:wave_labels_status": "needs a label batch task; shows counts only",
    "shipping:wave_labels_download": "a label batch's PDF: labels, where recipients belong",
    "logout": "ends the session",
    "api:docs": "the Swagger page; its schema is walked as api:schema",
    "shipping:wave_labels_resume": "a POST: draws a stopped label batch again",
    "shipping:print_job_again": "a POST: sends a print job again",
    "platforms:address_change_done": "a POST: marks an address change dealt with",
    "platforms:sync_now": "a POST: queues a platform sync run",
}
# What describes the data rather than carrying it (field names, "¥" in descriptions).
DOCUMENTATION = {"api:api-root", "api:schema"}
MONEY_KEY = re.compile(r"price|amount|sales|fee|balance|owed|payment|paid_total|goods|prepaid")
NOT_MONEY_KEY = re.compile(r"(_kg|_at|_on|_count|_url|_id|_code|_display)$|^payments_count$")


@pytest.fixture(scope="module")
def studio(django_db_setup, django_db_blocker):
    """The demo studio with sentinel values, committed for this module, flushed after it."""
    with django_db_blocker.unblock():
        call_command("seed_demo", verbosity=0)
        lot = Lot.objects.select_related("farmer").order_by("pk").first()
        Lot.objects.filter(pk=lot.pk).update(price_per_kg=FARMER_PRICE)
        lot.refresh_from_db()
        manager = get_user_model().objects.get(username="manager")
        get_user_model().objects.create_superuser("root", "root@example.cn", "x")
        FarmerPayment.objects.create(
            farmer=lot.farmer, paid_on=lot.received_at.date(), amount=PAYMENT, recorded_by=manager
        )
        line = OrderLine.objects.select_related("sku").order_by("pk").first()
        Sku.objects.filter(pk=line.sku_id).update(price=SALES_PRICE)
        OrderLine.objects.filter(pk=line.pk).update(unit_price=SALES_PRICE)
        sample = Path(settings.BASE_DIR, "docs/samples/kuaishou_orders_gb18030.csv")
        batch = import_upload(
            channel=Channel.objects.get(code="kuaishou"),
            uploaded=SimpleUploadedFile(sample.name, sample.read_bytes()),
            acting_user=manager,
        )
        # A ship-back file of the demo's handed-over parcels: its page and file are walked too.
        shipments_export(channel=Channel.objects.get(code="kuaishou"), acting_user=manager)
        # An after-sales file previewed (its page is walked), for the demo's partly refunded
        # order, whose page then lists its after-sales.
        refunded = AfterSale.objects.select_related("order__channel", "line__sku").first()
        rows = [
            "售后单号,主订单编号,商家编码,售后类型,售后状态,售后数量,退款金额,售后原因",
            f"AS-1,{refunded.order.external_no},{refunded.line.sku.merchant_code},"
            "退货退款,待商家处理,1,,坏果",
        ]
        after_sales_upload(
            channel=refunded.order.channel,
            uploaded=SimpleUploadedFile("售后.csv", "\n".join(rows).encode("utf-8")),
            layout="auto",
            mode="keep_good",
            acting_user=manager,
        )
        yield {"lot": lot, "batch": batch, "line": line, "after_sale": refunded}
        call_command("flush", verbosity=0, interactive=False)


def money(value: Decimal) -> re.Pattern:
    plain = f"{value:.2f}"
    grouped = f"{value:,.2f}"
    return re.compile(rf"(?<![\d.,])(?:{re.escape(plain)}|{re.escape(grouped)})(?!\d)")


def walk(resolver, prefix="", namespace=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern, prefix + str(pattern.pattern), pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and "format>" not in str(pattern.pattern):
            # (the API's ".json" suffix variants answer as the plain routes do)
            yield prefix + str(pattern.pattern), namespace, pattern.name


PARAM = re.compile(r"<(?:(\w+):)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def first(model, field="pk", **filters):
    """The first row's ``field``; "0" (a 404) when the demo has no such row."""
    row = model.objects.filter(**filters).order_by("pk").first()
    return str(getattr(row, field)) if row is not None else "0"


def fill(route: str, studio) -> str | None:
    """A concrete path for ``route`` from the demo data, or None when no value is known."""
    route = route.replace("^", "").replace("$", "")
    api_models = {
        "farmers": Farmer,
        "intakes": Delivery,
        "orders": Order,
        "live-sessions": LiveSession,
        "imports": ImportBatch,
        "waves": Wave,
        "parcels": Parcel,
        "farmer-payments": FarmerPayment,
        "shipment-reports": ShipmentReport,
        "printers": Printer,
        "print-jobs": PrintJob,
        "platform-calls": PlatformCall,
        "sync-states": SyncState,
        "platform-accounts": PlatformAccount,
        "transit-times": TransitTime,
        "after-sales": AfterSale,
    }
    values = {
        ("inventory/deliveries/", "pk"): lambda: str(studio["lot"].delivery_id),
        ("inventory/lots/", "code"): lambda: studio["lot"].code,
        ("inventory/statements/", "pk"): lambda: str(studio["lot"].farmer_id),
        ("orders/live/", "pk"): lambda: first(LiveSession),
        ("orders/", "pk"): lambda: str(studio["line"].order_id),
        ("imports/", "pk"): lambda: str(studio["batch"].pk),
        ("imports/after-sales/", "pk"): lambda: first(AfterSaleImport),
        ("shipping/reship/", "pk"): lambda: str(studio["after_sale"].order_id),
        ("shipping/waves/", "code"): lambda: first(Wave, "code"),
        ("shipping/parcels/", "pk"): lambda: first(Parcel),
        ("shipping/returns/", "pk"): lambda: first(Parcel, status=ParcelStatus.DELIVERED),
        ("t/", "token"): lambda: first(Parcel, "trace_token"),
        ("api/lots/", "code"): lambda: studio["lot"].code,
        ("api/farmers/", "pk"): lambda: str(studio["lot"].farmer_id),
        ("api/intakes/", "pk"): lambda: str(studio["lot"].delivery_id),
        ("api/orders/", "pk"): lambda: str(studio["line"].order_id),
        ("api/skus/", "pk"): lambda: str(studio["line"].sku_id),
        ("shipping/shipments/", "pk"): lambda: first(ShipmentReport),
        ("platforms/", "code"): lambda: "douyin",
        ("inventory/skus/", "pk"): lambda: str(studio["line"].sku_id),
        ("shipping/handover/", "code"): lambda: first(HandoverBatch, "code"),
        ("api/handovers/", "code"): lambda: first(HandoverBatch, "code"),
    }
    for name, model in api_models.items():
        values.setdefault((f"api/{name}/", "pk"), lambda model=model: first(model))
    for name in ("products", "grades", "locations", "carriers"):
        from django.apps import apps

        model = {
            "products": apps.get_model("inventory", "Product"),
            "grades": apps.get_model("inventory", "Grade"),
            "locations": apps.get_model("inventory", "Location"),
            "carriers": apps.get_model("shipping", "Carrier"),
        }[name]
        values[(f"api/{name}/", "pk")] = lambda model=model: first(model)

    def value(match):
        param = match.group(2) or match.group(3)
        head = route[: match.start()]
        for (start, name), make in sorted(values.items(), key=lambda kv: -len(kv[0][0])):
            if name == param and head.startswith(start):
                return make()
        raise LookupError(param)

    try:
        return "/" + PARAM.sub(value, route)
    except LookupError:
        return None


def admin_urls() -> list[str]:
    """The admin's list and change page of every registered model with a row."""
    from django.contrib import admin

    urls = []
    for model in admin.site._registry:
        meta = model._meta
        urls.append(f"/admin/{meta.app_label}/{meta.model_name}/")
        rows = model.objects.order_by("pk")
        if model is Order:
            rows = rows.exclude(phone__contains="*")  # one whose full phone would show
        row = rows.first()
        if row is not None:
            urls.append(f"/admin/{meta.app_label}/{meta.model_name}/{row.pk}/change/")
    return urls


def text_of(response) -> str:
    kind = response.get("Content-Type", "")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if kind.startswith("image/"):
        # Pixels hold no text to read; decoded as text, random bytes (a label's QR of a
        # random trace token) sometimes spell "¥" (C2 A5) and failed the walk by chance.
        return ""
    if "pdf" in kind:
        return "\n".join(page_texts(body))
    if kind.startswith("image/"):
        # A picture's bytes are not text: decoded as UTF-8 they can spell "¥" by chance.
        return ""
    if "spreadsheet" in kind:
        book = load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(
            "\t".join("" if v is None else str(v) for v in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    return body.decode("utf-8", errors="replace")


def json_money_keys(data, found=None) -> set[str]:
    found = set() if found is None else found
    if isinstance(data, dict):
        for key, value in data.items():
            if MONEY_KEY.search(key) and not NOT_MONEY_KEY.search(key):
                found.add(key)
            json_money_keys(value, found)
    elif isinstance(data, list):
        for value in data:
            json_money_keys(value, found)
    return found


def downloads(html: str) -> list[str]:
    return sorted(
        {
            link.replace("&amp;", "&")
            for link in re.findall(r'href="([^"]*format=(?:csv|xlsx)[^"]*)"', html)
        }
    )


@pytest.mark.django_db
def test_every_url_is_walked_or_skipped_for_a_reason(studio):
    unfilled = []
    for route, namespace, name in walk(get_resolver()):
        full = f"{namespace}:{name}" if namespace else (name or route)
        if namespace == "admin" or full in SKIPPED or name in SKIPPED:
            continue
        if PARAM.search(route) and fill(route, studio) is None:
            unfilled.append((full, route))
    assert unfilled == []


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(USERS))
def test_each_role_sees_only_what_it_needs(studio, role):
    lot = studio["lot"]
    # The demo studio weighs in 斤: its pages show the sentinel price per 斤 (¥3.655).
    per_jin = re.compile(rf"(?<![\d.,]){re.escape(str(FARMER_PRICE / 2))}(?!\d)")
    farmer_money = [money(FARMER_PRICE), money(lot.amount), per_jin]
    manager_money = [money(PAYMENT)]
    sales_money = [money(SALES_PRICE)]
    phones = set(Order.objects.exclude(phone__contains="*").values_list("phone", flat=True))
    streets = set(Order.objects.values_list("address_detail", flat=True))
    street = re.compile("|".join(re.escape(s) for s in sorted(streets, key=len, reverse=True)))
    client = Client()
    client.force_login(get_user_model().objects.get(username=USERS[role]))
    money_rules = role != "superuser"

    urls = []
    for route, namespace, name in walk(get_resolver()):
        full = f"{namespace}:{name}" if namespace else (name or "")
        if namespace == "admin" or full in SKIPPED or name in SKIPPED:
            continue
        path = fill(route, studio) if PARAM.search(route) else "/" + route.replace("^", "")
        urls.append((full, path.replace("$", "")))
    urls += [("admin", url) for url in admin_urls()]

    leaks = []
    seen = 0
    queue = list(urls)
    while queue:
        full, path = queue.pop(0)
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans")
        if response.status_code != 200:
            continue
        seen += 1
        text = text_of(response)
        if "html" in response.get("Content-Type", "") and "format=" in text:
            queue += [(full, link) for link in downloads(text) if link.startswith("/")]
        where = f"{role} {path}"
        if full not in RECIPIENT_PAGES:
            numbers = set(re.findall(r"(?<!\d)1[3-9]\d{9}(?!\d)", text)) & phones
            if numbers:
                leaks.append(f"{where}: full phone {sorted(numbers)[0]}")
            found = street.search(text)
            if found:
                leaks.append(f"{where}: street address {found.group()}")
        if not money_rules:
            continue
        if role not in {"intake", "manager"} and any(p.search(text) for p in farmer_money):
            leaks.append(f"{where}: a farmer's price or intake amount")
        if role != "manager" and any(p.search(text) for p in manager_money):
            leaks.append(f"{where}: a farmer's payment")
        if role not in {"creator", "manager"} and any(p.search(text) for p in sales_money):
            leaks.append(f"{where}: sales money")
        if role == "packer" and full not in DOCUMENTATION:
            if "¥" in text or "￥" in text:
                leaks.append(f"{where}: a ¥ amount")
            if "json" in response.get("Content-Type", ""):
                keys = json_money_keys(response.json())
                if keys:
                    leaks.append(f"{where}: money fields {sorted(keys)}")
    assert seen > 20, seen
    assert leaks == [], "\n".join(leaks)


def test_the_sentinels_would_be_found():
    assert money(Decimal("4321.09")).search("付款 ¥4,321.09 元")
    assert money(Decimal("7.31")).search('"price_per_kg":"7.31"')
    assert not money(Decimal("7.31")).search("7.310 kg")
    assert json_money_keys({"lines": [{"unit_price": "1.00", "total_kg": "2.000"}]}) == {
        "unit_price"
    }
    assert downloads('<a href="/x/?a=1&amp;format=csv">CSV</a>') == ["/x/?a=1&format=csv"]
    assert list(csv.reader(["a,b"])) == [["a", "b"]]
