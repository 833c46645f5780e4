"""API plumbing shared by every app."""

from collections.abc import Collection

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError
from core.roles import has_role

PREFER_MINIMAL = "return=minimal"
PREFER_PARAMETER = OpenApiParameter(
    name="Prefer",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=gettext_lazy(
        "`return=minimal` (RFC 7240): answer with the essentials of what was created instead "
        "of its full representation, for a client that needs no more (a scanning station). "
        "The answer then carries `Preference-Applied: return=minimal`."
    ),
)


def prefers_minimal(request) -> bool:
    """Whether the request says ``Prefer: return=minimal`` (RFC 7240: preferences are
    comma-separated, names case-insensitive, a value may be quoted, parameters follow ``;``)."""
    for preference in request.headers.get("Prefer", "").split(","):
        name, _sep, value = preference.split(";", 1)[0].partition("=")
        if name.strip().lower() == "return" and value.strip().strip('"').lower() == "minimal":
            return True
    return False


def minimal_applied(response: Response) -> Response:
    """Mark an answer given in its minimal form (``prefers_minimal``)."""
    response["Preference-Applied"] = PREFER_MINIMAL
    return response


class Conflict(APIException):
    """409: the request clashes with the data's current state (not bad input)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The request conflicts with the current state of the data.")
    default_code = "conflict"


def exception_handler(exc, context):
    """DRF's handler, plus: a DomainError or a model ValidationError is a 400 keyed by field."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            body = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
        else:
            body = {"non_field_errors": [str(m) for m in exc.messages]}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, OverflowError | DataError):
        # A number or date that passed the fields but overflows in arithmetic or in the
        # database (core.input_guard): the request's fault, never a 500.
        return Response(
            {"detail": _("A number or a date is out of range.")},
            status=status.HTTP_400_BAD_REQUEST,
        )
    return drf_exception_handler(exc, context)


def domain_error_response(
    exc: DomainError, *, conflict_codes: Collection[str], rows_key: str = "rows"
) -> Response:
    """A service's refusal as an action endpoint answers it: a code in ``conflict_codes`` (a
    clash with the data's current state, not bad input) is a 409 with ``detail``, ``code`` and
    ``field``; anything else is the 400 keyed by field, row errors listed under ``rows_key``."""
    if exc.code in conflict_codes:
        body = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=status.HTTP_409_CONFLICT)
    body = exc.as_dict()
    if exc.row is not None:
        body = {rows_key: body["rows"]}
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


class ProtectedDeleteMixin:
    """Deleting something still referenced (``on_delete=PROTECT``) answers 409, not 500."""

    def perform_destroy(self, instance):
        try:
            instance.delete()
        except (ProtectedError, RestrictedError) as exc:
            objects = getattr(exc, "protected_objects", None) or exc.restricted_objects
            used_by = sorted({str(obj._meta.verbose_name_plural) for obj in objects})
            message = _("“%(object)s” is still used by %(used_by)s and cannot be deleted.") % {
                "object": instance,
                "used_by": ", ".join(used_by) or _("other records"),
            }
            if hasattr(instance, "is_active"):
                message += " " + _("Deactivate it instead (set is_active to false).")
            raise Conflict(message) from exc


# --- fields by role --------------------------------------------------------------------------

# Component name → fields some roles do not get (read by ``optional_role_fields``).
ROLE_FIELDS_BY_COMPONENT: dict[str, set[str]] = {}


class RoleFieldsMixin:
    """Fields only some roles may read, e.g. ``role_fields = {"price_per_kg":
    FARMER_PRICE_READERS}``: others get the object without them (nested serializers too:
    the request is the root's). Without a request (the schema) every field is there; the
    schema marks these optional (``optional_role_fields``)."""

    role_fields: dict[str, frozenset[str]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.role_fields:
            name = cls.__name__.removesuffix("Serializer")
            ROLE_FIELDS_BY_COMPONENT.setdefault(name, set()).update(cls.role_fields)

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        view = self.context.get("view")
        if request is None or getattr(view, "swagger_fake_view", False):
            return fields
        for name, roles in self.role_fields.items():
            if name in fields and not has_role(request.user, roles):
                del fields[name]
        return fields


def optional_role_fields(result, generator, request, public):
    """drf-spectacular hook: a field some roles do not get is not required."""
    schemas = result.get("components", {}).get("schemas", {})
    for name, fields in ROLE_FIELDS_BY_COMPONENT.items():
        for component in (name, f"Paginated{name}List"):
            schema = schemas.get(component)
            if schema and "required" in schema:
                schema["required"] = [f for f in schema["required"] if f not in fields]
                if not schema["required"]:
                    del schema["required"]
    return result
