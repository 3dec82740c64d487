"""Offboarding someone who was invited but has not signed up: the plan revokes their pending Retool invites."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from apps.directory.models import DirectoryUser
from apps.plans.models import Plan
from apps.plans.services import PlanError, plan_apply, plan_build_offboard, plan_build_role, plan_revert_build

INVITEE = "pending.invitee@example.com"
REASON = {"reason": "the offer was withdrawn", "ticket": "HR-7"}


def _pending_id(sim) -> int:
    return next(i for i, v in sim.state.invites.items() if v["invited_email"] == INVITEE)


def test_it_revokes_the_pending_invite_when_offboarding(admin_client, operator_admin, fleet):
    f = fleet()
    sim, connection = f["retool"]
    invite_id = _pending_id(sim)
    response = admin_client.post("/plans/offboard/", {"email": INVITEE, "include_groups": "on"})
    assert response.status_code == 302
    plan = Plan.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
    ops = list(plan.operations.all())
    assert [(o.action, o.target_kind, o.target_id) for o in ops] == [
        ("invite.revoke", "invite", str(invite_id))
    ]
    html = admin_client.get(f"/plans/{plan.pk}/").content.decode()
    assert "Revoke invite" in html and "pending invite (expires" in html and "revoked" in html
    response = admin_client.post(f"/plans/{plan.pk}/submit/", REASON)
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.state == Plan.State.APPROVED  # staging: no second approver
    assert plan_apply(plan_id=plan.pk) == Plan.State.DONE
    assert invite_id not in sim.state.invites
    assert ("DELETE", f"/api/v2/user_invites/{invite_id}") in sim.requests
    event = AuditEvent.objects.get(action="invite.revoke")
    assert event.target_type == "invite" and event.target_id == str(invite_id)
    assert event.reason == REASON["reason"] and event.before["status"] == "pending"
    assert event.after["status"] == "gone"
    assert not DirectoryUser.objects.filter(connection=connection, email=INVITEE).exists()

    plan.refresh_from_db()
    revert = plan_revert_build(plan=plan, actor=operator_admin)
    op = revert.operations.get()
    assert op.state == "skipped" and "cannot be brought back" in op.message


def test_it_skips_an_invite_revoked_meanwhile(operator_admin, fleet):
    f = fleet()
    sim, _connection = f["retool"]
    plan = plan_build_offboard(actor=operator_admin, email=INVITEE)
    del sim.state.invites[_pending_id(sim)]
    from apps.plans.services import plan_refresh, plan_review_rows

    plan_refresh(plan=plan)
    [row] = plan_review_rows(plan=plan, actor=operator_admin)
    assert row.skip == "Already revoked (the invite is gone)."


def test_a_role_plan_leaves_invites_out(operator_admin, fleet):
    fleet()
    with pytest.raises(PlanError, match="no indexed instance"):
        plan_build_role(actor=operator_admin, email=INVITEE, role="admin")


def test_an_expired_invite_is_not_offboarded(operator_admin, fleet):
    fleet()
    with pytest.raises(PlanError, match="no pending invite"):
        plan_build_offboard(actor=operator_admin, email="late.invitee@example.com")


def test_a_selection_offboards_an_invite_and_refuses_other_changes_to_it(operator_admin, fleet):
    from apps.plans.services import plan_build_selection

    f = fleet()
    sim, connection = f["retool"]
    row = DirectoryUser.objects.get(connection=connection, email=INVITEE)
    plan = plan_build_selection(actor=operator_admin, account_ids=[row.pk], action="offboard")
    assert [(o.action, o.target_id) for o in plan.operations.all()] == [
        ("invite.revoke", str(_pending_id(sim)))
    ]
    with pytest.raises(PlanError, match="has only an invite"):
        plan_build_selection(actor=operator_admin, account_ids=[row.pk], action="role", role="admin")
