"""Each index row keeps the person's user type (Retool: default, mobile, embed) and last activity (the upstream
timestamp, or ``never``), for the users list; empty until the next sync writes them (the row digest covers them, so
that sync rewrites every row once).

SQLite rebuilds the table to add a column, which drops the FTS5 triggers and the raw ``(id, email, connection_id)``
index: both are made again, as in 0006."""

from __future__ import annotations

from importlib import import_module

from django.db import migrations, models


def sqlite_search_index(apps, schema_editor):
    import_module("apps.directory.migrations.0006_row_digest_and_folded_search").sqlite_search_index(
        apps, schema_editor
    )


class Migration(migrations.Migration):
    dependencies = [("directory", "0007_user_invite")]

    operations = [
        # Undone last when migrating back, after the column removals rebuilt the table again.
        migrations.RunPython(migrations.RunPython.noop, sqlite_search_index),
        migrations.AddField(
            model_name="directoryuser",
            name="last_active",
            field=models.CharField(
                blank=True,
                help_text='upstream timestamp; "never" for someone who never signed in',
                max_length=40,
            ),
        ),
        migrations.AddField(
            model_name="directoryuser",
            name="user_type",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.RunPython(sqlite_search_index, migrations.RunPython.noop),
    ]
