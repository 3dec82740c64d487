from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from apps.audit.chain import compute_hash
from apps.audit.models import AppendOnlyError, AuditEvent
from apps.audit.services import audit_record, audited
from apps.core.context import RequestMeta, request_meta_var

pytestmark = pytest.mark.django_db


class UpstreamBoom(Exception):
    def __init__(self):
        super().__init__("raw")
        self.message = "Upstream said no"
        self.status_code = 409
        self.upstream_request_id = "up-123"


def test_it_writes_a_row_with_snapshots(record, operator_admin, make_connection):
    connection = make_connection(name="Prod ToolJet", slug="prod-tj", kind="tooljet")
    event = record(
        actor=operator_admin,
        connection=connection,
        before={"role": "end-user"},
        after={"role": "admin"},
        reason="promoted",
        ticket="OPS-1",
    )
    event.refresh_from_db()
    assert event.sequence >= 1
    assert event.actor == operator_admin and event.actor_username == "alice"
    assert (event.connection_name, event.connection_slug, event.provider) == (
        "Prod ToolJet",
        "prod-tj",
        "tooljet",
    )
    assert event.before == {"role": "end-user"} and event.after == {"role": "admin"}
    assert event.hash == compute_hash(event)


def test_it_chains_rows_with_gapless_sequences(record):
    start = AuditEvent.objects.count()
    events = [record() for _ in range(5)]
    sequences = [e.sequence for e in events]
    assert sequences == list(range(sequences[0], sequences[0] + 5))
    assert sequences[0] == start + 1
    for previous, current in zip(events, events[1:], strict=False):
        assert current.prev_hash == previous.hash


def test_it_takes_request_meta_from_context(record):
    token = request_meta_var.set(
        RequestMeta(request_id="req-abcdef12", remote_addr="10.0.0.7", user_agent="UA/1")
    )
    try:
        event = record()
        overridden = record(request_id="explicit-id", remote_addr="::1", user_agent="cli")
    finally:
        request_meta_var.reset(token)
    assert (event.request_id, event.remote_addr, event.user_agent) == ("req-abcdef12", "10.0.0.7", "UA/1")
    assert (overridden.request_id, overridden.remote_addr, overridden.user_agent) == (
        "explicit-id",
        "::1",
        "cli",
    )


def test_it_rejects_unknown_actions(record):
    with pytest.raises(ValueError):
        record(action="user.teleport")


def test_it_works_inside_an_outer_transaction(record):
    from django.db import transaction

    with transaction.atomic():
        first = record()
        second = record()
    assert second.prev_hash == first.hash


def test_it_refuses_updates_and_deletes(record):
    event = record()
    event.target_repr = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(target_repr="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.create(
            action="user.role", sequence=10_000, hash="f" * 64, created_at=event.created_at
        )


def test_it_survives_deleting_the_actor_and_connection(record, django_user_model, make_connection):
    user = django_user_model.objects.create_user(username="temp", password="x" * 20)
    connection = make_connection(slug="gone")
    event = record(actor=user, connection=connection)
    user.delete()
    connection.delete()
    event.refresh_from_db()
    assert event.actor is None and event.connection is None
    assert event.actor_username == "temp" and event.connection_slug == "gone"
    assert event.hash == compute_hash(event)


def test_audited_records_success_with_after(operator_admin):
    with audited(
        action="user.role",
        actor=operator_admin,
        target_type="user",
        target_id="7",
        before={"role": "viewer"},
        reason="why",
    ) as event:
        event.after = {"role": "builder"}
        event.target_repr = "bob"
    row = event.record
    assert row.outcome == "success" and row.after == {"role": "builder"} and row.target_repr == "bob"
    assert row.duration_ms is not None


def test_audited_records_failure_and_reraises(operator_admin):
    before = AuditEvent.objects.count()
    with (
        pytest.raises(UpstreamBoom),
        audited(
            action="group.member_add", actor=operator_admin, target_type="group", target_id="g1"
        ) as event,
    ):
        raise UpstreamBoom
    assert AuditEvent.objects.count() == before + 1
    row = event.record
    assert row.outcome == "failure" and row.error == "Upstream said no"
    assert row.upstream_status == 409 and row.upstream_request_id == "up-123"


def test_audited_records_denied(operator_viewer):
    with pytest.raises(PermissionDenied), audited(action="user.status", actor=operator_viewer) as event:
        raise PermissionDenied
    assert event.record.outcome == "denied"


def test_audited_lets_the_body_set_the_outcome(operator_admin):
    with audited(action="connection.test", actor=operator_admin) as event:
        event.outcome = "failure"
        event.error = "unreachable"
    assert (event.record.outcome, event.record.error) == ("failure", "unreachable")


def test_it_returns_the_saved_event():
    event = audit_record(action="directory.sync", actor=None)
    assert AuditEvent.objects.get(pk=event.pk).hash == event.hash
