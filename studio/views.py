from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.roles import ALL_ROLES, SHIPPING_WORKERS, has_role, role_required
from inventory.selectors import home_figures
from shipping.selectors import packing_backlog


@require_GET
@role_required(*ALL_ROLES)
def home(request):
    """Each role sees its own work first: tiles are chosen in the template by role, and only
    the figures a role's tiles show are computed."""
    figures = home_figures(user=request.user)
    if has_role(request.user, SHIPPING_WORKERS):
        figures |= packing_backlog()
    return render(request, "home.html", {"figures": figures})


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)
