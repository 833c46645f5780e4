"""The manager's form for a channel's platform account. Secrets are write-only: the form
never shows them, an empty field keeps the stored value."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.platforms.models import Platform, SignMethod


def _secret(label, help_text=""):
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        max_length=500,
        help_text=help_text or _("Leave empty to keep what is saved."),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


class PlatformAccountForm(forms.Form):
    platform = forms.ChoiceField(label=_("Platform"), choices=Platform.choices)
    app_key = forms.CharField(label=_("App key"), max_length=64, required=False)
    app_secret = _secret(_("App secret"))
    sign_secret = _secret(_("Sign secret"), _("Kuaishou only. Leave empty to keep what is saved."))
    access_token = _secret(_("Access token"))
    refresh_token = _secret(_("Refresh token"))
    clear = forms.MultipleChoiceField(
        label=_("Remove"),
        required=False,
        choices=[
            ("app_secret", _("App secret")),
            ("sign_secret", _("Sign secret")),
            ("access_token", _("Access token")),
            ("refresh_token", _("Refresh token")),
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    shop_id = forms.CharField(label=_("Shop ID"), max_length=40, required=False)
    sign_method = forms.ChoiceField(label=_("Signature method"), choices=SignMethod.choices)
    base_url = forms.URLField(
        label=_("API address"),
        required=False,
        help_text=_("Empty: the platform's official address."),
    )
    carrier_codes = forms.CharField(
        label=_("Carrier codes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_('Only where the built-in list differs, as JSON: {"jitu": "jtexpress"}'),
    )
    is_enabled = forms.BooleanField(label=_("Enabled"), required=False)

    def clean_carrier_codes(self):
        text = self.cleaned_data["carrier_codes"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            raise forms.ValidationError(_("Write the carrier codes as JSON.")) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Write the carrier codes as JSON.")) from None
        return value
