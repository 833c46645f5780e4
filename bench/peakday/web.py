"""A small HTTP client on the standard library for the simulated people: one connection per
person (kept alive where the server allows it), token or session authentication, JSON, forms
and multipart bodies, and every request timed and counted by what it is (its *label*)."""

import http.client
import json as jsonlib
import re
import secrets
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit


class Unexpected(Exception):
    """A response other than the one the simulated person expected."""

    def __init__(self, label: str, method: str, path: str, status: int, body: bytes):
        super().__init__(f"{label}: {method} {path} answered {status}: {body[:300]!r}")
        self.status = status


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self):
        return jsonlib.loads(self.body)


@dataclass
class Recorder:
    """Every request of the run: latencies per label, statuses, and the responses that count
    as errors (any 5xx, any status nobody expected, any broken connection)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)  # (label, status)
    server_errors: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    conflicts: Counter = field(default_factory=Counter)  # expected 409s, by label
    # (when it ended on the monotonic clock, label, seconds) of every request, for a timeline
    timeline: list[tuple[float, str, float]] = field(default_factory=list)

    def add(self, label: str, method: str, path: str, reply: Reply, expected: bool) -> None:
        with self.lock:
            self.seconds[label].append(reply.seconds)
            self.timeline.append((time.monotonic(), label, reply.seconds))
            self.statuses[(label, reply.status)] += 1
            if reply.status >= 500:
                self.server_errors.append(
                    f"{label} {method} {path} -> {reply.status} {reply.body[:200]!r}"
                )
            elif not expected:
                self.unexpected.append(
                    f"{label} {method} {path} -> {reply.status} {reply.body[:200]!r}"
                )

    def add_broken(self, label: str, method: str, path: str, exc: BaseException) -> None:
        with self.lock:
            self.broken.append(f"{label} {method} {path}: {exc!r}")

    def expected_conflict(self, label: str) -> None:
        with self.lock:
            self.conflicts[label] += 1

    @property
    def errors(self) -> int:
        return len(self.server_errors) + len(self.unexpected) + len(self.broken)

    def count(self, label: str) -> int:
        return len(self.seconds.get(label, ()))

    def percentile(self, label: str, p: float) -> float | None:
        values = sorted(self.seconds.get(label, ()))
        if not values:
            return None
        # nearest rank: the smallest value with at least p % of the values at or below it
        rank = max(1, -(-len(values) * p // 100))
        return values[int(rank) - 1]

    def total_requests(self) -> int:
        return sum(len(v) for v in self.seconds.values())


CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


class Web:
    """One simulated person's browser or script: not thread-safe, one per thread."""

    def __init__(self, base_url: str, recorder: Recorder, *, timeout: float = 300):
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.recorder = recorder
        self.timeout = timeout
        self.token: str | None = None
        self.cookies: dict[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None
        self._used = False

    # --- plumbing -------------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._used = False
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _send(self, method: str, path: str, body: bytes | None, headers: dict) -> Reply:
        for attempt in (1, 2):
            conn = self._connection()
            reused = self._used
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept-alive connection the server had closed meanwhile: the request never
                # reached it, so sending it once more on a new connection is safe.
                self.close()
                if attempt == 2 or not reused:
                    raise
                continue
            seconds = time.perf_counter() - started
            self._used = True
            if response.will_close:
                self.close()
            reply_headers = {}
            for name, value in response.getheaders():
                name = name.lower()
                if name == "set-cookie":
                    self._keep_cookie(value)
                reply_headers[name] = value
            return Reply(response.status, reply_headers, data, seconds)
        raise AssertionError("unreachable")

    def _keep_cookie(self, header: str) -> None:
        # The server marks its cookies Secure behind TLS; this client keeps them on plain
        # HTTP to 127.0.0.1 as a browser would keep them on HTTPS.
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            if morsel["max-age"] == "0" or not morsel.value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def call(
        self,
        method: str,
        path: str,
        *,
        label: str,
        json=None,
        form: dict | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        expect: tuple[int, ...] = (200,),
        allow: tuple[int, ...] = (),
        headers: dict | None = None,
    ) -> Reply:
        """Send one request and record it. A status in ``expect`` is returned; one in ``allow``
        is returned too and not counted as an error (the caller decides); anything else is
        recorded as an error and raised as ``Unexpected``."""
        sent = {"Host": f"{self.host}:{self.port}", "Accept-Language": "zh-hans"}
        body = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            sent["Content-Type"] = "application/json"
        elif files is not None:
            boundary = "peakday" + secrets.token_hex(12)
            body = _multipart(boundary, form or {}, files)
            sent["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.token:
            sent["Authorization"] = f"Token {self.token}"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if method not in {"GET", "HEAD"} and "csrftoken" in self.cookies:
                sent["X-CSRFToken"] = self.cookies["csrftoken"]
        sent.update(headers or {})
        try:
            reply = self._send(method, path, body, sent)
        except (OSError, http.client.HTTPException) as exc:
            self.recorder.add_broken(label, method, path, exc)
            raise
        ok = reply.status in expect or reply.status in allow
        self.recorder.add(label, method, path, reply, expected=ok)
        if not ok:
            raise Unexpected(label, method, path, reply.status, reply.body)
        return reply

    # --- signing in -----------------------------------------------------------------------

    def sign_in_token(self, username: str, password: str) -> None:
        """What a script does: trade the password for a token (``/api/auth/token/``)."""
        reply = self.call(
            "POST",
            "/api/auth/token/",
            label="sign in (token)",
            form={"username": username, "password": password},
        )
        self.token = reply.json()["token"]

    def sign_in_session(self, username: str, password: str) -> None:
        """What a browser does: the login form, then the session cookie."""
        page = self.call("GET", "/accounts/login/", label="sign in (page)")
        match = CSRF_INPUT.search(page.body)
        if not match:
            raise Unexpected("sign in (page)", "GET", "/accounts/login/", 200, page.body)
        self.call(
            "POST",
            "/accounts/login/",
            label="sign in (page)",
            form={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": match.group(1).decode(),
                "next": "/",
            },
            expect=(302,),
        )
        if "sessionid" not in self.cookies:
            raise Unexpected("sign in (page)", "POST", "/accounts/login/", 302, b"no session")


def _multipart(boundary: str, fields: dict, files: dict[str, tuple[str, bytes, str]]) -> bytes:
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + str(value).encode()
            + b"\r\n"
        )
    for name, (file_name, data, content_type) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{file_name}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts)
