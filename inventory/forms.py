"""Forms of the intake desk and the lot page. They parse input; the rules live in services."""

from decimal import Decimal

from django import forms
from django.core.validators import DecimalValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.errors import DomainError
from core.units import (
    PRICE_INPUT_PLACES,
    WEIGHT_INPUT_PLACES,
    InexactConversion,
    WeightUnit,
    kg_from,
    price_per_kg_from,
)
from inventory.certificate import CommitmentBasis
from inventory.models import Farmer, Grade, Location, PaymentMethod, Product
from inventory.reports import Period

DECIMAL_INPUT = {"inputmode": "decimal", "autocomplete": "off"}


class FarmerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, farmer: Farmer) -> str:
        tail = f" · {farmer.phone[-4:]}" if farmer.phone else ""
        return f"{farmer.name} · {farmer.village}{tail}"


class IntakeForm(forms.Form):
    """The delivery's header: who brought it, what, when. A new farmer may be added inline."""

    farmer = FarmerChoiceField(
        label=_("Farmer"),
        queryset=Farmer.objects.filter(is_active=True).order_by("village", "name"),
        required=False,
        empty_label=_("— choose a farmer —"),
    )
    new_farmer_name = forms.CharField(label=_("Name"), max_length=50, required=False)
    new_farmer_village = forms.CharField(label=_("Village"), max_length=50, required=False)
    new_farmer_phone = forms.CharField(
        label=_("Mobile"),
        max_length=11,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.filter(is_active=True).order_by("name"),
        empty_label=_("— choose a product —"),
    )
    harvest_date = forms.DateField(
        label=_("Harvest date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    location = forms.ModelChoiceField(
        label=_("Location"),
        queryset=Location.objects.filter(is_active=True),
        required=False,
        empty_label=_("By product storage"),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
    confirm_old_harvest = forms.BooleanField(
        label=_("Accept this old harvest (manager)"),
        required=False,
        help_text=_(
            "The lots are expired already: they are never sold and are listed for write-off."
        ),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("harvest_date", timezone.localdate())
        super().__init__(*args, **kwargs)

    @property
    def adds_farmer(self) -> bool:
        return bool(self.cleaned_data.get("new_farmer_name"))

    def clean(self):
        data = super().clean()
        if not data.get("farmer") and not data.get("new_farmer_name"):
            self.add_error("farmer", _("Choose the farmer, or add a new one below."))
        if data.get("new_farmer_name") and not data.get("new_farmer_village"):
            self.add_error("new_farmer_village", _("Enter the new farmer's village."))
        return data


class IntakeRowForm(forms.Form):
    """One grade as weighed, in the studio's unit (``unit``: 斤 or kg); ``cleaned_data`` holds
    kilograms and yuan per kg, converted exactly (``core.units``). A row left blank is
    ignored."""

    grade = forms.ModelChoiceField(label=_("Grade"), queryset=Grade.objects.all(), empty_label="—")
    gross_kg = forms.DecimalField(
        label=_("Gross kg"), max_digits=9, decimal_places=3, widget=forms.TextInput(DECIMAL_INPUT)
    )
    # No initial values: a row the clerk did not touch must stay "unchanged" to be ignored.
    crates = forms.IntegerField(
        label=_("Crates"),
        min_value=0,
        required=False,
        widget=forms.TextInput({"inputmode": "numeric", "autocomplete": "off", "placeholder": "0"}),
    )
    tare_per_crate_kg = forms.DecimalField(
        label=_("Tare kg/crate"),
        max_digits=6,
        decimal_places=3,
        required=False,
        widget=forms.TextInput(DECIMAL_INPUT | {"placeholder": "0"}),
    )
    price_per_kg = forms.DecimalField(
        label=_("Price ¥/kg"),
        max_digits=8,
        decimal_places=2,
        widget=forms.TextInput(DECIMAL_INPUT),
    )

    def __init__(self, *args, unit: str = WeightUnit.KG, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit = WeightUnit(str(unit))
        if self.unit == WeightUnit.JIN:
            # Typed in 斤 with 2 places, a weight is 3 places in kg; a price per 斤 may have 3
            # places when its double per kg has 2 (¥3.575/斤 = ¥7.15/kg).
            fields = self.fields
            fields["gross_kg"].label = _("Gross 斤")
            fields["gross_kg"].decimal_places = WEIGHT_INPUT_PLACES[self.unit]
            fields["tare_per_crate_kg"].label = _("Tare 斤/crate")
            fields["tare_per_crate_kg"].decimal_places = WEIGHT_INPUT_PLACES[self.unit]
            fields["price_per_kg"].label = _("Price ¥/斤")
            fields["price_per_kg"].decimal_places = PRICE_INPUT_PLACES[self.unit]
            for name in ("gross_kg", "tare_per_crate_kg", "price_per_kg"):
                field = fields[name]
                field.validators = [
                    v for v in field.validators if not isinstance(v, DecimalValidator)
                ] + [DecimalValidator(field.max_digits, field.decimal_places)]

    def clean_gross_kg(self):
        return kg_from(self.cleaned_data["gross_kg"], self.unit)

    def clean_crates(self):
        return self.cleaned_data.get("crates") or 0

    def clean_tare_per_crate_kg(self):
        return kg_from(self.cleaned_data.get("tare_per_crate_kg") or Decimal("0"), self.unit)

    def clean_price_per_kg(self):
        price = self.cleaned_data["price_per_kg"]
        try:
            return price_per_kg_from(price, self.unit)
        except InexactConversion:
            raise forms.ValidationError(
                _(
                    "A price per 斤 must be whole fen per kg: at most 2 decimal places, or 5 "
                    "as the third (¥3.575/斤 is ¥7.15/kg)."
                ),
                code="inexact",
            ) from None


IntakeRowFormSet = forms.formset_factory(IntakeRowForm, extra=3, max_num=10, absolute_max=10)


class WriteOffForm(forms.Form):
    kg = forms.DecimalField(
        label=_("Kg to write off"),
        max_digits=9,
        decimal_places=3,
        widget=forms.TextInput(DECIMAL_INPUT),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)


class CountForm(forms.Form):
    counted_kg = forms.DecimalField(
        label=_("Counted kg"), max_digits=9, decimal_places=3, widget=forms.TextInput(DECIMAL_INPUT)
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)


class MoveForm(forms.Form):
    location = forms.ModelChoiceField(
        label=_("New location"),
        queryset=Location.objects.filter(is_active=True),
        empty_label=_("— choose a location —"),
    )
    note = forms.CharField(label=_("Note"), max_length=100, required=False)


class StockFilterForm(forms.Form):
    q = forms.CharField(label=_("Lot or farmer"), required=False)
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.all(), required=False, empty_label=_("All")
    )
    grade = forms.ModelChoiceField(
        label=_("Grade"), queryset=Grade.objects.all(), required=False, empty_label=_("All")
    )
    location = forms.ModelChoiceField(
        label=_("Location"), queryset=Location.objects.all(), required=False, empty_label=_("All")
    )
    expiring = forms.BooleanField(label=_("Expiring within 2 days"), required=False)
    empty = forms.BooleanField(label=_("Include empty lots"), required=False)


# --- farmers' statements and payments --------------------------------------------------------


class PeriodForm(forms.Form):
    """A report's period: a calendar month, or a custom range of days. Left empty, the
    report's default period applies (``period(default)``)."""

    month = forms.CharField(
        label=_("Month"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-10"}),
    )
    date_from = forms.DateField(
        label=pgettext_lazy("date range", "From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=pgettext_lazy("date range", "To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean_month(self):
        value = self.cleaned_data["month"].strip()
        if not value:
            return None
        try:
            year, month = (int(part) for part in value.split("-"))
            return Period.month(year, month)
        except (ValueError, TypeError):
            raise forms.ValidationError(_("Enter a month as YYYY-MM.")) from None

    def clean(self):
        data = super().clean()
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if bool(date_from) != bool(date_to) and not self.errors:
            missing = "date_to" if date_from else "date_from"
            self.add_error(missing, _("Give both dates of the range, or choose a month."))
        elif date_from and date_to:
            try:
                data["range"] = Period(date_from, date_to)
            except DomainError as error:
                self.add_error(error.field, error.message)
        return data

    def period(self, default: Period) -> Period:
        """The period asked for, or ``default`` when none (or a wrong one) was given."""
        if not self.is_bound or not self.is_valid():
            return default
        return self.cleaned_data.get("range") or self.cleaned_data.get("month") or default


class FarmerPaymentForm(forms.Form):
    """Money paid to a farmer. The rules (more than 0, not in the future, a reference once)
    live in ``services.farmer_payment_record``."""

    farmer = FarmerChoiceField(
        label=_("Farmer"),
        queryset=Farmer.objects.order_by("village", "name"),
        empty_label=_("— choose a farmer —"),
    )
    paid_on = forms.DateField(
        label=_("Paid on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    amount = forms.DecimalField(
        label=_("Amount ¥"),
        max_digits=12,
        decimal_places=2,
        widget=forms.TextInput(DECIMAL_INPUT),
    )
    method = forms.ChoiceField(
        label=_("Method"),
        choices=PaymentMethod.choices,
        initial=PaymentMethod.CASH,
        widget=forms.RadioSelect,
    )
    reference = forms.CharField(
        label=_("Reference"),
        max_length=60,
        required=False,
        help_text=_("The transfer's number or the receipt's, if there is one."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("paid_on", timezone.localdate())
        super().__init__(*args, **kwargs)


class CertificateForm(forms.Form):
    basis = forms.ChoiceField(
        label=_("Commitment basis"),
        choices=CommitmentBasis.choices,
        initial=CommitmentBasis.INTERNAL_CONTROL,
    )
    kg = forms.DecimalField(
        label=_("Weight (kg)"),
        min_value=Decimal("0.001"),
        max_digits=12,
        decimal_places=3,
        widget=forms.TextInput(attrs=DECIMAL_INPUT),
    )
    issued_on = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, lot_kg: Decimal, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("kg", lot_kg.normalize())
        kwargs["initial"].setdefault("issued_on", timezone.localdate())
        super().__init__(*args, **kwargs)
