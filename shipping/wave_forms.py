"""Forms of the wave, label batch, handover and tracking pages. They parse input; the rules
live in ``shipping.services``."""

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.forms import DATE_INPUT, LiveSessionChoiceField
from orders.importers.reading import max_upload_bytes
from orders.models import Channel, LiveSession
from shipping.models import Carrier, Wave
from shipping.selectors import DEFAULT_WAVE_SIZE, ParcelFilters, WaveSelection

MAX_WAVE_SIZE = 2000


def _carriers():
    return Carrier.objects.filter(is_active=True).order_by("code")


class WaveForm(forms.Form):
    """Which allocated orders a new wave takes."""

    live_session = LiveSessionChoiceField(
        label=_("Live session"),
        queryset=LiveSession.objects.order_by("-starts_at", "-id"),
        required=False,
        empty_label=_("Any"),
    )
    channel = forms.ModelChoiceField(
        label=_("Channel"),
        queryset=Channel.objects.order_by("code"),
        required=False,
        empty_label=_("Any"),
    )
    sku = forms.CharField(
        label=_("SKU merchant code"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    province = forms.CharField(
        label=_("Province"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"list": "provinces", "autocomplete": "off"}),
    )
    carrier = forms.ModelChoiceField(
        label=_("Carrier"),
        queryset=_carriers(),
        required=False,
        empty_label=_("Choose at the station"),
        help_text=_("Preselected at the packing station for this wave's parcels."),
    )
    carrier_in_note = forms.BooleanField(
        label=_("Only orders whose buyer note asks for this carrier"),
        required=False,
    )
    limit = forms.IntegerField(
        label=_("At most (oldest first)"),
        min_value=1,
        max_value=MAX_WAVE_SIZE,
        initial=DEFAULT_WAVE_SIZE,
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def clean(self):
        data = super().clean()
        if data.get("carrier_in_note") and not data.get("carrier"):
            self.add_error("carrier", _("Choose the carrier the buyer note should name."))
        return data

    def selection(self) -> WaveSelection:
        data = self.cleaned_data
        return WaveSelection(
            live_session_id=data["live_session"].pk if data.get("live_session") else None,
            channel_id=data["channel"].pk if data.get("channel") else None,
            merchant_code=(data.get("sku") or "").strip(),
            province=(data.get("province") or "").strip(),
            carrier_id=data["carrier"].pk if data.get("carrier") else None,
            carrier_in_note=bool(data.get("carrier_in_note")),
            limit=data.get("limit") or DEFAULT_WAVE_SIZE,
        )


class LabelBatchForm(forms.Form):
    """Which parcels to print labels for: at least one criterion."""

    wave = forms.CharField(label=_("Wave"), required=False, max_length=20)
    carrier = forms.ModelChoiceField(
        label=_("Carrier"),
        queryset=Carrier.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=_("Any"),
    )
    packed_on = forms.DateField(label=_("Packed on"), required=False, widget=DATE_INPUT)
    unprinted = forms.BooleanField(label=_("Only labels not yet printed"), required=False)

    def clean_wave(self):
        code = self.cleaned_data["wave"].strip()
        if code and not Wave.objects.filter(code=code).exists():
            raise forms.ValidationError(_("No wave has code %(code)s.") % {"code": code})
        return code

    def clean(self):
        data = super().clean()
        if not self.errors and self.filters().is_empty:
            raise forms.ValidationError(
                _("Choose a wave, a carrier, a packing date or the unprinted labels.")
            )
        return data

    def filters(self) -> ParcelFilters:
        data = self.cleaned_data
        return ParcelFilters(
            wave_code=data.get("wave") or "",
            carrier_code=data["carrier"].code if data.get("carrier") else "",
            packed_on=data.get("packed_on"),
            unprinted=bool(data.get("unprinted")),
        )


class HandoverCarrierForm(forms.Form):
    """Start a handover batch. The carrier defaults to the one with most parcels waiting, and
    each choice says how many wait for it."""

    carrier = forms.ModelChoiceField(
        label=_("Carrier"), queryset=Carrier.objects.order_by("code"), empty_label=None
    )
    courier_name = forms.CharField(
        label=_("Courier's name"), max_length=50, required=False, strip=True
    )

    def __init__(self, *args, waiting: dict[int, int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        waiting = waiting or {}
        field = self.fields["carrier"]
        field.label_from_instance = lambda carrier: (
            _("%(carrier)s · %(count)d waiting")
            % {"carrier": carrier.name, "count": waiting[carrier.pk]}
            if waiting.get(carrier.pk)
            else carrier.name
        )
        if waiting and not self.is_bound:
            self.initial.setdefault("carrier", max(waiting, key=lambda pk: (waiting[pk], -pk)))


class HandoverScanForm(forms.Form):
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "enterkeyhint": "send",
            }
        ),
    )


class TrackingUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Tracking file (CSV or XLSX)"),
        help_text=_("Columns: tracking number, status, time."),
    )
    carrier = forms.ModelChoiceField(
        label=_("Carrier"),
        queryset=Carrier.objects.order_by("code"),
        required=False,
        empty_label=_("Any"),
        help_text=_("Needed only when two carriers use the same numbers."),
    )

    def clean_file(self):
        """A file over the size limit is refused before it is read into memory."""
        uploaded = self.cleaned_data["file"]
        limit = max_upload_bytes()
        if uploaded.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s MB; the limit is %(limit)s MB."),
                params={
                    "size": round(uploaded.size / 1048576, 1),
                    "limit": round(limit / 1048576, 1),
                },
                code="too_large",
            )
        return uploaded
