"""Forms of the packing station. They parse what the scanner and the scale typed; the rules of
packing live in ``shipping.services.parcel_pack``."""

import re
from collections.abc import Sequence
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from orders.lifecycle import PackItem
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
    """One box: what goes in (every unit the orders hold, or, when the box is closed with
    units left for the next box, the units counted per line), the weight (and why, when it is
    outside the expected band), the carrier, optionally a scanned tracking number and sorting
    code, the other orders merged into it, and how many boxes the order is planned in.

    Per line: ``units_<line id>`` is the count of units scanned (or typed) into this box; a
    ticked ``lines`` checkbox with no count means all the line's units (the page without
    JavaScript)."""

    CLOSE_BOX = "close"

    order = forms.IntegerField(widget=forms.HiddenInput)
    lines = forms.TypedMultipleChoiceField(coerce=int, required=False)
    weight_kg = WeightField(
        label=_("Weight (kg)"),
        max_digits=7,
        decimal_places=3,
        min_value=Decimal("0.001"),
        error_messages={"invalid": _("Type the weight in kg: scan item codes above, not here.")},
        widget=forms.TextInput(
            attrs={**SCAN_INPUT, "inputmode": "decimal", "enterkeyhint": "done"}
        ),
    )
    weight_reason = forms.CharField(
        label=_("Why is this weight right?"),
        max_length=200,
        required=False,
        help_text=_("E.g. “ice packs added”, “heavier crate”. Kept with the parcel."),
        widget=forms.TextInput(attrs={**SCAN_INPUT, "enterkeyhint": "done"}),
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
    boxes = forms.IntegerField(
        label=_("Boxes for this order"), min_value=1, max_value=99, required=False
    )
    box = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args,
        order: Order,
        candidates: Sequence[Order] = (),
        held: dict[int, int] | None = None,
        **kwargs,
    ):
        """``held``: units each line still holds (lines packed in an earlier box hold 0)."""
        super().__init__(*args, **kwargs)
        self.order = order
        self.candidates = {candidate.pk: candidate for candidate in candidates}
        self.held = held or {}
        self.fields["merge"].choices = [(c.pk, c.external_no) for c in candidates]
        self.fields["lines"].choices = [
            (line.pk, line.pk) for each in (order, *candidates) for line in each.lines.all()
        ]

    def clean_order(self) -> int:
        if self.cleaned_data["order"] != self.order.pk:
            raise forms.ValidationError(_("The order changed; scan it again."))
        return self.cleaned_data["order"]

    def counted(self) -> dict[int, int]:
        """Units per line for this box, as posted (before any check)."""
        if not self.is_bound:
            return {}
        ticked = set(self.confirmed_lines())
        counts = {}
        for line_id, held in self.held.items():
            raw = (self.data.get(self.add_prefix(f"units_{line_id}")) or "").strip()
            if raw.isdigit() and len(raw) <= 4:
                counts[line_id] = int(raw)
            elif line_id in ticked:
                counts[line_id] = held
        return counts

    def clean(self):
        cleaned = super().clean()
        merged = [self.candidates[pk] for pk in cleaned.get("merge") or ()]
        cleaned["merge_orders"] = merged
        counts = self.counted()
        closing = cleaned.get("box") == self.CLOSE_BOX
        short, over = [], []
        for each in (self.order, *merged):
            for line in each.lines.all():
                held = self.held.get(line.pk, 0)
                if not held:
                    continue  # packed in an earlier box
                units = counts.get(line.pk, 0)
                if units > held:
                    over.append((line, units, held))
                elif units < held:
                    short.append((line, units, held))
        if over:
            line, units, held = over[0]
            self.add_error(
                "lines",
                _("%(sku)s: %(units)d counted, but only %(held)d are left to pack.")
                % {"sku": line.sku.name, "units": units, "held": held},
            )
        elif short and not closing:
            self.add_error(
                "lines",
                ngettext(
                    "Scan every unit: %(count)d line is not complete (%(detail)s).",
                    "Scan every unit: %(count)d lines are not complete (%(detail)s).",
                    len(short),
                )
                % {
                    "count": len(short),
                    "detail": "; ".join(
                        f"{line.sku.name} {units} / {held}" for line, units, held in short
                    ),
                },
            )
        elif closing and not any(counts.get(pk, 0) for pk in self.held):
            self.add_error("lines", _("Scan what goes into this box before closing it."))
        # Everything counted: the box takes all the orders hold (also when "closed").
        cleaned["items"] = (
            [PackItem(pk, units) for pk, units in counts.items() if units]
            if closing and short
            else None
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
