"""The provider interface: ``ConnectionConfig`` in, normalized frozen dataclasses out (STYLE.md §5).

Everything here is plain Python (no Django, no ``apps.*``). Every dataclass round-trips through
``to_dict()`` / ``from_dict()`` as JSON-safe data so the connections app can store probe results and capabilities
in a JSONField; ``raw`` keeps the upstream object as received for debugging and for fields we do not model.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

__all__ = [
    "ACCESS_LEVELS",
    "CAPABILITY_FLAGS",
    "AccessEntry",
    "Capabilities",
    "ConnectionConfig",
    "ExportStream",
    "Folder",
    "ImportResult",
    "Page",
    "ProbeCheck",
    "ProbeResult",
    "Provider",
    "RemoteApp",
    "RemoteAttribute",
    "RemoteGroup",
    "RemoteGroupRef",
    "RemoteInvite",
    "RemoteMember",
    "RemoteMembership",
    "RemoteMetadata",
    "RemoteUser",
    "RemoteWorkspace",
    "WorkspaceAssignment",
    "normalize_base_url",
]

# --------------------------------------------------------------------------------------------------------------
# Serialisation helpers
# --------------------------------------------------------------------------------------------------------------


def _to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    return value


def _from_json(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        for arg in args:
            if dataclasses.is_dataclass(arg) and isinstance(value, Mapping):
                return _from_json(arg, value)
        return _from_json(args[0], value) if len(args) == 1 else value
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_from_json(args[0], v) for v in value)
        if args:
            return tuple(_from_json(a, v) for a, v in zip(args, value, strict=False))
        return tuple(value)
    if origin is list:
        (arg,) = typing.get_args(tp) or (Any,)
        return [_from_json(arg, v) for v in value]
    if dataclasses.is_dataclass(tp) and isinstance(value, Mapping):
        return tp.from_dict(value)
    return value


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    """A dataclass's resolved annotations (resolving them evaluates strings: ~0.3 ms, and every request that reads
    a connection's capabilities needs them)."""
    return typing.get_type_hints(cls)


