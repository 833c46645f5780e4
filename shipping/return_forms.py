"""Forms of the return intake. They parse input; the rules
(no more back than went out, a reason for a write-off) live in ``shipping.services``."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from shipping.models import ReturnDisposition

DECIMAL_INPUT = {"inputmode": "decimal", "autocomplete": "off"}


class ReturnFindForm(forms.Form):
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "enterkeyhint": "go"}
        ),
    )


class ReturnItemForm(forms.Form):
    """What came back of one parcel item. Zero or empty kilograms: nothing came back."""

    item = forms.IntegerField(widget=forms.HiddenInput)
    kg = forms.DecimalField(
        label=_("Kg back"),
        required=False,
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=3,
        widget=forms.TextInput(attrs=DECIMAL_INPUT),
    )
    disposition = forms.ChoiceField(
        label=_("Where it goes"),
        choices=ReturnDisposition.choices,
        initial=ReturnDisposition.RESTOCK,
    )
    reason = forms.CharField(label=_("Reason (for a write-off)"), max_length=200, required=False)


ReturnItemFormSet = forms.formset_factory(ReturnItemForm, extra=0)
