"""The PostgreSQL trigger rejects UPDATE and DELETE on audit rows, even in raw SQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from apps.audit.chain import verify_chain
from apps.audit.models import AuditEvent
from apps.audit.services import audit_prune, audit_record

pytestmark = pytest.mark.django_db


def raw(sql: str, params=()) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_it_rejects_a_raw_update():
    event = audit_record(action="directory.sync", actor=None, target_repr="before")
    with pytest.raises(DatabaseError, match="append-only"):
        raw("UPDATE audit_auditevent SET target_repr = 'after' WHERE sequence = %s", [event.sequence])
    assert AuditEvent.objects.get(pk=event.pk).target_repr == "before"


def test_it_rejects_a_raw_delete():
    event = audit_record(action="directory.sync", actor=None)
    with pytest.raises(DatabaseError, match="append-only"):
        raw("DELETE FROM audit_auditevent WHERE sequence = %s", [event.sequence])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_it_allows_set_null_when_an_operator_is_deleted(django_user_model):
    user = django_user_model.objects.create_user(username="leaver", password="x" * 20)
    event = audit_record(action="directory.sync", actor=user)
    user.delete()
    event.refresh_from_db()
    assert event.actor_id is None and event.actor_username == "leaver"


def test_it_rejects_repointing_an_actor(django_user_model):
    a = django_user_model.objects.create_user(username="a1", password="x" * 20)
    b = django_user_model.objects.create_user(username="b1", password="x" * 20)
    event = audit_record(action="directory.sync", actor=a)
    with pytest.raises(DatabaseError, match="append-only"):
        raw("UPDATE audit_auditevent SET actor_id = %s WHERE sequence = %s", [b.pk, event.sequence])


def test_it_lets_prune_through(operator_admin):
    from datetime import UTC, datetime, timedelta

    for _ in range(3):
        audit_record(action="directory.sync", actor=None)
    result = audit_prune(actor=operator_admin, before=(datetime.now(UTC) + timedelta(days=1)).date())
    assert result.removed >= 3
    assert AuditEvent.objects.count() == 1
    assert verify_chain().ok
    # The bypass was local to the prune's transaction.
    with pytest.raises(DatabaseError, match="append-only"):
        raw("DELETE FROM audit_auditevent")
