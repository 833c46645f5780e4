from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
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


def page_not_found(request, exception=None):
    """An address the API does not have answers as the API does (JSON); a page, the page."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return render(request, "404.html", status=404)
