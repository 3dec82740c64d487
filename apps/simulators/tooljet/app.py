"""The ToolJet External API simulator (contract: shared/contracts/tooljet.md)."""

from __future__ import annotations

import functools
import json
import re
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from apps.simulators.people import make_rng, rng_uuid
from apps.simulators.server import (
    JSON,
    ApiError,
    SimulatorApp,
    empty_response,
    json_response,
    stream_json_array,
)

from .export import build_bundle, stream_bundle
from .profiles import version_tuple
from .state import (
    BUILDER_LEVEL,
    PERMISSION_KEYS,
    ROLE_GROUP_NAMES,
    ROLES,
    SNAKE,
    ToolJetState,
    build_state,
)
from .validation import Checker, is_uuid

ACCOUNT_STATUSES = ("invited", "verified", "active", "archived")
MEMBER_STATUSES = ("active", "archived", "invited")
GROUP_NAME_RE = re.compile(r"^[a-zA-Z0-9_ -]+$")
GRANULAR_TYPES = ("app", "data_source", "workflow")
ENVIRONMENTS = ("development", "staging", "production", "released")

EXT = "/api/ext"
# body-parser's wording; the contract states only the limit (§1), so the message is the simulator's
TOO_LARGE = "request entity too large"
V2 = "/api/v2/ext"
ROUTES = (
    ("users_list", "/users", "GET", None),
    ("user_create", "/users", "POST", None),
    ("user_get", "/user/<ref>", "GET", None),
    ("user_update", "/user/<ref>", "PATCH", None),
    ("user_workspaces_replace", "/user/<ref>/workspaces", "PUT", None),
    ("user_workspace_update", "/user/<ref>/workspace/<ws>", "PATCH", None),
    ("workspaces_list", "/workspaces", "GET", None),
    ("role_change", "/update-user-role/workspace/<ws>", "PUT", "role_route"),
    ("metadata_get", "/workspace/<ws>/user/<ref>", "GET", "metadata"),
    ("metadata_put", "/workspace/<ws>/user/<ref>", "PUT", "metadata"),
    ("apps_list", "/workspace/<ws>/apps", "GET", "apps"),
    ("app_export", "/export/workspace/<ws>/apps/<app_id>", "POST", "apps"),
    ("app_import", "/import/workspace/<ws>/apps", "POST", "apps"),
    ("groups_list", "/workspace/<ws>/groups", "GET", "groups"),
    ("group_create", "/workspace/<ws>/groups", "POST", "groups"),
    ("group_get", "/workspace/<ws>/groups/<gid>", "GET", "groups"),
    ("group_update", "/workspace/<ws>/groups/<gid>", "PATCH", "groups"),
    ("group_delete", "/workspace/<ws>/groups/<gid>", "DELETE", "groups"),
)
V2_ROUTES = (
    ("v2_users_list", "/users", "GET"),
    ("v2_user_get", "/users/<ref>", "GET"),
    ("v2_user_update", "/users/<ref>", "PATCH"),
    ("v2_user_archive", "/users/<ref>/archive", "POST"),
    ("v2_user_unarchive", "/users/<ref>/unarchive", "POST"),
    ("v2_user_workspaces", "/users/<ref>/workspaces", "GET"),
)
FEATURES = {name: feature for name, _, _, feature in ROUTES}


def _now_iso() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _bad(message: Any) -> ApiError:
    return ApiError(400, message)


@functools.cache
def _url_map() -> Map:
    """The routes, compiled once per process: werkzeug compiles a builder for every rule (tens of ms per app),
    and a bound Map is only read afterwards, so every simulator instance shares it."""
    rules = [Rule(EXT + path, endpoint=name, methods=[method]) for name, path, method, _ in ROUTES]
    rules += [Rule(V2 + path, endpoint=name, methods=[method]) for name, path, method in V2_ROUTES]
    return Map(rules, strict_slashes=False, merge_slashes=False)


