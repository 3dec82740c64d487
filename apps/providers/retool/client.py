"""Retool API v2 client (``{base_url}/api/v2``), per ``shared/contracts/retool.md``."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
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
    ConflictError,
    NotFoundError,
    ProviderError,
    Unsupported,
    UpstreamBroken,
    reading_one,
)
from apps.providers.http import Limiter, RetryPolicy, Session, seg
from apps.providers.retool import mapping
from apps.providers.retool.probe import probe
from apps.providers.retool.vocabulary import ADMIN_GROUP, ROLES

__all__ = ["DEFAULT_REQUESTS_PER_MINUTE", "ROLES", "RetoolProvider"]

logger = logging.getLogger("adminui.providers")

PREFIX = "/api/v2"
PAGE_LIMIT = 100
PAGE_CAP = 100
DEFAULT_REQUESTS_PER_MINUTE = 45  # retool.md §4; the connections app applies it when the field is left empty
_GROUP_ID = re.compile(r"^\d+$")


def _group_seg(group_id: Any) -> str:
    text = str(group_id)
    if not _GROUP_ID.match(text):
        raise ValueError("Retool group ids are numbers")
    return text


def _invite_seg(invite_id: Any) -> str:
    text = str(invite_id)
    if not _GROUP_ID.match(text):
        raise NotFoundError("There is no such invite: Retool invite ids are numbers.")
    return text


def _attributes(data: Any) -> dict[str, Any]:
    """The attribute answers of invites: ``{metadata: {...}}`` like users' (the contract says "the updated
    attributes"), or the attributes object itself."""
    if isinstance(data, dict) and isinstance(data.get("metadata"), dict):
        return dict(data["metadata"])
    return dict(data) if isinstance(data, dict) else {}


