"""Idempotency keys now live in ``core`` (every app's API uses them): copy the keys still
within their 24 hours into core's table, then drop orders' own."""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone


def copy_keys(apps, schema_editor):
    Old = apps.get_model("orders", "IdempotencyKey")
    New = apps.get_model("core", "IdempotencyKey")
    recent = Old.objects.filter(created_at__gte=timezone.now() - timedelta(hours=24))
    New.objects.bulk_create(
        [
            New(
                key=old.key,
                user_id=old.user_id,
                endpoint=old.endpoint,
                body_sha256=old.body_sha256,
                status_code=old.status_code,
                response=old.response,
                created_at=old.created_at,
            )
            for old in recent.iterator()
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_dashboard_indexes"),
        ("core", "0002_idempotency_key"),
    ]

    operations = [
        migrations.RunPython(copy_keys, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="idempotencykey", name="idempotency_key_unique"),
        migrations.DeleteModel(name="IdempotencyKey"),
    ]
