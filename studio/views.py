from django.shortcuts import render
from django.views.decorators.http import require_GET

from studio.roles import ALL_ROLES, role_required


@require_GET
@role_required(*ALL_ROLES)
def home(request):
    """Each role sees its own work first: tiles are chosen in the template by role."""
    from inventory.selectors import home_figures

    return render(request, "home.html", {"figures": home_figures(user=request.user)})


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)
