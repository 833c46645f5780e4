"""Farmers' statements: balances of a period, one farmer's statement, the statement PDFs,
payments (record one, list them) and the payout list. Every table downloads as CSV or Excel
(``?format=csv|xlsx``) with the same figures the page shows.

Managers see every farmer's money. Creators see each farmer's kilograms and the studio-wide
money totals only: no amount, price, payment or balance of one farmer reaches them, on the
page or in a download.
"""

import re
from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import DomainError
from core.exports import Table, export_format, export_response
from core.pdf import format_kg, pdf_response
from core.roles import (
    FARMER_MONEY_READERS,
    FARMER_PAYMENT_WRITERS,
    STATEMENT_READERS,
    has_role,
    role_required,
)
from inventory import reports, services
from inventory.forms import FarmerPaymentForm, PeriodForm
from inventory.models import Farmer, FarmerPayment, PaymentMethod
from inventory.reports import FarmerBalance, FarmerStatement, Period
from inventory.selectors import farmer_payments
from inventory.statements import render_statements

CHART_ROWS = 12  # bars in a chart; the table below it has every row


# --- shared pieces ---------------------------------------------------------------------------


def period_query(period: Period) -> str:
    """The query string that asks a page for ``period``."""
    if period.month_value:
        return urlencode({"month": period.month_value})
    return urlencode({"date_from": period.date_from, "date_to": period.date_to})


def period_slug(period: Period) -> str:
    """The period in a file name: ``2026-10`` or ``2026-03-01_2026-03-31``."""
    return period.month_value or f"{period.date_from}_{period.date_to}"


def month_steps(period: Period) -> dict:
    """Links to the month before and after a whole-month period (not past this month)."""
    if not period.month_value:
        return {}
    before = period.date_from - timedelta(days=1)
    after = period.date_to + timedelta(days=1)
    steps = {"previous": Period.month(before.year, before.month)}
    if after <= timezone.localdate():
        steps["next"] = Period.month(after.year, after.month)
    return {name: {"period": p, "query": period_query(p)} for name, p in steps.items()}


def bar_chart(items, *, value, label, text, href=None, tone=None, limit=CHART_ROWS) -> list:
    """Horizontal bars for a template: each item's share of the largest value, as a CSS width.
    The values are Decimal; the width is only a drawing coordinate."""
    items = list(items)[:limit]
    largest = max((value(item) for item in items), default=0)
    return [
        {
            "label": label(item),
            "text": text(item),
            "width": f"{max(float(value(item)) / float(largest) * 100, 0):.1f}" if largest else "0",
            "href": href(item) if href else "",
            "tone": tone(item) if tone else "",
        }
        for item in items
    ]


def _yuan(amount) -> str:
    return f"¥{amount:,.2f}"


def _kg_text(kg) -> str:
    return _("%(kg)s kg") % {"kg": format_kg(kg)}


def _sees_money(user) -> bool:
    return has_role(user, FARMER_MONEY_READERS)


def _period(request, default: Period) -> tuple[PeriodForm, Period]:
    form = PeriodForm(request.GET or None)
    return form, form.period(default)


def _statement_url(farmer_id: int, period: Period) -> str:
    return f"{reverse('inventory:statement', args=[farmer_id])}?{period_query(period)}"


# --- balances --------------------------------------------------------------------------------

BALANCE_COLUMNS = {
    "farmer": gettext_lazy("Farmer"),
    "village": gettext_lazy("Village"),
    "phone": gettext_lazy("Phone"),
    "opening_balance": gettext_lazy("Balance before ¥"),
    "delivered_lots": gettext_lazy("Lots"),
    "delivered_kg": gettext_lazy("Delivered kg"),
    "delivered_amount": gettext_lazy("Delivered ¥"),
    "shipped_kg": gettext_lazy("Shipped kg"),
    "written_off_kg": gettext_lazy("Written-off kg"),
    "paid": gettext_lazy("Paid ¥"),
    "closing_balance": gettext_lazy("Balance ¥"),
}
KG_ONLY = ("farmer", "village", "delivered_lots", "delivered_kg", "shipped_kg", "written_off_kg")


