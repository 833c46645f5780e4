"""The morning after a big livestream, driven over HTTP as the studio's people would drive it.

Before the day: everyone signs in (tokens for the scripts and stations, a session for the
printer's pages) and the carriers' waybill numbers are loaded. The day, from the upload of the
export to the last label, in stages one after the other:

1. import: the manager uploads the export (the preview), commits it ("import the good rows")
   and follows the import to its end — its task writes the orders, then allocates them;
2. bad rows: read back, as JSON and as the errors CSV;
3. waves: waves of ``wave_size`` allocated orders, oldest payment first, until none is left;
4. pick lists: every wave's pick list PDF (drawn in the request: there is no task for it);
5. pack + labels: a few orders packed by one packer alone (the latency without a queue), then
   every other order of every wave by all the packers at once, each taking the next order
   (so no order is packed twice; now and then one is scanned again after packing and the
   409 is expected), while the printer prints each wave's labels as soon as the wave is
   packed (a batch over the in-request limit goes to the task worker: the printer follows
   the task's page and downloads the PDF) and counts the pages.

The creators refresh the dashboard from the upload to the last label. Nothing here reads the
database: the caller checks the result afterwards (``checks``). Every request is recorded
(``Recorder``); any 5xx, any status the simulated person did not expect and any broken
connection counts as an error.
"""

import http.client
import queue
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from bench.peakday.export import PeakExport
from bench.peakday.studio import Studio
from bench.peakday.web import Recorder, Unexpected, Web

PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
LABEL_STATE = re.compile(rb'class="state (\w+)"')
TASK_PATH = re.compile(r"/shipping/labels/batch/([^/]+)/$")
# What a simulated person survives (it is recorded as an error) and goes on after.
FAILED_CALLS = (Unexpected, OSError, http.client.HTTPException)
# A packing station needs the new parcel's number and label, not its whole representation.
BRIEF = {"Prefer": "return=minimal"}
WAYBILL_FORMATS = {"zto": "7{:011d}", "sf": "SF{:012d}", "yto": "YT{:013d}", "jitu": "JT{:013d}"}


def pdf_pages(data: bytes) -> int:
    """Pages of a PDF as ReportLab writes it (one page object each, not compressed away)."""
    if not data.startswith(b"%PDF"):
        return 0
    return len(PDF_PAGE.findall(data))


@dataclass
class DayConfig:
    packers: int = 20
    creators: int = 10
    wave_size: int = 500
    carriers: tuple[str, ...] = ("zto", "sf")
    # Each creator refreshes the dashboard every ``dashboard_pause`` seconds from the upload
    # of the export to the last label, at most ``dashboard_refreshes`` times.
    dashboard_refreshes: int = 500
    dashboard_pause: float = 5.0
    # A packer's pause between two orders (0: the next order at once).
    pack_pause: float = 0.0
    # Orders packed by one packer alone before the others start (latency without a queue).
    solo_packs: int = 30
    # Every n-th order a packer scans again after it was packed: a 409, expected (0: never).
    double_scan_every: int = 250
    # The day stops (and fails) after this many seconds.
    time_limit: float = 900.0
    poll: float = 0.5


@dataclass
class LabelBatch:
    wave: str
    parcels: int
    pages: int
    in_request: bool
    seconds: float  # from the printer's request to the downloaded PDF
    size: int


@dataclass
class DayResult:
    recorder: Recorder
    stages: dict[str, float] = field(default_factory=dict)
    import_status: dict = field(default_factory=dict)
    preview: dict = field(default_factory=dict)
    error_rows: dict[int, set[str]] = field(default_factory=dict)  # row -> columns named
    errors_csv_rows: int = 0
    waves: list[dict] = field(default_factory=list)
    picklist_pages: int = 0
    picklist_bytes: int = 0
    label_batches: list[LabelBatch] = field(default_factory=list)
    packed: int = 0
    double_scans: int = 0
    dashboard_path: str = ""
    dashboard_fallback: bool = False
    failures: list[str] = field(default_factory=list)  # what stopped a stage, if anything
    seconds: float = 0.0

    @property
    def labels(self) -> int:
        return sum(batch.pages for batch in self.label_batches)


