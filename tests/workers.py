"""Real task workers for tests: ``manage.py db_worker`` in its own process, on the test
database, as production runs it beside the web server."""

import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]


def worker_env(media_root: Path, **extra: str) -> dict[str, str]:
    """The environment of a worker on the test database, with ``extra`` settings."""
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
        f"{db['NAME']}",
        DJANGO_SETTINGS_MODULE="studio.settings",
        MEDIA_ROOT=str(media_root),
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def start_worker(media_root: Path, log: Path, **extra: str) -> subprocess.Popen:
    """A worker that polls every 0.1 s; its output is appended to ``log``."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"]
            + ["--interval", "0.1", "-v", "0"],
            cwd=ROOT,
            env=worker_env(media_root, **extra),
            stdout=out,
            stderr=out,
        )


def stop_worker(worker: subprocess.Popen) -> None:
    """SIGTERM (the worker finishes its task), SIGKILL after 30 s."""
    if worker.poll() is not None:
        return
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


@contextmanager
def task_worker(media_root: Path, log: Path, **extra: str):
    worker = start_worker(media_root, log, **extra)
    try:
        yield worker
    finally:
        stop_worker(worker)
