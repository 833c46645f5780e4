"""The ``Idempotency-Key`` header on create endpoints.

A client that is not sure its create went through (a timeout, a dropped connection) sends the
same request again with the same key. The first successful response is stored with the key;
a repeat with the same body gets that response again (same status, same body) and creates
nothing; a repeat with a different body is a 409.

Keys are per user and per endpoint and live for 24 hours. The key row, the create itself and
the stored response are one transaction: a second request with the same key waits on the
unique constraint until the first commits (then replays its response) or rolls back (then
runs itself), so two concurrent requests never both create. Unsuccessful responses are not
stored: the key is released with everything else the request wrote.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = IdempotencyKey._meta.get_field("key").max_length
MAX_ENDPOINT_LENGTH = IdempotencyKey._meta.get_field("endpoint").max_length

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=gettext_lazy(
        "Any unique string (a UUID, say), at most 100 characters. Sending the same request "
        "again with the same key within 24 hours returns the first response (same status and "
        "body) and creates nothing; the same key with a different body is refused with 409. "
        "Replayed responses carry the header `Idempotent-Replayed: true`."
    ),
)


def body_sha256(data) -> str:
    """SHA-256 of the request body as canonical JSON (keys sorted, no spaces), so the same
    content hashes the same whatever order or spacing the client used."""
    if hasattr(data, "lists"):  # a QueryDict from a form-encoded or multipart body
        data = {key: values for key, values in data.lists()}
    canonical = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _error(message: str, code: str, status_code: int) -> Response:
    return Response({"detail": message, "code": code}, status=status_code)


def _replay(record: IdempotencyKey, digest: str) -> Response:
    if record.body_sha256 != digest:
        return _error(
            _(
                "This Idempotency-Key was already used with a different request body. "
                "Use a new key for a new request."
            ),
            "idempotency_key_reused",
            status.HTTP_409_CONFLICT,
        )
    if record.status_code is None:
        return _error(
            _("A request with this Idempotency-Key is still being processed. Try again."),
            "idempotency_key_in_progress",
            status.HTTP_409_CONFLICT,
        )
    return HttpResponse(
        record.response,
        status=record.status_code,
        content_type="application/json",
        headers={REPLAY_HEADER: "true"},
    )


def idempotent_response(request, handler: Callable[[], Response]) -> Response:
    """Run ``handler`` (the create) under the request's ``Idempotency-Key``, if it has one."""
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        return _error(
            _("The Idempotency-Key header must be 1 to %(max)d characters long.")
            % {"max": MAX_KEY_LENGTH},
            "idempotency_key_invalid",
            status.HTTP_400_BAD_REQUEST,
        )
    digest = body_sha256(request.data)
    endpoint = f"{request.method} {request.path}"[:MAX_ENDPOINT_LENGTH]
    scope = {"user": request.user, "endpoint": endpoint, "key": key}
    cutoff = timezone.now() - KEY_LIFETIME

    with transaction.atomic():
        # An expired key is forgotten, so the same key may start afresh.
        IdempotencyKey.objects.filter(**scope, created_at__lt=cutoff).delete()
        try:
            with transaction.atomic():
                # Blocks while another transaction holds an uncommitted row with this key.
                record = IdempotencyKey.objects.create(**scope, body_sha256=digest)
        except IntegrityError:
            record = IdempotencyKey.objects.filter(**scope, created_at__gte=cutoff).first()
            if record is None:  # expired and removed meanwhile by another request
                return _error(
                    _("A request with this Idempotency-Key is still being processed. Try again."),
                    "idempotency_key_in_progress",
                    status.HTTP_409_CONFLICT,
                )
            return _replay(record, digest)

        response = handler()
        if not status.is_success(response.status_code):
            # Nothing of a refused request stays, the key included: it may be used again.
            transaction.set_rollback(True)
            return response
        record.status_code = response.status_code
        # The body as JSON text, not as a JSON object: PostgreSQL's jsonb would reorder its
        # keys, and a replay should be the first answer byte for byte.
        record.response = JSONRenderer().render(response.data).decode()
        record.save(update_fields=["status_code", "response"])
        return response


def idempotent(method):
    """Decorator for a viewset or APIView method (``create``, or a POST action) that honours
    the ``Idempotency-Key`` header. Add ``IDEMPOTENCY_KEY_PARAMETER`` to its schema."""

    @wraps(method)
    def wrapped(self, request, *args, **kwargs):
        return idempotent_response(request, lambda: method(self, request, *args, **kwargs))

    return wrapped


class IdempotentCreateMixin:
    """For viewsets whose ``create`` comes from DRF's ``CreateModelMixin`` (put it first among
    the bases): the create honours the ``Idempotency-Key`` header and documents it. A viewset
    that writes its own ``create`` decorates it with ``@idempotent`` instead."""

    @extend_schema(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    def create(self, request, *args, **kwargs):
        parent = super().create
        return idempotent_response(request, lambda: parent(request, *args, **kwargs))
