from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.audit.chain import verify_chain
from apps.audit.models import AuditEvent, AuditVerification

pytestmark = pytest.mark.django_db


def run_verify() -> tuple[bool, str]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("audit_verify", stdout=out)
    except CommandError:
        return False, out.getvalue()
    return True, out.getvalue()


@pytest.fixture
def chain(record):
    return [record(target_id=str(i), after={"n": i}) for i in range(6)]


def test_it_prints_ok_with_count_and_head(chain):
    ok, out = run_verify()
    head = AuditEvent.objects.order_by("-sequence").first()
    assert ok
    assert out.strip() == f"OK {AuditEvent.objects.count()} {head.hash}"
    latest = AuditVerification.objects.latest()
    assert latest.ok and latest.head_hash == head.hash


def test_it_catches_a_row_edited_in_sql(chain, tamper):
    victim = chain[2]
    tamper(
        "UPDATE audit_auditevent SET target_repr = %s WHERE sequence = %s", ["someone else", victim.sequence]
    )
    ok, out = run_verify()
    assert not ok
    assert f"BROKEN at sequence {victim.sequence}: edited" in out
    assert not AuditVerification.objects.latest().ok


def test_it_catches_a_row_edited_and_rehashed(chain, tamper):
    from apps.audit.chain import compute_hash

    victim = chain[2]
    victim.after = {"n": 999}
    tamper(
        "UPDATE audit_auditevent SET after = %s, hash = %s WHERE sequence = %s",
        ['{"n": 999}', compute_hash(victim), victim.sequence],
    )
    result = verify_chain()
    assert not result.ok and result.problem == "edited" and result.broken_sequence == victim.sequence + 1


def test_it_catches_a_deleted_row(chain, tamper):
    victim = chain[3]
    tamper("DELETE FROM audit_auditevent WHERE sequence = %s", [victim.sequence])
    ok, out = run_verify()
    assert not ok
    assert f"BROKEN at sequence {victim.sequence}: missing" in out


def test_it_catches_two_rows_swapped(chain, tamper):
    a, b = chain[1].sequence, chain[2].sequence
    tamper("UPDATE audit_auditevent SET sequence = 999999 WHERE sequence = %s", [a])
    tamper("UPDATE audit_auditevent SET sequence = %s WHERE sequence = %s", [a, b])
    tamper("UPDATE audit_auditevent SET sequence = %s WHERE sequence = 999999", [b])
    ok, out = run_verify()
    assert not ok
    assert f"BROKEN at sequence {a}: reordered" in out


def test_it_catches_a_deleted_head_seen_by_an_earlier_verification(chain, tamper):
    assert run_verify()[0]
    tamper("DELETE FROM audit_auditevent WHERE sequence = %s", [chain[-1].sequence])
    ok, out = run_verify()
    assert not ok and "missing" in out


def test_it_passes_after_a_prune(chain, tamper, operator_admin):
    old = chain[:4]
    tamper(
        "UPDATE audit_auditevent SET created_at = %s WHERE sequence <= %s",
        [datetime(2020, 1, 1, tzinfo=UTC), old[-1].sequence],
    )
    # Rehash the backdated rows so the chain is valid before pruning (as if they had really been written in 2020).
    from apps.audit.chain import compute_hash

    prev = ""
    for event in AuditEvent.objects.order_by("sequence"):
        event.prev_hash = prev
        new_hash = compute_hash(event)
        tamper(
            "UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE sequence = %s",
            [prev, new_hash, event.sequence],
        )
        prev = new_hash
    assert run_verify()[0]

    from io import StringIO

    out = StringIO()
    call_command("audit_prune", "--before", "2021-01-01", "--actor", operator_admin.username, stdout=out)
    assert "removed" in out.getvalue()
    assert not AuditEvent.objects.filter(sequence__lte=old[-1].sequence).exists()
    checkpoint = AuditEvent.objects.filter(action="audit.prune").get()
    assert checkpoint.after["removed_through_sequence"] == old[-1].sequence
    assert checkpoint.after["removed_count"] == old[-1].sequence
    ok, out = run_verify()
    assert ok, out


def test_it_refuses_prune_for_non_admins_and_records_it(chain, operator_helpdesk):
    with pytest.raises(CommandError):
        call_command(
            "audit_prune", "--before", date.today().isoformat(), "--actor", operator_helpdesk.username
        )
    denied = AuditEvent.objects.filter(action="audit.prune").get()
    assert denied.outcome == "denied" and denied.actor == operator_helpdesk
    assert AuditEvent.objects.filter(sequence=chain[0].sequence).exists()


def test_it_prunes_only_a_prefix(chain, operator_admin):
    from apps.audit.services import audit_prune

    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    result = audit_prune(actor=operator_admin, before=tomorrow)
    assert result.removed == chain[-1].sequence
    assert AuditEvent.objects.count() == 1  # only the checkpoint
    assert verify_chain().ok


def test_it_writes_a_checkpoint_event(chain):
    from io import StringIO

    out = StringIO()
    call_command("audit_verify", "--checkpoint", stdout=out)
    event = AuditEvent.objects.filter(action="audit.checkpoint").get()
    assert event.after["head_sequence"] == chain[-1].sequence and event.actor_username.startswith("cli:")
    assert verify_chain().ok
