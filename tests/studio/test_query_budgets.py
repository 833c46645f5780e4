"""Every list page and list endpoint costs a fixed number of queries, whatever the rows.

Each case builds a few rows (``FEW``), counts the queries of one request, builds many more
(``MORE``, with their related rows: lines, allocations, parcels, events), counts again, and
both counts must equal the case's budget, written here as a number: an N+1 added later, or a
query added to every request, fails here and names the page.

To add a list: write a builder ``build(scene, rows) -> url kwargs`` that adds ``rows`` rows
(or makes a new parent with ``rows`` children, for a page about one parent), and add a
``Case`` to ``PAGES`` or ``ENDPOINTS`` with the budget the first run reports.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.regions import provinces
from inventory.models import Lot
from inventory.services import IntakeRow, farmer_payment_record, intake_record, lot_write_off
from orders.importers import service as import_service
from orders.models import (
    AfterSale,
    AfterSaleKind,
    AfterSaleState,
    Channel,
    CircuitBreaker,
    ImportMode,
    ImportRowError,
    LiveSession,
    OrderAddressChange,
    PlatformCall,
    TransitTime,
)
from orders.platforms.services import (
    platform_account_save,
    sync_state_failure,
    sync_state_for,
)
from orders.services import order_allocate
from shipping.models import (
    Carrier,
    ParcelStatus,
    Printer,
    PrintJob,
    PrintJobParcel,
    ReturnDisposition,
    TrackingEvent,
)
from shipping.services import (
    ReturnRow,
    handover_batch_close,
    handover_batch_start,
    handover_scan,
    parcel_pack,
    parcel_return,
    parcel_transition,
    wave_create,
    waybill_pool_import,
)
from shipping.shipments import shipments_export
from tests.data.make_fixtures import HERE as DATA_DIR
from tests.factories import (
    FarmerFactory,
    GradeFactory,
    LocationFactory,
    ProductFactory,
    SkuFactory,
    UserFactory,
    receive,
)
from tests.shipping.builders import (
    allocated_order,
    carrier,
    new_order,
    staff,
    stocked_sku,
)

pytestmark = pytest.mark.django_db

FEW, MORE = 2, 12
_serial = count(1)


@dataclass
class Scene:
    """What a builder works with: the logged-in client (a handover batch is started through
    its page) and a place to keep rows between the two calls."""

    client: object
    kept: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    url_name: str
    role: str
    build: Callable[[Scene, int], dict]
    budget: int
    rows: Callable[[object], int]
    query: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.url_name.replace(":", "-")


def _n() -> int:
    return next(_serial)


def _manager():
    return staff("manager")


# --- what a response shows -------------------------------------------------------------------


def page_rows(response) -> int:
    return len(response.context["page"].object_list)


def context_rows(name: str) -> Callable[[object], int]:
    return lambda response: len(response.context[name])


def api_rows(response) -> int:
    return len(response.json()["results"])


def api_nested(name: str) -> Callable[[object], int]:
    return lambda response: len(response.json()[name])


# --- builders: inventory ---------------------------------------------------------------------


def _grade(index: int):
    return GradeFactory(name=f"等级{index}", rank=index)


def _stocked_lots(scene: Scene, rows: int) -> dict:
    """Lots of two products from different farmers, near expiry, some kilograms reserved."""
    peach = scene.kept.setdefault("peach", stocked_sku("QB-MT", kg="0"))
    chestnut = scene.kept.setdefault(
        "chestnut",
        stocked_sku("QB-BL", kg="0", product=ProductFactory(name="板栗", shelf_life_days=60)),
    )
    old = timezone.localdate() - timedelta(days=6)
    for index in range(rows):
        sku = peach if index % 2 else chestnut
        receive(
            kg="20", product=sku.product, grade=sku.grade, farmer=FarmerFactory(), harvest_date=old
        )
    allocated_order((peach, 1))
    return {}


def _deliveries(scene: Scene, rows: int) -> dict:
    """Deliveries of two lots (two grades) each."""
    grades = [_grade(1), _grade(2)]
    for _ in range(rows):
        intake_record(
            farmer=FarmerFactory(),
            product=ProductFactory(),
            rows=[
                IntakeRow(grade=g, gross_kg=Decimal("30"), price_per_kg=Decimal("6"))
                for g in grades
            ],
            harvest_date=timezone.localdate(),
            location=LocationFactory(),
            acting_user=staff("intake"),
        )
    return {}


def _delivery_of(scene: Scene, rows: int) -> dict:
    """One delivery of ``rows`` lots (one per grade)."""
    delivery = intake_record(
        farmer=FarmerFactory(),
        product=ProductFactory(),
        rows=[
            IntakeRow(grade=_grade(i), gross_kg=Decimal("30"), price_per_kg=Decimal("6"))
            for i in range(rows)
        ],
        harvest_date=timezone.localdate(),
        location=LocationFactory(),
        acting_user=staff("intake"),
    )
    return {"pk": delivery.pk}


def _lot_with_movements(rows: int) -> Lot:
    """A lot whose ledger has ``rows`` rows, written by different people."""
    lot = receive(kg="500")
    users = [staff("intake"), _manager()]
    for index in range(rows - 1):
        lot_write_off(lot=lot, kg=Decimal("1"), reason="烂果", acting_user=users[index % 2])
    return lot


def _lot_ledger(scene: Scene, rows: int) -> dict:
    return {"code": _lot_with_movements(rows).code}


def _farmers(scene: Scene, rows: int) -> dict:
    FarmerFactory.create_batch(rows)
    return {}


def _products(scene: Scene, rows: int) -> dict:
    for _ in range(rows):
        ProductFactory(name=f"山货{_n()}")
    return {}


def _grades(scene: Scene, rows: int) -> dict:
    for _ in range(rows):
        _grade(_n())
    return {}


def _locations(scene: Scene, rows: int) -> dict:
    for _ in range(rows):
        LocationFactory(code=f"L{_n()}")
    return {}


def _skus(scene: Scene, rows: int) -> dict:
    for _ in range(rows):
        n = _n()
        SkuFactory(product=ProductFactory(name=f"山货{n}"), grade=_grade(n))
    return {}


def _farmer_payments(scene: Scene, rows: int) -> dict:
    """Payments to different farmers, each recorded by another manager."""
    for _ in range(rows):
        farmer_payment_record(
            farmer=FarmerFactory(),
            paid_on=timezone.localdate(),
            amount=Decimal("50"),
            method="cash",
            acting_user=UserFactory(username=f"cashier{_n()}", roles=["manager"]),
        )
    return {}


# --- builders: orders ------------------------------------------------------------------------


def _session(title: str = "") -> LiveSession:
    start = timezone.now() - timedelta(days=1, hours=_n())
    return LiveSession.objects.create(
        channel=Channel.objects.get(code="kuaishou"),
        title=title or f"直播{_n()}",
        host="阿秀",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
    )


def _two_skus(scene: Scene):
    if "skus" not in scene.kept:
        scene.kept["skus"] = [stocked_sku("QO-MT", kg="1000"), stocked_sku("QO-BL", kg="1000")]
    return scene.kept["skus"]


def _orders(scene: Scene, rows: int) -> dict:
    """Allocated orders of two lines each, in a live session."""
    session = scene.kept.setdefault("session", _session())
    first, second = _two_skus(scene)
    for _ in range(rows):
        order = allocated_order((first, 1), (second, 2))
        order.live_session = session
        order.save(update_fields=["live_session"])
    return {}


def _order_of(scene: Scene, rows: int) -> dict:
    """One order of ``rows`` lines, each line's kilograms reserved from two lots."""
    skus = []
    for _ in range(rows):
        sku = stocked_sku(f"QD{_n()}", kg="3", product=ProductFactory(), grade=_grade(_n()))
        receive(kg="3", product=sku.product, grade=sku.grade)
        skus.append(sku)
    order = allocated_order(*((sku, 2) for sku in skus))
    return {"pk": order.pk}