class ToolJetSimulator(SimulatorApp):
    kind = "tooljet"

    def __init__(self, state: ToolJetState, *, latency_ms: int = 0) -> None:
        super().__init__(latency_ms=latency_ms)
        self.state = state
        self.url_map = _url_map()

    # -- framework hooks -------------------------------------------------------------------------------
    def error_response(
        self, request: Request, status: int, message: Any, headers: dict | None = None
    ) -> Response:
        path = request.path + (f"?{request.query_string.decode()}" if request.query_string else "")
        body = {"statusCode": status, "timestamp": _now_iso(), "path": path, "message": message}
        return json_response(body, status, headers)

    def not_found(self, request: Request) -> Response:
        return self.error_response(request, 404, f"Cannot {request.method} {request.path}")

    def _dispatch(self, request: Request) -> Response:
        # Express parses JSON bodies before routing and guards: a declared oversized body is refused unread.
        # (A chunked one is refused when a handler reads past the limit.)
        if self._is_json(request) and (request.content_length or 0) > self.state.max_json_bytes:
            raise ApiError(413, TOO_LARGE)
        return super()._dispatch(request)

    def before(self, request: Request, endpoint: str) -> Response | None:
        state = self.state
        if endpoint.startswith("v2_"):
            if not (state.v2_api and state.profile.v2_possible):
                return self.not_found(request)
        else:
            feature = FEATURES.get(endpoint)
            if feature and not getattr(state.profile, feature):
                return self.not_found(request)
        if state.community_edition:  # tooljet.md §2: CE registers no v2, app or git routes; its guard denies
            if endpoint.startswith("v2_") or FEATURES.get(endpoint) == "apps":
                return self.not_found(request)
            return self.error_response(request, 403, "Forbidden resource")
        if state.disabled:
            return self.error_response(request, 403, "External API is disabled")
        if state.unlicensed:
            return self.error_response(request, 403, "You do not have access to this resource")
        if request.headers.get("Authorization") != f"Basic {state.token}":
            return self.error_response(request, 403, "Unauthorized")
        if state.starter_plan:
            return self.error_response(request, 451, "External API is not available on your current plan")
        return None

    def control_accept_invites(self, payload: dict) -> Response:
        with self.lock:
            user = self.state.user_by_ref(str(payload.get("user_id") or payload.get("id") or ""))
            if user is None:
                return json_response({"message": "unknown user"}, 404)
            user["invitationToken"] = None
            for membership in self.state.memberships[user["id"]].values():
                membership["invitationToken"] = None
            return json_response({"id": user["id"], "accepted": True})

    def state_counts(self) -> dict:
        s = self.state
        return {
            "profile": s.profile.name,
            "version": s.profile.version,
            "users": len(s.users),
            "workspaces": len(s.workspaces),
            "groups": len(s.groups),
            "apps": len(s.apps),
        }

    # -- helpers ---------------------------------------------------------------------------------------
    @staticmethod
    def _is_json(request: Request) -> bool:
        return request.mimetype == "application/json"

    def body(self, request: Request) -> Any:
        """The parsed JSON body; like Express's json parser, ``{}`` when empty or not ``application/json``."""
        if not self._is_json(request):
            return {}
        limit = self.state.max_json_bytes
        # werkzeug cuts a chunked body off at max_content_length without an error: one byte more tells
        request.max_content_length = limit + 1
        try:
            raw = request.get_data(cache=True)
        except RequestEntityTooLarge:
            raise ApiError(413, TOO_LARGE) from None
        if len(raw) > limit:
            raise ApiError(413, TOO_LARGE)
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise _bad(f"Unexpected token in JSON at position {getattr(exc, 'pos', 0)}") from None
        return data

    def _object_body(self, request: Request) -> dict:
        data = self.body(request)
        if not isinstance(data, dict):
            raise _bad(["body must be an object"])
        return data

    def _user(self, ref: str) -> dict:
        user = self.state.user_by_ref(ref)
        if user is None:
            raise ApiError(404, "User not found")
        return user

    def _invite_url(self, request: Request, user: dict, ws_id: str, membership: dict) -> str | None:
        if membership["status"] == "active" or not membership.get("invitationToken"):
            return None
        base = request.host_url.rstrip("/")
        org_token = membership["invitationToken"]
        if user["status"] == "active" or not user.get("invitationToken"):
            return f"{base}/organization-invitations/{org_token}?oid={ws_id}"
        return f"{base}/invitations/{user['invitationToken']}/workspaces/{org_token}?oid={ws_id}"

    def _user_permission(self, ws_id: str, role: str) -> dict:
        group = self.state.groups[self.state.role_groups[ws_id][role]]
        perms = group["permissions"]
        return {
            "id": group["id"],
            "organizationId": ws_id,
            "name": role,
            "type": "default",
            "appCreate": perms["appCreate"],
            "appDelete": perms["appDelete"],
            "workflowCreate": perms["workflowCreate"],
            "workflowDelete": perms["workflowDelete"],
            "folderCRUD": perms["folderCreate"],
            "orgConstantCRUD": perms["orgConstantCRUD"],
            "dataSourceCreate": perms["dataSourceCreate"],
            "dataSourceDelete": perms["dataSourceDelete"],
            "appPromote": perms["appPromote"],
            "appRelease": perms["appRelease"],
            "createdAt": group["createdAt"],
            "updatedAt": group["updatedAt"],
        }

    def user_json(self, request: Request, user: dict) -> dict:
        state = self.state
        workspaces, user_groups, details = [], [], []
        for ws_id, membership in state.memberships[user["id"]].items():
            ws = state.workspaces[ws_id]
            customs = [
                {"id": g, "name": state.groups[g]["name"]} for g in membership["groups"] if g in state.groups
            ]
            entry: dict = {"id": ws_id, "name": ws["name"], "status": membership["status"]}
            if state.profile.invite_url:
                entry["inviteUrl"] = self._invite_url(request, user, ws_id, membership)
            entry["userPermission"] = self._user_permission(ws_id, membership["role"])
            entry["groups"] = customs
            workspaces.append(entry)
            user_groups.append(
                {"id": state.role_groups[ws_id][membership["role"]], "name": membership["role"]}
            )
            user_groups.extend(customs)
            pairs = state.metadata.get((user["id"], ws_id), [])
            details.append(
                {
                    "organizationId": ws_id,
                    "ssoUserInfo": None,
                    "userMetadata": {p["key"]: p["value"] for p in pairs},
                }
            )
        name = f"{user['firstName']} {user['lastName']}".strip()
        return {
            "id": user["id"],
            "name": name,
            "email": user["email"],
            "status": user["status"],
            "workspaces": workspaces,
            "userGroups": user_groups,
            "userDetails": details,
        }

    # -- workspace DTO handling (create user, PUT workspaces) ------------------------------------------
    def _check_workspace_dtos(self, items: Any, field: str, statuses: tuple[str, ...]) -> list[str]:
        errors: list[str] = []
        if not isinstance(items, list):
            return [f"{field} must be an array"]
        for i, item in enumerate(items):
            prefix = f"{field}.{i}." if field else f"{i}."
            if not isinstance(item, dict):
                errors.append(f"{prefix[:-1]} must be an object")
                continue
            c = Checker(item, prefix)
            c.uuid("id")
            c.string("name")
            if item.get("id") is None and item.get("name") is None:
                errors.append(f"{prefix}id should not be empty")
            c.enum("role", ROLES)
            c.enum("status", MEMBER_STATUSES)
            if c.array("groups"):
                for j, g in enumerate(item["groups"]):
                    if not isinstance(g, dict) or ("id" not in g and "name" not in g):
                        c.errors.append(f"{prefix}groups.{j} must contain an id or a name")
            errors += c.errors
        return errors

    def _resolve_workspaces(self, items: list[dict]) -> list[tuple[str, dict]]:
        state = self.state
        resolved, missing = [], []
        for item in items:
            ws = None
            if item.get("id") is not None:
                ws = state.workspaces.get(item["id"])
            elif item.get("name") is not None:
                ws = next((w for w in state.workspaces.values() if w["name"] == item["name"]), None)
            if ws is None:
                missing.append(str(item.get("id") or item.get("name")))
            else:
                resolved.append((ws["id"], item))
        if missing:
            raise _bad(f"Workspaces with ids or names {', '.join(missing)} do not exist")
        return resolved

    def _resolve_custom_groups(self, ws_id: str, refs: list[dict]) -> set[str]:
        gids = set()
        for ref in refs:
            name = ref.get("name")
            group = self.state.find_group(ws_id, ref)
            if (group and group["type"] == "default") or (group is None and name in ROLE_GROUP_NAMES):
                label = group["name"] if group else name
                raise _bad(
                    f"{label} is a default group: use the role field to assign admin, builder or end-user"
                )
            if group is None:
                raise _bad("Group permission id or name not found")
            gids.add(group["id"])
        return gids

    def _check_conflict(self, role: str, gids: set[str]) -> None:
        if role != "end-user":
            return
        for gid in gids:
            group = self.state.groups[gid]
            builder_level = any(group["permissions"].get(k) for k in BUILDER_LEVEL) or any(
                e["type"] == "app" and e["permissions"].get("canEdit") for e in group["granular"]
            )
            if builder_level:
                raise _bad(
                    {
                        "title": "Conflicting permissions",
                        "error": f"End-users cannot be added to the group '{group['name']}' because it grants "
                        "builder-level permissions. Change the role to builder or remove the group.",
                    }
                )

    # -- users ---------------------------------------------------------------------------------------------
    def on_users_list(self, request: Request) -> Response:
        state = self.state
        statuses: set[str] | None = None
        if state.profile.status_filter:
            values = [v.strip() for raw in request.args.getlist("status") for v in raw.split(",")]
            values = [v for v in values if v]
            if values:
                bad = [v for v in values if v not in ACCOUNT_STATUSES]
                if bad:
                    raise _bad([f"status must be one of the following values: {', '.join(ACCOUNT_STATUSES)}"])
                statuses = set(values)
        names: set[str] | None = None
        raw_names = request.args.get("group_names", "")
        if state.profile.group_names_filter and raw_names.strip():
            names = {n.strip() for n in raw_names.split(",") if n.strip()}
        with self.lock:
            ids = []
            for uid, user in state.users.items():
                if statuses is not None and user["status"] not in statuses:
                    continue
                if names is not None:
                    user_names = set()
                    for m in state.memberships[uid].values():
                        user_names.add(m["role"])
                        user_names.update(state.groups[g]["name"] for g in m["groups"] if g in state.groups)
                    if not user_names & names:
                        continue
                ids.append(uid)

        def items(start: int, stop: int) -> list[dict]:
            with self.lock:
                return [self.user_json(request, state.users[u]) for u in ids[start:stop] if u in state.users]

        return Response(stream_json_array(items, len(ids)), status=200, content_type=JSON)

    def on_user_create(self, request: Request) -> Response:
        state = self.state
        body = self._object_body(request)
        c = Checker(body)
        c.string("name", required=True, not_empty=True)
        c.email("email", required=True)
        c.string("password", min_len=5, max_len=100)
        c.enum("status", state.profile.create_statuses)
        c.uuid("defaultOrganizationId")
        errors = c.errors
        if "workspaces" not in body:
            errors.append("workspaces must be an array")
        else:
            errors += self._check_workspace_dtos(body["workspaces"], "workspaces", MEMBER_STATUSES)
        if errors:
            raise _bad(errors)
        with self.lock:
            if body["email"].lower() in state.emails:
                raise _bad(f"User with email {body['email']} already exists")
            resolved = self._resolve_workspaces(body["workspaces"])
            links = []
            for ws_id, item in resolved:
                role = item.get("role") or "end-user"
                gids = self._resolve_custom_groups(ws_id, item.get("groups") or [])
                self._check_conflict(role, gids)
                links.append((ws_id, role, item.get("status") or "invited", gids))
            first, _, last = body["name"].strip().partition(" ")
            status = body.get("status") or state.profile.create_default_status
            uid = rng_uuid(make_rng(state.seed, f"user:{body['email']}:{len(state.users)}"))
            user = state.add_user(
                uid=uid,
                first=first,
                last=last,
                email=body["email"],
                status=status,
                created_at=state.clock.stamp(),
            )
            user["password"] = "hashed" if body.get("password") else None
            invites = state.profile.invite_url
            user["invitationToken"] = state.new_token() if invites and status != "active" else None
            for ws_id, role, mstatus, gids in links:
                state.memberships[uid][ws_id] = state.new_membership(
                    role, mstatus, gids, state.new_token() if invites else None
                )
            return json_response(self.user_json(request, user), 201)

    def on_user_get(self, request: Request, ref: str) -> Response:
        with self.lock:
            return json_response(self.user_json(request, self._user(ref)))

    def on_user_update(self, request: Request, ref: str) -> Response:
        state = self.state
        body = self._object_body(request)
        c = Checker(body)
        c.string("name", not_empty=True)
        c.email("email")
        c.string("password", min_len=5, max_len=100)
        c.enum("status", ACCOUNT_STATUSES)
        c.uuid("defaultOrganizationId")
        if c.errors:  # the ValidationPipe runs before the handler looks anything up
            raise _bad(c.errors)
        with self.lock:
            user = self._user(ref)
            if body.get("email") and body["email"].lower() != user["email"].lower():
                # simulator's choice: the contract pins "already exists" on create only
                if body["email"].lower() in state.emails:
                    raise _bad(f"User with email {body['email']} already exists")
                del state.emails[user["email"].lower()]
                user["email"] = body["email"]
                state.emails[body["email"].lower()] = user["id"]
            if body.get("name"):
                first, _, last = body["name"].strip().partition(" ")
                user["firstName"], user["lastName"] = first, last
            if body.get("password"):
                user["password"] = "hashed"
            status = body.get("status")
            if status == "archived":
                user["status"] = "archived"
                for membership in state.memberships[user["id"]].values():
                    membership["status"] = "archived"
            elif status:
                user["status"] = status
                ws_id = body.get("defaultOrganizationId")
                membership = state.memberships[user["id"]].get(ws_id) if ws_id else None
                if membership is not None:
                    membership["status"] = "active" if status in ("active", "verified") else status
            return json_response(self.user_json(request, user))

    def on_user_workspaces_replace(self, request: Request, ref: str) -> Response:
        state = self.state
        items = self.body(request)
        if not isinstance(items, list):
            raise _bad(["each value in nested property must be either object or array"])
        errors = self._check_workspace_dtos(items, "", MEMBER_STATUSES)
        if errors:  # the ValidationPipe runs before the handler looks anything up
            raise _bad(errors)
        with self.lock:
            user = self._user(ref)
            resolved = self._resolve_workspaces(items)
            plans = []
            current = state.memberships[user["id"]]
            for ws_id, item in resolved:
                old = current.get(ws_id)
                role = item.get("role") or (old["role"] if old else "end-user")
                gids = (
                    self._resolve_custom_groups(ws_id, item["groups"])
                    if item.get("groups") is not None
                    else set(old["groups"])
                    if old
                    else set()
                )
                status = item.get("status") or (old["status"] if old else "invited")
                if status == "active" and user["status"] == "archived":
                    raise _bad("User is archived. Activate the user before activating a workspace membership")
                self._check_conflict(role, gids)
                plans.append((ws_id, role, status, gids, old))
            new = {}
            for ws_id, role, status, gids, old in plans:
                token = old.get("invitationToken") if old else None
                new[ws_id] = state.new_membership(role, status, gids, token)
            for ws_id in set(current) - set(new):
                state.metadata.pop((user["id"], ws_id), None)
            state.memberships[user["id"]] = new
            return json_response(self.user_json(request, user))

    def on_user_workspace_update(self, request: Request, ref: str, ws: str) -> Response:
        state = self.state
        body = self._object_body(request)
        c = Checker(body)
        c.uuid("id")
        c.string("name")
        c.enum("status", MEMBER_STATUSES)
        has_groups = c.array("groups")
        if c.errors:  # the ValidationPipe runs before the handler looks anything up
            raise _bad(c.errors)
        with self.lock:
            user = self._user(ref)
            membership = state.memberships[user["id"]].get(ws)
            if membership is None:
                raise ApiError(404, "User is not a member of this workspace")
            gids = self._resolve_custom_groups(ws, body["groups"]) if has_groups else None
            status = body.get("status")
            if status == "active" and user["status"] == "archived":
                raise _bad("User is archived. Activate the user before activating a workspace membership")
            if gids is not None:
                self._check_conflict(membership["role"], gids)
                membership["groups"] = gids
            if status:
                membership["status"] = status
            return json_response(self.user_json(request, user))

    # -- workspaces and roles -----------------------------------------------------------------------------
    def on_workspaces_list(self, request: Request) -> Response:
        state = self.state
        out = []
        with self.lock:
            for ws in state.workspaces.values():
                if ws["status"] != "active":
                    continue
                groups = [
                    {"id": g["id"], "name": g["name"], "type": "custom"}
                    for g in state.custom_groups(ws["id"])
                ]
                if state.profile.workspace_groups_include_default:
                    groups = [
                        {"id": state.role_groups[ws["id"]][r], "name": r, "type": "default"}
                        for r in ("all_users", "admin")
                    ] + groups
                out.append({"id": ws["id"], "name": ws["name"], "status": ws["status"], "groups": groups})
        return json_response(out)

    def on_role_change(self, request: Request, ws: str) -> Response:
        state = self.state
        body = self._object_body(request)
        c = Checker(body)
        c.enum("newRole", ROLES, required=True)
        c.string("userId")
        c.email("email")
        if c.errors:
            raise _bad(c.errors)
        if not body.get("userId") and not body.get("email"):
            raise _bad("Either userId or email must be provided")
        with self.lock:
            # simulator's choice: the contract lists no error for an unknown workspace here
            if ws not in state.workspaces:
                raise ApiError(404, "Workspace not found")
            user = state.users.get(body["userId"]) if body.get("userId") else state.user_by_ref(body["email"])
            if user is None:
                raise ApiError(404, "User not found")
            membership = state.memberships[user["id"]].get(ws)
            if membership is None:
                raise _bad("User does not have a role in this workspace")
            new_role = body["newRole"]
            if new_role == membership["role"]:
                return json_response({"message": "Role updated"})
            if new_role == "end-user":
                owned = [a["name"] for a in state.apps_of(ws) if a.get("ownerId") == user["id"]]
                if owned:
                    raise _bad(
                        {
                            "error": f"{user['email']} cannot be an end-user because they own apps in this "
                            "workspace. Transfer the apps first.",
                            "data": owned,
                        }
                    )
            # simulator's choice (not in the contract): the last active admin cannot be demoted
            if membership["role"] == "admin":
                admins = [
                    u
                    for u, ms in state.memberships.items()
                    if ms.get(ws, {}).get("role") == "admin" and ms[ws]["status"] == "active"
                ]
                if admins == [user["id"]]:
                    raise _bad("Atleast one active admin is required")
            if new_role == "end-user":  # simulator's choice: the contract pins this conflict on create only
                self._check_conflict("end-user", membership["groups"])
            membership["role"] = new_role
            return json_response({"message": "Role updated"})

    # -- metadata -----------------------------------------------------------------------------------------
    def _member(self, ws_ref: str, user_ref: str) -> tuple[dict, dict]:
        ws = self.state.workspace_by_ref(ws_ref, slug=True)
        if ws is None:
            raise ApiError(404, "Workspace not found")
        user = self._user(user_ref)
        if ws["id"] not in self.state.memberships[user["id"]]:
            raise ApiError(404, "User is not a member of this workspace")
        return ws, user

    def _metadata_json(self, ws: dict, user: dict) -> dict:
        pairs = self.state.metadata.get((user["id"], ws["id"]), [])
        name = f"{user['firstName']} {user['lastName']}".strip()
        return {
            "id": user["id"],
            "name": name,
            "email": user["email"],
            "status": user["status"],
            "userDetails": [dict(p) for p in pairs],
        }

    def on_metadata_get(self, request: Request, ws: str, ref: str) -> Response:
        with self.lock:
            workspace, user = self._member(ws, ref)
            return json_response(self._metadata_json(workspace, user))

    def on_metadata_put(self, request: Request, ws: str, ref: str) -> Response:
        body = self._object_body(request)
        errors = []
        details = body.get("userDetails")
        if not isinstance(details, list):
            errors.append("userDetails must be an array")
        else:
            for i, entry in enumerate(details):
                if not isinstance(entry, dict):
                    errors.append(f"userDetails.{i} must be an object")
                    continue
                if not isinstance(entry.get("key"), str) or not entry["key"].strip():
                    errors.append(f"userDetails.{i}.key should not be empty")
                if not isinstance(entry.get("value"), str):
                    errors.append(f"userDetails.{i}.value must be a string")
        if errors:  # the ValidationPipe runs before the handler looks anything up
            raise _bad(errors)
        with self.lock:
            workspace, user = self._member(ws, ref)
            self.state.metadata[(user["id"], workspace["id"])] = [
                {"key": e["key"], "value": e["value"]} for e in details
            ]
            return json_response(self._metadata_json(workspace, user))

    # -- apps ---------------------------------------------------------------------------------------------
    def _app_workspace(self, ws: str) -> dict:
        if not is_uuid(ws):
            raise _bad(["workspaceId must be a UUID"])
        workspace = self.state.workspaces.get(ws)
        if workspace is None:
            raise _bad("Workspace not found")
        return workspace

    def on_apps_list(self, request: Request, ws: str) -> Response:
        with self.lock:
            self._app_workspace(ws)
            return json_response(
                [
                    {
                        "id": a["id"],
                        "name": a["name"],
                        "slug": a["slug"],
                        "organizationId": a["organizationId"],
                        "versions": [{"id": v["id"], "name": v["name"]} for v in a["versions"]],
                    }
                    for a in self.state.apps_of(ws)
                ]
            )

    def on_app_export(self, request: Request, ws: str, app_id: str) -> Response:
        state = self.state
        with self.lock:
            self._app_workspace(ws)
            if not is_uuid(app_id):
                raise _bad(["appId must be a UUID"])
            app = state.apps.get(app_id)
            if app is None or app["organizationId"] != ws:
                raise _bad("App not found in this workspace")
            wanted = request.args.get("appVersion")
            if wanted:
                versions = [v for v in app["versions"] if v["name"] == wanted]
                if not versions:
                    raise _bad(f"App version {wanted} not found")
            elif request.args.get("exportAllVersions", "").lower() == "true":
                versions = list(app["versions"])
            else:
                versions = [app["versions"][-1]]
            include_tjdb = request.args.get("exportTJDB") != "false"
            pad = state.export_pad_bytes if app_id == state.padded_app_id else 0
            bundle = build_bundle(state, app, versions, include_tjdb=include_tjdb, pad=bool(pad))
        if pad:
            length, chunks = stream_bundle(bundle, pad)
            return Response(chunks, status=201, content_type=JSON, headers={"Content-Length": str(length)})
        return json_response(bundle, 201)

    def on_app_import(self, request: Request, ws: str) -> Response:
        state = self.state
        body = self._object_body(request)
        with self.lock:
            self._app_workspace(ws)
            c = Checker(body)
            c.string("tooljet_version", required=True, not_empty=True)
            c.string("appName", not_empty=True)
            if c.array("app"):
                for i, item in enumerate(body["app"]):
                    if not isinstance(item, dict) or not isinstance(item.get("definition"), dict):
                        c.errors.append(f"app.{i}.definition must be an object")
            if c.array("tooljet_database"):
                for i, table in enumerate(body["tooljet_database"]):
                    if not isinstance(table, dict) or not is_uuid(table.get("id")):
                        c.errors.append(f"tooljet_database.{i}.id must be a UUID")
                    elif not isinstance(table.get("table_name"), str):
                        c.errors.append(f"tooljet_database.{i}.table_name must be a string")
            if c.errors:
                raise _bad(c.errors)
            if version_tuple(body["tooljet_version"]) > version_tuple(state.profile.version):
                raise _bad(
                    f"Import of apps exported from ToolJet {body['tooljet_version']} is not supported by "
                    f"this server ({state.profile.version})"
                )
            apps = body.get("app")
            if not apps and not body.get("appName"):
                raise ApiError(500, "Internal server error")
            definition = (
                apps[0]["definition"] if apps else {"appV2": {"name": body["appName"], "appVersions": []}}
            )
            app_v2 = definition.get("appV2") if isinstance(definition.get("appV2"), dict) else {}
            name = body.get("appName") or app_v2.get("name") or "Untitled app"
            if any(a["name"] == name for a in state.apps_of(ws)):
                raise _bad(f"App name {name} already taken")
            rng = make_rng(state.seed, f"import:{ws}:{name}:{len(state.apps)}")
            app_id = rng_uuid(rng)
            stamp = state.clock.stamp()
            version_names = [v.get("name") for v in app_v2.get("appVersions") or [] if isinstance(v, dict)]
            state.apps[app_id] = {
                "id": app_id,
                "name": name,
                "slug": app_id,
                "organizationId": ws,
                "ownerId": None,
                "createdAt": stamp,
                "definition": definition,
                "versions": [
                    {"id": rng_uuid(rng), "name": str(n), "createdAt": stamp}
                    for n in (version_names or ["v1"])
                    if n
                ],
            }
            known = {t["table_name"] for t in state.tjdb.setdefault(ws, [])}
            for table in body.get("tooljet_database") or []:
                if table["table_name"] not in known:
                    state.tjdb[ws].append(
                        {
                            "id": rng_uuid(rng),
                            "table_name": table["table_name"],
                            "schema": table.get("schema") or {},
                        }
                    )
            return json_response({"message": f"App {name} imported successfully into workspace {ws}"}, 201)

    # -- groups -------------------------------------------------------------------------------------------
    def _group_ws(self, ws: str, *, status: int = 404) -> dict:
        workspace = self.state.workspaces.get(ws)
        if workspace is None:
            raise ApiError(status, "Workspace not found")
        return workspace

    def _group(self, ws: str, gid: str) -> dict:
        self._group_ws(ws)
        if not is_uuid(gid):
            raise ApiError(422, f'invalid input syntax for type uuid: "{gid}"')
        group = self.state.groups.get(gid)
        if group is None or group["organizationId"] != ws:
            raise ApiError(404, "Group not found")
        if group["type"] == "default":
            raise _bad("Default groups cannot be managed through the External API")
        return group

    def group_json(self, group: dict) -> dict:
        perms = group["permissions"]
        snake = {SNAKE[k]: perms.get(k, False) for k in PERMISSION_KEYS}
        if self.state.profile.folder_single:
            snake.pop("folder_create")
            snake.pop("folder_delete")
            snake["folder"] = bool(perms.get("folderCreate"))
        return {
            "id": group["id"],
            "name": group["name"],
            "permissions": snake,
            "granularPermissions": [
                {
                    "id": e["id"],
                    "type": e["type"],
                    "applyToAll": e["applyToAll"],
                    "resources": list(e["resources"]),
                    "permissions": dict(e["permissions"]),
                }
                for e in group["granular"]
            ],
        }

    def _group_fields(self, body: dict, *, creating: bool) -> tuple[str | None, dict, list | None]:
        """The DTO checks (run before any lookup) → (name, camelCase permissions, raw granular entries)."""
        errors: list[str] = []
        name = body.get("name")
        if creating or "name" in body:
            if not isinstance(name, str) or not name.strip():
                errors.append("name should not be empty")
            else:
                name = name.strip()
                if len(name) > 50:
                    errors.append("name must be shorter than or equal to 50 characters")
                if not GROUP_NAME_RE.match(name):
                    errors.append("name can only contain letters, numbers, spaces, underscores and hyphens")
        perms: dict = {}
        raw_perms = body.get("permissions")
        if raw_perms is not None:
            if not isinstance(raw_perms, dict):
                errors.append("permissions must be an object")
            else:
                for key, value in raw_perms.items():
                    if key not in (*PERMISSION_KEYS, "folderCRUD"):
                        continue
                    if not isinstance(value, bool):
                        errors.append(f"permissions.{key} must be a boolean value")
                    elif key == "folderCRUD":
                        perms["folderCreate"] = perms["folderDelete"] = value
                    else:
                        perms[key] = value
        granular = body.get("granularPermissions")
        if granular is not None and not isinstance(granular, list):
            errors.append("granularPermissions must be an array")
        elif granular is not None:
            errors += self._check_granular(granular)
        if errors:
            raise _bad(errors)
        return name, perms, granular

    @staticmethod
    def _check_granular(entries: list) -> list[str]:
        errors: list[str] = []
        for i, entry in enumerate(entries):
            at = f"granularPermissions.{i}"
            if not isinstance(entry, dict):
                errors.append(f"{at} must be an object")
                continue
            if entry.get("type") not in GRANULAR_TYPES:
                errors.append(f"{at}.type must be one of the following values: {', '.join(GRANULAR_TYPES)}")
            if not isinstance(entry.get("applyToAll"), bool):
                errors.append(f"{at}.applyToAll must be a boolean value")
            resources = entry.get("resources") or []
            if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
                errors.append(f"{at}.resources must be an array of strings")
            perms = entry.get("permissions")
            if not isinstance(perms, dict):
                errors.append(f"{at}.permissions must be an object")
            elif entry.get("type") == "app":
                if not isinstance(perms.get("canEdit"), bool):
                    errors.append(f"{at}.permissions.canEdit must be a boolean value")
                envs = perms.get("environments") or []
                if not isinstance(envs, list) or any(e not in ENVIRONMENTS for e in envs):
                    errors.append(
                        f"each value in {at}.permissions.environments must be one of the following values: "
                        f"{', '.join(ENVIRONMENTS)}"
                    )
        return errors

    def _resolve_resource(self, ws: str, kind: str, ref: str) -> str:
        state = self.state
        pool = (
            state.apps_of(ws)
            if kind == "app"
            else state.data_sources.get(ws, [])
            if kind == "data_source"
            else state.workflows.get(ws, [])
        )
        for item in pool:
            if ref in (item["id"], item["name"]):
                return item["id"]
        raise _bad(f"Resource {ref} not found")

    def _normalise_granular(self, ws: str, entries: list) -> list[dict]:
        """The service-level checks of entries that passed :meth:`_check_granular`, resources resolved to ids."""
        out, seen_all = [], set()
        for entry in entries:
            kind, apply_all, perms = entry["type"], entry["applyToAll"], entry["permissions"]
            resources = entry.get("resources") or []
            if apply_all and resources:
                raise _bad("resources must be empty when applyToAll is true")
            if not apply_all and not resources:
                raise _bad("resources must not be empty when applyToAll is false")
            if apply_all:
                if kind in seen_all:
                    raise ApiError(422, f"Only one applyToAll permission of type {kind} is allowed")
                seen_all.add(kind)
            if kind == "app":
                hide = bool(perms.get("hideFromDashboard", False))
                if hide and perms["canEdit"]:
                    raise _bad("hideFromDashboard can only be set when canEdit is false")
                envs = perms.get("environments") or []
                norm = {
                    "canEdit": perms["canEdit"],
                    "hideFromDashboard": hide,
                    "environments": sorted(set(envs)),
                }
            elif kind == "data_source":
                use, configure = bool(perms.get("canUse")), bool(perms.get("canConfigure"))
                if use == configure:
                    raise _bad("Exactly one of canUse and canConfigure must be true")
                norm = {"canUse": use, "canConfigure": configure}
            else:
                norm = {"canEdit": bool(perms.get("canEdit"))}
            ids = []
            for ref in resources:
                rid = self._resolve_resource(ws, kind, ref)
                if rid not in ids:
                    ids.append(rid)
            out.append({"type": kind, "applyToAll": apply_all, "resources": ids, "permissions": norm})
        return out

    def _merge_granular(self, group: dict, incoming: list[dict]) -> None:
        current = group["granular"]
        rng = make_rng(self.state.seed, f"granular:{group['id']}:{len(current)}:{self.state.clock.stamp()}")
        for entry in incoming:
            if entry["applyToAll"]:
                existing = next((e for e in current if e["type"] == entry["type"] and e["applyToAll"]), None)
                if existing:
                    existing["permissions"] = entry["permissions"]
                else:
                    current.append({"id": rng_uuid(rng), **entry})
                continue
            for e in current:
                if e["type"] == entry["type"] and not e["applyToAll"]:
                    e["resources"] = [r for r in e["resources"] if r not in entry["resources"]]
            target = next(
                (
                    e
                    for e in current
                    if e["type"] == entry["type"]
                    and not e["applyToAll"]
                    and e["permissions"] == entry["permissions"]
                ),
                None,
            )
            if target is None:
                current.append({"id": rng_uuid(rng), **entry, "resources": list(entry["resources"])})
            else:
                target["resources"] += [r for r in entry["resources"] if r not in target["resources"]]
        group["granular"] = [e for e in current if e["applyToAll"] or e["resources"]]

    def on_groups_list(self, request: Request, ws: str) -> Response:
        with self.lock:
            self._group_ws(ws)
            groups = self.state.custom_groups(ws)
            search = request.args.get("search", "").strip().lower()
            if search:
                groups = [g for g in groups if search in g["name"].lower()]
            try:
                page = max(1, int(request.args.get("page", 1)))
                per_page = max(1, int(request.args.get("per_page", 10)))
            except ValueError:
                raise _bad(["page must be an integer number"]) from None
            window = groups[(page - 1) * per_page : page * per_page]
            return json_response(
                {
                    "data": [self.group_json(g) for g in window],
                    "pagination": {"page": page, "per_page": per_page, "total_count": len(groups)},
                }
            )

    def on_group_create(self, request: Request, ws: str) -> Response:
        body = self._object_body(request)
        name, perms, granular = self._group_fields(body, creating=True)
        with self.lock:
            self._group_ws(ws, status=400)
            entries = self._normalise_granular(ws, granular) if granular else None
            if name.lower() in ROLE_GROUP_NAMES:  # simulator's choice: the contract does not say
                raise _bad(f"{name} is a reserved group name")
            # simulator's choice: the contract does not say what a duplicate group name answers
            if any(g["name"].lower() == name.lower() for g in self.state.custom_groups(ws)):
                raise ApiError(409, f"Group name {name} already exists")
            group = self.state.add_custom_group(ws, name, perms)
            if entries:
                self._merge_granular(group, entries)
        return empty_response(201)

    def on_group_get(self, request: Request, ws: str, gid: str) -> Response:
        with self.lock:
            return json_response(self.group_json(self._group(ws, gid)))

    def on_group_update(self, request: Request, ws: str, gid: str) -> Response:
        body = self._object_body(request)
        name, perms, granular = self._group_fields(body, creating=False)
        with self.lock:
            group = self._group(ws, gid)
            entries = self._normalise_granular(ws, granular) if granular else None
            # simulator's choice: the contract does not say what a duplicate group name answers
            if name and any(
                g["name"].lower() == name.lower() and g["id"] != gid for g in self.state.custom_groups(ws)
            ):
                raise ApiError(409, f"Group name {name} already exists")
            if name:
                group["name"] = name
            group["permissions"].update(perms)
            if entries:
                self._merge_granular(group, entries)
            group["updatedAt"] = self.state.clock.stamp()
        return empty_response(204)

    def on_group_delete(self, request: Request, ws: str, gid: str) -> Response:
        with self.lock:
            group = self._group(ws, gid)
            del self.state.groups[group["id"]]
            for memberships in self.state.memberships.values():
                membership = memberships.get(ws)
                if membership:
                    membership["groups"].discard(group["id"])
        return empty_response(204)

    # -- optional v2 users API ------------------------------------------------------------------------------
    def _paging(self, request: Request) -> tuple[int, int]:
        try:
            page = int(request.args.get("page", 1))
            per_page = int(request.args.get("per_page", 20))
        except ValueError:
            raise _bad(["page must be an integer number"]) from None
        if page < 1 or per_page < 1 or per_page > 100:
            raise _bad(
                ["per_page must not be greater than 100"] if per_page > 100 else ["page must be positive"]
            )
        return page, per_page

    def on_v2_users_list(self, request: Request) -> Response:
        page, per_page = self._paging(request)
        search = request.args.get("search", "").strip().lower()
        status = request.args.get("status", "").strip()
        if status and status not in ACCOUNT_STATUSES:
            raise _bad([f"status must be one of the following values: {', '.join(ACCOUNT_STATUSES)}"])
        with self.lock:
            users = [
                u
                for u in self.state.users.values()
                if (not status or u["status"] == status)
                and (not search or search in f"{u['firstName']} {u['lastName']} {u['email']}".lower())
            ]
            window = users[(page - 1) * per_page : page * per_page]
            return json_response(
                {
                    "data": [self.user_json(request, u) for u in window],
                    "pagination": {"page": page, "per_page": per_page, "total_count": len(users)},
                }
            )

    def on_v2_user_get(self, request: Request, ref: str) -> Response:
        with self.lock:
            return json_response(self.user_json(request, self._user(ref)))

    def on_v2_user_update(self, request: Request, ref: str) -> Response:
        return self.on_user_update(request, ref)  # validates the body before looking the user up

    def _v2_archive(self, ref: str, archive: bool) -> Response:
        with self.lock:
            user = self._user(ref)
            if (user["status"] == "archived") == archive:
                raise ApiError(409, "User is already archived" if archive else "User is not archived")
            user["status"] = "archived" if archive else "active"
            for membership in self.state.memberships[user["id"]].values():
                membership["status"] = "archived" if archive else "active"
            return json_response({"id": user["id"], "status": user["status"]}, 201)

    def on_v2_user_archive(self, request: Request, ref: str) -> Response:
        return self._v2_archive(ref, True)

    def on_v2_user_unarchive(self, request: Request, ref: str) -> Response:
        return self._v2_archive(ref, False)

    def on_v2_user_workspaces(self, request: Request, ref: str) -> Response:
        page, per_page = self._paging(request)
        with self.lock:
            user = self._user(ref)
            rows = []
            for n, (ws_id, membership) in enumerate(self.state.memberships[user["id"]].items()):
                ws = self.state.workspaces[ws_id]
                rows.append(
                    {
                        "id": ws_id,
                        "name": ws["name"],
                        "slug": ws["slug"],
                        "status": membership["status"],
                        "default": n == 0,
                    }
                )
            window = rows[(page - 1) * per_page : page * per_page]
            return json_response(
                {"data": window, "pagination": {"page": page, "per_page": per_page, "total_count": len(rows)}}
            )


def create_app(
    *,
    token: str,
    profile: str = "latest",
    users: int = 40,
    seed: int = 1,
    latency_ms: int = 0,
    **options: Any,
) -> ToolJetSimulator:
    return ToolJetSimulator(
        build_state(profile=profile, token=token, users=users, seed=seed, **options), latency_ms=latency_ms
    )
