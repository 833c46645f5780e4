"""Production settings come from the environment: each case imports the settings in a fresh
Python process, as gunicorn and the task worker do. Also the JSON log lines (Django's and
gunicorn's), the static files the templates name, and ``./serve`` refusing a bad setup."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

ROOT = Path(settings.BASE_DIR)
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-long-random-production-key-" + "x" * 40,
    "ALLOWED_HOSTS": "shanhuo.example.cn, www.shanhuo.example.cn",
    "DATABASE_URL": "postgres://shanhuo:pw@db.example.cn:5432/shanhuo",
    "CSRF_TRUSTED_ORIGINS": "https://shanhuo.example.cn",
}
# Settings read by every case (the database is parsed, never connected to).
READ_SETTINGS = """
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "studio.settings"
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "CSRF_TRUSTED_ORIGINS": settings.CSRF_TRUSTED_ORIGINS,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SECURE_REDIRECT_EXEMPT": settings.SECURE_REDIRECT_EXEMPT,
    "SECURE_PROXY_SSL_HEADER": settings.SECURE_PROXY_SSL_HEADER,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": settings.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "SECURE_HSTS_PRELOAD": settings.SECURE_HSTS_PRELOAD,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "X_FRAME_OPTIONS": settings.X_FRAME_OPTIONS,
    "ENGINE": db["ENGINE"],
    "CONN_MAX_AGE": db["CONN_MAX_AGE"],
    "CONN_HEALTH_CHECKS": db["CONN_HEALTH_CHECKS"],
    "DB_OPTIONS": db["OPTIONS"],
    "MIDDLEWARE": settings.MIDDLEWARE,
    "STATICFILES": settings.STORAGES["staticfiles"]["BACKEND"],
    "LOG_FORMAT": settings.LOG_FORMAT,
    "CACHE": settings.CACHES["default"]["BACKEND"],
}))
"""


def python(code: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a new interpreter with only ``env`` (and PATH) in its environment."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_under(env: dict[str, str]) -> dict:
    result = python(READ_SETTINGS, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_turns_on_the_deployment_checklist():
    s = settings_under(PRODUCTION)

    assert s["DEBUG"] is False
    assert s["ALLOWED_HOSTS"] == ["shanhuo.example.cn", "www.shanhuo.example.cn"]
    assert s["CSRF_TRUSTED_ORIGINS"] == ["https://shanhuo.example.cn"]
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert s["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert s["SECURE_HSTS_PRELOAD"] is True
    assert s["SESSION_COOKIE_SECURE"] is True
    assert s["CSRF_COOKIE_SECURE"] is True
    assert s["X_FRAME_OPTIONS"] == "DENY"
    assert any(re.search(pattern, "health/") for pattern in s["SECURE_REDIRECT_EXEMPT"])
    assert not any(re.search(pattern, "orders/") for pattern in s["SECURE_REDIRECT_EXEMPT"])


def test_production_database_static_files_and_logs():
    s = settings_under(PRODUCTION)

    assert s["ENGINE"] == "django.db.backends.postgresql"
    assert s["CONN_MAX_AGE"] == 60
    assert s["CONN_HEALTH_CHECKS"] is True
    # Statements a connection sends again and again are prepared once (parameters bound on
    # the server): PostgreSQL plans a pack's statements once per connection.
    assert s["DB_OPTIONS"] == {
        "connect_timeout": 5,
        "server_side_binding": True,
        "prepare_threshold": 5,
    }
    # WhiteNoise right after SecurityMiddleware, so static files skip the rest of the stack.
    assert s["MIDDLEWARE"][:2] == [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]
    assert s["STATICFILES"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert s["LOG_FORMAT"] == "json"


def test_prepared_statements_can_be_turned_off_for_a_pooler():
    no_prepare = settings_under(PRODUCTION | {"DB_PREPARE_THRESHOLD": "0"})["DB_OPTIONS"]
    client_side = settings_under(PRODUCTION | {"DB_SERVER_SIDE_BINDING": "false"})["DB_OPTIONS"]

    # psycopg prepares nothing with None (0 would prepare every statement at once)
    assert no_prepare["server_side_binding"] is True and no_prepare["prepare_threshold"] is None
    assert client_side == {"connect_timeout": 5}


def test_each_switch_can_be_turned_for_a_local_benchmark_over_plain_http():
    s = settings_under(
        PRODUCTION
        | {
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "SECURE_PROXY_SSL_HEADER": "false",
            "SECURE_HSTS_SECONDS": "600",
            "CONN_MAX_AGE": "0",
            "LOG_FORMAT": "plain",
        }
    )

    assert s["SECURE_SSL_REDIRECT"] is False
    assert s["SESSION_COOKIE_SECURE"] is False
    assert s["CSRF_COOKIE_SECURE"] is False
    assert s["SECURE_PROXY_SSL_HEADER"] is None
    assert s["SECURE_HSTS_SECONDS"] == 600
    assert s["CONN_MAX_AGE"] == 0
    assert s["LOG_FORMAT"] == "plain"


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_the_deployment_checklist_passes_with_the_defaults(database):
    env = PRODUCTION if database == "postgresql" else PRODUCTION | {"DATABASE_URL": ""}

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_development_defaults_stay_as_they_were():
    s = settings_under({})

    assert s["DEBUG"] is True
    assert s["SECURE_SSL_REDIRECT"] is False
    assert s["SESSION_COOKIE_SECURE"] is False
    assert s["SECURE_PROXY_SSL_HEADER"] is None
    assert s["ENGINE"] == "django.db.backends.sqlite3"
    assert "whitenoise.middleware.WhiteNoiseMiddleware" not in s["MIDDLEWARE"]
    assert s["STATICFILES"] == "django.contrib.staticfiles.storage.StaticFilesStorage"
    assert s["LOG_FORMAT"] == "plain"
    # Shared by every process: sign-in lockout and API throttling count there.
    assert s["CACHE"] == "core.cache.DatabaseCache"


def test_production_without_a_secret_key_refuses_to_start():
    env = {key: value for key, value in PRODUCTION.items() if key != "SECRET_KEY"}

    result = python(READ_SETTINGS, env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_bad_numbers_and_a_cache_without_redis_are_named():
    bad_number = python(READ_SETTINGS, PRODUCTION | {"CONN_MAX_AGE": "sixty"})
    assert bad_number.returncode != 0
    assert "CONN_MAX_AGE must be a whole number" in bad_number.stderr

    bad_cache = python(READ_SETTINGS, PRODUCTION | {"CACHE_URL": "memcached://cache:11211"})
    assert bad_cache.returncode != 0
    assert "CACHE_URL must be a redis://" in bad_cache.stderr


# --- logs ------------------------------------------------------------------------------------

DJANGO_REQUEST_LOG = """
import django, logging, os
os.environ["DJANGO_SETTINGS_MODULE"] = "studio.settings"
django.setup()
from django.http import HttpResponseNotFound
from django.test import RequestFactory
from django.utils.log import log_response
request = RequestFactory().get("/orders/?q=13812345678")
log_response("Not Found: %s", request.path, response=HttpResponseNotFound(), request=request)
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("shipping").exception("label batch %s failed", "W2611-0001")
logging.getLogger("orders").info("import done", extra={"batch": 7, "rows": 2000})
"""


def json_lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines
    return [json.loads(line) for line in lines]  # every line is one JSON object


def test_django_logs_one_json_object_per_line_on_stdout():
    result = python(DJANGO_REQUEST_LOG, PRODUCTION)

    assert result.returncode == 0, result.stderr
    not_found, failed, done = json_lines(result.stdout)
    assert not_found["level"] == "WARNING"
    assert not_found["logger"] == "django.request"
    assert not_found["message"] == "Not Found: /orders/"
    assert not_found["method"] == "GET"
    assert not_found["path"] == "/orders/"
    assert not_found["status"] == 404
    assert "13812345678" not in result.stdout  # query strings stay out of the logs
    assert failed["level"] == "ERROR"
    assert failed["message"] == "label batch W2611-0001 failed"
    assert "ZeroDivisionError" in failed["exception"]
    assert done["batch"] == 7
    assert done["rows"] == 2000
    assert set(not_found) >= {"time", "level", "logger", "message", "pid"}


GUNICORN_ACCESS_LOG = """
import runpy, sys
from datetime import timedelta
from gunicorn.config import Config
from gunicorn.glogging import Logger
conf = runpy.run_path("studio/gunicorn.conf.py")
cfg = Config()
for name, value in conf.items():
    if name in cfg.settings:
        cfg.set(name, value)
