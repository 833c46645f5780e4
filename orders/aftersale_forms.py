"""Forms of the after-sales pages: record a refund on the order page, upload an after-sales
file. They parse input; the rules live in ``orders.aftersales``."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from orders.aftersale_files import LAYOUTS
from orders.import_forms import UploadForm
from orders.models import AfterSaleKind, ImportMode

DECIMAL_INPUT = {"inputmode": "decimal", "autocomplete": "off"}
REFUND_KINDS = [
    (AfterSaleKind.REFUND_ONLY, _("Refund only (仅退款): the goods stay with the buyer")),
    (AfterSaleKind.RETURN_AND_REFUND, _("Return and refund (退货退款): the goods come back")),
]


class RefundForm(forms.Form):
    line = forms.TypedChoiceField(label=pgettext_lazy("order line", "Line"), coerce=int)
    kind = forms.ChoiceField(label=_("Kind"), choices=REFUND_KINDS)
    units = forms.IntegerField(label=_("Units"), required=False, min_value=1)
    kg = forms.DecimalField(
        label=_("or kilograms"),
        required=False,
        min_value=Decimal("0.001"),
        max_digits=12,
        decimal_places=3,
        widget=forms.TextInput(attrs=DECIMAL_INPUT),
    )
    amount = forms.DecimalField(
        label=_("Amount refunded (¥)"),
        required=False,
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
        help_text=_("Empty: the line's price for those units or kilograms."),
        widget=forms.TextInput(attrs=DECIMAL_INPUT),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].choices = [
            (line.pk, f"{line.sku.name} × {line.quantity}") for line in lines
        ]

    def clean(self):
        data = super().clean()
        if data.get("units") and data.get("kg"):
            raise forms.ValidationError(_("Give units or kilograms, not both."))
        return data


LAYOUT_CHOICES = [("auto", _("Recognise from the columns"))] + [
    (code, layout.name) for code, layout in LAYOUTS.items()
]


class AfterSalesUploadForm(UploadForm):
    layout = forms.ChoiceField(label=_("Layout"), choices=LAYOUT_CHOICES, initial="auto")
    mode = forms.ChoiceField(
        label=_("Rows with errors"), choices=ImportMode.choices, initial=ImportMode.KEEP_GOOD
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].label = _("After-sales export (CSV or XLSX)")
