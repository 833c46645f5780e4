"""The creators' sales dashboard and the comparison of two live sessions. Each page parses
its form, asks ``orders.reports`` once and only formats: the charts draw the same JSON the
API gives (``orders.dashboard_api``), and every table downloads as CSV or XLSX
(``?format=csv&table=skus``) from the same figures."""

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from core.errors import DomainError
from core.exports import Table, export_format, export_response
from core.roles import SALES_READERS, role_required
from orders import reports
from orders.dashboard_api import SalesComparisonSerializer, SalesDashboardSerializer
from orders.dashboard_forms import (
    COMPARE_TABLES,
    TABLES,
    CompareForm,
    DashboardForm,
    default_pair,
)

# How each column's values are shown on the page (the downloads keep the raw values).
KINDS = {
    "units": "int",
    "orders": "int",
    "minute": "int",
    "kg": "kg",
    "amount": "money",
    "gross_sales": "money",
    "percent": "percent",
    "a_orders": "int",
    "b_orders": "int",
    "a_gross_sales": "money",
    "b_gross_sales": "money",
}

# Shorter headings on the page, where each value shows its ¥ or %; the downloads' headings
# carry the unit instead (their numbers are bare).
PAGE_HEADINGS = {
    "amount": gettext_lazy("Amount"),
    "gross_sales": gettext_lazy("Sales"),
    "percent": gettext_lazy("Share"),
    "minute": gettext_lazy("Minute"),
}


# --- formatting ------------------------------------------------------------------------------


def show(value, kind: str) -> str:
    """A figure as the page shows it: ¥ and thousands separators, kg without trailing zeros,
    percentages with one decimal, "—" for nothing. ``static/js/dashboard.js`` does the same
    when it refreshes the page."""
    if value is None or value == "":
        return "—"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "money":
        return f"¥{Decimal(value):,.2f}"
    if kind == "kg":
        return f"{Decimal(value).normalize():,f}"
    if kind == "percent":
        return f"{value}%"
    if kind == "clock":
        return timezone.localtime(value).strftime("%H:%M")
    if kind == "date":
        return timezone.localtime(value).strftime("%Y-%m-%d")
    if kind == "hours":
        return _("%(hours)s h") % {"hours": value}
    return str(value)


def _summary_rows(summary: reports.SalesSummary) -> list[dict]:
    """The summary as (figure, value) rows, with how to show each."""
    figures = [
        ("orders", gettext_lazy("Orders"), summary.orders, "int"),
        ("units", gettext_lazy("Units"), summary.units, "int"),
        ("kg", gettext_lazy("Kilograms"), summary.kg, "kg"),
        ("gross_sales", gettext_lazy("Gross sales (¥)"), summary.gross_sales, "money"),
        (
            "average_order_value",
            gettext_lazy("Average order value (¥)"),
            summary.average_order_value,
            "money",
        ),
        ("cancelled", gettext_lazy("Cancelled or refunded"), summary.cancelled, "int"),
        (
            "cancel_percent",
            gettext_lazy("Cancel/refund rate (%)"),
            summary.cancel_percent,
            "percent",
        ),
        ("refunded_amount", gettext_lazy("Refunded (¥)"), summary.refunded_amount, "money"),
        (
            "refund_percent",
            gettext_lazy("Refund rate by money (%)"),
            summary.refund_percent,
            "percent",
        ),
        ("backlog", gettext_lazy("Backlog (paid, not shipped)"), summary.backlog, "int"),
        (
            "median_hours_to_ship",
            gettext_lazy("Median hours from payment to shipping"),
            summary.median_hours_to_ship,
            "hours",
        ),
        (
            "shipped_measured",
            gettext_lazy("Shipped orders measured"),
            summary.shipped_measured,
            "int",
        ),
    ]
    return [
        {"key": key, "figure": label, "value": value, "kind": kind}
        for key, label, value, kind in figures
    ]


def dashboard_table(dashboard: reports.SalesDashboard, name: str) -> Table:
    """One of the dashboard's tables (``TABLES``) as the downloads carry it."""
    if name == "summary":
        return Table(
            title=_("Summary"),
            columns=[("figure", _("Figure")), ("value", _("Value"))],
            rows=_summary_rows(dashboard.summary),
        )
    if name == "skus":
        return Table(
            title=_("SKUs"),
            columns=[
                ("merchant_code", _("Merchant code")),
                ("name", _("SKU")),
                ("units", _("Units")),
                ("kg", _("Kg")),
                ("amount", _("Amount (¥)")),
                ("percent", _("Share of amount (%)")),
            ],
            rows=[vars(row) for row in dashboard.skus],
        )
    if name == "provinces":
        return Table(
            title=_("Provinces"),
            columns=[
                ("province", _("Province")),
                ("orders", _("Orders")),
                ("gross_sales", _("Gross sales (¥)")),
                ("percent", _("Share of sales (%)")),
            ],
            rows=[vars(row) for row in dashboard.provinces],
        )
    if name == "minutes":
        return Table(
            title=_("Timeline"),
            columns=[
                ("at", _("Time")),
                ("minute", _("Minutes since start")),
                ("orders", _("Orders")),
                ("gross_sales", _("Gross sales (¥)")),
            ],
            rows=[vars(point) for point in dashboard.timeline],
        )
    if name == "funnel":
        return Table(
            title=_("Fulfilment"),
            columns=[
                ("label", _("Stage")),
                ("orders", _("Orders")),
                ("percent", _("Share of paid orders (%)")),
            ],
            rows=[vars(stage) for stage in dashboard.funnel],
        )
    raise ValueError(name)