def _sessions(scene: Scene, rows: int) -> dict:
    """Live sessions with an order each."""
    first, _second = _two_skus(scene)
    for _ in range(rows):
        order = allocated_order((first, 1))
        order.live_session = _session()
        order.save(update_fields=["live_session"])
    return {}


def _session_with_orders(scene: Scene, rows: int) -> dict:
    session = _session()
    first, second = _two_skus(scene)
    for _ in range(rows):
        order = allocated_order((first, 1), (second, 1))
        order.live_session = session
        order.save(update_fields=["live_session"])
    return {"pk": session.pk}


def _expired_lots(scene: Scene, rows: int) -> dict:
    """Lots past their expiry date with stock left (the write-off list)."""
    for _ in range(rows):
        lot = receive(kg="5", farmer=FarmerFactory())
        Lot.objects.filter(pk=lot.pk).update(expiry_date=timezone.localdate() - timedelta(days=1))
    return {}


def _transit_rows(scene: Scene, rows: int) -> dict:
    """Rows of the transit table, a province each."""
    names = [region.name for region in provinces()]
    for _ in range(rows):
        TransitTime.objects.create(province=names[TransitTime.objects.count()], days=3)
    return {}


def _channels(scene: Scene, rows: int) -> dict:
    for _ in range(rows):
        n = _n()
        Channel.objects.create(code=f"shop{n}", name=f"小店{n}")
    return {}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _upload(name: str = "bad_rows_gb18030.csv"):
    return import_service.import_upload(
        channel=Channel.objects.get(code="kuaishou"),
        uploaded=SimpleUploadedFile(name, (DATA_DIR / name).read_bytes()),
        acting_user=UserFactory(username=f"importer{_n()}", roles=["manager"]),
    )


