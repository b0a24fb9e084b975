"""On PostgreSQL, an officer cannot hold two live facilitations whose times overlap.

The scheduling service checks first (with the officers' rows locked); this constraint is
the backstop. SQLite has no exclusion constraints, so there the service check stands alone.
btree_gist lets a GiST index compare the officer id with ``=`` next to the range ``&&``; it
is a trusted extension (PostgreSQL 13+), so a database owner may create it.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE programs_facilitation ADD CONSTRAINT programs_facilitation_no_overlap
    EXCLUDE USING gist (officer_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE (live);
"""
DROP = "ALTER TABLE programs_facilitation DROP CONSTRAINT IF EXISTS programs_facilitation_no_overlap;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("programs", "0001_catalog_sessions_bookings_calendars")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
