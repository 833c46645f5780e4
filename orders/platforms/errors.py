"""What can go wrong when Shanhuo talks to a platform, as domain errors a caller can act on.

Every error names the platform and the API method; none carries a secret or buyer data."""

from datetime import datetime

from django.utils.translation import gettext as _

from core.errors import DomainError


class PlatformError(DomainError):
    """A call to a platform failed. ``retryable``: trying again later may work."""

    retryable = False
    outcome = "rejected"

    def __init__(self, message: str, *, platform: str = "", method: str = "", code: str = ""):
        super().__init__(message, field=None, code=self.outcome)
        self.platform = platform
        self.method = method
        self.platform_code = code


class NotConfigured(PlatformError):
    outcome = "not_configured"


class PlatformRejected(PlatformError):
    """The platform answered and said no (bad parameter, business rule, no permission)."""


class SignatureRejected(PlatformRejected):
    """The platform says the signature is wrong: the app secret or the signing is wrong."""


class TokenExpired(PlatformError):
    outcome = "token_expired"
    retryable = True


class AuthRevoked(PlatformError):
    """The shop withdrew its authorisation, or the refresh token is spent: a manager must
    authorise again and enter new tokens."""

    outcome = "auth_revoked"


class RateLimited(PlatformError):
    outcome = "rate_limited"
    retryable = True

    def __init__(self, message: str, *, retry_after: float, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class PlatformTimeout(PlatformError):
    outcome = "timeout"
    retryable = True


class PlatformUnavailable(PlatformError):
    """Connection refused or dropped, a 5xx, or the platform's own "service unavailable"."""

    outcome = "unavailable"
    retryable = True


class BadAnswer(PlatformError):
    """The answer was not the documented JSON envelope."""

    outcome = "bad_answer"
    retryable = True


class CircuitOpen(PlatformError):
    """The breaker is open: nothing was sent. Try again after ``until``."""

    outcome = "breaker_open"
    retryable = True

    def __init__(self, *, key: str, until: datetime | None, **kwargs):
        super().__init__(
            _("%(name)s is not answering; Shanhuo waits before calling it again.") % {"name": key},
            **kwargs,
        )
        self.key = key
        self.until = until
