"""The database itself refuses to change a ledger row (and, on PostgreSQL, to delete one).
SQLite gets no DELETE trigger: Django's test runner empties tables with DELETE there."""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION inventory_stockmovement_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the stock ledger is append-only (inventory_stockmovement)';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER inventory_stockmovement_append_only
    BEFORE UPDATE OR DELETE ON inventory_stockmovement
    FOR EACH ROW EXECUTE FUNCTION inventory_stockmovement_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS inventory_stockmovement_append_only ON inventory_stockmovement;
DROP FUNCTION IF EXISTS inventory_stockmovement_append_only();
"""
SQLITE_UP = """
CREATE TRIGGER inventory_stockmovement_append_only
BEFORE UPDATE ON inventory_stockmovement
BEGIN
    SELECT RAISE(ABORT, 'the stock ledger is append-only (inventory_stockmovement)');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS inventory_stockmovement_append_only;"


def run(statements):
    def apply(apps, schema_editor):
        sql = statements.get(schema_editor.connection.vendor)
        if sql:
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [
        migrations.RunPython(
            run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
            run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        ),
    ]
