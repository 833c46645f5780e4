"""Stock health, the manager's page: how old the stock is, what expires within two days,
what spoiled (by product and by farmer) and how many days each SKU's stock lasts. Charts on
top, the tables under them; each table downloads as CSV or Excel
(``?format=csv|xlsx&table=…``)."""

from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from core.exports import Table, export_format, export_response
from core.pdf import format_kg
from core.roles import STOCK_HEALTH_READERS, role_required
from inventory import reports
from inventory.forms import PeriodForm
from inventory.reports import SALES_WINDOW_DAYS, SPOILAGE_DAYS, Period, StockHealth
from inventory.statement_views import bar_chart, period_query, period_slug

COVER_WARN_DAYS = 2  # less cover than this is flagged
COVER_CHART_CAP = 30  # bars stop growing at this many days of cover


def _kg(kg) -> str:
    return _("%(kg)s kg") % {"kg": format_kg(kg)}


def _table_age(health: StockHealth) -> Table:
    columns = [("product", _("Product"))]
    # Translators: a column of kilograms whose stock is this old, e.g. "0–2 days kg".
    columns += [(key, _("%(age)s kg") % {"age": label}) for key, label, *_r in reports.AGE_BUCKETS]
    columns.append(("total", _("Total kg")))
    return Table(title=_("Stock by age"), columns=columns, rows=health.age_by_product)


def _table_at_risk(health: StockHealth) -> Table:
    return Table(
        title=_("Expiring within 2 days"),
        columns=[
            ("lot", _("Lot")),
            ("product", _("Product")),
            ("grade", _("Grade")),
            ("farmer", _("Farmer")),
            ("village", _("Village")),
            ("location", _("Location")),
            ("expiry", _("Expiry")),
            ("days", _("Days left")),
            ("available", _("Available kg")),
            ("reserved", _("Reserved kg")),
        ],
        rows=[
            {
                "lot": lot.lot_code,
                "product": lot.product,
                "grade": lot.grade,
                "farmer": lot.farmer,
                "village": lot.village,
                "location": lot.location,
                "expiry": lot.expiry_date,
                "days": lot.days_to_expiry,
                "available": lot.available_kg,
                "reserved": lot.reserved_kg,
            }
            for lot in health.at_risk
        ],
    )


def _table_spoilage(rows: list[reports.Spoilage], *, title: str, heading: str) -> Table:
    return Table(
        title=title,
        columns=[
            ("name", heading),
            ("detail", _("Village")),
            ("write_offs", _("Write-offs")),
            ("kg", _("Written-off kg")),
            ("value", _("Cost ¥")),
            ("received", _("Received kg")),
            ("rate", _("Written off %")),
        ],
        rows=[
            {
                "name": row.name,
                "detail": row.detail,
                "write_offs": row.write_offs,
                "kg": row.kg,
                "value": row.value,
                "received": row.received_kg,
                "rate": row.rate,
            }
            for row in rows
        ],
    )


def _table_cover(health: StockHealth) -> Table:
    return Table(
        title=_("Days of cover"),
        columns=[
            ("sku", _("SKU")),
            ("name", _("Name")),
            ("product", _("Product")),
            ("grade", _("Grade")),
            ("available", _("Available kg")),
            ("units", _("Units available")),
            ("sold", _("Sold kg, last %(days)d days") % {"days": SALES_WINDOW_DAYS}),
            ("daily", _("Kg a day")),
            ("days", _("Days of cover")),
        ],
        rows=[
            {
                "sku": row.merchant_code,
                "name": row.sku_name,
                "product": row.product,
                "grade": row.grade,
                "available": row.available_kg,
                "units": row.units_available,
                "sold": row.sold_kg,
                "daily": row.daily_kg,
                "days": row.days,
            }
            for row in health.cover
        ],
    )


def health_tables(health: StockHealth) -> dict[str, Table]:
    return {
        "age": _table_age(health),
        "at_risk": _table_at_risk(health),
        "spoilage_product": _table_spoilage(
            health.spoilage_by_product, title=_("Spoilage by product"), heading=_("Product")
        ),
        "spoilage_farmer": _table_spoilage(
            health.spoilage_by_farmer, title=_("Spoilage by farmer"), heading=_("Farmer")
        ),
        "cover": _table_cover(health),
    }


def _charts(health: StockHealth) -> dict:
    def bucket_chart(buckets, tone=None):
        return bar_chart(
            buckets,
            value=lambda bucket: bucket.kg,
            label=lambda bucket: bucket.label,
            text=lambda bucket: (
                ngettext("%(kg)s · %(n)d lot", "%(kg)s · %(n)d lots", bucket.lots)
                % {"kg": _kg(bucket.kg), "n": bucket.lots}
            ),
            tone=tone,
            limit=None,
        )

    def spoilage_chart(rows):
        return bar_chart(
            rows,
            value=lambda row: row.kg,
            label=lambda row: row.name,
            text=lambda row: _kg(row.kg),
            tone=lambda row: "warn",
        )

    cover = [row for row in health.cover if row.days is not None]
    return {
        "age": bucket_chart(health.age, tone=lambda b: "warn" if b.key == "11+" else ""),
        "expiry": bucket_chart(
            health.expiry, tone=lambda b: "danger" if b.key in {"expired", "0-2"} else ""
        ),
        "spoilage_product": spoilage_chart(health.spoilage_by_product),
        "spoilage_farmer": spoilage_chart(health.spoilage_by_farmer),
        "cover": bar_chart(
            cover,
            value=lambda row: min(row.days, COVER_CHART_CAP),
            label=lambda row: row.sku_name,
            text=lambda row: _("%(days)s days") % {"days": row.days},
            tone=lambda row: "danger" if row.days < COVER_WARN_DAYS else "",
            limit=None,
        ),
    }


@require_GET
@role_required(*STOCK_HEALTH_READERS)
def stock_health_view(request):
    form = PeriodForm(request.GET or None)
    period = form.period(Period.last_days(SPOILAGE_DAYS))
    health = reports.stock_health(spoilage_from=period.date_from, spoilage_to=period.date_to)
    tables = health_tables(health)
    fmt = export_format(request)
    if fmt:
        name = request.GET.get("table", "")
        if name not in tables:
            return HttpResponseBadRequest(
                _("Choose a table to download: %(names)s.") % {"names": ", ".join(tables)}
            )
        when = period_slug(period) if name.startswith("spoilage") else health.today.isoformat()
        return export_response(
            tables[name], fmt=fmt, filename=f"stock-health-{name.replace('_', '-')}-{when}"
        )
    return render(
        request,
        "inventory/health.html",
        {
            "form": form,
            "health": health,
            "period": period,
            "query": period_query(period),
            "charts": _charts(health),
            "age_rows": [
                {
                    "product": row["product"],
                    "cells": [row[key] for key, *_rest in reports.AGE_BUCKETS],
                    "total": row["total"],
                }
                for row in health.age_by_product
            ],
            "spoilage": [
                (_("By product"), "spoilage_product", health.spoilage_by_product, False),
                (_("By farmer"), "spoilage_farmer", health.spoilage_by_farmer, True),
            ],
            "steps": {},
            "cover_warn_days": COVER_WARN_DAYS,
        },
    )