def balances_table(
    balances: list[FarmerBalance], totals: reports.BalanceTotals, *, money: bool, period: Period
) -> Table:
    """The balances page as a download. Without ``money`` (creators) the columns are the
    kilograms only; the totals row closes the table either way. A negative balance is money
    paid in advance."""
    keys = list(BALANCE_COLUMNS) if money else list(KG_ONLY)
    figures = [key for key in keys if key not in {"farmer", "village", "phone"}]
    rows = [
        {
            "farmer": balance.farmer_name,
            "village": balance.village,
            "phone": balance.masked_phone,
            **{key: getattr(balance, key) for key in figures},
        }
        for balance in balances
    ]
    rows.append(
        {
            "farmer": _("Total"),
            "village": ngettext("%(n)d farmer", "%(n)d farmers", totals.farmers)
            % {"n": totals.farmers},
        }
        | {key: getattr(totals, key) for key in figures}
    )
    return Table(
        title=_("Balances %(period)s") % {"period": period_slug(period)},
        columns=[(key, BALANCE_COLUMNS[key]) for key in keys],
        rows=rows,
    )


@require_GET
@role_required(*STATEMENT_READERS)
def balances(request):
    """Every farmer's figures for a period (default: last month), with the studio's totals."""
    form, period = _period(request, Period.last_month())
    rows = reports.farmer_balances(date_from=period.date_from, date_to=period.date_to)
    totals = reports.balance_totals(rows)
    money = _sees_money(request.user)
    fmt = export_format(request)
    if fmt:
        table = balances_table(rows, totals, money=money, period=period)
        return export_response(table, fmt=fmt, filename=f"farmer-balances-{period_slug(period)}")
    query = period_query(period)
    if money:
        owed = sorted(rows, key=lambda row: -row.closing_balance)
        chart = bar_chart(
            [row for row in owed if row.closing_balance > 0],
            value=lambda row: row.closing_balance,
            label=lambda row: row.farmer_name,
            text=lambda row: _yuan(row.closing_balance),
            href=lambda row: _statement_url(row.farmer_id, period),
        )
    else:
        delivered = sorted(rows, key=lambda row: -row.delivered_kg)
        chart = bar_chart(
            [row for row in delivered if row.delivered_kg > 0],
            value=lambda row: row.delivered_kg,
            label=lambda row: row.farmer_name,
            text=lambda row: _kg_text(row.delivered_kg),
            href=lambda row: _statement_url(row.farmer_id, period),
        )
    return render(
        request,
        "inventory/balances.html",
        {
            "form": form,
            "period": period,
            "query": query,
            "steps": month_steps(period),
            "rows": rows,
            "totals": totals,
            "money": money,
            "can_pay": has_role(request.user, FARMER_PAYMENT_WRITERS),
            "chart": chart,
        },
    )


# --- one farmer's statement ------------------------------------------------------------------


def statement_table(statement: FarmerStatement, *, money: bool) -> Table:
    """A statement as a download: with ``money``, its lines in date order with a running
    balance (opening, each lot, each payment, closing); without, the lots' kilograms."""
    # Not the farmer's name: a sheet's title cannot hold characters such as / or :.
    title = _("Statement %(period)s") % {
        "period": period_slug(Period(statement.date_from, statement.date_to))
    }
    if not money:
        return Table(
            title=title,
            columns=[
                ("date", _("Date")),
                ("lot", _("Lot")),
                ("product", _("Product")),
                ("grade", _("Grade")),
                ("kg", _("Kg")),
            ],
            rows=[
                {
                    "date": lot.received_on,
                    "lot": lot.lot_code,
                    "product": lot.product,
                    "grade": lot.grade,
                    "kg": lot.kg,
                }
                for lot in statement.lots
            ],
        )
    lines = [(lot.received_on, 0, lot) for lot in statement.lots]
    lines += [(payment.paid_on, 1, payment) for payment in statement.payments]
    balance = statement.opening_balance
    rows = [
        {"date": statement.date_from, "line": _("Balance before the period"), "balance": balance}
    ]
    for day, kind, item in sorted(lines, key=lambda line: (line[0], line[1])):
        if kind == 0:
            balance += item.amount
            rows.append(
                {
                    "date": day,
                    "line": _("Delivery"),
                    "document": item.lot_code,
                    "product": item.product,
                    "grade": item.grade,
                    "kg": item.kg,
                    "price": item.price_per_kg,
                    "owed": item.amount,
                    "balance": balance,
                }
            )
        else:
            balance -= item.amount
            rows.append(
                {
                    "date": day,
                    "line": _("Payment: %(method)s") % {"method": item.method_label},
                    "document": item.reference,
                    "product": item.note,
                    "paid": item.amount,
                    "balance": balance,
                }
            )
    rows.append(
        {
            "date": statement.date_to,
            "line": _("Balance at the end of the period"),
            "kg": statement.delivered_kg,
            "owed": statement.delivered_amount,
            "paid": statement.paid,
            "balance": statement.closing_balance,
        }
    )
    return Table(
        title=title,
        columns=[
            ("date", _("Date")),
            ("line", _("Line")),
            ("document", _("Lot or reference")),
            ("product", _("Product or note")),
            ("grade", _("Grade")),
            ("kg", _("Kg")),
            ("price", _("¥/kg")),
            ("owed", _("Owed ¥")),
            ("paid", _("Paid ¥")),
            ("balance", _("Balance ¥")),
        ],
        rows=rows,
    )


