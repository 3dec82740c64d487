from __future__ import annotations

from apps.plans.actions import REGISTRY, get_action, user_state
from apps.providers.base import Capabilities, RemoteGroupRef, RemoteMembership, RemoteUser

TJ = RemoteUser(
    id="u1",
    email="lee@example.com",
    name="Lee",
    workspaces=(
        RemoteMembership(
            "w1", "Prod", status="active", role="end-user", groups=(RemoteGroupRef("g1", "Support"),)
        ),
        RemoteMembership("w2", "Stage", status="archived", role="builder"),
    ),
)
RT = RemoteUser(id="r1", email="lee@example.com", status="disabled", active=False, role="member")


def test_every_entry_names_a_capability_a_policy_action_and_an_audit_action():
    from apps.accounts.policy import Change
    from apps.audit.models import AuditEvent

    for name, action in REGISTRY.items():
        assert action.name == name and action.label
        assert action.capability in Capabilities.FLAGS
        assert action.policy_action in Change.ALL
        assert action.audit_action in AuditEvent.Action.values


def test_it_skips_what_is_already_so():
    status = get_action("user.status")
    assert status.skip_reason(user_state(RT), {"status": "archived"}) == "Already disabled."
    assert status.skip_reason(user_state(TJ), {"status": "archived"}) == ""
    assert (
        status.skip_reason(user_state(TJ), {"status": "archived", "workspace_id": "w2"})
        == "Already archived."
    )
    role = get_action("user.role")
    assert role.skip_reason(user_state(TJ), {"role": "builder", "workspace_id": "w2"}) == "Already builder."
    assert "any more" in role.skip_reason(user_state(TJ), {"role": "admin", "workspace_id": "w9"})


def test_it_describes_before_and_after():
    state = user_state(TJ)
    assert get_action("user.role").describe(state, {"role": "builder", "workspace_id": "w1"}) == (
        "end-user in Prod",
        "builder in Prod",
    )
    state["group"] = {"id": "g1", "name": "Support", "member": True, "in_workspace": True}
    assert get_action("group.member_remove").describe(state, {"workspace_id": "w1"}) == (
        "in Support in Prod",
        "not in Support in Prod",
    )


def test_it_builds_inverses_from_the_recorded_state_or_says_why_not():
    state = user_state(TJ)
    assert get_action("user.status").inverse({"status": "archived"}, state) == (
        "user.status",
        {"status": "active", "restore_workspaces": ["w1"]},
    )
    assert get_action("user.role").inverse({"role": "admin", "workspace_id": "w1"}, state) == (
        "user.role",
        {"role": "end-user", "workspace_id": "w1"},
    )
    state["group"] = {"id": "g1", "name": "Support", "member": True}
    assert get_action("group.member_remove").inverse(
        {"workspace_id": "w1", "group_name": "Support"}, state
    ) == (
        "group.member_add",
        {"workspace_id": "w1", "group_name": "Support", "group_id": "g1"},
    )
    invited = user_state(RemoteUser(id="u2", email="x@example.com", status="invited"))
    assert "invite them again" in get_action("user.status").inverse({"status": "archived"}, invited)
    assert "not recorded" in get_action("user.metadata").inverse({"workspace_id": "w1", "items": {}}, state)


def test_the_apply_compares_only_what_the_action_changes():
    status = get_action("user.status")
    before = user_state(TJ)
    renamed = {**before, "label": "Someone else"}
    assert status.fingerprint(before, {"status": "archived"}) == status.fingerprint(
        renamed, {"status": "archived"}
    )
    archived = {**before, "status": "archived"}
    assert status.fingerprint(before, {"status": "archived"}) != status.fingerprint(
        archived, {"status": "archived"}
    )
