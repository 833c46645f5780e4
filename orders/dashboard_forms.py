"""What the sales dashboard is asked for: one parser for the page, its downloads and the API,
so a parameter means the same everywhere and a bad one is refused naming its field."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from orders import reports
from orders.models import LiveSession

TABLES = ("summary", "skus", "provinces", "minutes", "funnel")
COMPARE_TABLES = ("summary", "minutes")


class LiveSessionField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            queryset=LiveSession.objects.select_related("channel"),
            error_messages={"invalid_choice": _("No live session has the number %(value)s.")},
            **kwargs,
        )


class DashboardForm(forms.Form):
    """One live session (``live_session``), one day (``date``) or a range (``date_from`` and
    ``date_to``, both included). Nothing at all: the live session that started last, or
    today when there is none."""

    live_session = LiveSessionField(label=_("Live session"), required=False)
    date = forms.DateField(label=_("Day"), required=False)
    date_from = forms.DateField(label=pgettext_lazy("date range", "From"), required=False)
    date_to = forms.DateField(label=pgettext_lazy("date range", "To"), required=False)

    def clean(self):
        data = super().clean()
        chosen = [
            name
            for name, given in (
                ("live_session", data.get("live_session")),
                ("date", data.get("date")),
                ("date_from", data.get("date_from") or data.get("date_to")),
            )
            if given
        ]
        if len(chosen) > 1:
            self.add_error(
                chosen[1], _("Choose a live session, a day or a date range: only one of them.")
            )
        elif chosen == ["date_from"]:
            for name in ("date_from", "date_to"):
                if not data.get(name):
                    self.add_error(name, _("A range needs both its first and its last day."))
        return data

    def dashboard(self, *, now=None) -> reports.SalesDashboard:
        """The dashboard the valid form asks for. Raises ``DomainError`` naming the field
        (e.g. a range that ends before it starts)."""
        data = self.cleaned_data
        if data.get("live_session"):
            return reports.sales_dashboard(live_session=data["live_session"], now=now)
        if data.get("date"):
            return reports.sales_dashboard(date_from=data["date"], date_to=data["date"], now=now)
        if data.get("date_from"):
            return reports.sales_dashboard(
                date_from=data["date_from"], date_to=data["date_to"], now=now
            )
        session = reports.default_live_session(now)
        if session is not None:
            return reports.sales_dashboard(live_session=session, now=now)
        today = timezone.localdate(now)
        return reports.sales_dashboard(date_from=today, date_to=today, now=now)


class CompareForm(forms.Form):
    """Two live sessions, ``a`` and ``b``."""

    a = LiveSessionField(label=_("Live session A"))
    b = LiveSessionField(label=_("Live session B"))

    def clean(self):
        data = super().clean()
        if data.get("a") and data.get("b") and data["a"].pk == data["b"].pk:
            self.add_error("b", _("Choose two different live sessions."))
        return data

    def comparison(self, *, now=None) -> reports.SalesComparison:
        return reports.sales_compare(self.cleaned_data["a"], self.cleaned_data["b"], now=now)


def default_pair(now=None) -> tuple[LiveSession | None, LiveSession | None]:
    """The compare page's default: the two live sessions that started last."""
    now = now or timezone.now()
    latest = list(
        LiveSession.objects.select_related("channel")
        .filter(starts_at__lte=now)
        .order_by("-starts_at", "-id")[:2]
    )
    latest += [None] * (2 - len(latest))
    return latest[0], latest[1]


def form_errors(form: forms.Form) -> dict[str, list[str]]:
    """A form's errors as the API's 400 body: keyed by field, like DRF's own."""
    return {
        ("non_field_errors" if field == "__all__" else field): [str(m) for m in messages]
        for field, messages in form.errors.items()
    }
