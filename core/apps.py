from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every app shares: roles, domain errors, API plumbing, PDFs, exports, idempotency.
    It imports no app of the project."""

    name = "core"
    verbose_name = _("Core")
