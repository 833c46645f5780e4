"""Forms of the import pages. They parse input; the rules live in ``orders.importers``."""

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.importers.presets import FIELD_LABELS, IGNORE
from orders.importers.reading import max_upload_bytes
from orders.models import Channel, ImportMode


class UploadForm(forms.Form):
    channel = forms.ModelChoiceField(
        label=_("Channel"),
        queryset=Channel.objects.filter(is_active=True),
        empty_label=None,
    )
    file = forms.FileField(
        label=_("Order export (CSV or XLSX)"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".csv,.xlsx,.txt,text/csv,"
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )

    def clean_file(self):
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


FIELD_CHOICES = [(IGNORE, _("— ignore this column —")), *FIELD_LABELS.items()]


class MappingForm(forms.Form):
    """One choice per column of the file: which of our fields it holds, or ignore it."""

    def __init__(
        self,
        *args,
        headers: list[str],
        initial_choices: dict[str, str],
        samples: dict[str, str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        samples = samples or {}
        self.headers = []
        for index, header in enumerate(headers):
            if not header or header in self.headers:
                continue
            self.headers.append(header)
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header,
                choices=FIELD_CHOICES,
                required=False,
                initial=initial_choices.get(header, IGNORE),
            )
            self.fields[f"col_{index}"].header = header
            self.fields[f"col_{index}"].sample = samples.get(header, "")

    def choices(self) -> dict[str, str]:
        """{header: field or "" (ignore)}."""
        return {
            self.fields[name].header: value or IGNORE for name, value in self.cleaned_data.items()
        }


class CommitForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("When some rows are bad"),
        choices=ImportMode.choices,
        initial=ImportMode.KEEP_GOOD,
        widget=forms.RadioSelect,
    )