def _imports(scene: Scene, rows: int) -> dict:
    """Uploaded exports, each by another manager."""
    for _ in range(rows):
        _upload()
    return {}


def _import_with_errors(scene: Scene, rows: int) -> dict:
    """A finished import with ``rows`` bad rows."""
    batch = import_service.import_commit(
        batch=_upload(), mode=ImportMode.KEEP_GOOD, acting_user=_manager()
    )
    batch.errors.all().delete()
    ImportRowError.objects.bulk_create(
        ImportRowError(batch=batch, row_number=i + 2, column="手机", reason="bad", raw={"a": i})
        for i in range(rows)
    )
    return {"pk": batch.pk}


# --- builders: shipping ----------------------------------------------------------------------


def _pack(order, *, number: str | None = None):
    return parcel_pack(
        order=order,
        carrier=carrier("sf"),
        weight_kg=Decimal("2.8"),
        tracking_number=number or f"SF{_n():012d}",
        weight_reason="builder: any weight",
        acting_user=staff("packer"),
    ).parcel


def _waves(scene: Scene, rows: int) -> dict:
    """Waves of two orders each, one of them packed."""
    first, _second = _two_skus(scene)
    for _ in range(rows):
        orders = [allocated_order((first, 1)) for _ in range(2)]
        wave_create(orders=orders, acting_user=staff(), carrier=carrier("sf"))
        _pack(orders[0])
    return {}


def _wave_of(scene: Scene, rows: int) -> dict:
    """A wave of ``rows`` orders of two lines, every other one packed."""
    first, second = _two_skus(scene)
    orders = [allocated_order((first, 1), (second, 1)) for _ in range(rows)]
    wave = wave_create(orders=orders, acting_user=staff(), carrier=carrier("sf"))
    for order in orders[::2]:
        _pack(order)
    scene.kept["wave_id"] = wave.pk
    return {"code": wave.code}


def _wave_by_id(scene: Scene, rows: int) -> dict:
    _wave_of(scene, rows)
    return {"pk": scene.kept["wave_id"]}


def _parcels(scene: Scene, rows: int) -> dict:
    """Parcels packed from orders of a wave, each shipped with a tracking event."""
    first, _second = _two_skus(scene)
    orders = [allocated_order((first, 1)) for _ in range(rows)]
    wave_create(orders=orders, acting_user=staff(), carrier=carrier("sf"))
    for order in orders:
        parcel_transition(
            parcel=_pack(order), to=ParcelStatus.SHIPPED, source=TrackingEvent.Source.SCAN
        )
    return {}