@require_GET
@role_required(*STATEMENT_READERS)
def farmer_statement_view(request, pk: int):
    farmer = get_object_or_404(Farmer, pk=pk)
    form, period = _period(request, Period.last_month())
    statement = reports.farmer_statement(
        farmer=farmer, date_from=period.date_from, date_to=period.date_to
    )
    money = _sees_money(request.user)
    fmt = export_format(request)
    if fmt:
        return export_response(
            statement_table(statement, money=money),
            fmt=fmt,
            filename=f"statement-{farmer.pk}-{period_slug(period)}",
        )
    query = period_query(period)
    return render(
        request,
        "inventory/statement.html",
        {
            "farmer": farmer,
            "s": statement,
            "form": form,
            "period": period,
            "query": query,
            "steps": month_steps(period),
            "money": money,
            "can_pay": has_role(request.user, FARMER_PAYMENT_WRITERS),
        },
    )


# --- PDFs ------------------------------------------------------------------------------------


@require_GET
@role_required(*FARMER_MONEY_READERS)
def statement_pdf(request, pk: int):
    farmer = get_object_or_404(Farmer, pk=pk)
    _form, period = _period(request, Period.last_month())
    statement = reports.farmer_statement(
        farmer=farmer, date_from=period.date_from, date_to=period.date_to
    )
    return pdf_response(
        render_statements([statement]), f"statement-{farmer.pk}-{period_slug(period)}.pdf"
    )


@require_GET
@role_required(*FARMER_MONEY_READERS)
def statements_pdf(request):
    """Every farmer of the period in one PDF, each on their own pages, to print and hand out."""
    _form, period = _period(request, Period.last_month())
    statements = reports.farmer_statements(date_from=period.date_from, date_to=period.date_to)
    return pdf_response(render_statements(statements), f"statements-{period_slug(period)}.pdf")


