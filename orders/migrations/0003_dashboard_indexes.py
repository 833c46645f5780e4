# The sales dashboard's indexes and planner statistics (orders.reports).

from django.conf import settings
from django.db import migrations, models

STATISTICS = "order_dashboard_day_stats"


def create_statistics(apps, schema_editor):
    """PostgreSQL only: how many (status, province, local day) groups orders form. Without it
    the planner guesses a few hundred thousand groups for a month's dashboard, aggregates in
    one process and spills to disk; with it, it aggregates in parallel (bench/reports.py).
    The expression must be the one ``Trunc("paid_at", "day", tzinfo=…)`` writes."""
    if schema_editor.connection.vendor != "postgresql":
        return
    zone = settings.TIME_ZONE.replace("'", "")
    schema_editor.execute(
        f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} (ndistinct) ON status, province, "
        f"(DATE_TRUNC('day', paid_at AT TIME ZONE '{zone}')) FROM orders_order"
    )


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_channels"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="orderevent",
            index=models.Index(
                condition=models.Q(("to_status", "shipped")),
                fields=["order"],
                include=("created_at",),
                name="order_event_shipped_idx",
            ),
        ),
        migrations.RunPython(create_statistics, drop_statistics, elidable=False),
    ]
