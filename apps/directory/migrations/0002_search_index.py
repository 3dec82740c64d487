"""Substring search indexes for the directory: SQLite FTS5 with the trigram tokenizer (kept in step by triggers),
or a pg_trgm GIN index on PostgreSQL. Both serve ``search LIKE '%needle%'`` for needles of 3+ characters."""

from __future__ import annotations

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE directory_user_fts USING fts5(search, content='directory_directoryuser', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER directory_user_fts_ai AFTER INSERT ON directory_directoryuser BEGIN "
    "INSERT INTO directory_user_fts(rowid, search) VALUES (new.id, new.search); END",
    "CREATE TRIGGER directory_user_fts_ad AFTER DELETE ON directory_directoryuser BEGIN "
    "INSERT INTO directory_user_fts(directory_user_fts, rowid, search) VALUES ('delete', old.id, old.search); END",
    "CREATE TRIGGER directory_user_fts_au AFTER UPDATE OF search ON directory_directoryuser BEGIN "
    "INSERT INTO directory_user_fts(directory_user_fts, rowid, search) VALUES ('delete', old.id, old.search); "
    "INSERT INTO directory_user_fts(rowid, search) VALUES (new.id, new.search); END",
    "INSERT INTO directory_user_fts(directory_user_fts) VALUES ('rebuild')",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS directory_user_fts_ai",
    "DROP TRIGGER IF EXISTS directory_user_fts_ad",
    "DROP TRIGGER IF EXISTS directory_user_fts_au",
    "DROP TABLE IF EXISTS directory_user_fts",
]
POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS directory_user_search_trgm ON directory_directoryuser USING gin (search gin_trgm_ops)",
]
POSTGRES_REVERSE = ["DROP INDEX IF EXISTS directory_user_search_trgm"]


def forwards(apps, schema_editor):
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    statements = {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}.get(
        schema_editor.connection.vendor, []
    )
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
