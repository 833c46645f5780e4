"""Schema fuzzing: schemathesis reads the OpenAPI schema of a live server and sends each
operation generated requests, as a manager and as a packer, failing on any 5xx answer and on
any answer that breaks the schema.

The server is real: a database of its own on the PostgreSQL of the test run (created, migrated
and seeded with the demo here, dropped afterwards), production settings (DEBUG off, JSON
logs), gunicorn with two workers on a free port of 127.0.0.1. The run is bounded: a fixed
seed and a few examples per operation, two or three minutes on two cores for both roles."""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from django.conf import settings
from psycopg import sql

pytestmark = pytest.mark.postgres

ROOT = Path(settings.BASE_DIR)
SEED = 20261204
# ./test's bound: a few examples per operation from the schema's examples and the fuzzer. A
# deeper run (the coverage phase's boundary values, more examples) takes minutes per role:
#   SHANHUO_FUZZ_PHASES=examples,coverage,fuzzing SHANHUO_FUZZ_EXAMPLES=20 ./test -k fuzz
EXAMPLES = int(os.environ.get("SHANHUO_FUZZ_EXAMPLES", "5"))
PHASES = os.environ.get("SHANHUO_FUZZ_PHASES", "examples,fuzzing")
CHECKS = "not_a_server_error,response_schema_conformance"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def fuzz_database():
    """postgres://… of a fresh database beside the test run's, dropped at the end."""
    base = dj_database_url.parse(os.environ["DATABASE_URL"])
    name = f"{base['NAME']}_schemathesis"[:63]
    admin = {
        "host": base["HOST"] or "127.0.0.1",
        "port": base["PORT"] or 5432,
        "user": base["USER"],
        "password": base["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(**admin) as connection:
        connection.execute(drop)
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    password = f":{base['PASSWORD']}" if base["PASSWORD"] else ""
    yield f"postgres://{base['USER']}{password}@{admin['host']}:{admin['port']}/{name}"
    with psycopg.connect(**admin) as connection:
        connection.execute(drop)


@pytest.fixture(scope="module")
def live_server_url(fuzz_database, tmp_path_factory):
    """The demo studio served by gunicorn; yields its base URL."""
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DATABASE_URL": fuzz_database,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_PROXY_SSL_HEADER": "false",
        "WEB_PROXY_COUNT": "0",
        "API_THROTTLE": "false",  # thousands of calls from one address and two users
        "MEDIA_ROOT": str(tmp_path_factory.mktemp("fuzz-media")),
        "STATIC_ROOT": str(tmp_path_factory.mktemp("fuzz-static")),
        "SHANHUO_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }
    python = sys.executable
    for command in (["migrate", "--no-input", "-v", "0"], ["seed_demo", "-v", "0"]):
        done = subprocess.run(
            [python, "manage.py", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
    log = tmp_path_factory.mktemp("fuzz-log") / "gunicorn.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [python, "-m", "gunicorn", "studio.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health/?scope=web", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError(log.read_text()[-3000:]) from None
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    # A 500 is logged by django.request at ERROR with its traceback, a worker that died or
    # timed out by gunicorn; refused requests are warnings (django.security's 400s aside).
    errors = [
        line
        for line in log.read_text().splitlines()
        if '"level": "ERROR"' in line
        and ('"logger": "django.request"' in line or '"logger": "gunicorn.error"' in line)
    ]
    assert not errors, "\n".join(errors)[-5000:]


def token(url: str, username: str) -> str:
    request = urllib.request.Request(
        f"{url}/api/auth/token/",
        data=json.dumps({"username": username, "password": "shanhuo123"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["token"]


@pytest.fixture(scope="module")
def tokens(live_server_url):
    """Both tokens before any fuzzing: the fuzzer's wrong passwords on the token endpoint
    lock its address out (as they should)."""
    return {role: token(live_server_url, role) for role in ("manager", "packer")}


@pytest.mark.parametrize("role", ["manager", "packer"])
def test_the_api_answers_as_its_schema_says_and_never_5xx(live_server_url, tokens, role, tmp_path):
    schemathesis = Path(sys.executable).with_name("schemathesis")
    command = [
        str(schemathesis),
        "run",
        f"{live_server_url}/api/schema/",
        "--header",
        f"Authorization: Token {tokens[role]}",
        "--header",
        "Accept: application/json",
        "--checks",
        CHECKS,
        "--phases",
        PHASES,
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "2",
        "--no-shrink",
        "--request-timeout",
        "60",
        "--output-truncate",
        "true",
    ]
    done = subprocess.run(
        command,
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    summary = done.stdout[-6000:]
    assert done.returncode == 0, summary
    assert " passed" in summary and "Tested:" in summary, summary
