"""How often an address or a user may call: DRF throttles whose rates are read from the
settings at each request (``API_THROTTLE_RATES``; a scope without a rate is not limited),
and the same throttles for plain Django views (the public trace page).

Counts live in the default cache, so every web process sees the same ones when the cache is
shared (the database cache by default, Redis with ``CACHE_URL``): docs/DEPLOY.md.
"""

from functools import wraps

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle


class _RateFromSettings:
    scope: str

    def get_rate(self):
        return (getattr(settings, "API_THROTTLE_RATES", None) or {}).get(self.scope)


class AnonThrottle(_RateFromSettings, AnonRateThrottle):
    """Anonymous API calls, per address."""

    scope = "anon"


class UserThrottle(_RateFromSettings, UserRateThrottle):
    """Signed-in API calls, per user."""

    scope = "user"


class AddressThrottle(_RateFromSettings, SimpleRateThrottle):
    """Per address, signed in or not."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenThrottle(AddressThrottle):
    """``POST /api/auth/token/``: a password guess per call, so the strictest."""

    scope = "token"


class TraceThrottle(AddressThrottle):
    """The public trace page behind each label's QR code."""

    scope = "trace"


def throttled(throttle_class):
    """A Django view limited by ``throttle_class``: over the rate it answers 429 with
    Retry-After, in the request's language."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            throttle = throttle_class()
            if not throttle.allow_request(request, None):
                wait = throttle.wait()
                response = HttpResponse(
                    _("Too many requests from this address: try again in a minute."),
                    status=429,
                    content_type="text/plain; charset=utf-8",
                )
                if wait is not None:
                    response["Retry-After"] = str(max(1, int(wait)))
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
