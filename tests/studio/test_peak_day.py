"""The peak day, small: a few hundred orders end to end over HTTP against a live server, with a
real task worker (``manage.py db_worker`` in its own process, on the test database), driven by
the same code as ``bench/peak_day.py`` (``bench/peakday``). The export is imported through the
task (the in-request limit is lowered so that it is), allocated, put into waves, its pick lists
printed, every order packed by four packers while two creators refresh the dashboard, and
every wave's labels printed through the label task. Then the same checks as the benchmark:
nothing oversold, ``check_stock`` clean, every good order allocated (or further) or
back-ordered, every bad row reported, a label for every parcel, no 5xx."""

import pytest

from bench.peakday.checks import check_day, task_runs
from bench.peakday.day import Day, DayConfig
from bench.peakday.export import peak_export
from bench.peakday.studio import create_studio
from shipping import tasks as shipping_tasks
from tests.workers import task_worker

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_peak_day_end_to_end(live_server, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Small numbers, but the big day's paths: the import and the label batches go to the
    # task worker instead of running in the request.
    settings.ORDER_IMPORT_INLINE_ROWS = 50
    monkeypatch.setattr(shipping_tasks, "IN_REQUEST_LIMIT", 20)
    export = peak_export(240, bad_rows=12, closed_orders=3)
    studio = create_studio(export, packers=4, creators=2, password="peak-day-test")
    config = DayConfig(
        packers=4,
        creators=2,
        wave_size=70,
        dashboard_pause=0.5,
        double_scan_every=40,
        time_limit=120,
        poll=0.2,
    )

    log = tmp_path / "worker.log"
    with task_worker(settings.MEDIA_ROOT, log) as worker:
        result = Day(live_server.url, export, studio, config).run()
        assert worker.poll() is None, log.read_text(errors="replace")[-2000:]

    checks = check_day(export, result)
    assert checks.ok, "\n".join(checks.problems)
    # The import ran as a task and found exactly the rows the export spoiled.
    runs = task_runs()
    assert runs["import_orders_file"].count == 1
    assert result.import_status["created"] == len(export.good)
    assert len(export.bad_rows) == 12
    assert result.import_status["invalid"] == export.expected_invalid_rows >= 12
    assert result.import_status["skipped"] == 3
    # Stock for about 90 % of the demand: most orders allocated, some back-ordered.
    assert checks.statuses["packed"] > len(export.good) * 0.7
    assert checks.statuses["backordered"] > 0
    # Every wave's labels came out, through the label task where the wave was large enough.
    assert runs["print_label_batch"].count == sum(
        1 for batch in result.label_batches if not batch.in_request
    )
    assert runs["print_label_batch"].count >= 3
    assert runs["print_label_batch"].failed == 0
    assert result.labels == result.packed == checks.statuses["packed"]
    assert result.picklist_pages >= len(result.waves) >= 3
    assert result.double_scans >= 1
    assert not result.dashboard_fallback
    assert result.recorder.count("dashboard") >= 2