def compare_table(comparison: reports.SalesComparison, name: str) -> Table:
    """The comparison's tables (``COMPARE_TABLES``) as the downloads carry them."""
    a, b = comparison.a.live_session, comparison.b.live_session
    if name == "summary":
        rows_a = _summary_rows(comparison.a.summary)
        rows_b = _summary_rows(comparison.b.summary)
        return Table(
            title=_("Summary"),
            columns=[("figure", _("Figure")), ("a", a.title), ("b", b.title)],
            rows=[
                {"figure": ra["figure"], "a": ra["value"], "b": rb["value"], "kind": ra["kind"]}
                for ra, rb in zip(rows_a, rows_b, strict=True)
            ],
        )
    if name == "minutes":
        return Table(
            title=_("Minutes"),
            columns=[
                ("minute", _("Minutes since start")),
                ("a_orders", _("Orders: %(session)s") % {"session": a.title}),
                ("a_gross_sales", _("Sales (¥): %(session)s") % {"session": a.title}),
                ("b_orders", _("Orders: %(session)s") % {"session": b.title}),
                ("b_gross_sales", _("Sales (¥): %(session)s") % {"session": b.title}),
            ],
            rows=[vars(point) for point in comparison.minutes],
        )
    raise ValueError(name)


def _page_table(
    table: Table, *, name: str, only: list[str] | None = None, kinds: dict | None = None
) -> dict:
    """A table as the template (and ``dashboard.js``, when it refreshes) draws it: headings
    with their key and kind, then the shown cells. ``only`` keeps some columns (the
    downloads keep them all)."""
    kinds = {**KINDS, **(kinds or {})}
    columns = [(key, heading) for key, heading in table.columns if not only or key in only]
    rows = []
    for row in table.rows:
        cells = []
        for key, _heading in columns:
            kind = row.get("kind", "text") if key in {"value", "a", "b"} else kinds.get(key, "text")
            cell = {"text": show(row.get(key), kind), "kind": kind}
            if kind == "sku":
                cell["sub"] = row.get("merchant_code", "")
            cells.append(cell)
        rows.append(cells)
    return {
        "name": name,
        "columns": [
            {
                "key": key,
                "heading": PAGE_HEADINGS.get(key, heading),
                # A figure column whose rows each say how to show their value.
                "kind": "figure" if key in {"value", "a", "b"} else kinds.get(key, "text"),
            }
            for key, heading in columns
        ],
        "rows": rows,
    }


def _dashboard_page_tables(sales: reports.SalesDashboard, tables: dict[str, Table]) -> dict:
    at = "date" if sales.step == "day" else "clock"
    return {
        "summary": _page_table(tables["summary"], name="summary"),
        "skus": _page_table(
            tables["skus"],
            name="skus",
            only=["name", "units", "kg", "amount", "percent"],
            kinds={"name": "sku"},
        ),
        "provinces": _page_table(tables["provinces"], name="provinces"),
        "minutes": _page_table(
            tables["minutes"],
            name="minutes",
            only=["at", "orders", "gross_sales"],
            kinds={"at": at},
        ),
        "funnel": _page_table(tables["funnel"], name="funnel"),
    }


def _scope_params(dashboard: reports.SalesDashboard) -> dict[str, str]:
    """The query that asks for exactly this dashboard (also when it was the default)."""
    if dashboard.live_session is not None:
        return {"live_session": str(dashboard.live_session.pk)}
    if dashboard.scope == "day":
        return {"date": dashboard.date_from.isoformat()}
    return {"date_from": dashboard.date_from.isoformat(), "date_to": dashboard.date_to.isoformat()}


def _download_links(base_query: dict[str, str], name: str) -> dict[str, str]:
    return {
        fmt: "?" + urlencode({**base_query, "format": fmt, "table": name})
        for fmt in ("csv", "xlsx")
    }


def _bad_export(errors: dict) -> HttpResponse:
    """A download that cannot be made: 400, naming each parameter at fault."""
    lines = [
        f"{'parameters' if field == '__all__' else field}: {' '.join(map(str, messages))}"
        for field, messages in errors.items()
    ]
    return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")


def _export_name(dashboard: reports.SalesDashboard, table: str) -> str:
    params = _scope_params(dashboard)
    if "live_session" in params:
        return f"sales_live{params['live_session']}_{table}"
    return f"sales_{'_'.join(params.values())}_{table}"


