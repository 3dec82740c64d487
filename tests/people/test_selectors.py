from __future__ import annotations

from apps.people.selectors import UserDetail
from apps.providers.base import Capabilities, RemoteMembership, RemoteUser, RemoteWorkspace


def test_it_offers_only_active_workspaces_the_user_is_not_in():
    detail = UserDetail(
        user=RemoteUser(id="u1", email="a@example.com", workspaces=(RemoteMembership(workspace_id="w1"),)),
        caps=Capabilities(),
        workspaces=[
            RemoteWorkspace(id="w1", name="Member of"),
            RemoteWorkspace(id="w2", name="Archived", status="archived"),
            RemoteWorkspace(id="w3", name="No status"),
            RemoteWorkspace(id="w4", name="Active", status="active"),
        ],
    )
    assert [w.id for w in detail.addable_workspaces] == ["w3", "w4"]
