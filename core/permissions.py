"""API role checks. Every API view states who may use it:

- ``read_roles``: roles for GET/HEAD/OPTIONS;
- ``write_roles``: roles for every other method (default: managers only);
- ``action_roles``: per viewset action, overriding both (e.g. ``{"write_off": STOCK_WRITERS}``).
"""

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import SAFE_METHODS, BasePermission

from core.roles import ALL_ROLES, Role, has_role


def allowed_roles_for(view, method: str) -> frozenset[str]:
    action = getattr(view, "action", None)
    action_roles = getattr(view, "action_roles", {}) or {}
    if action in action_roles:
        return frozenset(action_roles[action])
    if method in SAFE_METHODS:
        roles = getattr(view, "read_roles", None)
    else:
        roles = getattr(view, "write_roles", frozenset({Role.MANAGER}))
    if roles is None:
        raise ImproperlyConfigured(f"{type(view).__name__} does not declare read_roles")
    return frozenset(roles)


class RolePermission(BasePermission):
    message = "Your role may not use this endpoint."

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        return has_role(request.user, allowed_roles_for(view, request.method))


class AnyStudioRole(BasePermission):
    """Any user who holds one of the studio's roles (the API schema and docs)."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and has_role(request.user, ALL_ROLES))
