"""ToolJet version differences the provider must not guess wrong (tooljet.md §8): the role-change route is probed on
its own (3.5.0–3.5.6 have it without the app routes), and a new user's status is always sent (2.x archives new
users when it is left out)."""

from __future__ import annotations

import copy

import pytest

from apps.providers.base import ConnectionConfig, WorkspaceAssignment
from apps.providers.tooljet import ToolJetProvider

TOKEN = "tj-test-token"


def make(sim, capabilities=None):
    config = ConnectionConfig(kind="tooljet", base_url=sim.url, token=TOKEN, key=f"tj-{id(sim)}")
    return ToolJetProvider(config, capabilities=capabilities, sleep=lambda s: None)


def test_it_finds_role_change_on_a_version_without_app_routes(simulator):
    sim = simulator("tooljet", token=TOKEN, profile="lts-3.5-early", users=5)
    before = copy.deepcopy(sim.app.state.memberships)
    result = make(sim).probe()
    caps = result.capabilities
    assert caps.supports_role_change and not caps.supports_app_list
    assert "needs 3.5.7" in caps.reasons["supports_app_list"]
    check = next(c for c in result.checks if c.name == "role_change")
    assert check.ok and "refused as invalid" in check.detail
    # its one PUT carries no role, so validation refuses it before anything runs
    assert sim.writes() == [("PUT", "/api/ext/update-user-role/workspace/not-a-uuid")]
    assert sim.app.state.memberships == before


@pytest.mark.parametrize(
    ("profile", "role_change", "statuses"),
    [
        ("legacy-2x", False, ("active", "archived")),
        ("lts-3.5", True, ("invited", "active", "archived")),
        ("latest", True, ("invited", "active", "archived")),
    ],
)
def test_it_probes_role_change_and_create_statuses_per_version(simulator, profile, role_change, statuses):
    caps = make(simulator("tooljet", token=TOKEN, profile=profile, users=5)).probe().capabilities
    assert caps.supports_role_change is role_change
    assert caps.create_statuses == statuses
    if not role_change:
        assert "no role-change API" in caps.reasons["supports_role_change"]


@pytest.mark.parametrize(("profile", "expected"), [("legacy-2x", "active"), ("latest", "invited")])
def test_it_never_leaves_a_new_user_to_the_instance_default(simulator, profile, expected):
    sim = simulator("tooljet", token=TOKEN, profile=profile, users=5)
    provider = make(sim)
    provider = make(sim, capabilities=provider.probe().capabilities)
    ws = provider.list_workspaces()[0]
    created = provider.create_user(
        email="new.person@example.com",
        first_name="New",
        last_name="Person",
        workspaces=[WorkspaceAssignment(workspace_id=ws.id)],
    )
    assert created.status == expected
    assert sim.app.state.users[created.id]["status"] == expected


def test_it_sends_the_status_asked_for(simulator):
    sim = simulator("tooljet", token=TOKEN, profile="latest", users=5)
    provider = make(sim)
    ws = provider.list_workspaces()[0]
    created = provider.create_user(
        email="new.person@example.com",
        first_name="New",
        last_name="Person",
        status="active",
        workspaces=[WorkspaceAssignment(workspace_id=ws.id)],
    )
    assert created.status == "active"
