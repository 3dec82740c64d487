"""A digest per index row (a sync writes only rows whose upstream state changed; empty until the next sync writes
it), how many rows the last sync wrote, and the search column refolded: apostrophes dropped, punctuation other than
e-mail characters turned into spaces (``normalize``), so ``o’brien`` and ``Raman, Priya`` find their people.

SQLite rebuilds the table to add a column, which drops the FTS5 triggers and the raw ``(id, email, connection_id)``
index of migrations 0002–0003: both are made again, and the FTS5 index rebuilt from the refolded column."""

from __future__ import annotations

from importlib import import_module

from django.db import migrations, models

BATCH = 5000


def refold(apps, schema_editor):
    from apps.directory.models import normalize

    DirectoryUser = apps.get_model("directory", "DirectoryUser")
    last = 0
    while True:
        rows = list(
            DirectoryUser.objects.filter(id__gt=last)
            .order_by("id")
            .only("id", "email", "name", "search")[:BATCH]
        )
        if not rows:
            return
        changed = []
        for row in rows:
            search = normalize(f"{row.email} {row.name}")[:700]
            if search != row.search:
                row.search = search
                changed.append(row)
        DirectoryUser.objects.bulk_update(changed, ["search"])
        last = rows[-1].id


def sqlite_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    triggers_and_rebuild = import_module("apps.directory.migrations.0002_search_index").SQLITE[1:]
    for sql in [import_module("apps.directory.migrations.0003_search_paths").SQLITE, *triggers_and_rebuild]:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("directory", "0005_sync_queued_at")]
    operations = [
        # Undone last when migrating back, after the column removals rebuilt the table again.
        migrations.RunPython(migrations.RunPython.noop, sqlite_search_index),
        migrations.AddField(
            model_name="directorysync",
            name="written",
            field=models.PositiveIntegerField(default=0, help_text="index rows inserted, updated or deleted"),
        ),
        migrations.AddField(
            model_name="directoryuser",
            name="digest",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.RunPython(refold, migrations.RunPython.noop),
        migrations.RunPython(sqlite_search_index, migrations.RunPython.noop),
    ]