class Day:
    def __init__(
        self,
        base_url: str,
        export: PeakExport,
        studio: Studio,
        config: DayConfig,
        *,
        on_stage: Callable[[str], None] | None = None,
    ):
        self.base_url = base_url
        self.export = export
        self.studio = studio
        self.config = config
        self.result = DayResult(Recorder())
        self.on_stage = on_stage or (lambda name: None)
        self.deadline = 0.0
        self.stop = threading.Event()
        self.thread_failures: list[str] = []
        self.webs: list[Web] = []
        self.day_started: float | None = None

    # --- helpers --------------------------------------------------------------------------

    def web(self) -> Web:
        web = Web(self.base_url, self.result.recorder)
        self.webs.append(web)
        return web

    @contextmanager
    def stage(self, name: str):
        """Time a stage, and tell the caller where it starts (``on_stage``)."""
        self.on_stage(name)
        started = time.perf_counter()
        try:
            yield
        finally:
            self.result.stages[name] = time.perf_counter() - started

    def check_time(self) -> None:
        if time.perf_counter() > self.deadline:
            self.stop.set()
            raise TimeoutError(f"the day took longer than {self.config.time_limit:.0f} s")

    def sleep(self, seconds: float) -> None:
        self.check_time()
        time.sleep(seconds)

    # --- the day --------------------------------------------------------------------------

    def run(self) -> DayResult:
        started = time.perf_counter()
        self.deadline = started + self.config.time_limit
        watching = None
        try:
            with self.stage("sign in"):
                self.sign_in()
            with self.stage("waybill numbers"):
                self.load_waybills()
            # The day proper: from the upload of the export to the last label.
            self.day_started = time.perf_counter()
            self.dashboard_probe()
            watching = self.watch_dashboards()
            self._run()
        except Exception as exc:  # noqa: BLE001 - the day failed: say why, then check it
            self.result.failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            self.stop.set()
            if watching is not None:
                for thread in watching:
                    thread.join()
            for web in self.webs:  # the server's threads then let their connections go
                web.close()
            self.result.seconds = time.perf_counter() - (self.day_started or started)
            self.on_stage("end")
        self.result.failures.extend(self.thread_failures[:5])
        return self.result

    def _run(self) -> None:
        with self.stage("import: upload + preview"):
            batch = self.upload()
        with self.stage("import: check + write"):
            self.commit(batch)
            status = self.follow_import(batch, until_phase="allocate")
        with self.stage("import: allocate"):
            if not status["finished"]:
                self.follow_import(batch)
        with self.stage("import: bad rows"):
            self.read_errors(batch)
        with self.stage("waves"):
            self.make_waves()
        with self.stage("pick lists"):
            self.print_pick_lists()
        with self.stage("pack + labels"):
            self.pack_and_print()

    def sign_in(self) -> None:
        s, c = self.studio, self.config
        self.manager = self.web()
        self.lead = self.web()  # the packer who makes the waves and prints
        self.printer = self.web()
        self.packers = [self.web() for _ in range(c.packers)]
        self.creators = [self.web() for _ in range(c.creators)]
        jobs = [
            (self.manager.sign_in_token, s.manager),
            (self.lead.sign_in_token, s.packers[0]),
            (self.printer.sign_in_session, s.packers[0]),
        ]
        jobs += [(web.sign_in_token, s.packers[i]) for i, web in enumerate(self.packers)]
        jobs += [(web.sign_in_token, s.creators[i]) for i, web in enumerate(self.creators)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            for future in [pool.submit(sign_in, name, s.password) for sign_in, name in jobs]:
                future.result()

    def load_waybills(self) -> None:
        carriers = self.config.carriers
        per_carrier = len(self.export.good) // len(carriers) + self.config.wave_size + 10
        for code in carriers:
            numbers = [WAYBILL_FORMATS[code].format(10**9 + n) for n in range(per_carrier)]
            reply = self.manager.call(
                "POST",
                "/api/waybill-pools/",
                label="waybill pool import",
                json={"carrier": code, "numbers": numbers},
                expect=(201,),
            )
            assert reply.json()["added"] == per_carrier, reply.json()

    def upload(self) -> int:
        export = self.export
        reply = self.manager.call(
            "POST",
            "/api/imports/",
            label="import upload",
            form={"channel": "kuaishou"},
            files={"file": (export.file_name, export.data, "text/csv")},
            expect=(201,),
        )
        body = reply.json()
        self.result.preview = body["import"]
        assert not body["needs_mapping"], body
        return body["import"]["id"]

    def commit(self, batch: int) -> None:
        self.manager.call(
            "POST",
            f"/api/imports/{batch}/commit/",
            label="import commit",
            json={"mode": "keep_good"},
            expect=(200, 202),
        )

    def follow_import(self, batch: int, until_phase: str | None = None) -> dict:
        while True:
            status = self.manager.call(
                "GET", f"/api/imports/{batch}/", label="import status"
            ).json()
            self.result.import_status = status
            if status["finished"] or (until_phase and status["phase"] == until_phase):
                return status
            self.sleep(self.config.poll)

    def read_errors(self, batch: int) -> None:
        path = f"/api/imports/{batch}/errors/"
        while path:
            body = self.manager.call("GET", path, label="import errors").json()
            for error in body["results"]:
                self.result.error_rows.setdefault(error["row_number"], set()).add(error["column"])
            path = body["next"]
            if path:
                path = path[path.index("/api/") :]
        reply = self.manager.call("GET", f"/api/imports/{batch}/errors-csv/", label="import errors")
        lines = reply.body.decode("utf-8-sig").splitlines()
        self.result.errors_csv_rows = max(0, len(lines) - 1)

    def make_waves(self) -> None:
        carriers = self.config.carriers
        while True:
            self.check_time()
            reply = self.lead.call(
                "POST",
                "/api/waves/",
                label="wave create",
                json={
                    "live_session": self.studio.live_session_id,
                    "limit": self.config.wave_size,
                    "carrier": carriers[len(self.result.waves) % len(carriers)],
                },
                expect=(201,),
                allow=(400,),
            )
            if reply.status == 400:  # no allocated order is left for a wave
                break
            self.result.waves.append(reply.json())

    def print_pick_lists(self) -> None:
        for wave in self.result.waves:
            self.check_time()
            reply = self.printer.call(
                "GET", f"/shipping/waves/{wave['code']}/picklist.pdf", label="pick list pdf"
            )
            pages = pdf_pages(reply.body)
            assert pages >= 1, f"pick list of {wave['code']} is not a PDF"
            self.result.picklist_pages += pages
            self.result.picklist_bytes += len(reply.body)

    # --- packing, the dashboard and the labels, all at once --------------------------------

    def pack_and_print(self) -> None:
        work: queue.SimpleQueue = queue.SimpleQueue()
        left = {}
        for wave in self.result.waves:
            left[wave["code"]] = len(wave["orders"])
            for order in wave["orders"]:
                work.put((wave["code"], wave["carrier"], order["order"], order["external_no"]))
        self.left = left
        self.packed_in = dict.fromkeys(left, 0)
        self.left_lock = threading.Lock()
        self.printable: queue.SimpleQueue = queue.SimpleQueue()
        self.work = work
        # First a few orders packed by one packer alone: what a pack costs without a queue.
        for _ in range(self.config.solo_packs):
            try:
                item = work.get_nowait()
            except queue.Empty:
                break
            self.check_time()
            self.pack(self.packers[0], item, "pack (one packer alone)")
        threads = [
            threading.Thread(target=self.guard(self.packer, web), name=f"packer-{i}")
            for i, web in enumerate(self.packers)
        ]
        threads.append(
            threading.Thread(target=self.guard(self.print_labels, len(left)), name="printer")
        )
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def watch_dashboards(self) -> list[threading.Thread]:
        """The creators refresh the dashboard from the upload to the last label."""
        threads = [
            threading.Thread(target=self.guard(self.creator, web), name=f"creator-{i}")
            for i, web in enumerate(self.creators)
        ]
        for thread in threads:
            thread.start()
        return threads

    def guard(self, target, *args):
        def run():
            try:
                target(*args)
            except Exception as exc:  # noqa: BLE001 - recorded, and the day fails
                self.thread_failures.append(f"{threading.current_thread().name}: {exc!r}")
                self.stop.set()

        return run

    def dashboard_probe(self) -> None:
        path = f"/api/dashboard/?live_session={self.studio.live_session_id}"
        reply = self.creators[0].call("GET", path, label="dashboard", allow=(404,))
        if reply.status == 404:
            # The dashboard API is not there (yet): creators follow the orders list instead.
            self.result.dashboard_fallback = True
            path = f"/api/orders/?live_session={self.studio.live_session_id}"
        self.result.dashboard_path = path

    def weight(self, external_no: str) -> Decimal:
        order = self.export.good[external_no]
        unit = self.studio.unit_weight
        return sum((unit[code] * quantity for code, quantity in order.lines), Decimal(0))

    def packer(self, web: Web) -> None:
        while not self.stop.is_set():
            self.check_time()
            try:
                item = self.work.get_nowait()
            except queue.Empty:
                return
            self.pack(web, item, "pack")
            if self.config.pack_pause:
                time.sleep(self.config.pack_pause)

    def pack(self, web: Web, item: tuple, label: str) -> None:
        """Pack one order. A refusal or a broken connection is recorded (an error) and the
        packer goes on with the next order, as at a real station."""
        wave, carrier, order_id, external_no = item
        body = {
            "order": str(order_id),
            "carrier": carrier,
            "weight_kg": str(self.weight(external_no)),
        }
        try:
            web.call(
                "POST", "/api/parcels/pack/", label=label, json=body, expect=(201,), headers=BRIEF
            )
            packed = True
        except FAILED_CALLS:
            packed = False
        every = self.config.double_scan_every
        with self.left_lock:
            if packed:
                self.result.packed += 1
                self.packed_in[wave] += 1
            double = packed and every and self.result.packed % every == 0
            self.left[wave] -= 1
            if self.left[wave] == 0:
                self.printable.put(wave)
        if double:
            # The same order scanned again at the station: the API refuses it (409).
            try:
                reply = web.call(
                    "POST",
                    "/api/parcels/pack/",
                    label="pack (scanned again)",
                    json=body,
                    expect=(409,),
                    headers=BRIEF,
                )
            except FAILED_CALLS:
                return
            if b"not_packable" not in reply.body:
                self.thread_failures.append(f"scanned again: {reply.body[:200]!r}")
            with self.left_lock:
                self.result.double_scans += 1
            web.recorder.expected_conflict("pack (scanned again)")

    def creator(self, web: Web) -> None:
        # Spread the creators over the first pause, as people do not refresh in step.
        index = self.creators.index(web)
        if self.stop.wait(self.config.dashboard_pause * index / len(self.creators)):
            return
        for _ in range(self.config.dashboard_refreshes):
            web.call("GET", self.result.dashboard_path, label="dashboard")
            if self.stop.wait(self.config.dashboard_pause):
                return

    def print_labels(self, waves: int) -> None:
        web = self.printer
        for _ in range(waves):
            while True:
                self.check_time()
                try:
                    code = self.printable.get(timeout=self.config.poll)
                    break
                except queue.Empty:
                    if self.stop.is_set():
                        return
            if not self.packed_in[code]:
                continue  # nothing of this wave was packed: no label to print
            try:
                self.print_wave(web, code)
            except (*FAILED_CALLS, AssertionError) as exc:
                # Recorded; the printer goes on with the next wave.
                self.thread_failures.append(f"labels of {code}: {exc}")

    def print_wave(self, web: Web, code: str) -> None:
        started = time.perf_counter()
        reply = web.call(
            "POST",
            "/shipping/labels/batch/",
            label="label batch",
            form={"wave": code, "csrfmiddlewaretoken": web.cookies.get("csrftoken", "")},
            expect=(200, 302),
        )
        parcels = self.packed_in[code]
        if reply.status == 200:  # small enough to be drawn in the request
            pdf, in_request = reply.body, True
        else:
            status_path = reply.headers["location"]
            status_path = status_path[status_path.index("/shipping/") :]
            assert TASK_PATH.search(status_path), status_path
            while True:
                page = web.call("GET", status_path, label="label batch status")
                state = LABEL_STATE.search(page.body)
                assert state, "the label batch page shows no state"
                if state.group(1) == b"done":
                    break
                assert state.group(1) in {b"queued", b"running"}, f"label batch {state.group(1)}"
                self.sleep(self.config.poll)
            pdf = web.call("GET", status_path + "pdf", label="label batch pdf").body
            in_request = False
        pages = pdf_pages(pdf)
        self.result.label_batches.append(
            LabelBatch(code, parcels, pages, in_request, time.perf_counter() - started, len(pdf))
        )
        assert pages == parcels, f"wave {code}: {pages} label pages for {parcels} parcels"
