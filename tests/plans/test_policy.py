from __future__ import annotations

import pytest
from django.test import override_settings

from apps.accounts.policy import Change, Target, decide, is_admin_group, is_protected_account
from apps.providers.base import RemoteGroupRef, RemoteMembership, RemoteUser

PLAIN = {
    "tooljet": RemoteUser(
        id="1", email="a@example.com", workspaces=(RemoteMembership("w1", role="builder"),)
    ),
    "retool": RemoteUser(id="2", email="b@example.com", role="member"),
}
ADMIN = {
    "tooljet": RemoteUser(
        id="3",
        email="c@example.com",
        workspaces=(
            RemoteMembership("w1", role="end-user"),
            RemoteMembership("w2", role="admin", groups=(RemoteGroupRef("g", "ops"),)),
        ),
    ),
    "retool": RemoteUser(id="4", email="d@example.com", is_admin=True, role="admin"),
}


class Conn:
    def __init__(self, environment="staging", name="TJ"):
        self.environment = environment
        self.name = name


@pytest.fixture
def personas(operator_admin, operator_helpdesk, operator_viewer, stranger):
    return {
        "admin": operator_admin,
        "helpdesk": operator_helpdesk,
        "viewer": operator_viewer,
        "none": stranger,
    }


@pytest.mark.parametrize("product", ["tooljet", "retool"])
def test_it_recognises_protected_accounts_on_both_products(product):
    assert is_protected_account(ADMIN[product])
    assert not is_protected_account(PLAIN[product])


def test_it_treats_a_super_admin_as_protected():
    assert is_protected_account(RemoteUser(id="5", email="e@example.com", user_type="instance"))


def test_it_knows_admin_groups():
    assert is_admin_group("admin") and is_admin_group(" Admin ")
    assert not is_admin_group("support")


# role × action × target kind: (allowed for viewer, helpdesk, admin)
MATRIX = [
    (Change.USER_STATUS, "plain", (False, True, True)),
    (Change.USER_STATUS, "protected", (False, False, True)),
    (Change.USER_ROLE, "plain", (False, True, True)),
    (Change.USER_ROLE, "protected", (False, False, True)),
    (Change.USER_ROLE, "grant_admin", (False, False, True)),
    (Change.USER_PROFILE, "plain", (False, True, True)),
    (Change.USER_PROFILE, "protected", (False, False, True)),
    (Change.USER_EMAIL, "plain", (False, False, True)),
    (Change.USER_EMAIL, "protected", (False, False, True)),
    (Change.USER_METADATA, "plain", (False, True, True)),
    (Change.USER_WORKSPACE_REMOVE, "plain", (False, True, True)),
    (Change.USER_WORKSPACE_REMOVE, "protected", (False, False, True)),
    (Change.GROUP_MEMBER_REMOVE, "plain", (False, True, True)),
    (Change.GROUP_MEMBER_REMOVE, "admin_group", (False, False, True)),
    (Change.GROUP_MEMBER_ADD, "admin_group", (False, False, True)),
    (Change.GROUP_MEMBER_ADD, "protected", (False, False, True)),
    (Change.USER_CREATE, "plain", (False, True, True)),
    (Change.USER_CREATE, "grant_admin", (False, False, True)),
    (Change.GROUP_DELETE, "group", (False, False, True)),
]


def _target(product: str, kind: str, environment: str = "staging") -> Target:
    connection = Conn(environment)
    if kind == "plain":
        return Target(connection=connection, protected=is_protected_account(PLAIN[product]))
    if kind == "protected":
        return Target(connection=connection, protected=is_protected_account(ADMIN[product]))
    if kind == "grant_admin":
        return Target(connection=connection, grants_admin=True)
    if kind == "admin_group":
        return Target(connection=connection, kind="group", admin_group=is_admin_group("admin"))
    return Target(connection=connection, kind="group")


@pytest.mark.parametrize("product", ["tooljet", "retool"])
@pytest.mark.parametrize(("action", "kind", "expected"), MATRIX)
def test_it_decides_the_role_action_target_matrix(personas, product, action, kind, expected):
    for role, allowed in zip(("viewer", "helpdesk", "admin"), expected, strict=True):
        decision = decide(operator=personas[role], action=action, target=_target(product, kind))
        assert decision.allowed is allowed, (role, action, kind)
        assert bool(decision.reason) is not allowed  # a refusal always says why
    assert not decide(operator=personas["none"], action=action, target=_target(product, kind)).allowed


@pytest.mark.parametrize("product", ["tooljet", "retool"])
def test_it_asks_for_a_second_approver_by_default(personas, product):
    admin = personas["admin"]
    granting = decide(operator=admin, action=Change.USER_ROLE, target=_target(product, "grant_admin"))
    assert granting.needs_approval and "Granting admin" in granting.approval_reason
    protected = decide(operator=admin, action=Change.USER_STATUS, target=_target(product, "protected"))
    assert protected.needs_approval and "holds admin" in protected.approval_reason
    prod = decide(
        operator=admin,
        action=Change.USER_STATUS,
        target=Target(connection=Conn("production"), offboarding=True),
    )
    assert prod.needs_approval and "production" in prod.approval_reason
    staging = decide(
        operator=admin, action=Change.USER_STATUS, target=Target(connection=Conn("staging"), offboarding=True)
    )
    assert staging.allowed and not staging.needs_approval
    delete = decide(operator=admin, action=Change.GROUP_DELETE, target=_target(product, "group"))
    assert delete.needs_approval
    plain = decide(operator=personas["helpdesk"], action=Change.USER_ROLE, target=_target(product, "plain"))
    assert plain.allowed and not plain.needs_approval


@override_settings(ADMINUI_PLAN_APPROVAL_RULES=["group_delete"])
def test_it_reads_the_approval_rules_from_settings(personas):
    admin = personas["admin"]
    prod = decide(
        operator=admin,
        action=Change.USER_STATUS,
        target=Target(connection=Conn("production"), offboarding=True),
    )
    assert prod.allowed and not prod.needs_approval
    assert decide(operator=admin, action=Change.GROUP_DELETE, target=Target(kind="group")).needs_approval


def test_it_refuses_an_operator_outside_their_scope(personas):
    admin = personas["admin"]
    admin.scope_environments = ["staging"]
    admin.save()
    refused = decide(
        operator=admin,
        action=Change.USER_STATUS,
        target=Target(connection=Conn("production", "P")),
    )
    assert not refused.allowed and "scope does not cover P" in refused.reason
    assert decide(
        operator=admin, action=Change.USER_STATUS, target=Target(connection=Conn("staging"))
    ).allowed


def test_it_rejects_an_unknown_action(personas):
    with pytest.raises(ValueError, match="unknown policy action"):
        decide(operator=personas["admin"], action="user.explode", target=Target())