class RetoolProvider:
    kind = "retool"

    def __init__(
        self,
        config: ConnectionConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        limiter: Limiter | None = None,
        capabilities: Capabilities | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        page_cap: int = PAGE_CAP,
    ):
        self.config = config
        self.capabilities = capabilities
        self.page_cap = page_cap
        self.session = Session(
            config, prefix=PREFIX, transport=transport, limiter=limiter, policy=policy, sleep=sleep
        )

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> RetoolProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------------------------------

    def _data(self, method: str, path: str, **kw: Any) -> Any:
        body = self.session.json(method, path, **kw)
        if isinstance(body, dict) and "data" in body:
            return body["data"]
        return body

    def _paginate(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """``limit``/``next_token`` with the loop guard of retool.md §3."""
        query: dict[str, Any] = {**(params or {}), "limit": PAGE_LIMIT}
        used: set[str] = set()
        for _page in range(self.page_cap):
            body = self.session.json("GET", path, params=query)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise UpstreamBroken(
                    f"Retool answered GET /api/v2{path} without its list envelope {{success, data, ...}}: "
                    "check the base URL.",
                    status_code=200,
                    request_id=self.config.request_id,
                    method="GET",
                    path=path,
                )
            yield from body["data"]
            token = body.get("next_token")
            if not body.get("has_more") or not isinstance(token, str) or not token or token in used:
                return
            used.add(token)
            query["next_token"] = token
        logger.warning("retool pagination of %s stopped at the page cap (%d pages)", path, self.page_cap)

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
        """All users (disabled ones included, ``status="disabled"``); filters sent upstream and re-checked locally."""
        params = {
            k: v for k, v in (("email", email), ("first_name", first_name), ("last_name", last_name)) if v
        }
        wanted = {"disabled" if s in ("archived", "disabled") else s for s in status or () if s}
        member_ids: set[str] | None = None
        if group_names:
            names = set(group_names)
            member_ids = {m.id for g in self.iter_groups() if g.name in names for m in g.members}
        for raw in self._paginate("/users", params):
            user = mapping.user_from_wire(raw)
            if wanted and user.status not in wanted:
                continue
            if member_ids is not None and user.id not in member_ids:
                continue
            if user.matches(email=email, first_name=first_name, last_name=last_name):
                yield user

    def get_user(self, id_or_email: str) -> RemoteUser:
        if "@" in id_or_email:
            for user in self.iter_users(email=id_or_email):
                return user
            raise NotFoundError(
                "Retool has no user with that e-mail address.", request_id=self.config.request_id
            )
        with reading_one("user"):
            raw = self._data("GET", f"/users/{seg(id_or_email)}", params={"includeGroups": "true"})
        return mapping.user_from_wire(raw or {})

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
        """``POST /users`` → 200 (never retried)."""
        if workspaces or password:
            raise Unsupported("Retool users have no workspaces or passwords set through the API.")
        body: dict[str, Any] = {
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "active": status not in ("disabled", "archived"),
            "metadata": dict(metadata or {}),
        }
        if user_type:
            body["user_type"] = user_type
        return mapping.user_from_wire(self._data("POST", "/users", json=body, retry=False) or {})

    def _patch_user(self, user_id: str, operations: list[dict[str, Any]]) -> RemoteUser:
        for op in operations:
            if op["path"] not in mapping.PATCHABLE_USER_PATHS:
                raise ValueError(f"{op['path']} cannot be changed through the Retool API")
        raw = self._data("PATCH", f"/users/{seg(user_id)}", json={"operations": operations})
        return mapping.user_from_wire(raw or {})

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
        if email is not None:
            raise Unsupported("Retool e-mail addresses cannot be changed after creation.")
        if password is not None:
            raise Unsupported("Retool passwords cannot be set through the API.")
        ops = [
            {"op": "replace", "path": f"/{field}", "value": value}
            for field, value in (
                ("first_name", first_name),
                ("last_name", last_name),
                ("user_type", user_type),
            )
            if value is not None
        ]
        if not ops:
            return self.get_user(user_id)
        return self._patch_user(user_id, ops)

    def set_user_status(self, user_id: str, status: str, *, workspace_id: str | None = None) -> RemoteUser:
        """``active`` or ``disabled`` (``archived`` is treated as ``disabled``) through ``replace /active``."""
        if status not in ("active", "disabled", "archived"):
            raise ValueError("status must be active or disabled")
        return self._patch_user(user_id, [{"op": "replace", "path": "/active", "value": status == "active"}])

    def _admin_group(self) -> RemoteGroup:
        for group in self.iter_groups():
            if group.name == ADMIN_GROUP:
                return group
        raise NotFoundError("This Retool org has no group named admin.", request_id=self.config.request_id)

    def change_role(
        self, user_id: str, role: str, *, workspace_id: str | None = None, email: str | None = None
    ) -> None:
        """Retool's ``is_admin`` is read-only: ``admin`` adds the user to the group named admin, ``member`` removes
        them from it (retool.md §8, inferred from recorded data)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        group = self._admin_group()
        if role == "admin":
            self.add_group_members(group.id, [user_id])
        elif any(m.id == user_id for m in group.members):
            self.remove_group_member(group.id, user_id)

    # -- user attributes --------------------------------------------------------------------------------------------

    def list_user_attributes(self) -> list[RemoteAttribute]:
        return [mapping.attribute_from_wire(a) for a in self._data("GET", "/user_attributes") or ()]

    def set_user_attribute(self, user_id: str, name: str, value: str | None) -> dict[str, Any]:
        """``POST /users/{id}/user_attributes`` (idempotent by design, so retried); returns the new metadata."""
        if value is not None and not isinstance(value, str):
            raise ValueError("Retool attribute values are strings (or None)")
        data = self._data(
            "POST",
            f"/users/{seg(user_id)}/user_attributes",
            json={"name": name, "value": value},
            idempotent=True,
        )
        return dict((data or {}).get("metadata") or {})

    def delete_user_attribute(self, user_id: str, name: str) -> dict[str, Any]:
        data = self._data("DELETE", f"/users/{seg(user_id)}/user_attributes/{seg(name)}")
        return dict((data or {}).get("metadata") or {})

    # -- groups -----------------------------------------------------------------------------------------------------

    def iter_groups(
        self, workspace_id: str | None = None, *, search: str | None = None
    ) -> Iterator[RemoteGroup]:
        needle = (search or "").lower()
        for raw in self._data("GET", "/groups") or ():
            group = mapping.group_from_wire(raw)
            if needle and needle not in group.name.lower():
                continue
            yield group

    def list_groups(
        self, workspace_id: str | None = None, *, search: str | None = None, page: int = 1, per_page: int = 50
    ) -> Page[RemoteGroup]:
        """``GET /groups`` is one unpaginated call; paging here is local."""
        groups = list(self.iter_groups(search=search))
        start = max(0, (page - 1) * per_page)
        items = tuple(groups[start : start + per_page])
        return Page(
            items=items, total=len(groups), next=str(page + 1) if start + per_page < len(groups) else None
        )

    def get_group(self, group_id: str, *, workspace_id: str | None = None) -> RemoteGroup:
        if not _GROUP_ID.match(str(group_id)):
            raise NotFoundError("There is no such group: Retool group ids are numbers.")
        with reading_one("group"):
            return mapping.group_from_wire(self._data("GET", f"/groups/{group_id}") or {})

    def create_group(
        self,
        name: str,
        *,
        workspace_id: str | None = None,
        permissions: Mapping[str, Any] | None = None,
        granular_permissions: Sequence[Mapping[str, Any]] | None = None,
    ) -> RemoteGroup:
        if granular_permissions:
            raise Unsupported("Retool groups have no granular permissions in this API.")
        unknown = set(permissions or {}) - set(mapping.GROUP_PUT_FIELDS)
        if unknown:
            raise ValueError(f"unknown Retool group fields: {', '.join(sorted(unknown))}")
        body = {"name": name.strip(), **dict(permissions or {})}
        return mapping.group_from_wire(self._data("POST", "/groups", json=body, retry=False) or {})

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
        """Read-modify-PUT: ``members`` and ``user_invites`` are re-sent unchanged; with ``expected_updated_at`` a
        group changed since the form was rendered raises :class:`ConflictError`."""
        if granular_permissions:
            raise Unsupported("Retool groups have no granular permissions in this API.")
        current = self._data("GET", f"/groups/{_group_seg(group_id)}") or {}
        if expected_updated_at and current.get("updated_at") != expected_updated_at:
            raise ConflictError(
                "The group was changed in Retool since the form was opened. Review the current settings and save "
                "again.",
                current=mapping.group_from_wire(current).to_dict(),
                expected=expected_updated_at,
                request_id=self.config.request_id,
            )
        body = mapping.group_put_body(current, name=name, permissions=permissions)
        return mapping.group_from_wire(self._data("PUT", f"/groups/{_group_seg(group_id)}", json=body) or {})

    def delete_group(self, group_id: str, *, workspace_id: str | None = None) -> None:
        self._delete_gone_ok(f"/groups/{_group_seg(group_id)}")

    def _delete_gone_ok(self, path: str, params: Mapping[str, str] | None = None) -> None:
        """A JSON 404 from Retool means "already gone"; an HTML or empty 404 (wrong base URL, proxy) does not."""
        try:
            self.session.json("DELETE", path, params=params)
        except NotFoundError as exc:
            if not exc.upstream_message:
                raise

    def add_group_members(
        self, group_id: str, user_ids: Sequence[str], *, is_group_admin: bool = False
    ) -> RemoteGroup:
        """``POST /groups/{id}/members`` adds users (and sets ``is_group_admin`` for existing members)."""
        members = [{"id": str(seg(u)), "is_group_admin": bool(is_group_admin)} for u in user_ids]
        raw = self._data(
            "POST", f"/groups/{_group_seg(group_id)}/members", json={"members": members}, idempotent=True
        )
        return mapping.group_from_wire(raw or {})

    def remove_group_member(self, group_id: str, user_id: str) -> RemoteGroup:
        raw = self._data("DELETE", f"/groups/{_group_seg(group_id)}/members/{seg(user_id)}")
        return mapping.group_from_wire(raw or {})

    def set_group_admin(self, group_id: str, user_id: str, is_group_admin: bool) -> RemoteGroup:
        return self.add_group_members(group_id, [user_id], is_group_admin=is_group_admin)

    # -- apps --------------------------------------------------------------------------------------------------

    def iter_apps(
        self, workspace_id: str | None = None, *, name_contains: str | None = None
    ) -> Iterator[RemoteApp]:
        params = {"name_contains": name_contains} if name_contains else None
        for raw in self._paginate("/apps", params):
            yield mapping.app_from_wire(raw)

    def get_app(self, app_id: str, *, workspace_id: str | None = None) -> RemoteApp:
        with reading_one("app"):
            return mapping.app_from_wire(self._data("GET", f"/apps/{seg(app_id)}") or {})

    def clone_app(self, app_id: str, new_name: str, *, folder_id: str | None = None) -> RemoteApp:
        """``POST /apps/cloneApp`` → 200 (never retried; same org only)."""
        body: dict[str, Any] = {"app_id": app_id, "new_app_name": new_name}
        if folder_id:
            body["folder_id"] = folder_id
        return mapping.app_from_wire(self._data("POST", "/apps/cloneApp", json=body, retry=False) or {})

    def export_app(self, app_id: str, **kw: Any) -> contextlib.AbstractContextManager[ExportStream]:
        raise Unsupported(
            "Retool's public API has no app export: use the app inventory download, clone, or Retool's own "
            "Export to JSON in the app menu.",
            capability="supports_app_export",
        )

    def import_app(self, workspace_id: str, bundle: Any, *, app_name: str) -> ImportResult:
        raise Unsupported(
            "Retool's public API has no app import: use Create new → From JSON/ZIP in Retool.",
            capability="supports_app_import",
        )

    # -- folders (retool.md §9a) ------------------------------------------------------------------------------------

    def list_folders(self, folder_type: str | None = None) -> list[Folder]:
        """``GET /folders`` (every folder in one answer; any ``next_token`` is followed with the §3 loop guard), in
        tree order with ``depth`` and ``path``; ``folder_type`` ("app", …) keeps one kind."""
        folders = [mapping.folder_from_wire(f) for f in self._list("/folders")]
        if folder_type:
            folders = [f for f in folders if f.folder_type == folder_type]
        return mapping.folder_tree(folders)

    def folder_names(self, folder_type: str | None = "app") -> dict[str, str]:
        """Folder id → name, for showing an app's ``folder_id``. Names repeat across parents: where a name is not
        unique, the path is given ("Sales / Example Subfolder")."""
        folders = self.list_folders(folder_type)
        counts: dict[str, int] = {}
        for f in folders:
            counts[f.name] = counts.get(f.name, 0) + 1
        return {f.id: f.name if counts[f.name] == 1 else " / ".join((*f.path, f.name)) for f in folders}

    def get_folder(self, folder_id: str) -> Folder:
        with reading_one("folder"):
            return mapping.folder_from_wire(self._data("GET", f"/folders/{seg(folder_id)}") or {})

    def create_folder(self, name: str, *, folder_type: str = "app", parent_id: str | None = None) -> Folder:
        """``POST /folders`` ``{name, folder_type, parent_folder_id?}`` → 200 (never retried); 409 same name."""
        if not name.strip():
            raise ValueError("a folder needs a name")
        body: dict[str, Any] = {"name": name.strip(), "folder_type": folder_type}
        if parent_id:
            body["parent_folder_id"] = str(parent_id)
        return mapping.folder_from_wire(self._data("POST", "/folders", json=body, retry=False) or {})

    def rename_folder(self, folder_id: str, name: str) -> Folder:
        """``PATCH /folders/{id}`` ``{"operations": [{"op": "replace", "path": "/name", "value": …}]}``."""
        if not name.strip():
            raise ValueError("a folder needs a name")
        body = {"operations": [{"op": "replace", "path": "/name", "value": name.strip()}]}
        return mapping.folder_from_wire(self._data("PATCH", f"/folders/{seg(folder_id)}", json=body) or {})

    def delete_folder(self, folder_id: str, *, recursive: bool = False) -> None:
        """``DELETE /folders/{id}`` → 204; a JSON 404 counts as already gone. ``recursive`` also deletes what is
        inside (seed 003: app folders only)."""
        self._delete_gone_ok(
            f"/folders/{seg(folder_id)}", params={"recursive": "true"} if recursive else None
        )

    def _list(self, path: str) -> Iterator[dict[str, Any]]:
        """A list that is one call today but carries the paging envelope: follow ``next_token`` if one appears."""
        used: set[str] = set()
        params: dict[str, Any] | None = None
        for _page in range(self.page_cap):
            body = self.session.json("GET", path, params=params)
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise UpstreamBroken(
                    f"Retool answered GET /api/v2{path} without its list envelope {{success, data, ...}}.",
                    status_code=200,
                    request_id=self.config.request_id,
                    method="GET",
                    path=path,
                )
            yield from (d for d in data if isinstance(d, dict))
            token = body.get("next_token")
            if not body.get("has_more") or not isinstance(token, str) or not token or token in used:
                return
            used.add(token)
            params = {"next_token": token}

    # -- access permissions (retool.md §9a) -------------------------------------------------------------------------

    def grant_access(
        self, *, subject_kind: str, subject_id: str, object_kind: str, object_id: str, level: str
    ) -> tuple[AccessEntry, ...]:
        """``POST /permissions/grant``; returns every object **of that kind** the subject holds afterwards. A grant on
        a folder also reaches the apps directly inside it (not sub-folders). Idempotent, so retried."""
        if level not in ACCESS_LEVELS:
            raise ValueError(f"level must be one of {', '.join(ACCESS_LEVELS)}")
        body = {
            "access_level": level,
            "object": mapping.object_to_wire(object_kind, object_id),
            "subject": mapping.subject_to_wire(subject_kind, subject_id),
        }
        data = self._data("POST", "/permissions/grant", json=body, idempotent=True)
        return mapping.objects_from_wire(data, subject_kind=subject_kind, subject_id=subject_id)

    def revoke_access(
        self, *, subject_kind: str, subject_id: str, object_kind: str, object_id: str
    ) -> tuple[AccessEntry, ...]:
        """``POST /permissions/revoke``; returns what the subject still holds of that kind."""
        body = {
            "object": mapping.object_to_wire(object_kind, object_id),
            "subject": mapping.subject_to_wire(subject_kind, subject_id),
        }
        data = self._data("POST", "/permissions/revoke", json=body, idempotent=True)
        return mapping.objects_from_wire(data, subject_kind=subject_kind, subject_id=subject_id)

    def list_access(
        self,
        *,
        subject_kind: str,
        subject_id: str,
        object_kind: str,
        include_inherited: bool = False,
        workspace_id: str | None = None,
    ) -> tuple[AccessEntry, ...]:
        """``POST /permissions/listObjects``: the subject's objects of one kind (folder, app, resource,
        resource_configuration). A read, so retried."""
        if object_kind not in mapping.LIST_OBJECT_TYPES:
            raise ValueError(f"object_kind must be one of {', '.join(mapping.LIST_OBJECT_TYPES)}")
        body: dict[str, Any] = {
            "object_type": object_kind,
            "subject": mapping.subject_to_wire(subject_kind, subject_id),
        }
        if include_inherited:
            body["include_inherited_access"] = True
        data = self._data("POST", "/permissions/listObjects", json=body, idempotent=True)
        return mapping.objects_from_wire(data, subject_kind=subject_kind, subject_id=subject_id)

    def access_list(
        self, object_kind: str, object_id: str, *, workspace_id: str | None = None
    ) -> tuple[AccessEntry, ...]:
        """``GET /permissions/accessList/{kind}/{id}``: every group and user that can use the object, and why."""
        if object_kind not in mapping.OBJECT_KINDS:
            raise ValueError(f"object_kind must be one of {', '.join(mapping.OBJECT_KINDS)}")
        with reading_one(object_kind):
            data = self._data("GET", f"/permissions/accessList/{object_kind}/{seg(object_id)}")
        entries = mapping.access_list_from_wire(data, object_kind=object_kind, object_id=object_id)
        if not entries:
            return entries
        # the answer names subjects by id only: one GET /groups gives group names and members' e-mails
        names: dict[tuple[str, str], str] = {}
        try:
            for group in self.iter_groups():
                names[("group", group.id)] = group.name
                names.update({("user", m.id): m.email or "" for m in group.members})
        except ProviderError as exc:  # groups:read missing: ids only
            logger.info("retool access list without names: %s", exc.message)
        return tuple(
            dataclasses.replace(e, subject_name=names.get((e.subject_kind, e.subject_id), ""))
            for e in entries
        )

    # -- user invites (retool.md §6a) -------------------------------------------------------------------------------

    def list_invites(self) -> list[RemoteInvite]:
        """``GET /user_invites`` (one call): pending, expired and claimed ones, ``status`` derived."""
        return [mapping.invite_from_wire(i) for i in self._list("/user_invites")]

    def get_invite(self, invite_id: str) -> RemoteInvite:
        with reading_one("invite"):
            return mapping.invite_from_wire(
                self._data("GET", f"/user_invites/{_invite_seg(invite_id)}") or {}
            )

    def create_invite(
        self, email: str, *, group_ids: Sequence[str] = (), metadata: Mapping[str, Any] | None = None
    ) -> RemoteInvite:
        """``POST /user_invites`` ``{email, defaultGroupIds?, metadata?}``, no other keys (never retried). The link
        expires after 7 days; there is no resend: delete and create again."""
        body: dict[str, Any] = {"email": email.strip()}
        if group_ids:
            body["defaultGroupIds"] = [int(_group_seg(g)) for g in group_ids]
        if metadata:
            body["metadata"] = dict(metadata)
        return mapping.invite_from_wire(self._data("POST", "/user_invites", json=body, retry=False) or {})

    def delete_invite(self, invite_id: str) -> None:
        self._delete_gone_ok(f"/user_invites/{_invite_seg(invite_id)}")

    def set_invite_attribute(self, invite_id: str, name: str, value: str | None) -> dict[str, Any]:
        """``POST /user_invites/{id}/user_attributes`` ``{name, value}``; returns the invite's attributes."""
        if value is not None and not isinstance(value, str):
            raise ValueError("Retool attribute values are strings (or None)")
        data = self._data(
            "POST",
            f"/user_invites/{_invite_seg(invite_id)}/user_attributes",
            json={"name": name, "value": value},
            idempotent=True,
        )
        return _attributes(data)

    def delete_invite_attribute(self, invite_id: str, name: str) -> dict[str, Any]:
        data = self._data("DELETE", f"/user_invites/{_invite_seg(invite_id)}/user_attributes/{seg(name)}")
        return _attributes(data)

    # -- ToolJet-only concepts --------------------------------------------------------------------------------------

    def list_workspaces(self) -> list[RemoteWorkspace]:
        raise Unsupported(
            "Retool has spaces (one connection each), not workspaces.", capability="supports_workspaces"
        )

    def replace_workspaces(self, user_id: str, workspaces: Sequence[WorkspaceAssignment]) -> None:
        raise Unsupported("Retool has no workspace memberships.", capability="supports_workspaces")

    def patch_membership(
        self,
        user_id: str,
        workspace_id: str,
        *,
        status: str | None = None,
        groups: Sequence[str] | None = None,
    ) -> None:
        raise Unsupported("Retool has no workspace memberships.", capability="supports_workspaces")

    def get_user_metadata(self, workspace_id: str, user_id: str) -> RemoteMetadata:
        raise Unsupported(
            "Retool keeps attributes in user.metadata: use the attribute methods.",
            capability="supports_metadata",
        )

    def put_user_metadata(
        self, workspace_id: str, user_id: str, items: Any, *, expected: Any = None
    ) -> RemoteMetadata:
        raise Unsupported(
            "Retool keeps attributes in user.metadata: use the attribute methods.",
            capability="supports_metadata",
        )

    # -- probe ------------------------------------------------------------------------------------------------------

    def probe(self, *, thorough: bool = False) -> ProbeResult:
        """Capability probe without side effects (retool.md §10); fails when the base URL is not a Retool API."""
        return probe(self, thorough=thorough)
