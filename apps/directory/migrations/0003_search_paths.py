"""Indexes for the two search paths (selectors.user_search): (email, search, connection) walked in e-mail order for
needles that match many rows, and on SQLite a narrow (id, email, connection_id) index that turns trigram hits into
e-mails without reading the wide rows."""

from __future__ import annotations

from django.db import migrations, models

SQLITE = (
    "CREATE INDEX IF NOT EXISTS directory_user_id_email ON directory_directoryuser (id, email, connection_id)"
)
SQLITE_REVERSE = "DROP INDEX IF EXISTS directory_user_id_email"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("directory", "0002_search_index")]
    operations = [
        migrations.AddIndex(
            model_name="directoryuser",
            index=models.Index(fields=["email", "search", "connection"], name="directory_user_email_search"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
