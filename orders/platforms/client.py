"""The HTTP side every platform API shares: send one signed call, read the envelope, try
again when it makes sense, keep the breaker, and log each attempt.

A platform's own client subclasses ``PlatformApi`` with three methods: ``build`` (a signed
``httpx.Request`` for an API method and its parameters), ``read`` (the envelope's data, or
the right ``PlatformError``) and ``refresh_tokens``. ``request`` does the rest:

- a timeout, a dropped connection, a 5xx or the platform's "service unavailable" is tried
  again (``PLATFORM_MAX_ATTEMPTS`` in all) after an exponential, jittered pause, and counts
  as a failure for the breaker;
- an expired access token is refreshed once, then the call is made again;
- a rate-limit answer is waited out when it asks for a short wait, otherwise the breaker is
  paused for as long as it asked and ``RateLimited`` ends the call;
- any other answer from the platform (a rejection) ends the call at once.

Every attempt writes one ``PlatformCall`` row: method, HTTP status, platform code, request
ID, duration, attempt, outcome. Never a parameter, a token or a body.
"""

import random
import time
from collections.abc import Callable
from datetime import datetime

import httpx
from django.conf import settings
from django.utils import timezone

from orders.platforms.breaker import Breaker
from orders.platforms.errors import (
    BadAnswer,
    NotConfigured,
    PlatformError,
    PlatformTimeout,
    PlatformUnavailable,
    RateLimited,
    TokenExpired,
)
from orders.platforms.models import CallOutcome, PlatformAccount, PlatformCall


class Answer:
    """What ``read`` found besides the data: for the call log."""

    def __init__(self):
        self.code = ""
        self.request_id = ""


class PlatformApi:
    platform = ""
    # Base of the exponential pause between attempts, in seconds.
    backoff_base = 0.5

    def __init__(
        self,
        account: PlatformAccount,
        *,
        purpose: str = "",
        breaker_key: str | None = None,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = timezone.now,
        max_attempts: int | None = None,
    ):
        self.account = account
        self.purpose = purpose
        self.breaker = Breaker(breaker_key or f"platform:{account.channel.code}", now=now)
        self.http = http or httpx.Client(
            timeout=httpx.Timeout(
                settings.PLATFORM_READ_TIMEOUT, connect=settings.PLATFORM_CONNECT_TIMEOUT
            ),
            trust_env=False,
        )
        self.sleep = sleep
        self.now = now
        self.max_attempts = max_attempts or settings.PLATFORM_MAX_ATTEMPTS

    # --- what a platform's client writes ---------------------------------------------------

    def build(self, method: str, params: dict, access_token: str) -> httpx.Request:
        raise NotImplementedError

    def read(self, method: str, response: httpx.Response, answer: Answer):
        raise NotImplementedError

    def refresh_tokens(self) -> None:
        raise NotImplementedError

    # --- shared ----------------------------------------------------------------------------

    def close(self) -> None:
        self.http.close()

    def error(self, cls, message: str, *, method: str = "", code: str = "", **kwargs):
        return cls(message, platform=self.platform, method=method, code=code, **kwargs)

    def _log(self, *, method, started, attempt, status, answer, outcome, message=""):
        PlatformCall.objects.create(
            platform=self.platform,
            channel=self.account.channel,
            purpose=self.purpose[:40],
            method=method[:80],
            http_status=status,
            platform_code=str(answer.code)[:60],
            request_id=str(answer.request_id)[:80],
            duration_ms=max(0, round((time.monotonic() - started) * 1000)),
            attempt=attempt,
            outcome=outcome,
            message=message[:200],
        )

    def _pause(self, attempt: int) -> float:
        return random.uniform(0, self.backoff_base * 2 ** (attempt - 1))

    def request(self, method: str, params: dict, *, authorised: bool = True):
        """Call ``method`` with ``params``; the envelope's data, or a ``PlatformError``."""
        if not self.account.app_key:
            raise self.error(NotConfigured, "No app key for this channel.", method=method)
        self.breaker.before_call()
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            token = self.account.secret("access_token") if authorised else ""
            if authorised and not token:
                raise self.error(NotConfigured, "No access token for this channel.", method=method)
            answer = Answer()
            started = time.monotonic()
            status = None
            try:
                response = self.http.send(self.build(method, params, token))
                status = response.status_code
                data = self.read(method, response, answer)
            except httpx.TimeoutException:
                failure = self.error(
                    PlatformTimeout, "The platform did not answer in time.", method=method
                )
            except httpx.TransportError as transport:
                failure = self.error(
                    PlatformUnavailable,
                    f"Connection failed: {type(transport).__name__}",
                    method=method,
                )
            except PlatformError as error:
                failure = error
            else:
                self._log(
                    method=method,
                    started=started,
                    attempt=attempt,
                    status=status,
                    answer=answer,
                    outcome=CallOutcome.OK,
                )
                self.breaker.success()
                return data
            self._log(
                method=method,
                started=started,
                attempt=attempt,
                status=status,
                answer=answer,
                outcome=failure.outcome,
                message=failure.message,
            )
            if isinstance(failure, TokenExpired) and authorised and not refreshed:
                refreshed = True
                self.refresh_tokens()
                continue
            if isinstance(failure, RateLimited):
                if (
                    failure.retry_after <= settings.PLATFORM_RATE_LIMIT_INLINE_SECONDS
                    and attempt < self.max_attempts
                ):
                    self.sleep(failure.retry_after)
                    continue
                self.breaker.pause(failure.retry_after, failure.message)
                raise failure
            if isinstance(failure, PlatformTimeout | PlatformUnavailable | BadAnswer):
                opened = self.breaker.failure(failure.message)
                if attempt < self.max_attempts and not opened:
                    self.sleep(self._pause(attempt))
                    continue
                raise failure
            # The platform answered and refused: it is up, whatever it thought of the call.
            self.breaker.success()
            raise failure

    def json_or_bad(self, method: str, response: httpx.Response) -> dict:
        if response.status_code == 429:
            retry = _retry_after(response.headers.get("Retry-After"), default=1.0)
            raise self.error(RateLimited, "HTTP 429", method=method, retry_after=retry)
        if response.status_code >= 500:
            raise self.error(PlatformUnavailable, f"HTTP {response.status_code}", method=method)
        try:
            body = response.json()
        except ValueError:
            raise self.error(
                BadAnswer, f"HTTP {response.status_code}: not JSON", method=method
            ) from None
        if not isinstance(body, dict):
            raise self.error(BadAnswer, "The answer is not a JSON object.", method=method)
        return body


def _retry_after(value: str | None, *, default: float) -> float:
    try:
        return max(0.0, float(value)) if value else default
    except ValueError:
        return default
