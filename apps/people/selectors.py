"""People reads: the live user detail, read fresh from upstream."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.connections.clients import connection_capabilities, get_provider
from apps.connections.models import Connection
from apps.providers.base import Capabilities, RemoteAttribute, RemoteUser, RemoteWorkspace


@dataclass
class UserDetail:
    user: RemoteUser
    caps: Capabilities
    workspaces: list[RemoteWorkspace] = field(default_factory=list)  # ToolJet: every workspace (for "add")
    attributes: list[RemoteAttribute] = field(default_factory=list)  # Retool: declared attributes

    @property
    def addable_workspaces(self) -> list[RemoteWorkspace]:
        """The active workspaces this user is not a member of (the "add to workspace" choices)."""
        member_of = {m.workspace_id for m in self.user.workspaces}
        return [w for w in _active(self.workspaces) if w.id not in member_of]


def _active(workspaces) -> list[RemoteWorkspace]:
    return [w for w in workspaces if (w.status or "active") == "active"]


def active_workspaces(*, connection: Connection) -> list[RemoteWorkspace]:
    """The workspaces a new user can be invited to (archived ones left out). Raises ProviderError."""
    with get_provider(connection) as provider:
        return _active(provider.list_workspaces())


def user_detail_get(*, connection: Connection, user_id: str) -> UserDetail:
    """The user read fresh from upstream, plus what the change forms need (ToolJet workspaces, Retool declared
    attributes). Raises ProviderError."""
    caps = connection_capabilities(connection)
    with get_provider(connection) as provider:
        user = provider.get_user(user_id)
        detail = UserDetail(user=user, caps=caps)
        if caps.supports_workspaces:
            detail.workspaces = provider.list_workspaces()
        if caps.supports_user_attributes:
            detail.attributes = provider.list_user_attributes()
    return detail
