"""ToolJet app access, read from custom groups' granular permissions into the AccessEntry shape Retool's
permissions API fills (so feature code never asks which product it talks to)."""

from __future__ import annotations

import pytest

from apps.providers.base import AccessEntry, ConnectionConfig
from apps.providers.errors import Unsupported
from apps.providers.tooljet import ToolJetProvider

TOKEN = "tj-test-token"


@pytest.fixture
def tooljet(simulator):
    sim = simulator("tooljet", token=TOKEN, profile="latest", users=8, seed=2)
    config = ConnectionConfig(kind="tooljet", base_url=sim.url, token=TOKEN, key=f"tj-{id(sim)}")
    provider = ToolJetProvider(config, sleep=lambda s: None)
    ws = next(w for w in provider.list_workspaces() if list(provider.iter_apps(w.id)))
    apps = list(provider.iter_apps(ws.id))
    editors = provider.create_group(
        "Editors",
        workspace_id=ws.id,
        granular_permissions=[
            {"type": "app", "applyToAll": False, "resources": [apps[0].id], "permissions": {"canEdit": True}}
        ],
    )
    viewers = provider.create_group(
        "Viewers",
        workspace_id=ws.id,
        granular_permissions=[
            {"type": "app", "applyToAll": True, "resources": [], "permissions": {"canEdit": False}}
        ],
    )
    return provider, ws.id, apps, editors, viewers


def test_it_lists_who_can_use_an_app(tooljet):
    provider, ws, apps, editors, viewers = tooljet
    entries = {e.subject_name: e for e in provider.access_list("app", apps[0].id, workspace_id=ws)}
    assert entries["Editors"] == AccessEntry(
        subject_kind="group",
        subject_id=editors.id,
        subject_name="Editors",
        object_kind="app",
        object_id=apps[0].id,
        level="edit",
        source="direct",
        sources=("direct",),
    )
    assert (entries["Viewers"].level, entries["Viewers"].source) == ("use", "universal")
    second = {e.subject_name for e in provider.access_list("app", apps[1].id, workspace_id=ws)}
    assert "Viewers" in second and "Editors" not in second


def test_it_lists_a_groups_apps(tooljet):
    provider, ws, apps, editors, viewers = tooljet
    own = provider.list_access(
        subject_kind="group", subject_id=editors.id, object_kind="app", workspace_id=ws
    )
    assert [(e.object_id, e.level, e.source) for e in own] == [(apps[0].id, "edit", "direct")]
    every = provider.list_access(
        subject_kind="group", subject_id=viewers.id, object_kind="app", workspace_id=ws
    )
    assert {e.object_id for e in every} == {a.id for a in apps}
    assert {(e.level, e.source) for e in every} == {("use", "universal")}
    assert {e.object_name for e in every} == {a.name for a in apps}


def test_it_lists_a_persons_apps_through_their_groups(tooljet):
    provider, ws, apps, editors, viewers = tooljet
    user = next(u for u in provider.iter_users() if u.membership(ws) and u.membership(ws).role != "admin")
    provider.patch_membership(user.id, ws, groups=[editors.id, viewers.id])
    entries = {
        e.object_id: e
        for e in provider.list_access(
            subject_kind="user", subject_id=user.id, object_kind="app", workspace_id=ws
        )
    }
    assert set(entries) == {a.id for a in apps}
    first = entries[apps[0].id]
    assert (first.subject_kind, first.subject_id, first.level, first.source) == (
        "user",
        user.id,
        "edit",
        "group",
    )
    assert set(first.source_ids) == {editors.id, viewers.id}
    assert entries[apps[1].id].level == "use" and entries[apps[1].id].source_ids == (viewers.id,)


def test_it_refuses_what_tooljet_cannot_do(tooljet):
    provider, ws, apps, editors, viewers = tooljet
    for call in (
        lambda: provider.access_list("folder", "x", workspace_id=ws),
        lambda: provider.grant_access(
            subject_kind="group", subject_id=editors.id, object_kind="app", object_id=apps[0].id, level="use"
        ),
        provider.list_folders,
        provider.list_invites,
    ):
        with pytest.raises(Unsupported):
            call()


def test_it_probes_access_with_the_groups_api(tooljet, simulator):
    provider = tooljet[0]
    caps = provider.probe().capabilities
    assert caps.supports_access and not caps.supports_access_grant and not caps.supports_folders
    assert "granular permissions" in caps.reasons["supports_access_grant"]
    old = simulator("tooljet", token=TOKEN, profile="lts-3.16", users=3)
    config = ConnectionConfig(kind="tooljet", base_url=old.url, token=TOKEN, key="tj-old")
    caps = ToolJetProvider(config).probe().capabilities
    assert not caps.supports_access and "no groups API" in caps.reasons["supports_access"]
