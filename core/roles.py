"""The studio's roles and the checks every page and endpoint uses.

A role is a Django group of the same name (created by a data migration). A superuser has
every role. Pages declare their roles with ``role_required`` / ``RoleRequiredMixin``; API
views with ``read_roles`` / ``write_roles`` (see ``core.permissions``).
"""

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    INTAKE = "intake", _("Intake staff")
    PACKER = "packer", _("Packer")
    CREATOR = "creator", _("Creator")
    MANAGER = "manager", _("Manager")


ALL_ROLES = frozenset(Role.values)
# Who may read stock figures (quantities, lots, farmers' names) without changing them.
STOCK_READERS = frozenset({Role.INTAKE, Role.PACKER, Role.CREATOR, Role.MANAGER})
STOCK_WRITERS = frozenset({Role.INTAKE, Role.MANAGER})
# Orders: packers pack them and creators follow what sold; only managers import, cancel,
# allocate or create them by hand. Creators plan their own live sessions.
ORDER_READERS = frozenset({Role.PACKER, Role.CREATOR, Role.MANAGER})
ORDER_WRITERS = frozenset({Role.MANAGER})
LIVE_SESSION_WRITERS = frozenset({Role.CREATOR, Role.MANAGER})
# Shipping: packers and managers make waves, pack, print and hand over; creators may look.
SHIPPING_READERS = frozenset({Role.PACKER, Role.CREATOR, Role.MANAGER})
SHIPPING_WORKERS = frozenset({Role.PACKER, Role.MANAGER})
# A returned parcel comes in at the warehouse door.
RETURN_WORKERS = frozenset({Role.INTAKE, Role.PACKER, Role.MANAGER})
# A lot's compliance certificate: intake staff when they repack, packers, managers.
CERTIFICATE_ISSUERS = frozenset({Role.INTAKE, Role.PACKER, Role.MANAGER})
# A SKU's barcode stickers: intake staff when they pack produce into SKUs, packers, managers.
STICKER_PRINTERS = frozenset({Role.INTAKE, Role.PACKER, Role.MANAGER})
# Insight: creators follow what sold (money included: order prices and totals, SKU prices);
# packers see no money at all.
SALES_READERS = frozenset({Role.CREATOR, Role.MANAGER})
# What the studio pays farmers per kilogram, and an intake's amount: intake staff record it at
# the door (and print it on the farmer's slip); managers pay it. Nobody else sees it.
FARMER_PRICE_READERS = frozenset({Role.INTAKE, Role.MANAGER})
# A farmer's full phone number: those who call farmers (intake staff, managers).
FARMER_PHONE_READERS = frozenset({Role.INTAKE, Role.MANAGER})
# Farmers' statements: creators see kilograms per farmer and the studio's totals, never one
# farmer's money; managers see everything and record payments.
STATEMENT_READERS = frozenset({Role.CREATOR, Role.MANAGER})
FARMER_MONEY_READERS = frozenset({Role.MANAGER})
FARMER_PAYMENT_WRITERS = frozenset({Role.MANAGER})
# Stock health (age, expiry risk, spoilage, days of cover) is the manager's.
STOCK_HEALTH_READERS = frozenset({Role.MANAGER})
# Platform accounts, their credentials, sync states and the call log are the manager's.
PLATFORM_MANAGERS = frozenset({Role.MANAGER})
# The studio's own settings (the weight unit): managers.
STUDIO_SETTINGS_WRITERS = frozenset({Role.MANAGER})
# The weight-variance list: who packed boxes that weighed other than expected.
WEIGHT_VARIANCE_READERS = frozenset({Role.MANAGER})


def user_roles(user) -> frozenset[str]:
    """The role names a user holds; cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_shanhuo_roles", None)
    if cached is None:
        cached = remember_roles(user, user.groups.values_list("name", flat=True))
    return cached


def remember_roles(user, group_names: Iterable[str]) -> frozenset[str]:
    """Cache on ``user``, for the request, the roles among ``group_names`` (its groups' names,
    read along with it: ``core.auth.TokenAuthentication``); a superuser has every role."""
    roles = ALL_ROLES if user.is_superuser else frozenset(group_names) & ALL_ROLES
    user._shanhuo_roles = roles
    return roles


def has_role(user, roles: Iterable[str]) -> bool:
    return bool(user_roles(user) & frozenset(roles))


def role_required(*roles: str) -> Callable:
    """Page decorator: anonymous users go to the login page, users without a role get 403."""
    allowed = frozenset(roles)

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, allowed):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = allowed
        return wrapped

    return decorator


class RoleRequiredMixin(AccessMixin):
    """Class-based page: set ``allowed_roles``."""

    allowed_roles: frozenset[str] = frozenset()

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_role(request.user, self.allowed_roles):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)