def _handover(scene: Scene, rows: int) -> dict:
    """``rows`` more parcels scanned out in one handover batch."""
    client = scene.client
    if not scene.kept.get("handover"):
        response = client.post(reverse("shipping:handover"), {"carrier": carrier("sf").pk})
        scene.kept["handover"] = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    code = scene.kept["handover"]
    first, _second = _two_skus(scene)
    for _ in range(rows):
        parcel = _pack(allocated_order((first, 1)))
        response = client.post(
            reverse("shipping:handover_scan", args=[code]),
            {"tracking_number": parcel.tracking_number},
        )
        assert response.status_code == 302
    return {"code": code}


def _handover_batches(scene: Scene, rows: int) -> dict:
    """``rows`` more handover batches, each with a parcel; every other one closed."""
    first, _second = _two_skus(scene)
    for index in range(rows):
        batch = handover_batch_start(carrier=carrier("sf"), acting_user=_manager())
        parcel = _pack(allocated_order((first, 1)))
        handover_scan(tracking_number=parcel.tracking_number, batch=batch, acting_user=_manager())
        if index % 2:
            handover_batch_close(batch=batch, acting_user=_manager())
    return {}


def _returned_parcel(scene: Scene, rows: int) -> dict:
    """A delivered parcel of ``rows`` items, the first one partly returned already."""
    skus = []
    for _ in range(rows):
        skus.append(stocked_sku(f"QR{_n()}", kg="10", product=ProductFactory(), grade=_grade(_n())))
    order = new_order(*((sku, 1) for sku in skus))
    assert order_allocate(order=order, acting_user=_manager())
    parcel = _pack(order)
    for status in (ParcelStatus.SHIPPED, ParcelStatus.DELIVERED):
        parcel = parcel_transition(parcel=parcel, to=status, source=TrackingEvent.Source.SCAN)
    item = parcel.items.order_by("id").first()
    parcel_return(
        parcel=parcel,
        rows=[ReturnRow(item=item, kg=Decimal("1"), disposition=ReturnDisposition.RESTOCK)],
        acting_user=staff("intake"),
    )
    return {"pk": parcel.pk}


def _carriers(scene: Scene, rows: int) -> dict:
    for _ in range(rows):
        n = _n()
        Carrier.objects.create(code=f"c{n}", name=f"快递{n}", tracking_pattern=r"\d{12}")
    return {}


def _waybill_pools(scene: Scene, rows: int) -> dict:
    """Carriers with waybill numbers."""
    for _ in range(rows):
        n = _n()
        waybill_pool_import(
            carrier=Carrier.objects.create(
                code=f"w{n}", name=f"快递{n}", tracking_pattern=r"W\d{12}"
            ),
            numbers=[f"W{n:06d}{i:06d}" for i in range(3)],
            file_name="waybills.txt",
            acting_user=_manager(),
        )
    return {}


# --- builders: platforms ---------------------------------------------------------------------


def _platform_channels(scene: Scene, rows: int) -> dict:
    """Channels with a platform account, an order sync state that failed, and a breaker; one
    address change waiting per channel."""
    for _ in range(rows):
        n = _n()
        channel = Channel.objects.create(code=f"dy{n}", name=f"抖店{n}")
        platform_account_save(
            channel=channel,
            platform="douyin",
            app_key=f"71{n:017d}",
            secrets={"app_secret": "s", "access_token": "t"},
            acting_user=_manager(),
        )
        state = sync_state_for(channel, "orders")
        sync_state_failure(state=state, error=Exception("HTTP 503"))
        CircuitBreaker.objects.create(key=f"platform:{channel.code}", state="open")
    order = scene.kept.setdefault("address_order", allocated_order())
    OrderAddressChange.objects.create(
        order=order,
        status="attention",
        recipient_name="李四",
        phone="13912345678",
        province="陕西省",
        address_detail="x",
        previous_address="y",
        order_status="packed",
    )
    return {}


def _platform_calls(scene: Scene, rows: int) -> dict:
    channel, _created = Channel.objects.get_or_create(code="douyin", defaults={"name": "抖音"})
    PlatformCall.objects.bulk_create(
        [
            PlatformCall(
                platform="douyin",
                channel=channel,
                method="order.searchList",
                http_status=200,
                outcome="ok",
                request_id=f"r{_n()}",
            )
            for _ in range(rows)
        ]
    )
    return {}


