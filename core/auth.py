"""Sign-in protection: who is calling (the client's address behind the reverse proxy) and
what a locked-out caller is told. Lockout itself is django-axes (settings ``AXES_*``): after
``AXES_FAILURE_LIMIT`` wrong passwords for one user name, or from one address, on the login
page, the token endpoint or the admin, that user name or address is refused for the cool-off
time. Counts live in the default cache (docs/DEPLOY.md)."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.authtoken.views import ObtainAuthToken

from core.throttling import TokenThrottle


def client_ip(request) -> str:
    """The caller's address: REMOTE_ADDR, or with ``WEB_PROXY_COUNT`` = N trusted reverse
    proxies in front, the address the outermost of them saw (the N-th from the right of
    X-Forwarded-For), as DRF's throttles read it (``NUM_PROXIES``)."""
    proxies = int(getattr(settings, "WEB_PROXY_COUNT", 0) or 0)
    remote = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return remote


def lockout_minutes() -> int:
    cool_off = settings.AXES_COOLOFF_TIME
    return max(1, round(cool_off.total_seconds() / 60)) if cool_off else 0


def lockout_message() -> str:
    return _(
        "Too many wrong passwords: signing in is locked for %(minutes)s minutes for this user "
        "name or this address. Wait, or ask a manager to unlock it."
    ) % {"minutes": lockout_minutes()}


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out caller gets: 429, JSON from the API, else the login page with the
    message."""
    status = settings.AXES_HTTP_RESPONSE_CODE
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"detail": lockout_message(), "code": "locked_out"}, status=status)
    else:
        response = render(
            request,
            "registration/login.html",
            {"locked_out": lockout_message(), "form": None},
            status=status,
        )
    response["Retry-After"] = str(lockout_minutes() * 60)
    return response


class ObtainToken(ObtainAuthToken):
    """``POST /api/auth/token/`` (user name and password → token), throttled per address
    (``TokenThrottle``) and under the same lockout as the login page."""

    throttle_classes = (TokenThrottle,)

    def handle_exception(self, exc):
        # Django's authenticate() turns the lockout into "wrong credentials"; django-axes
        # marks the request it was given (DRF's), so the lockout is answered here.
        if getattr(self.request, "axes_locked_out", False):
            return lockout_response(self.request._request)
        return super().handle_exception(exc)
