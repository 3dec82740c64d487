"""The policy for access grants: use and edit for helpdesk on ordinary groups; own, and the admin group, for
admin operators only; no second approver for either."""

from __future__ import annotations

import pytest

from apps.accounts.policy import Change, Target, decide


class Conn:
    environment = "production"
    name = "Retool prod"


@pytest.mark.parametrize("action", [Change.GROUP_ACCESS_GRANT, Change.GROUP_ACCESS_REVOKE])
def test_it_lets_helpdesk_grant_use_and_edit(operator_helpdesk, action):
    decision = decide(
        operator=operator_helpdesk, action=action, target=Target(connection=Conn(), kind="group")
    )
    assert decision.allowed and not decision.needs_approval


@pytest.mark.parametrize("action", [Change.GROUP_ACCESS_GRANT, Change.GROUP_ACCESS_REVOKE])
def test_it_keeps_own_for_admin_operators(operator_helpdesk, operator_admin, action):
    target = Target(connection=Conn(), kind="group", admin_level=True)
    refused = decide(operator=operator_helpdesk, action=action, target=target)
    assert not refused and "own" in refused.reason
    allowed = decide(operator=operator_admin, action=action, target=target)
    assert allowed and not allowed.needs_approval


def test_it_keeps_the_admin_group_for_admin_operators(operator_helpdesk):
    target = Target(connection=Conn(), kind="group", admin_group=True)
    assert not decide(operator=operator_helpdesk, action=Change.GROUP_ACCESS_GRANT, target=target)


def test_viewers_grant_nothing(operator_viewer):
    target = Target(connection=Conn(), kind="group")
    assert not decide(operator=operator_viewer, action=Change.GROUP_ACCESS_GRANT, target=target)


def test_revoking_from_a_protected_person_is_for_admin_operators(operator_helpdesk, operator_admin):
    target = Target(connection=Conn(), kind="user", protected=True)
    assert not decide(operator=operator_helpdesk, action=Change.USER_ACCESS_REVOKE, target=target)
    assert decide(operator=operator_admin, action=Change.USER_ACCESS_REVOKE, target=target)