def _shipment_reports(scene: Scene, rows: int) -> dict:
    """``rows`` more ship-back files, each of one handed-over parcel of its own order."""
    first, _second = _two_skus(scene)
    channel = Channel.objects.get(code="kuaishou")
    for _ in range(rows):
        parcel = _pack(allocated_order((first, 1)))
        handover_scan(tracking_number=parcel.tracking_number, acting_user=_manager())
        shipments_export(channel=channel, acting_user=_manager())
    return {}


def _printers(scene: Scene, rows: int) -> dict:
    for _ in range(rows):
        n = _n()
        Printer.objects.create(name=f"打包台 {n}", host=f"192.168.1.{n % 250 + 1}")
    return {}


def _print_jobs(scene: Scene, rows: int) -> dict:
    """Print jobs of two labels each, on printers of their own, half of them of a wave and
    failed (as the queue shows them: printer, wave, who)."""
    first, _second = _two_skus(scene)
    for index in range(rows):
        n = _n()
        printer = Printer.objects.create(name=f"队列 {n}", cups_queue=f"q{n}")
        orders = [allocated_order((first, 1)) for _ in range(2)]
        wave = wave_create(orders=orders, acting_user=staff()) if index % 2 else None
        parcels = [_pack(order) for order in orders]
        job = PrintJob.objects.create(
            printer=printer,
            wave=wave,
            label_count=2,
            state="failed" if wave else "sent",
            error="打印机没有响应" if wave else "",
            created_by=staff("packer"),
        )
        PrintJobParcel.objects.bulk_create(
            PrintJobParcel(job=job, parcel=parcel, position=i) for i, parcel in enumerate(parcels)
        )
    return {}


def _after_sales(scene: Scene, rows: int) -> dict:
    """After-sales by line, each of an order of its own (as the list shows them: order,
    channel, merchant code)."""
    first, _second = _two_skus(scene)
    for _ in range(rows):
        order = allocated_order((first, 1))
        AfterSale.objects.create(
            order=order,
            line=order.lines.get(),
            kind=AfterSaleKind.REFUND_ONLY,
            state=AfterSaleState.REQUESTED,
            kg=Decimal("1.000"),
            platform_refund_id=f"RF{_n()}",
        )
    return {}


# --- the table -------------------------------------------------------------------------------

PAGES = [
    Case("inventory:stock", "packer", _stocked_lots, 9, page_rows),
    # +1 on the intake desk and a delivery: the studio's weight unit (斤 or kg)
    Case("inventory:intake", "intake", _deliveries, 12, context_rows("recent")),
    Case("inventory:delivery", "intake", _delivery_of, 6, context_rows("lots")),
    Case("inventory:lot", "intake", _lot_ledger, 7, context_rows("movements")),
    Case("orders:list", "packer", _orders, 8, page_rows),
    Case("orders:detail", "manager", _order_of, 8, context_rows("lines")),
    Case("orders:live_list", "creator", _sessions, 5, page_rows),
    Case("orders:live_detail", "creator", _session_with_orders, 7, page_rows),
    Case("imports:list", "manager", _imports, 5, page_rows),
    Case("imports:result", "manager", _import_with_errors, 6, context_rows("errors")),
    Case("shipping:wave_list", "creator", _waves, 5, page_rows),
    # + the expired lots the wave's orders hold (the pick list's refusal)
    Case("shipping:wave_detail", "packer", _wave_of, 9, context_rows("orders")),
    Case("shipping:handover_batch", "packer", _handover, 7, context_rows("parcels")),
    Case("shipping:handover", "packer", _handover_batches, 8, context_rows("open_batches")),
    Case("shipping:return_parcel", "intake", _returned_parcel, 7, context_rows("rows")),
    Case("platforms:list", "manager", _platform_channels, 8, context_rows("rows")),
    Case("platforms:calls", "manager", _platform_calls, 6, page_rows),
    Case("shipping:shipments", "packer", _shipment_reports, 7, page_rows),
    Case("shipping:print_jobs", "packer", _print_jobs, 8, page_rows),
]

