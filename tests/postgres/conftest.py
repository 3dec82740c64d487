"""Tests that need PostgreSQL (row locks, the append-only trigger). CI runs the suite a second time with
DATABASE_URL pointing at PostgreSQL; on any other database these modules are not collected at all."""

from __future__ import annotations

from django.conf import settings

IS_POSTGRES = settings.DATABASES["default"]["ENGINE"] in (
    "django.db.backends.postgresql",
    "django.contrib.gis.db.backends.postgis",
)

collect_ignore_glob = [] if IS_POSTGRES else ["test_*.py"]
