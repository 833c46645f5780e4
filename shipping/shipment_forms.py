"""The ship-back page's form: which channel, since when, again or not, which file type."""

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import Channel


class ShipmentExportForm(forms.Form):
    channel = forms.ModelChoiceField(
        label=_("Channel"), queryset=Channel.objects.filter(is_active=True).order_by("code")
    )
    since = forms.DateField(
        label=_("Handed over since"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Empty: every parcel not reported yet."),
    )
    again = forms.BooleanField(
        label=_("Include parcels reported before (export again)"), required=False
    )
    format = forms.ChoiceField(
        label=_("File"),
        choices=[("", _("As the platform takes it")), ("xlsx", "Excel"), ("csv", "CSV")],
        required=False,
    )