ENDPOINTS = [
    Case("api:farmers-list", "intake", _farmers, 5, api_rows),
    Case("api:products-list", "intake", _products, 5, api_rows),
    Case("api:grades-list", "intake", _grades, 5, api_rows),
    Case("api:locations-list", "intake", _locations, 5, api_rows),
    Case("api:skus-list", "intake", _skus, 6, api_rows),  # +1: gift boxes' components
    Case("api:lots-list", "packer", _stocked_lots, 5, api_rows),
    Case("api:lots-movements", "packer", _lot_ledger, 6, api_rows),
    Case("api:intakes-list", "intake", _deliveries, 6, api_rows),
    Case("api:farmer-payments-list", "manager", _farmer_payments, 5, api_rows),
    Case("api:intakes-detail", "intake", _delivery_of, 5, api_nested("lots")),
    Case("api:orders-list", "packer", _orders, 6, api_rows),
    Case("api:orders-detail", "packer", _order_of, 7, api_nested("lines")),
    Case("api:live-sessions-list", "creator", _sessions, 5, api_rows),
    Case("api:channels-list", "creator", _channels, 5, api_rows),
    Case("api:transit-times-list", "creator", _transit_rows, 5, api_rows),
    Case("api:lots-expired", "manager", _expired_lots, 5, api_rows),
    Case("api:imports-list", "manager", _imports, 5, api_rows),
    Case("api:imports-errors", "manager", _import_with_errors, 6, api_rows),
    Case("api:carriers-list", "creator", _carriers, 5, api_rows),
    Case("api:waybill-pools-list", "creator", _waybill_pools, 4, lambda r: len(r.json())),
    Case("api:waves-list", "creator", _waves, 5, api_rows),
    Case("api:waves-detail", "creator", _wave_by_id, 5, api_nested("orders")),
    Case("api:parcels-list", "creator", _parcels, 5, api_rows),
    Case("api:parcels-detail", "packer", _returned_parcel, 7, api_nested("items")),
    Case("api:platform-calls-list", "manager", _platform_calls, 5, api_rows),
    Case("api:sync-states-list", "manager", _platform_channels, 5, api_rows),
    Case("api:platform-accounts-list", "manager", _platform_channels, 5, api_rows),
    Case("api:shipment-reports-list", "packer", _shipment_reports, 5, api_rows),
    Case("api:printers-list", "packer", _printers, 5, api_rows),
    Case("api:print-jobs-list", "packer", _print_jobs, 5, api_rows),
    Case("api:after-sales-list", "manager", _after_sales, 5, api_rows),
    Case("api:handovers-list", "packer", _handover_batches, 5, api_rows),
]

# List endpoints whose query budget is tested in another file: URL name -> that test.
TESTED_ELSEWHERE: dict[str, str] = {}


def _measure(client, case: Case, kwargs: dict) -> tuple[list[str], int]:
    """The SQL of one request to the case's URL, and how many rows the answer shows."""
    url = reverse(case.url_name, kwargs=kwargs)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, case.query)
    assert response.status_code == 200, (url, response.content[:500])
    return [query["sql"] for query in queries], case.rows(response)


def _budget_check(client_for, case: Case) -> None:
    client = client_for(case.role)
    scene = Scene(client)
    kwargs = case.build(scene, FEW)
    client.get(reverse(case.url_name, kwargs=kwargs))  # sessions, content types: warmed alike
    few, few_rows = _measure(client, case, kwargs)
    kwargs = case.build(scene, MORE)
    many, many_rows = _measure(client, case, kwargs)

    assert few_rows < many_rows, "the second request must show more rows"
    assert (len(few), len(many)) == (case.budget, case.budget), "\n".join(
        [f"{case.url_name}: {len(few)} then {len(many)} queries, budget {case.budget}:", *many]
    )


@pytest.mark.parametrize("case", PAGES, ids=lambda case: case.id)
def test_list_page_costs_a_fixed_number_of_queries(client_for, case):
    _budget_check(client_for, case)


@pytest.mark.parametrize("case", ENDPOINTS, ids=lambda case: case.id)
def test_list_endpoint_costs_a_fixed_number_of_queries(client_for, case):
    _budget_check(client_for, case)