def _quick_choices(sales: reports.SalesDashboard | None) -> list[dict]:
    """Today, the last 7 and the last 30 days: one tap each."""
    today = timezone.localdate()
    choices = [
        (_("Today"), today, today),
        (_("Last 7 days"), today - timedelta(days=6), today),
        (_("Last 30 days"), today - timedelta(days=29), today),
    ]
    result = []
    for label, first, last in choices:
        if first == last:
            query = {"date": first.isoformat()}
        else:
            query = {"date_from": first.isoformat(), "date_to": last.isoformat()}
        active = (
            sales is not None
            and sales.live_session is None
            and (sales.date_from, sales.date_to) == (first, last)
        )
        result.append({"label": label, "url": "?" + urlencode(query), "active": active})
    return result


# --- pages -----------------------------------------------------------------------------------


@require_GET
@role_required(*SALES_READERS)
def dashboard(request):
    """One live session (default: the one that started last), one day or a range."""
    form = DashboardForm(request.GET)
    sales = None
    if form.is_valid():
        try:
            sales = form.dashboard()
        except DomainError as error:
            form.add_error(error.field, error.message)
    fmt = export_format(request)
    table_name = request.GET.get("table", "")
    if fmt and table_name not in TABLES:
        return _bad_export({"table": [_("Unknown table “%(table)s”.") % {"table": table_name}]})
    if sales is None:
        if fmt:
            return _bad_export(form.errors)
        return render(
            request,
            "orders/dashboard.html",
            {
                "form": form,
                "sessions": reports.recent_live_sessions(),
                "quick": _quick_choices(None),
            },
            status=400,
        )
    if fmt:
        return export_response(
            dashboard_table(sales, table_name), fmt=fmt, filename=_export_name(sales, table_name)
        )
    scope = _scope_params(sales)
    tables = {name: dashboard_table(sales, name) for name in TABLES}
    return render(
        request,
        "orders/dashboard.html",
        {
            "form": form,
            "sales": sales,
            "sessions": reports.recent_live_sessions(),
            "figures": {
                row["key"]: show(row["value"], row["kind"]) for row in _summary_rows(sales.summary)
            },
            "tables": _dashboard_page_tables(sales, tables),
            "downloads": {name: _download_links(scope, name) for name in TABLES},
            "api_url": reverse("api:dashboard") + "?" + urlencode(scope),
            "data": SalesDashboardSerializer(sales).data,
            "quick": _quick_choices(sales),
            "labels": {
                "orders": _("Orders"),
                "sales": _("Gross sales"),
                "minute": _("Minutes since start"),
                "ended": _("The live session has ended."),
                "stale": _("Could not refresh; trying again."),
                "nothing": _("Nothing sold yet."),
                "hours": _("%(hours)s h"),
                "total": _("Running total"),
            },
        },
    )


@require_GET
@role_required(*SALES_READERS)
def dashboard_compare(request):
    """Two live sessions side by side: their figures, and their orders per minute on one
    chart, aligned by minutes since each started. Default: the two that started last."""
    data = request.GET
    if "a" not in data and "b" not in data:
        a, b = default_pair()
        data = {"a": a.pk if a else "", "b": b.pk if b else ""}
    form = CompareForm(data)
    fmt = export_format(request)
    table_name = request.GET.get("table", "")
    if fmt and table_name not in COMPARE_TABLES:
        return _bad_export({"table": [_("Unknown table “%(table)s”.") % {"table": table_name}]})
    sessions = reports.recent_live_sessions()
    if not form.is_valid():
        if fmt:
            return _bad_export(form.errors)
        # A studio with fewer than two live sessions is not an error: the page says so.
        status = 400 if request.GET else 200
        return render(
            request,
            "orders/dashboard_compare.html",
            {"form": form, "sessions": sessions, "chosen": bool(request.GET)},
            status=status,
        )
    comparison = form.comparison()
    a, b = comparison.a.live_session, comparison.b.live_session
    if fmt:
        return export_response(
            compare_table(comparison, table_name),
            fmt=fmt,
            filename=f"sales_live{a.pk}_vs_live{b.pk}_{table_name}",
        )
    scope = {"a": str(a.pk), "b": str(b.pk)}
    return render(
        request,
        "orders/dashboard_compare.html",
        {
            "form": form,
            "sessions": sessions,
            "comparison": comparison,
            "tables": {
                name: _page_table(compare_table(comparison, name), name=name)
                for name in COMPARE_TABLES
            },
            "downloads": {name: _download_links(scope, name) for name in COMPARE_TABLES},
            "data": SalesComparisonSerializer(comparison).data,
            "sides": [
                {
                    "session": side.live_session,
                    "css": css,
                    "gross_sales": show(side.summary.gross_sales, "money"),
                    "orders": side.summary.orders,
                }
                for side, css in ((comparison.a, "legend-a"), (comparison.b, "legend-b"))
            ],
            "labels": {
                "orders": _("Orders"),
                "sales": _("Gross sales"),
                "minute": _("Minutes since start"),
                "total": _("Running total"),
                "a": a.title,
                "b": b.title,
            },
        },
    )