# --- payments --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(*FARMER_PAYMENT_WRITERS)
def payment_new(request):
    """Record money paid to a farmer; then the farmer's statement of that month opens."""
    initial = {}
    if request.GET.get("farmer", "").isdigit():
        initial["farmer"] = int(request.GET["farmer"])
    if re.fullmatch(r"\d{1,10}(\.\d{1,2})?", request.GET.get("amount", "")):
        initial["amount"] = request.GET["amount"]  # from the payout list
    form = FarmerPaymentForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                payment = services.farmer_payment_record(
                    farmer=data["farmer"],
                    paid_on=data["paid_on"],
                    amount=data["amount"],
                    method=data["method"],
                    reference=data["reference"],
                    note=data["note"],
                    acting_user=request.user,
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(
                    request,
                    _("Payment of %(amount)s to %(name)s recorded.")
                    % {"amount": _yuan(payment.amount), "name": payment.farmer.name},
                )
                month = Period.month(payment.paid_on.year, payment.paid_on.month)
                return redirect(_statement_url(payment.farmer_id, month))
    farmer_id = form.data.get("farmer") if form.is_bound else initial.get("farmer")
    balance = None
    if str(farmer_id or "").isdigit() and Farmer.objects.filter(pk=farmer_id).exists():
        today = timezone.localdate()
        balance = reports.farmer_balances(
            date_from=today.replace(day=1), date_to=today, farmers=[int(farmer_id)]
        )[0]
    return render(
        request,
        "inventory/statement_payment.html",
        {"form": form, "balance": balance},
        status=status,
    )


def payments_table(payments: list[FarmerPayment], period: Period) -> Table:
    return Table(
        title=_("Payments %(period)s") % {"period": period_slug(period)},
        columns=[
            ("paid_on", _("Paid on")),
            ("farmer", _("Farmer")),
            ("village", _("Village")),
            ("phone", _("Phone")),
            ("method", _("Method")),
            ("amount", _("Amount ¥")),
            ("reference", _("Reference")),
            ("note", _("Note")),
            ("recorded_by", _("Recorded by")),
        ],
        rows=[
            {
                "paid_on": payment.paid_on,
                "farmer": payment.farmer.name,
                "village": payment.farmer.village,
                "phone": payment.farmer.masked_phone,
                "method": payment.get_method_display(),
                "amount": payment.amount,
                "reference": payment.reference,
                "note": payment.note,
                "recorded_by": payment.recorded_by.get_username(),
            }
            for payment in payments
        ],
    )


def _this_month() -> Period:
    today = timezone.localdate()
    return Period(today.replace(day=1), today)


@require_GET
@role_required(*FARMER_MONEY_READERS)
def payments(request):
    """Payments of a period (default: this month so far), newest first."""
    form, period = _period(request, _this_month())
    rows = list(farmer_payments(date_from=period.date_from, date_to=period.date_to))
    fmt = export_format(request)
    if fmt:
        return export_response(
            payments_table(rows, period), fmt=fmt, filename=f"payments-{period_slug(period)}"
        )
    by_method = {method: 0 for method in PaymentMethod.values}
    for payment in rows:
        by_method[payment.method] += payment.amount
    chart = bar_chart(
        [(PaymentMethod(method).label, total) for method, total in by_method.items() if total],
        value=lambda item: item[1],
        label=lambda item: item[0],
        text=lambda item: _yuan(item[1]),
    )
    return render(
        request,
        "inventory/statement_payments.html",
        {
            "form": form,
            "period": period,
            "query": period_query(period),
            "steps": month_steps(period),
            "rows": rows,
            "total": sum((payment.amount for payment in rows), 0),
            "chart": chart,
        },
    )


# --- payouts ---------------------------------------------------------------------------------


def payouts_table(rows: list[FarmerBalance], as_of: date) -> Table:
    """Who to pay and how much: each farmer the studio owes money on ``as_of``. The farmer
    records hold no bank or WeChat account, so the cashier pays against name and phone."""
    return Table(
        title=_("Payouts %(date)s") % {"date": as_of.isoformat()},
        columns=[
            ("farmer", _("Farmer")),
            ("village", _("Village")),
            ("phone", _("Phone")),
            ("amount", _("Amount to pay ¥")),
        ],
        rows=[
            {
                "farmer": row.farmer_name,
                "village": row.village,
                "phone": row.masked_phone,
                "amount": row.to_pay,
            }
            for row in rows
        ],
    )


def _as_of(request) -> tuple[date, str]:
    today = timezone.localdate()
    value = request.GET.get("as_of", "")
    if not value:
        return today, ""
    try:
        as_of = date.fromisoformat(value)
    except ValueError:
        return today, _("Enter a date as YYYY-MM-DD.")
    if as_of > today:
        return today, _("The date cannot be in the future.")
    return as_of, ""


@require_GET
@role_required(*FARMER_MONEY_READERS)
def payouts(request):
    """Farmers the studio owes money to on a day (default: today), largest amount first."""
    as_of, error = _as_of(request)
    balances = reports.farmer_balances(date_from=as_of.replace(day=1), date_to=as_of)
    rows = sorted(
        (row for row in balances if row.to_pay > 0), key=lambda row: (-row.to_pay, row.farmer_name)
    )
    fmt = export_format(request)
    if fmt:
        return export_response(
            payouts_table(rows, as_of), fmt=fmt, filename=f"payouts-{as_of.isoformat()}"
        )
    return render(
        request,
        "inventory/statement_payouts.html",
        {
            "as_of": as_of,
            "error": error,
            "rows": rows,
            "total": sum((row.to_pay for row in rows), 0),
            "prepaid": [row for row in balances if row.is_prepaid],
            "query": urlencode({"as_of": as_of.isoformat()}),
            "month_query": period_query(Period.month(as_of.year, as_of.month)),
        },
    )
