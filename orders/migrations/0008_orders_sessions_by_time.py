"""Apply the rule of time (orders.sessions) to orders already stored: an order attached to a
live session it was not paid in (outside the window and its grace, which the import's old
rule allowed by title) goes to the channel's session whose window holds its payment, or to
none."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.db.models import F, Q


def sessions_by_time(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    LiveSession = apps.get_model("orders", "LiveSession")
    grace = timedelta(hours=float(getattr(settings, "LIVE_SESSION_GRACE_HOURS", 2)))
    stray = list(
        Order.objects.filter(live_session__isnull=False)
        .filter(
            Q(paid_at__lt=F("live_session__starts_at") - grace)
            | Q(paid_at__gt=F("live_session__ends_at") + grace)
        )
        .only("id", "channel_id", "paid_at", "live_session_id")
    )
    if not stray:
        return
    sessions: dict[int, list] = {}
    for session in LiveSession.objects.filter(
        channel_id__in={order.channel_id for order in stray}
    ).order_by("-starts_at", "-id"):
        sessions.setdefault(session.channel_id, []).append(session)
    for order in stray:
        order.live_session_id = next(
            (
                session.pk
                for session in sessions.get(order.channel_id, [])
                if session.starts_at <= order.paid_at <= session.ends_at
            ),
            None,
        )
    Order.objects.bulk_update(stray, ["live_session"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0007_orders_addresses_on_national_divisions"),
    ]

    operations = [
        migrations.RunPython(sessions_by_time, migrations.RunPython.noop, elidable=True),
    ]
