from __future__ import annotations

import pytest
from django.db import connection


def raw_sql(sql: str, params=()) -> None:
    """Tamper with the trail the way someone with database access would: plain SQL, bypassing the ORM guards
    (and, on PostgreSQL, the append-only trigger, as its table owner can; rolled back with the test)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks, or ALTER TABLE refuses
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_append_only")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.fixture
def tamper():
    return raw_sql


@pytest.fixture
def record(db):
    """`record(**overrides)` → an AuditEvent with sensible defaults."""
    from apps.audit.services import audit_record

    def make(**kw):
        kw.setdefault("action", "user.role")
        kw.setdefault("actor", None)
        kw.setdefault("target_type", "user")
        kw.setdefault("target_id", "42")
        kw.setdefault("target_repr", "ada@example.com")
        return audit_record(**kw)

    return make
