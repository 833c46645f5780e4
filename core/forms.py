"""The studio settings page's form."""

from django import forms

from core.models import StudioSettings


class StudioSettingsForm(forms.ModelForm):
    class Meta:
        model = StudioSettings
        fields = ["weight_unit"]
        widgets = {"weight_unit": forms.RadioSelect}
