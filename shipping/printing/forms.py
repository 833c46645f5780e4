"""Forms of the print queue and the station's printer."""

from django import forms
from django.utils.translation import gettext_lazy as _

from shipping.models import PackingStation, Printer, Wave


class PrinterChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, printer: Printer) -> str:
        return f"{printer.name} · {printer.get_language_display()} · {printer.address}"


def active_printers():
    return Printer.objects.filter(is_active=True).order_by("name")


class WaveToPrinterForm(forms.Form):
    """A wave's labels, in wave order, to a printer."""

    wave = forms.CharField(label=_("Wave"), max_length=20)
    printer = PrinterChoiceField(label=_("Printer"), queryset=active_printers(), empty_label=None)
    unprinted = forms.BooleanField(label=_("Only labels not printed yet"), required=False)

    def clean_wave(self) -> Wave:
        code = self.cleaned_data["wave"].strip().upper()
        wave = Wave.objects.filter(code=code).first()
        if wave is None:
            raise forms.ValidationError(_("No wave has the code %(code)s.") % {"code": code})
        return wave


class RetryForm(forms.Form):
    printer = PrinterChoiceField(
        label=_("Printer"), queryset=active_printers(), required=False, empty_label=_("the same")
    )


class StationChoiceForm(forms.Form):
    station = forms.ModelChoiceField(
        label=_("This desk"),
        queryset=PackingStation.objects.filter(is_active=True).select_related("printer"),
        required=False,
        empty_label=_("no station (print from the browser)"),
    )
