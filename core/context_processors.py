"""What every page may show: the studio's weight unit."""

from django.utils.functional import SimpleLazyObject

from core.models import StudioSettings


def weight_unit(request):
    """``weight_unit``: the studio's unit (``kg`` or ``jin``), read only when a template uses
    it."""
    return {"weight_unit": SimpleLazyObject(lambda: StudioSettings.load().weight_unit)}
