"""PostgreSQL: an expression GIN index over each row's distinct bigrams, so a 2-letter needle (which pg_trgm cannot
serve) finds its hits without walking the e-mail index. ``directory_bigrams(search) @> ARRAY[needle]`` is exactly
``needle in search`` for a 2-character needle. Nothing on SQLite."""

from __future__ import annotations

from django.db import migrations

POSTGRES = [
    "CREATE OR REPLACE FUNCTION directory_bigrams(text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE "
    "AS $$ SELECT coalesce(array_agg(DISTINCT substr($1, i, 2)), '{}') "
    "FROM generate_series(1, length($1) - 1) AS i $$",
    "CREATE INDEX IF NOT EXISTS directory_user_search_bigrams ON directory_directoryuser "
    "USING gin (directory_bigrams(search))",
]
POSTGRES_REVERSE = [
    "DROP INDEX IF EXISTS directory_user_search_bigrams",
    "DROP FUNCTION IF EXISTS directory_bigrams(text)",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRES:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRES_REVERSE:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("directory", "0003_search_paths")]
    operations = [migrations.RunPython(forwards, backwards)]
