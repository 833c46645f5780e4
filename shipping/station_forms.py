"""Forms of the packing station. They parse what the scanner and the scale typed; the rules of
packing live in ``shipping.services.parcel_pack``."""

import re
from collections.abc import Sequence
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from orders.models import Order
from shipping.models import Carrier

SCAN_INPUT = {"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"}
# What scales and people type after the number: "1.25kg", "1,25 KG", "1.25 公斤".
WEIGHT_SUFFIX = re.compile(r"\s*(kg|公斤|千克)\s*$", re.IGNORECASE)


class ScanOrderForm(forms.Form):
    """The order number, as the scanner types it (the channel's own number)."""

    order = forms.CharField(
        label=_("Scan or type the order number"),
        max_length=40,
        widget=forms.TextInput(attrs={**SCAN_INPUT, "enterkeyhint": "go"}),
    )
    channel = forms.CharField(max_length=20, required=False, widget=forms.HiddenInput)

    def clean_order(self) -> str:
        # Spreadsheets and some scanners put a quote or tab before long numbers.
        return self.cleaned_data["order"].strip().lstrip("'\t").strip()


class WeightField(forms.DecimalField):
    """Kilograms as a scale or a person types them: a comma for the point and a unit after
    the number are accepted."""

    def to_python(self, value):
        if isinstance(value, str):
            value = WEIGHT_SUFFIX.sub("", value.strip()).replace(",", ".")
        return super().to_python(value)


class CarrierChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, carrier: Carrier) -> str:
        return carrier.name


class PackForm(forms.Form):
    """One parcel: every line confirmed, the weight, the carrier and (optionally) a scanned
    tracking number and sorting code, and the other orders merged into it."""

    order = forms.IntegerField(widget=forms.HiddenInput)
    lines = forms.TypedMultipleChoiceField(coerce=int, required=False)
    weight_kg = WeightField(
        label=_("Weight (kg)"),
        max_digits=7,
        decimal_places=3,
        min_value=Decimal("0.001"),
        widget=forms.TextInput(
            attrs={**SCAN_INPUT, "inputmode": "decimal", "enterkeyhint": "done"}
        ),
    )
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=40,
        required=False,
        help_text=_("Leave empty to take the carrier's next waybill number."),
        widget=forms.TextInput(attrs=SCAN_INPUT),
    )
    carrier = CarrierChoiceField(
        label=_("Carrier"), queryset=Carrier.objects.filter(is_active=True), empty_label=None
    )
    sorting_code = forms.CharField(
        label=_("Sorting code"), max_length=30, required=False, widget=forms.TextInput(SCAN_INPUT)
    )
    merge = forms.TypedMultipleChoiceField(
        label=_("Merge into this parcel"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, order: Order, candidates: Sequence[Order] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.candidates = {candidate.pk: candidate for candidate in candidates}
        self.fields["merge"].choices = [(c.pk, c.external_no) for c in candidates]
        self.fields["lines"].choices = [
            (line.pk, line.pk) for each in (order, *candidates) for line in each.lines.all()
        ]

    def clean_order(self) -> int:
        if self.cleaned_data["order"] != self.order.pk:
            raise forms.ValidationError(_("The order changed; scan it again."))
        return self.cleaned_data["order"]

    def clean(self):
        cleaned = super().clean()
        merged = [self.candidates[pk] for pk in cleaned.get("merge") or ()]
        cleaned["merge_orders"] = merged
        confirmed = set(cleaned.get("lines") or ())
        missing = [
            line
            for each in (self.order, *merged)
            for line in each.lines.all()
            if line.pk not in confirmed
        ]
        if missing and "lines" not in self.errors:
            self.add_error(
                "lines",
                ngettext(
                    "Confirm every item: %(count)d is not confirmed yet.",
                    "Confirm every item: %(count)d are not confirmed yet.",
                    len(missing),
                )
                % {"count": len(missing)},
            )
        return cleaned

    def confirmed_lines(self) -> set[int]:
        """Line ids the packer ticked, also when the form is re-shown with errors."""
        if not self.is_bound:
            return set()
        values = self.data.getlist(self.add_prefix("lines"))
        return {int(value) for value in values if value.isdigit()}

    def merged_ids(self) -> set[int]:
        if not self.is_bound:
            return set()
        values = self.data.getlist(self.add_prefix("merge"))
        return {int(value) for value in values if value.isdigit()}
