"""ToolJet External API v1 client (``{base_url}/api/ext``), per ``shared/contracts/tooljet.md``."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx

from apps.providers.base import (
    ACCESS_LEVELS,
    AccessEntry,
    Capabilities,
    ConnectionConfig,
    ExportStream,
    Folder,
    ImportResult,
    Page,
    ProbeResult,
    RemoteApp,
    RemoteAttribute,
    RemoteGroup,
    RemoteInvite,
    RemoteMetadata,
    RemoteUser,
    RemoteWorkspace,
    WorkspaceAssignment,
)
from apps.providers.errors import (
    HTML_MESSAGE,
    ConflictError,
    NotFoundError,
    Unsupported,
    UpstreamBroken,
    reading_one,
)
from apps.providers.http import Limiter, RetryPolicy, Session, seg
from apps.providers.streams import (
    guarded_chunks,
    iter_json_items,
    splice_json_object,
    top_level_keys,
    validated_json_chunks,
)
from apps.providers.tooljet import mapping
from apps.providers.tooljet.mapping import looks_like_uuid
from apps.providers.tooljet.probe import probe
from apps.providers.tooljet.vocabulary import ROLES, USER_STATUSES

__all__ = ["ToolJetProvider", "looks_like_uuid"]

PREFIX = "/api/ext"


@contextlib.contextmanager
def _unsupported_if_route_absent(capability: str, message: str) -> Iterator[None]:
    """ToolJet's own ``Cannot METHOD path`` 404 means this build lacks the route: raise :class:`Unsupported` for
    ``capability`` (``{route}`` in ``message`` is replaced by that upstream text). Any other 404 passes through."""
    try:
        yield
    except NotFoundError as exc:
        if (exc.upstream_message or "").startswith("Cannot "):
            raise Unsupported(
                message.replace("{route}", exc.upstream_message or ""),
                capability=capability,
                status_code=404,
                request_id=exc.request_id,
            ) from exc
        raise


def _no_members(what: str) -> Unsupported:
    return Unsupported(
        f"ToolJet has no group-membership API ({what}); a user's custom groups are set per workspace "
        "membership (patch_membership).",
        capability="supports_group_members",
    )


class ToolJetProvider:
    kind = "tooljet"

    def __init__(
        self,
        config: ConnectionConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        limiter: Limiter | None = None,
        capabilities: Capabilities | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.config = config
        self.capabilities = capabilities
        self.session = Session(
            config, prefix=PREFIX, transport=transport, limiter=limiter, policy=policy, sleep=sleep
        )

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> ToolJetProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------------------------------

    def _json(
        self, method: str, path: str, *, capability: str | None = None, what: str = "", **kw: Any
    ) -> Any:
        if not capability:
            return self.session.json(method, path, **kw)
        with _unsupported_if_route_absent(
            capability, f"This ToolJet version has no {what or 'such'} API route ({{route}})."
        ):
            return self.session.json(method, path, **kw)

    # -- users ------------------------------------------------------------------------------------------------------

    def iter_users(
        self,
        *,
        status: Sequence[str] | None = None,
        group_names: Sequence[str] | None = None,
        email: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> Iterator[RemoteUser]:
        """Every user, parsed item by item from the bare array (never one big Python list).

        ``status`` and ``group_names`` are sent upstream (older builds ignore them) and re-checked locally, as are
        the e-mail and name filters (case-insensitive exact match).
        """
        params: list[tuple[str, str]] = []
        statuses = [s.strip() for s in status or () if s and s.strip()]
        for s in statuses:
            if s not in USER_STATUSES:
                raise ValueError(f"status must be one of {', '.join(USER_STATUSES)}")
        if statuses:
            params.append(("status", ",".join(statuses)))
        groups = [g.strip() for g in group_names or () if g and g.strip()]
        if groups:
            params.append(("group_names", ",".join(groups)))
        with self.session.stream("GET", "/users", params=params) as response:
            for raw in iter_json_items(
                response,
                "item",
                on_transport_error=lambda e: self.session.stream_error(e, method="GET", path="/users"),
                request_id=self.config.request_id,
            ):
                user = mapping.user_from_wire(raw)
                if statuses and user.status not in statuses:
                    continue
                if groups and not ({g.name for g in user.groups} & set(groups)):
                    continue
                if user.matches(email=email, first_name=first_name, last_name=last_name):
                    yield user

    def get_user(self, id_or_email: str) -> RemoteUser:
        with reading_one("user"):
            return mapping.user_from_wire(self._json("GET", f"/user/{seg(id_or_email)}") or {})

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
    ) -> RemoteUser:
        """``POST /users`` (never retried). ToolJet requires at least one workspace; no e-mail is sent."""
        if metadata or user_type:
            raise Unsupported("ToolJet cannot set metadata or a user type when creating a user.")
        if not workspaces:
            raise ValueError("ToolJet needs at least one workspace for a new user")
        body: dict[str, Any] = {
            "name": f"{first_name} {last_name}".strip(),
            "email": email,
            "workspaces": [mapping.workspace_to_wire(w) for w in workspaces],
        }
        # always explicit: when it is left out, 2.x instances create the user archived (tooljet.md §8)
        body["status"] = status or self._default_create_status()
        if password:
            body["password"] = password
        return mapping.user_from_wire(self._json("POST", "/users", json=body, retry=False) or {})

    def _default_create_status(self) -> str:
        """3.x's own default, ``invited``; a 2.x instance (the probe found no ``invited``) gets ``active``."""
        statuses = self.capabilities.create_statuses if self.capabilities else ()
        return statuses[0] if statuses else "invited"

    def update_user_profile(
        self,
        user_id: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        email: str | None = None,
        password: str | None = None,
        user_type: str | None = None,
    ) -> RemoteUser:
        if user_type:
            raise Unsupported("ToolJet users have no user type.")
        body: dict[str, Any] = {}
        if first_name is not None or last_name is not None:
            if first_name is None or last_name is None:
                current = self.get_user(user_id)
                first_name = current.first_name if first_name is None else first_name
                last_name = current.last_name if last_name is None else last_name
            body["name"] = f"{first_name or ''} {last_name or ''}".strip()
        if email is not None:
            body["email"] = email
        if password is not None:
            body["password"] = password
        if body:
            self._json("PATCH", f"/user/{seg(user_id)}", json=body)
        return self.get_user(email or user_id if email and not looks_like_uuid(user_id) else user_id)

    def set_user_status(self, user_id: str, status: str, *, workspace_id: str | None = None) -> RemoteUser:
        """``archived`` (or ``disabled``) archives the account and every membership; ``active`` with a workspace
        reactivates that membership."""
        status = "archived" if status == "disabled" else status
        if status not in ("active", "archived", "invited"):
            raise ValueError("status must be active, archived or invited")
        body: dict[str, Any] = {"status": status}
        if workspace_id:
            body["defaultOrganizationId"] = workspace_id
        self._json("PATCH", f"/user/{seg(user_id)}", json=body)
        return self.get_user(user_id)

    def change_role(
        self, user_id: str, role: str, *, workspace_id: str | None = None, email: str | None = None
    ) -> None:
        """``PUT /update-user-role/workspace/:ws`` with ``newRole`` and ``userId`` (or ``email``)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if not workspace_id:
            raise ValueError("ToolJet roles are per workspace: workspace_id is required")
        body: dict[str, Any] = {"newRole": role}
        if user_id:
            body["userId"] = user_id
        elif email:
            body["email"] = email
        else:
            raise ValueError("user_id or email is required")
        self._json(
            "PUT",
            f"/update-user-role/workspace/{seg(workspace_id)}",
            json=body,
            capability="supports_role_change",
            what="role change",
        )

    # -- workspaces, memberships, metadata -------------------------------------------------------------------------

    def list_workspaces(self) -> list[RemoteWorkspace]:
        return [mapping.workspace_from_wire(w) for w in self._json("GET", "/workspaces") or ()]

    def replace_workspaces(self, user_id: str, workspaces: Sequence[WorkspaceAssignment]) -> None:
        """Replace **all** memberships (``[]`` removes the user from every workspace)."""
        self._json(
            "PUT", f"/user/{seg(user_id)}/workspaces", json=[mapping.workspace_to_wire(w) for w in workspaces]
        )

    def patch_membership(
        self,
        user_id: str,
        workspace_id: str,
        *,
        status: str | None = None,
        groups: Sequence[str] | None = None,
    ) -> None:
        """Change one membership; ``groups`` (ids or names) replaces the custom groups in that workspace only."""
        body: dict[str, Any] = {}
        if status is not None:
            body["status"] = status
        if groups is not None:
            body["groups"] = mapping.workspace_to_wire(
                WorkspaceAssignment(workspace_id, groups=tuple(groups))
            )["groups"]
        self._json("PATCH", f"/user/{seg(user_id)}/workspace/{seg(workspace_id)}", json=body)

    def get_user_metadata(self, workspace_id: str, user_id: str) -> RemoteMetadata:
        raw = self._json(
            "GET",
            f"/workspace/{seg(workspace_id)}/user/{seg(user_id)}",
            capability="supports_metadata",
            what="user metadata",
        )
        return mapping.metadata_from_wire(raw or {})

    def put_user_metadata(
        self,
        workspace_id: str,
        user_id: str,
        items: Mapping[str, str] | Sequence[tuple[str, str]],
        *,
        expected: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    ) -> RemoteMetadata:
        """Replace the whole ``userDetails`` list. With ``expected`` (what the form showed) the current list is read
        first and a difference raises :class:`ConflictError` carrying both."""
        new_items = mapping.metadata_items(items)
        if expected is not None:
            current = self.get_user_metadata(workspace_id, user_id)
            if current.as_dict() != dict(mapping.metadata_items(expected)):
                raise ConflictError(
                    "The metadata was changed in ToolJet since the form was opened. Review the current values "
                    "and save again.",
                    current=current.as_dict(),
                    expected=dict(mapping.metadata_items(expected)),
                    request_id=self.config.request_id,
                )
        raw = self._json(
            "PUT",
            f"/workspace/{seg(workspace_id)}/user/{seg(user_id)}",
            json={"userDetails": [{"key": k, "value": v} for k, v in new_items]},
            capability="supports_metadata",
            what="user metadata",
        )
        return mapping.metadata_from_wire(raw or {})

    # -- groups ----------------------------------------------------------------------------------------------------

    @staticmethod
    def _need_ws(workspace_id: str | None) -> str:
        if not workspace_id:
            raise ValueError("ToolJet groups and apps live in a workspace: workspace_id is required")
        return workspace_id

    def list_groups(
        self, workspace_id: str | None = None, *, search: str | None = None, page: int = 1, per_page: int = 50
    ) -> Page[RemoteGroup]:
        ws = self._need_ws(workspace_id)
        params: dict[str, Any] = {"page": page, "per_page": per_page}
        if search:
            params["search"] = search
        raw = self._json(
            "GET", f"/workspace/{seg(ws)}/groups", params=params, capability="supports_groups", what="groups"
        )
        raw = raw or {}
        items = tuple(mapping.group_from_wire(g, workspace_id=ws) for g in raw.get("data") or ())
        total = (raw.get("pagination") or {}).get("total_count")
        has_more = total is not None and page * per_page < int(total) and bool(items)
        return Page(items=items, total=total, next=str(page + 1) if has_more else None)

    def iter_groups(
        self, workspace_id: str | None = None, *, search: str | None = None
    ) -> Iterator[RemoteGroup]:
        page = 1
        for _ in range(1000):
            result = self.list_groups(workspace_id, search=search, page=page, per_page=100)
            yield from result.items
            if not result.next:
                return
            page += 1

    def get_group(self, group_id: str, *, workspace_id: str | None = None) -> RemoteGroup:
        ws = self._need_ws(workspace_id)
        with reading_one("group"):
            raw = self._json(
                "GET",
                f"/workspace/{seg(ws)}/groups/{seg(group_id)}",
                capability="supports_groups",
                what="groups",
            )
        return mapping.group_from_wire(raw or {}, workspace_id=ws)

    def create_group(
        self,
        name: str,
        *,
        workspace_id: str | None = None,
        permissions: Mapping[str, Any] | None = None,
        granular_permissions: Sequence[Mapping[str, Any]] | None = None,
    ) -> RemoteGroup:
        """``POST …/groups`` (201, empty body; never retried), then the new group is looked up by name."""
        ws = self._need_ws(workspace_id)
        name = name.strip()
        body: dict[str, Any] = {"name": name}
        if permissions:
            body["permissions"] = mapping.permissions_to_wire(permissions)
        if granular_permissions:
            body["granularPermissions"] = [dict(g) for g in granular_permissions]
        self._json(
            "POST",
            f"/workspace/{seg(ws)}/groups",
            json=body,
            retry=False,
            capability="supports_group_crud",
            what="groups",
        )
        for group in self.iter_groups(ws, search=name):
            if group.name == name:
                return group
        raise NotFoundError(
            "The group was created but could not be read back.", request_id=self.config.request_id
        )

    def update_group(
        self,
        group_id: str,
        *,
        workspace_id: str | None = None,
        name: str | None = None,
        permissions: Mapping[str, Any] | None = None,
        granular_permissions: Sequence[Mapping[str, Any]] | None = None,
        expected_updated_at: str | None = None,
    ) -> RemoteGroup:
        """``PATCH …/groups/:gid`` merges: only the flags given change. The group is read first (older/newer
        folder key, and the ``expected_updated_at`` check when the upstream reports one)."""
        ws = self._need_ws(workspace_id)
        current = self.get_group(group_id, workspace_id=ws)
        if expected_updated_at and current.updated_at and current.updated_at != expected_updated_at:
            raise ConflictError(
                "The group was changed in ToolJet since the form was opened. Reload and try again.",
                current=current.to_dict(),
                expected=expected_updated_at,
                request_id=self.config.request_id,
            )
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name.strip()
        if permissions:
            legacy = mapping.uses_legacy_folder_key(current.raw.get("permissions"))
            body["permissions"] = mapping.permissions_to_wire(permissions, legacy_folder=legacy)
        if granular_permissions is not None:
            body["granularPermissions"] = [dict(g) for g in granular_permissions]
        if body:
            self._json(
                "PATCH",
                f"/workspace/{seg(ws)}/groups/{seg(group_id)}",
                json=body,
                capability="supports_group_crud",
                what="groups",
            )
        return self.get_group(group_id, workspace_id=ws)

    def delete_group(self, group_id: str, *, workspace_id: str | None = None) -> None:
        ws = self._need_ws(workspace_id)
        self._json(
            "DELETE",
            f"/workspace/{seg(ws)}/groups/{seg(group_id)}",
            capability="supports_group_crud",
            what="groups",
        )

    def add_group_members(
        self, group_id: str, user_ids: Sequence[str], *, is_group_admin: bool = False
    ) -> RemoteGroup:
        raise _no_members("add members")

    def remove_group_member(self, group_id: str, user_id: str) -> RemoteGroup:
        raise _no_members("remove a member")

    def set_group_admin(self, group_id: str, user_id: str, is_group_admin: bool) -> RemoteGroup:
        raise _no_members("group admins")

    # -- apps ------------------------------------------------------------------------------------------------------

    def iter_apps(
        self, workspace_id: str | None = None, *, name_contains: str | None = None
    ) -> Iterator[RemoteApp]:
        """Apps of one workspace (or of every workspace when ``workspace_id`` is None), filtered locally."""
        workspaces = [workspace_id] if workspace_id else [w.id for w in self.list_workspaces()]
        needle = (name_contains or "").lower()
        for ws in workspaces:
            for raw in (
                self._json("GET", f"/workspace/{seg(ws)}/apps", capability="supports_app_list", what="app")
                or ()
            ):
                app = mapping.app_from_wire(raw, workspace_id=ws)
                if needle and needle not in app.name.lower():
                    continue
                yield app

    def get_app(self, app_id: str, *, workspace_id: str | None = None) -> RemoteApp:
        seg(app_id)
        for app in self.iter_apps(workspace_id):
            if app.id == app_id:
                return app
        raise NotFoundError(
            "ToolJet says this app does not exist (any more).", request_id=self.config.request_id
        )

    @contextlib.contextmanager
    def export_app(
        self,
        app_id: str,
        *,
        workspace_id: str | None = None,
        version_name: str | None = None,
        export_tjdb: bool = True,
        all_versions: bool = False,
    ) -> Iterator[ExportStream]:
        """Stream ``POST /export/workspace/:ws/apps/:app`` (201). The body is passed through chunk by chunk."""
        ws = self._need_ws(workspace_id)
        path = f"/export/workspace/{seg(ws)}/apps/{seg(app_id)}"
        params: dict[str, str] = {"exportTJDB": "true" if export_tjdb else "false"}
        if version_name:
            params["appVersion"] = version_name
        if all_versions:
            params["exportAllVersions"] = "true"
        with _unsupported_if_route_absent(
            "supports_app_export", "This ToolJet version has no app export API."
        ):
            ctx = self.session.stream("POST", path, params=params, idempotent=True)
            response = ctx.__enter__()
        ctype = response.headers.get("content-type", "")
        if ctype and "json" not in ctype.lower():
            ctx.__exit__(None, None, None)
            raise UpstreamBroken(
                HTML_MESSAGE
                if "html" in ctype.lower()
                else f"ToolJet answered the export with {ctype}, not JSON.",
                status_code=response.status_code,
                request_id=self.config.request_id,
                method="POST",
                path=path,
            )
        try:
            yield ExportStream(
                validated_json_chunks(
                    guarded_chunks(
                        response, lambda e: self.session.stream_error(e, method="POST", path=path)
                    ),
                    status_code=response.status_code,
                    request_id=self.config.request_id,
                ),
                headers={
                    k: v
                    for k, v in response.headers.items()
                    if k.lower() in ("content-type", "content-length")
                },
                filename=f"tooljet-app-{app_id}.json",
                content_type=response.headers.get("content-type", "application/json"),
            )
        finally:
            ctx.__exit__(None, None, None)

    def import_app(self, workspace_id: str, bundle: Any, *, app_name: str) -> ImportResult:
        """``POST /import/workspace/:ws/apps`` (never retried). ``bundle``: export JSON as bytes, a binary file or a
        mapping; ``appName`` is appended while streaming, so large bundles are not loaded into memory."""
        ws = self._need_ws(workspace_id)
        if not app_name or not app_name.strip():
            raise ValueError("app_name is required (ToolJet rejects duplicate names and 500s without one)")
        if isinstance(bundle, Mapping):
            if "app" not in bundle or "tooljet_version" not in bundle:
                raise ValueError("the bundle needs tooljet_version and app (is this a ToolJet export?)")
            body: Any = None
            payload = {**bundle, "appName": app_name.strip()}
        else:
            if isinstance(bundle, bytes | bytearray) or hasattr(bundle, "seek"):
                keys = top_level_keys(bundle)
                missing = {"app", "tooljet_version"} - keys
                if missing:
                    raise ValueError(
                        f"the bundle lacks {', '.join(sorted(missing))} (is this a ToolJet export?)"
                    )
            body = splice_json_object(bundle, {"appName": app_name.strip()})
            payload = None
        raw = (
            self._json(
                "POST",
                f"/import/workspace/{seg(ws)}/apps",
                json=payload,
                content=body,
                headers={"Content-Type": "application/json"},
                retry=False,
                capability="supports_app_import",
                what="app import",
            )
            or {}
        )
        return ImportResult(ok=True, message=str(raw.get("message", "")), app_name=app_name.strip(), raw=raw)

    def clone_app(self, app_id: str, new_name: str, *, folder_id: str | None = None) -> RemoteApp:
        raise Unsupported(
            "ToolJet has no clone API; export the app and import it under a new name.",
            capability="supports_app_clone",
        )

    # -- app access, derived from custom groups' granular permissions -------------------------------------------

    def access_list(
        self, object_kind: str, object_id: str, *, workspace_id: str | None = None
    ) -> tuple[AccessEntry, ...]:
        """The custom groups of the workspace that can use an app, and how (one ``GET …/groups`` walk). Role groups
        (admin, builder, end-user) are not listed: ToolJet's groups API does not return them."""
        if object_kind != "app":
            raise Unsupported(
                "ToolJet has no folder permissions; access is set per app.", capability="supports_folders"
            )
        ws = self._need_ws(workspace_id)
        out = []
        for group in self.iter_groups(ws):
            found = mapping.group_app_access(group, all_app_ids=[object_id]).get(object_id)
            if found:
                out.append(mapping.app_access_entry(group, object_id, *found))
        return tuple(out)

    def list_access(
        self,
        *,
        subject_kind: str,
        subject_id: str,
        object_kind: str,
        include_inherited: bool = False,
        workspace_id: str | None = None,
    ) -> tuple[AccessEntry, ...]:
        """The apps a custom group (or a person, through their custom groups in the workspace) can use. A group
        granted "all apps" lists every app of the workspace with source ``universal``."""
        if object_kind != "app":
            raise Unsupported(
                "ToolJet has no folder permissions; access is set per app.", capability="supports_folders"
            )
        ws = self._need_ws(workspace_id)
        if subject_kind == "group":
            groups = [self.get_group(subject_id, workspace_id=ws)]
        elif subject_kind == "user":
            membership = self.get_user(subject_id).membership(ws)
            wanted = {g.id for g in membership.groups} if membership else set()
            groups = [g for g in self.iter_groups(ws) if g.id in wanted] if wanted else []
        else:
            raise ValueError("subject_kind must be group or user")
        apps = (
            {a.id: a.name for a in self.iter_apps(ws)}
            if any(map(mapping.group_covers_all_apps, groups))
            else {}
        )
        best: dict[str, AccessEntry] = {}
        for group in groups:
            for app_id, (level, source) in mapping.group_app_access(group, all_app_ids=list(apps)).items():
                entry = mapping.app_access_entry(group, app_id, level, source, app_name=apps.get(app_id, ""))
                if subject_kind == "user":
                    entry = dataclasses.replace(
                        entry,
                        subject_kind="user",
                        subject_id=subject_id,
                        subject_name="",
                        source="group",
                        sources=("group",),
                        source_ids=(group.id,),
                    )
                have = best.get(app_id)
                if have is None:
                    best[app_id] = entry
                else:
                    level = max(have.level, entry.level, key=ACCESS_LEVELS.index)
                    best[app_id] = dataclasses.replace(
                        have,
                        level=level,
                        sources=tuple(dict.fromkeys(have.sources + entry.sources)),
                        source_ids=tuple(dict.fromkeys(have.source_ids + entry.source_ids)),
                    )
        return tuple(best.values())

    def grant_access(self, **kw: Any) -> tuple[AccessEntry, ...]:
        raise Unsupported(
            "ToolJet grants app access through a custom group's granular permissions: edit the group.",
            capability="supports_access_grant",
        )

    def revoke_access(self, **kw: Any) -> tuple[AccessEntry, ...]:
        raise Unsupported(
            "ToolJet grants app access through a custom group's granular permissions: edit the group.",
            capability="supports_access_grant",
        )

    # -- Retool-only concepts --------------------------------------------------------------------------------------

    def list_user_attributes(self) -> list[RemoteAttribute]:
        raise Unsupported(
            "ToolJet has per-workspace user metadata, not user attributes.",
            capability="supports_user_attributes",
        )

    def set_user_attribute(self, user_id: str, name: str, value: str | None) -> dict[str, Any]:
        raise Unsupported(
            "ToolJet has per-workspace user metadata, not user attributes.",
            capability="supports_user_attributes",
        )

    def delete_user_attribute(self, user_id: str, name: str) -> dict[str, Any]:
        raise Unsupported(
            "ToolJet has per-workspace user metadata, not user attributes.",
            capability="supports_user_attributes",
        )

    def list_folders(self, folder_type: str | None = None) -> list[Folder]:
        raise Unsupported("ToolJet folders are not in its external API.", capability="supports_folders")

    def folder_names(self, folder_type: str | None = "app") -> dict[str, str]:
        raise Unsupported("ToolJet folders are not in its external API.", capability="supports_folders")

    def list_invites(self) -> list[RemoteInvite]:
        raise Unsupported(
            "ToolJet invites are workspace memberships with status invited.", capability="supports_invites"
        )

    def create_invite(self, email: str, **kw: Any) -> RemoteInvite:
        raise Unsupported(
            "ToolJet invites are workspace memberships with status invited: create the user instead.",
            capability="supports_invites",
        )

    # -- probe -----------------------------------------------------------------------------------------------------

    def probe(self, *, thorough: bool = False) -> ProbeResult:
        """Capability probe without side effects (tooljet.md §9). ``thorough`` also checks the status filter."""
        return probe(self, thorough=thorough)