class _Serializable:
    def to_dict(self) -> dict[str, Any]:
        return _to_json(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any:
        hints = _type_hints(cls)
        kwargs = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.init and f.name in data:
                kwargs[f.name] = _from_json(hints.get(f.name, Any), data[f.name])
        return cls(**kwargs)


# --------------------------------------------------------------------------------------------------------------
# Input: connection settings
# --------------------------------------------------------------------------------------------------------------

_API_SUFFIXES = ("/api/ext", "/api/v2/ext", "/api/v2", "/api")


def normalize_base_url(url: str) -> str:
    """Instance origin incl. sub-path: no trailing slash, no ``/api/ext`` or ``/api/v2`` suffix."""
    url = (url or "").strip()
    while url.endswith("/"):
        url = url[:-1]
    for suffix in _API_SUFFIXES:
        if url.lower().endswith(suffix):
            url = url[: -len(suffix)].rstrip("/")
            break
    return url


@dataclass(frozen=True)
class ConnectionConfig(_Serializable):
    """What a provider needs to talk to one instance. Built by ``apps.connections`` from a ``Connection``.

    ``token`` never appears in ``repr()``; ``to_dict()`` leaves it out too.
    """

    kind: str
    base_url: str
    token: str = field(repr=False)
    timeout: float = 10.0
    requests_per_minute: int | None = None
    verify_tls: bool = True
    key: str = ""
    request_id: str | None = None
    connect_timeout: float = 5.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", normalize_base_url(self.base_url))
        if not self.key:
            object.__setattr__(self, "key", f"{self.kind}:{self.base_url}")

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.pop("token", None)
        return data


# --------------------------------------------------------------------------------------------------------------
# Output: normalized objects
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteGroupRef(_Serializable):
    id: str
    name: str
    type: str | None = None  # ToolJet: "custom" | "default"


@dataclass(frozen=True)
class RemoteMembership(_Serializable):
    """A ToolJet workspace membership: role is admin | builder | end-user; groups are custom groups."""

    workspace_id: str
    workspace_name: str | None = None
    status: str | None = None  # invited | active | archived
    role: str | None = None
    groups: tuple[RemoteGroupRef, ...] = ()
    invite_url: str | None = None


@dataclass(frozen=True)
class RemoteUser(_Serializable):
    id: str
    email: str
    name: str = ""
    first_name: str | None = None
    last_name: str | None = None
    status: str = "active"  # ToolJet: invited|verified|active|archived; Retool: active|disabled
    active: bool = True
    is_admin: bool = False
    workspaces: tuple[RemoteMembership, ...] = ()
    groups: tuple[
        RemoteGroupRef, ...
    ] = ()  # Retool (includeGroups=true); ToolJet: userGroups across workspaces
    metadata: dict[str, Any] = field(default_factory=dict)
    user_type: str | None = None
    invite_urls: dict[str, str] = field(default_factory=dict)  # workspace id → invite URL
    legacy_id: str | None = None
    created_at: str | None = None
    last_active: str | None = None
    # The instance-wide role where the vendor has one (Retool: "admin" | "member"); ToolJet's roles are per
    # workspace, in `workspaces[].role`.
    role: str = ""
    two_factor_auth_enabled: bool | None = None  # Retool; None where the product does not say
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def never_active(self) -> bool:
        """Retool: ``last_active`` is null for someone who never signed in (not "unknown")."""
        return self.last_active is None and "last_active" in self.raw

    def matches(
        self, *, email: str | None = None, first_name: str | None = None, last_name: str | None = None
    ) -> bool:
        """The exact, case-insensitive e-mail and name filters both products' user lists take (re-checked here:
        some builds ignore them); a filter left empty matches everyone."""
        wanted = ((email, self.email), (first_name, self.first_name), (last_name, self.last_name))
        return all(not want or (have or "").lower() == want.lower() for want, have in wanted)

    def membership(self, workspace_id: str) -> RemoteMembership | None:
        return next((m for m in self.workspaces if m.workspace_id == workspace_id), None)


@dataclass(frozen=True)
class RemoteWorkspace(_Serializable):
    """A ToolJet workspace, or a Retool space."""

    id: str
    name: str
    status: str | None = None
    slug: str | None = None
    domain: str | None = None
    groups: tuple[RemoteGroupRef, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class RemoteMember(_Serializable):
    id: str
    email: str | None = None
    is_group_admin: bool = False


@dataclass(frozen=True)
class RemoteGroup(_Serializable):
    """ToolJet custom permission group or Retool group.

    ``permissions``: ToolJet → canonical camelCase flags (``appCreate`` … ``folderCreate``/``folderDelete``);
    Retool → access levels and flags (``universal_app_access`` … ``account_details_access``).
    """

    id: str
    name: str
    workspace_id: str | None = None
    permissions: dict[str, Any] = field(default_factory=dict)
    granular_permissions: tuple[dict[str, Any], ...] = ()
    members: tuple[RemoteMember, ...] = ()
    is_builtin: bool = False
    updated_at: str | None = None
    created_at: str | None = None
    user_invites: tuple[dict[str, Any], ...] = ()  # Retool: the group's pending invites, as received
    landing_page_app_id: str | None = None  # Retool
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def builtin(self) -> bool:
        """A group the vendor ships and the console must not delete (Retool's admin, editor, viewer, All Users)."""
        return self.is_builtin


@dataclass(frozen=True)
class RemoteApp(_Serializable):
    id: str
    name: str
    slug: str | None = None
    workspace_id: str | None = None
    folder_id: str | None = None
    versions: tuple[tuple[str, str], ...] = ()  # (id, name)
    updated_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class RemoteMetadata(_Serializable):
    """ToolJet per-workspace user metadata (``userDetails``), in upstream order."""

    user_id: str
    email: str | None = None
    name: str | None = None
    status: str | None = None
    items: tuple[tuple[str, str], ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict[str, str]:
        return dict(self.items)


@dataclass(frozen=True)
class RemoteAttribute(_Serializable):
    """A Retool org-level user attribute declaration."""

    id: str
    name: str
    label: str | None = None
    data_type: str | None = None
    default_value: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Folder(_Serializable):
    """A Retool folder. ``depth`` and ``path`` (ancestor names, root first) are filled by ``list_folders()``, which
    returns folders in tree order (each parent before its children)."""

    id: str
    name: str
    parent_id: str | None = None
    folder_type: str | None = (
        None  # app | workflow | resource | agent | library (and "file", seen in the wild)
    )
    is_system: bool = False
    depth: int = 0
    path: tuple[str, ...] = ()
    created_at: str | None = None
    updated_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


ACCESS_LEVELS = ("use", "edit", "own")  # weakest first


@dataclass(frozen=True)
class AccessEntry(_Serializable):
    """Who may use what, one shape for both products.

    ``subject_kind`` group | user; ``object_kind`` app | folder (Retool also resource, workflow…); ``level`` own |
    edit | use; ``source`` is the main reason the subject holds it: direct (granted on the object itself),
    universal (the group's level for every object of that kind), group (through a group the user is in) or folder
    (granted on the folder the object is in). ``sources`` lists every reason; ``source_ids`` the group or folder ids
    behind them.
    """

    subject_kind: str
    subject_id: str
    object_kind: str
    object_id: str
    level: str
    source: str = "direct"
    subject_name: str = ""
    object_name: str = ""
    sources: tuple[str, ...] = ()
    source_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemoteInvite(_Serializable):
    """A Retool user invite. ``status`` (pending | expired | claimed) is derived when the invite is read."""

    id: str
    email: str
    invited_by: str | None = None
    expires_at: str | None = None
    claimed_by: str | None = None
    claimed_at: str | None = None
    group_ids: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    user_type: str | None = None
    status: str = "pending"
    invite_url: str | None = None  # the sign-up link (seed 003 `invite_link`), valid 7 days
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class WorkspaceAssignment(_Serializable):
    """Input for ToolJet create-user / replace-workspaces. ``groups`` are custom group ids or names."""

    workspace_id: str | None = None
    workspace_name: str | None = None
    role: str | None = None  # admin | builder | end-user
    status: str | None = None  # active | archived | invited
    groups: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Page[T](_Serializable):
    items: tuple[T, ...]
    total: int | None = None
    next: str | None = None  # cursor or page number as text; None on the last page


@dataclass(frozen=True)
class ImportResult(_Serializable):
    ok: bool
    message: str = ""
    app_name: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


class ExportStream:
    """What ``export_app()`` yields: the upstream headers and a byte iterator that is consumed exactly once."""

    def __init__(self, chunks: Iterator[bytes], headers: Mapping[str, str], filename: str, content_type: str):
        self._chunks = chunks
        self.headers = dict(headers)
        self.filename = filename
        self.content_type = content_type

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks


# --------------------------------------------------------------------------------------------------------------
# Capabilities and probe results
# --------------------------------------------------------------------------------------------------------------

CAPABILITY_FLAGS = (
    "supports_users",
    "supports_user_create",
    "supports_status_change",
    "supports_role_change",
    "supports_metadata",
    "supports_user_attributes",
    "supports_groups",
    "supports_group_crud",
    "supports_group_members",
    "supports_workspaces",
    "supports_app_list",
    "supports_app_export",
    "supports_app_import",
    "supports_app_clone",
    "supports_v2_users",
    "supports_status_filter",
    "supports_folders",
    "supports_access",
    "supports_access_grant",
    "supports_invites",
)


@dataclass(frozen=True)
class Capabilities(_Serializable):
    """What this connection can do, from the probe. Templates ask these, never ``kind``.

    ``reasons`` holds a plain-language reason for every flag that is False.
    """

    supports_users: bool = False
    supports_user_create: bool = False
    supports_status_change: bool = False
    supports_role_change: bool = False
    supports_metadata: bool = False
    supports_user_attributes: bool = False
    supports_groups: bool = False
    supports_group_crud: bool = False
    supports_group_members: bool = False
    supports_workspaces: bool = False
    supports_app_list: bool = False
    supports_app_export: bool = False
    supports_app_import: bool = False
    supports_app_clone: bool = False
    supports_v2_users: bool = False
    supports_status_filter: bool = False
    supports_folders: bool = False  # Retool folders: list/tree, get, create, rename, delete
    supports_access: bool = False  # read who may use which app or folder (AccessEntry)
    supports_access_grant: bool = False  # grant and revoke through the vendor's permissions API
    supports_invites: bool = False  # Retool user invites and their attributes
    roles: tuple[str, ...] = ()
    # statuses a new user may be created with, the one sent when none is chosen first (ToolJet; empty: unknown)
    create_statuses: tuple[str, ...] = ()
    reasons: dict[str, str] = field(default_factory=dict)
    probed_at: str | None = None  # ISO-8601 UTC

    FLAGS: ClassVar[tuple[str, ...]] = CAPABILITY_FLAGS

    def reason(self, flag: str) -> str | None:
        return (
            None
            if getattr(self, flag, False)
            else self.reasons.get(flag, "Not available on this connection.")
        )


@dataclass(frozen=True)
class ProbeCheck(_Serializable):
    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class ProbeResult(_Serializable):
    ok: bool
    capabilities: Capabilities
    version: str | None = None
    latency_ms: float | None = None
    message: str = ""
    checks: tuple[ProbeCheck, ...] = ()
    error: dict[str, Any] | None = None  # ProviderError.to_dict() of the failure that made ok False
    probed_at: str | None = None


# --------------------------------------------------------------------------------------------------------------
# The interface
# --------------------------------------------------------------------------------------------------------------


@runtime_checkable
class Provider(Protocol):
    """What the console calls. Each method raises :class:`~apps.providers.errors.Unsupported` when the vendor (or
    its version/plan) cannot do it, and :class:`~apps.providers.errors.ProviderError` subclasses on failure.

    Constructor (both vendors): ``Provider(config, *, transport=None, limiter=None, capabilities=None)``.
    ``workspace_id`` is required by ToolJet for groups/apps/metadata and ignored by Retool.
    """

    kind: str
    config: ConnectionConfig
    capabilities: Capabilities | None

    # connection
    def probe(self, *, thorough: bool = False) -> ProbeResult: ...
    def close(self) -> None: ...

    # users
    def iter_users(
        self,
        *,
        status: Sequence[str] | None = None,
        group_names: Sequence[str] | None = None,
        email: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> Iterator[RemoteUser]: ...
    def get_user(self, id_or_email: str) -> RemoteUser: ...
    def create_user(
        self,
        *,
        email: str,
        first_name: str,
        last_name: str,
        status: str | None = None,
        workspaces: Sequence[WorkspaceAssignment] = (),
        password: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        user_type: str | None = None,
    ) -> RemoteUser: ...
    def update_user_profile(
        self,
        user_id: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        email: str | None = None,
        password: str | None = None,
        user_type: str | None = None,
    ) -> RemoteUser: ...
    def set_user_status(
        self, user_id: str, status: str, *, workspace_id: str | None = None
    ) -> RemoteUser: ...
    def change_role(
        self, user_id: str, role: str, *, workspace_id: str | None = None, email: str | None = None
    ) -> None: ...

    # groups
    def list_groups(
        self, workspace_id: str | None = None, *, search: str | None = None, page: int = 1, per_page: int = 50
    ) -> Page[RemoteGroup]: ...
    def iter_groups(
        self, workspace_id: str | None = None, *, search: str | None = None
    ) -> Iterator[RemoteGroup]: ...
    def get_group(self, group_id: str, *, workspace_id: str | None = None) -> RemoteGroup: ...
    def create_group(
        self,
        name: str,
        *,
        workspace_id: str | None = None,
        permissions: Mapping[str, Any] | None = None,
        granular_permissions: Sequence[Mapping[str, Any]] | None = None,
    ) -> RemoteGroup: ...
    def update_group(
        self,
        group_id: str,
        *,
        workspace_id: str | None = None,
        name: str | None = None,
        permissions: Mapping[str, Any] | None = None,
        granular_permissions: Sequence[Mapping[str, Any]] | None = None,
        expected_updated_at: str | None = None,
    ) -> RemoteGroup: ...
    def delete_group(self, group_id: str, *, workspace_id: str | None = None) -> None: ...
    def add_group_members(
        self, group_id: str, user_ids: Sequence[str], *, is_group_admin: bool = False
    ) -> RemoteGroup: ...
    def remove_group_member(self, group_id: str, user_id: str) -> RemoteGroup: ...
    def set_group_admin(self, group_id: str, user_id: str, is_group_admin: bool) -> RemoteGroup: ...

    # apps
    def iter_apps(
        self, workspace_id: str | None = None, *, name_contains: str | None = None
    ) -> Iterator[RemoteApp]: ...
    def get_app(self, app_id: str, *, workspace_id: str | None = None) -> RemoteApp: ...
    def export_app(
        self,
        app_id: str,
        *,
        workspace_id: str | None = None,
        version_name: str | None = None,
        export_tjdb: bool = True,
        all_versions: bool = False,
    ) -> AbstractContextManager[ExportStream]: ...
    def import_app(self, workspace_id: str, bundle: Any, *, app_name: str) -> ImportResult: ...
    def clone_app(self, app_id: str, new_name: str, *, folder_id: str | None = None) -> RemoteApp: ...

    # vendor-specific (Unsupported on the other vendor)
    def list_workspaces(self) -> list[RemoteWorkspace]: ...  # ToolJet
    def replace_workspaces(
        self, user_id: str, workspaces: Sequence[WorkspaceAssignment]
    ) -> None: ...  # ToolJet
    def patch_membership(
        self,
        user_id: str,
        workspace_id: str,
        *,
        status: str | None = None,
        groups: Sequence[str] | None = None,
    ) -> None: ...  # ToolJet
    def get_user_metadata(self, workspace_id: str, user_id: str) -> RemoteMetadata: ...  # ToolJet
    def put_user_metadata(
        self,
        workspace_id: str,
        user_id: str,
        items: Mapping[str, str] | Sequence[tuple[str, str]],
        *,
        expected: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    ) -> RemoteMetadata: ...  # ToolJet
    def list_user_attributes(self) -> list[RemoteAttribute]: ...  # Retool
    def set_user_attribute(self, user_id: str, name: str, value: str | None) -> dict[str, Any]: ...  # Retool
    def delete_user_attribute(self, user_id: str, name: str) -> dict[str, Any]: ...  # Retool

    # folders (Retool; supports_folders)
    def list_folders(self, folder_type: str | None = None) -> list[Folder]: ...
    def folder_names(self, folder_type: str | None = "app") -> dict[str, str]: ...

    # app and folder access, one shape for both products (supports_access; writes: supports_access_grant)
    def access_list(
        self, object_kind: str, object_id: str, *, workspace_id: str | None = None
    ) -> tuple[AccessEntry, ...]: ...
    def list_access(
        self,
        *,
        subject_kind: str,
        subject_id: str,
        object_kind: str,
        include_inherited: bool = False,
        workspace_id: str | None = None,
    ) -> tuple[AccessEntry, ...]: ...

    # user invites (Retool; supports_invites)
    def list_invites(self) -> list[RemoteInvite]: ...