print("config", cfg.workers, cfg.bind[0], cfg.timeout, cfg.max_requests,
      cfg.max_requests_jitter, cfg.worker_class_str, file=sys.stderr)
environ = {
    "REQUEST_METHOD": "GET", "RAW_URI": "/orders/?q=13812345678", "PATH_INFO": "/orders/",
    "QUERY_STRING": "q=13812345678", "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "203.0.113.9", "HTTP_USER_AGENT": "Mozilla/5.0",
}
class Response:
    status = "200 OK"
    sent = 37603
    headers = [("Content-Type", "text/html")]
class Request:
    headers = [("HOST", "shanhuo.example.cn")]
Logger(cfg).access(Response(), Request(), environ, timedelta(milliseconds=71, microseconds=800))
"""


def test_gunicorn_logs_each_request_as_json_with_path_status_and_duration():
    env = PRODUCTION | {"HOST": "0.0.0.0", "PORT": "8103", "WEB_CONCURRENCY": "3"}

    result = python(GUNICORN_ACCESS_LOG, env)

    assert result.returncode == 0, result.stderr
    config = result.stderr.split("config ")[1].split()
    workers, bind, timeout, max_requests, jitter, worker_class = config
    assert (workers, bind, worker_class) == ("3", "0.0.0.0:8103", "sync")
    assert int(timeout) >= 120  # a batch of labels renders inside the request
    assert int(max_requests) > 0 and int(jitter) > 0
    (line,) = json_lines(result.stdout)
    assert line["logger"] == "gunicorn.access"
    assert line["level"] == "INFO"
    assert line["method"] == "GET"
    assert line["path"] == "/orders/"
    assert line["status"] == 200
    assert line["duration_ms"] == 71.8
    assert line["bytes"] == 37603
    assert "13812345678" not in result.stdout
    assert "203.0.113.9" not in result.stdout


# --- static files ----------------------------------------------------------------------------

STATIC_TAG = re.compile(r"""{%\s*static\s+["']([^"']+)["']""")


def test_every_static_file_a_template_names_exists():
    """With DEBUG off the manifest storage answers a missing file with an error on every page
    that names it; collectstatic gathers what the finders find."""
    named = {
        (template.relative_to(ROOT), name)
        for template in (ROOT / "templates").rglob("*.html")
        for name in STATIC_TAG.findall(template.read_text(encoding="utf-8"))
    }

    assert {name for _template, name in named} >= {"css/app.css", "js/app.js"}
    missing = [(str(template), name) for template, name in named if not finders.find(name)]
    assert missing == []


# --- ./serve -------------------------------------------------------------------------------


def serve(env: dict[str, str]) -> subprocess.CompletedProcess:
    """``./serve`` checks its environment before it installs or starts anything."""
    return subprocess.run(
        ["bash", str(ROOT / "serve")],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_serve_refuses_to_start_without_a_secret_key():
    result = serve({"DEBUG": "false", "ALLOWED_HOSTS": "shanhuo.example.cn"})

    assert result.returncode == 1
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
    assert "secrets.token_urlsafe" in result.stderr  # and says how to make one


def test_serve_is_production_by_default_and_wants_the_host_names():
    result = serve({"SECRET_KEY": PRODUCTION["SECRET_KEY"]})  # no DEBUG: off

    assert result.returncode == 1
    assert "ALLOWED_HOSTS must be set when DEBUG is off" in result.stderr


def test_serve_names_a_bad_number():
    result = serve(
        {"SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "shanhuo.example.cn", "WEB_CONCURRENCY": "two"}
    )

    assert result.returncode == 1
    assert "WEB_CONCURRENCY must be a whole number, not 'two'" in result.stderr


def test_serve_names_a_nice_value_out_of_range():
    result = serve(
        {"SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "shanhuo.example.cn", "TASK_WORKER_NICE": "20"}
    )

    assert result.returncode == 1
    assert "TASK_WORKER_NICE must be between 0 and 19" in result.stderr


def _children(pid: int) -> dict[int, str]:
    """The processes whose parent is ``pid``, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # gone meanwhile
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(entry.name)] = command
    return found


