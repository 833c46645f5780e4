"""The studio settings page: managers choose the weight unit (斤 or kg)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.forms import StudioSettingsForm
from core.models import StudioSettings
from core.roles import STUDIO_SETTINGS_WRITERS, role_required


@require_http_methods(["GET", "POST"])
@role_required(*STUDIO_SETTINGS_WRITERS)
def studio_settings(request):
    form = StudioSettingsForm(request.POST or None, instance=StudioSettings.load())
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Settings saved."))
        return redirect("core:studio_settings")
    return render(request, "core/studio_settings.html", {"form": form})
