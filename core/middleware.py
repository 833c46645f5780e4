"""Request-wide middleware of the studio (see ``core.input_guard``)."""

import json
import logging

from django.db import DataError
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _

from core.input_guard import first_problem, text_problem

logger = logging.getLogger(__name__)
OUT_OF_RANGE = (OverflowError, DataError)


def out_of_range_message() -> str:
    return _("A number or a date is out of range.")


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def bad_request(request, field: str, message: str):
    if _is_api(request):
        key = field or "detail"
        return JsonResponse({key: [message] if field else message}, status=400)
    text = f"{field}: {message}" if field else message
    return HttpResponseBadRequest(
        f"<!doctype html><meta charset=utf-8><title>400</title><p>{escape(text)}</p>",
        content_type="text/html; charset=utf-8",
    )


def _query_problem(query) -> tuple[str, str] | None:
    for key, values in query.lists():
        found = first_problem({key: values[0] if len(values) == 1 else values})
        if found:
            return found
    return None


class BadInputMiddleware:
    """Refuses, with a 400 that names the field, a request whose path, query parameters or
    form fields hold text that cannot be stored or a date out of range; answers 400 for a
    number or date that overflows further in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = self._problem(request)
        if found:
            return bad_request(request, *found)
        return self.get_response(request)

    def _problem(self, request) -> tuple[str, str] | None:
        reason = text_problem(request.path_info)
        if reason:
            return "", _("The address %(reason)s") % {"reason": reason}
        found = _query_problem(request.GET)
        if found:
            return found
        if request.method in {"GET", "HEAD", "OPTIONS"}:
            return None
        if request.content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            return _query_problem(request.POST) if request.method == "POST" else None
        if request.content_type == "application/json" or request.content_type.endswith("+json"):
            try:
                data = json.loads(request.body or b"null")
            except ValueError:
                return None  # the view's parser answers a malformed body with its own 400
            return first_problem(data)
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, OUT_OF_RANGE):
            logger.warning("Out-of-range input on %s: %s", request.path, exception)
            return bad_request(request, "", out_of_range_message())
        return None