def _nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_serve_runs_the_task_worker_below_the_web_in_cpu_priority(tmp_path):
    """When label batches and packers both want the CPU (a peak day on two cores), the people
    at the stations come first: ./serve starts each task worker with TASK_WORKER_NICE (10), in
    its own session's scheduling group too where the kernel groups by session (autogroup), and
    in the idle scheduling class (TASK_WORKER_IDLE)."""
    import socket
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmp_path)),  # where pyenv keeps its Pythons
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PORT": str(port),
        "TASK_WORKER_NICE": "7",
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        ["bash", str(ROOT / "serve")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "./serve stopped"
            assert time.monotonic() < deadline, "./serve did not answer within 120 s"
            try:
                httpx.get(f"http://127.0.0.1:{port}/health/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        children = _children(process.pid)
        workers = [pid for pid, command in children.items() if "db_worker" in command]
        web = [pid for pid, command in children.items() if "gunicorn" in command]

        assert len(workers) == 1 and len(web) == 1, children
        assert _nice(workers[0]) == 7
        assert _nice(web[0]) == 0
        # and in the idle scheduling class: a web worker that wakes takes the CPU at once
        assert os.sched_getscheduler(workers[0]) == os.SCHED_IDLE
        assert os.sched_getscheduler(web[0]) == os.SCHED_OTHER
        group = Path(f"/proc/{workers[0]}/autogroup")
        if group.exists():
            assert group.read_text().split()[-1] == "7"
            assert Path(f"/proc/{web[0]}/autogroup").read_text().split()[-1] == "0"
    finally:
        process.terminate()
        process.wait(timeout=90)
