"""gunicorn settings for Shanhuo's web processes (``./serve`` passes this file with ``-c``).

HOST, PORT          where to listen (default 127.0.0.1:8000: behind a reverse proxy)
WEB_CONCURRENCY     worker processes (default 2: about one per core)
WEB_THREADS         threads per worker (default 1: sync workers; more switches to gthread)
WEB_TIMEOUT         seconds a request may take before its worker is restarted (default 120)
WEB_MAX_REQUESTS    requests a worker serves before it is replaced (default 1000, ±10 %)
WEB_PRELOAD         load the app once in the master, before forking the workers (default true)

Requests are logged by gunicorn's access logger, one JSON line each (``studio/logging.py``):
method, path, status, duration in milliseconds, bytes; no query string, no client address.
"""

import gc
import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from studio.logging import logging_config  # noqa: E402  (needs BASE_DIR on the path)


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _bind(host: str, port: int) -> str:
    if ":" in host and not host.startswith("["):  # an IPv6 address
        host = f"[{host}]"
    return f"{host}:{port}"


wsgi_app = "studio.wsgi:application"
chdir = str(BASE_DIR)
bind = [_bind(os.environ.get("HOST", "").strip() or "127.0.0.1", _int("PORT", 8000))]

workers = max(1, _int("WEB_CONCURRENCY", 2))
threads = max(1, _int("WEB_THREADS", 1))
worker_class = "gthread" if threads > 1 else "sync"

# The longest request: a batch of up to 1,000 labels from the API (shipping.api labels,
# MAX_BATCH) or 200 from the batch page renders in the request at about 450 labels/s on one
# core, so 2–3 s; the same 5,000 labels would take about 11 s, and an order export's preview
# (20 MB, 100,000 lines) about 5 s. 120 s leaves room for a machine busy with other work.
# Larger label batches and big imports run in the task worker, which has no timeout.
timeout = _int("WEB_TIMEOUT", 120)
graceful_timeout = 30
keepalive = 5

# Replace each worker now and then, so slow memory growth (ReportLab keeps every page of a
# PDF until it is saved) never accumulates; the jitter keeps workers from restarting together.
max_requests = _int("WEB_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10

# Import Django and the app once in the master: workers start in a fraction of a second
# (also when max_requests replaces them) and share the imported code's memory. Nothing opens
# a database connection at import time, so no connection is shared across the fork.
preload_app = os.environ.get("WEB_PRELOAD", "true").strip().lower() in {"1", "true", "yes", "on"}


def when_ready(server):
    """Load in the master what each worker would otherwise load on its first requests: every
    view module (pandas, ReportLab, DRF: about 90 MB), the PDF fonts (about 45 MB) and both
    translation catalogues. The workers share those pages instead of each holding its own
    copy, and answer their first request as fast as the next."""
    if not server.cfg.preload_app:
        return
    from django.conf import settings
    from django.db import connections
    from django.urls import get_resolver
    from django.utils import translation

    from core.pdf import cjk_font_name

    get_resolver().url_patterns  # noqa: B018  (imports every URL module and view)
    cjk_font_name()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Home")
    connections.close_all()  # a connection must never be shared across the fork
    # Keep the garbage collector's hands off everything loaded so far: its bookkeeping writes
    # would copy the shared pages into every worker.
    gc.freeze()


# ./serve (or systemd) stops and restarts gunicorn with signals; gunicorn 27's control socket
# would be one path per user ($HOME/.gunicorn/gunicorn.ctl) shared by every instance.
control_socket_disable = True

# The heartbeat file on a tmpfs: a worker blocked on a slow disk is not killed by mistake.
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"

# Logs: one JSON object per line on stdout, as Django's (LOG_FORMAT=plain: text on stderr).
accesslog = "-"
errorlog = "-"
access_log_format = "%(m)s %(U)s %(s)s %(M)sms"
# DEBUG is read as studio/settings.py reads it (on unless turned off).
_debug = os.environ.get("DEBUG", "true").strip().lower() in {"1", "true", "yes", "on"}
_format = os.environ.get("LOG_FORMAT", "").strip().lower() or ("plain" if _debug else "json")
logconfig_dict = logging_config(fmt=_format, level=os.environ.get("LOG_LEVEL", "INFO").upper())
logconfig_dict["loggers"] |= {
    name: {"handlers": ["console"], "level": "INFO", "propagate": False}
    for name in ("gunicorn.error", "gunicorn.access")
}
