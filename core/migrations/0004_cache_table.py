"""The database cache's table (settings.CACHES, "shanhuo_cache"): sign-in lockout and API
throttling count there, shared by every web process. ``createcachetable`` does nothing for a
cache that is not in the database (CACHE_URL=redis://…) or a table that already exists."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_lease")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
