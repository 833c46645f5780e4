"""Forms of the orders pages. They parse input; the rules live in services and the models."""

from datetime import timedelta

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.regions import canonical_province, provinces
from orders import selectors
from orders.models import Channel, LiveSession, OrderStatus
from orders.selectors import OrderFilters

# Datalist suggestions for the province filter (the national divisions' names): no query
# over the orders is needed for them. Any form typed (浙江, 广西) finds the canonical name.
PROVINCES = [province.name for province in provinces()]
ADDRESS_CHOICES = [("", _("All")), ("review", _("To review"))]

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class LiveSessionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, session: LiveSession) -> str:
        return f"{session.starts_at:%m-%d} {session.title}"


class OrderFilterForm(forms.Form):
    """The orders list's filters. The status comes from the tabs above the list."""

    q = forms.CharField(
        label=_("Order number or recipient"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All"))] + OrderStatus.choices,
        required=False,
        widget=forms.HiddenInput,
    )
    channel = forms.ModelChoiceField(
        label=_("Channel"),
        queryset=selectors.channel_list(),
        required=False,
        empty_label=_("All"),
    )
    live_session = LiveSessionChoiceField(
        label=_("Live session"),
        queryset=LiveSession.objects.order_by("-starts_at", "-id"),
        required=False,
        empty_label=_("All"),
    )
    paid_from = forms.DateField(label=_("Paid from"), required=False, widget=DATE_INPUT)
    paid_to = forms.DateField(label=_("Paid to"), required=False, widget=DATE_INPUT)
    province = forms.CharField(
        label=_("Province"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"list": "provinces", "autocomplete": "off"}),
    )
    sku = forms.CharField(
        label=_("SKU merchant code"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    address = forms.ChoiceField(label=_("Address check"), choices=ADDRESS_CHOICES, required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("paid_from"), data.get("paid_to")
        if start and end and end < start:
            self.add_error("paid_to", _("The end date is before the start date."))
        return data

    def filters(self) -> OrderFilters:
        """The valid filters; an invalid form filters nothing but the status it was given."""
        if not self.is_valid():
            status = self.data.get("status", "")
            return OrderFilters(status=status if status in OrderStatus.values else "")
        data = self.cleaned_data
        return OrderFilters(
            status=data["status"],
            channel_id=data["channel"].pk if data["channel"] else None,
            live_session_id=data["live_session"].pk if data["live_session"] else None,
            paid_from=data["paid_from"],
            paid_to=data["paid_to"],
            province=canonical_province(data["province"]),
            merchant_code=data["sku"].strip().upper(),
            q=data["q"].strip(),
            address_review=data["address"] == "review",
        )


class AddressForm(forms.Form):
    """A manager's correction of an address that could not be read (rules in
    ``orders.addresses.order_address_correct``)."""

    province = forms.CharField(
        label=_("Province"),
        max_length=20,
        widget=forms.TextInput(attrs={"list": "provinces", "autocomplete": "off"}),
    )
    city = forms.CharField(label=_("City"), max_length=30, required=False)
    district = forms.CharField(label=_("District or county"), max_length=30, required=False)
    address_detail = forms.CharField(label=_("Street address"), max_length=300)


class CancelForm(forms.Form):
    note = forms.CharField(label=_("Reason (optional)"), max_length=200, required=False)


class LiveSessionForm(forms.ModelForm):
    class Meta:
        model = LiveSession
        fields = ["channel", "title", "host", "room", "starts_at", "ends_at"]
        widgets = {"starts_at": DATETIME_INPUT, "ends_at": DATETIME_INPUT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.channel_id if self.instance.pk else None
        self.fields["channel"].queryset = Channel.objects.filter(
            Q(is_active=True) | Q(pk=current)
        ).order_by("code")
        self.fields["channel"].empty_label = _("— choose a channel —")
        self.fields["room"].widget.attrs["placeholder"] = _("e.g. Live room 1")
        if not self.instance.pk and not self.is_bound:
            # A new session most often starts at the next full hour and runs three hours.
            start = timezone.localtime().replace(minute=0, second=0, microsecond=0)
            start += timedelta(hours=1)
            self.initial.setdefault("starts_at", start)
            self.initial.setdefault("ends_at", start + timedelta(hours=3))

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The session must end after it starts."))
        return data
