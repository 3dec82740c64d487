"""The Retool API v2 simulator (contract: shared/contracts/retool.md)."""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Callable
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from apps.simulators.people import make_rng, rng_uuid
from apps.simulators.retool.state import (
    ACCESS,
    FLAGS,
    LEVELS,
    PLAN_DENIED,
    QUERY_ACCESS,
    RetoolState,
    build_state,
)
from apps.simulators.server import (
    JSON,
    ApiError,
    SimulatorApp,
    empty_response,
    json_response,
    stream_json_array,
)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
USER_ID_RE = re.compile(r"^user_[a-z0-9]+$")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ATTR_NAME_RE = re.compile(r"^[a-z0-9_]+$")
USER_TYPES = ("default", "mobile", "embed")
FOLDER_TYPES = ("app", "workflow", "resource", "agent", "library")
DATA_TYPES = ("string", "number", "json")
PATCH_PATHS = {"/first_name", "/last_name", "/active", "/metadata", "/user_type"}
CREATE_USER_KEYS = {"email", "first_name", "last_name", "active", "metadata", "user_type"}
# seed 003 declares created_at/updated_at in the POST and PUT group bodies: accepted and ignored (the server sets them)
GROUP_TIMESTAMPS = ("created_at", "updated_at")
GROUP_KEYS = {"name", "members", "user_invites", "landing_page_app_id", *LEVELS, *FLAGS, *GROUP_TIMESTAMPS}
# PATCH /user_attributes/{id}: seed 003 allows only `replace` and names no paths; these three are the simulator's
# choice (the snake_case fields of the attribute that are neither ids nor the name users' metadata is keyed by)
ATTRIBUTE_PATCH = {
    "/label": ("label", lambda v: isinstance(v, str) and len(v) >= 2, "a string of at least 2 characters"),
    "/data_type": ("data_type", lambda v: v in DATA_TYPES, f"one of {', '.join(DATA_TYPES)}"),
    "/default_value": ("default_value", lambda v: v is None or isinstance(v, str), "a string or null"),
}
V2 = "/api/v2"

ROUTES = (
    ("users_list", "/users", "GET", "users:read"),
    ("user_create", "/users", "POST", "users:write"),
    ("user_get", "/users/<uid>", "GET", "users:read"),
    ("user_patch", "/users/<uid>", "PATCH", "users:write"),
    ("user_delete", "/users/<uid>", "DELETE", "users:write"),
    ("user_attr_set", "/users/<uid>/user_attributes", "POST", ("users:write", "user_attributes:write")),
    (
        "user_attr_delete",
        "/users/<uid>/user_attributes/<name>",
        "DELETE",
        ("users:write", "user_attributes:write"),
    ),
    ("attributes_list", "/user_attributes", "GET", ("user_attributes:read", "users:read")),
    ("attribute_create", "/user_attributes", "POST", "user_attributes:write"),
    ("attribute_update", "/user_attributes/<attr_id>", "PATCH", "user_attributes:write"),
    ("attribute_delete", "/user_attributes/<attr_id>", "DELETE", "user_attributes:write"),
    ("groups_list", "/groups", "GET", "groups:read"),
    ("group_create", "/groups", "POST", "groups:write"),
    ("group_get", "/groups/<gid>", "GET", "groups:read"),
    ("group_put", "/groups/<gid>", "PUT", "groups:write"),
    ("group_delete", "/groups/<gid>", "DELETE", "groups:write"),
    ("group_members_add", "/groups/<gid>/members", "POST", "groups:write"),
    ("group_member_remove", "/groups/<gid>/members/<uid>", "DELETE", "groups:write"),
    ("apps_list", "/apps", "GET", "apps:read"),
    ("app_clone", "/apps/cloneApp", "POST", "apps:write"),
    ("app_get", "/apps/<app_id>", "GET", "apps:read"),
    ("spaces_list", "/spaces", "GET", "spaces:read"),
    ("folders_list", "/folders", "GET", "folders:read"),
    ("folder_create", "/folders", "POST", "folders:write"),
    ("folder_get", "/folders/<folder_id>", "GET", "folders:read"),
    ("folder_patch", "/folders/<folder_id>", "PATCH", "folders:write"),
    ("folder_delete", "/folders/<folder_id>", "DELETE", "folders:write"),
    ("permissions_grant", "/permissions/grant", "POST", "permissions:write"),
    ("permissions_revoke", "/permissions/revoke", "POST", "permissions:write"),
    ("permissions_list_objects", "/permissions/listObjects", "POST", "permissions:read"),
    (
        "permissions_access_list",
        "/permissions/accessList/<object_type>/<object_id>",
        "GET",
        "permissions:read",
    ),
    ("invites_list", "/user_invites", "GET", "users:read"),
    ("invite_create", "/user_invites", "POST", "users:write"),
    ("invite_get", "/user_invites/<invite_id>", "GET", "users:read"),
    ("invite_delete", "/user_invites/<invite_id>", "DELETE", "users:write"),
    ("invite_attr_set", "/user_invites/<invite_id>/user_attributes", "POST", "users:write"),
    ("invite_attr_delete", "/user_invites/<invite_id>/user_attributes/<name>", "DELETE", "users:write"),
)
# the plan-gated family of each route (retool.md §10); routes not listed are on every plan
FAMILY = {
    name: family
    for name, path, _, _ in ROUTES
    for family in ("users", "groups", "folders", "permissions", "spaces")
    if (path == f"/{family}" or path.startswith(f"/{family}/")) and not name.startswith("user_attr")
}
SCOPES = {name: scope if isinstance(scope, tuple) else (scope,) for name, _, _, scope in ROUTES}

STATUS_OK = {
    "user_delete": "204",
    "group_delete": "204",
    "attribute_delete": "204",
    "folder_delete": "204",
    "invite_delete": "204",
}
# the spec's names (seed 003) for the route variables above
PATH_PARAMS = {
    "uid": ("userId", {"type": "string", "pattern": "user_([a-z0-9]+)"}),
    "gid": ("groupId", {"type": "string", "pattern": "^\\d+$"}),
    "app_id": ("appId", {"type": "string", "format": "uuid"}),
    "attr_id": ("id", {"type": "string", "format": "uuid"}),
    "name": ("attributeName", {"type": "string"}),
    "folder_id": ("folderId", {"type": "string"}),
    "object_type": (
        "objectType",
        {"type": "string", "enum": ["app", "folder", "resource", "workflow", "agent"]},
    ),
    "object_id": ("objectId", {"type": "string"}),
    "invite_id": ("userInviteId", {"type": "string"}),
}
_STRING = {"type": "string"}
_FLAG = {"type": "boolean", "nullable": True}
_PAGING = (
    ("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
    ("next_token", _STRING),
)
# the query parameters the simulator reads, named and typed as in seed 003
QUERY_PARAMS = {
    "users_list": (("email", _STRING), ("first_name", _STRING), ("last_name", _STRING), *_PAGING),
    "user_get": (("includeGroups", _FLAG),),
    "attribute_delete": (("update_existing_users", {"type": "string", "enum": ["true", "false"]}),),
    "group_get": (("excludeDisabledUsers", _FLAG),),
    "folder_delete": (("recursive", _FLAG),),
    "apps_list": (
        ("using_resource", {"type": "string", "format": "uuid"}),
        ("name_contains", {"type": "string", "minLength": 1, "maxLength": 255}),
        *_PAGING,
    ),
}


def openapi_stub(version: str) -> dict:
    """``GET /api/v2/spec``: the implemented operations, their scopes and success statuses (retool.md §1, §2)."""
    paths: dict[str, dict] = {}
    for name, path, method, scope in ROUTES:
        scopes = list(scope) if isinstance(scope, tuple) else [scope]
        params = [
            {"name": PATH_PARAMS[p][0], "in": "path", "required": True, "schema": PATH_PARAMS[p][1]}
            for p in re.findall(r"<(\w+)>", path)
        ]
        params += [{"name": q, "in": "query", "schema": schema} for q, schema in QUERY_PARAMS.get(name, ())]
        status = STATUS_OK.get(name, "200")
        op: dict = {
            "operationId": name,
            "security": [{"bearerAuth": scopes}],
            "parameters": params,
            "responses": {status: {"description": "No content" if status == "204" else "OK"}},
        }
        template = re.sub(r"<(\w+)>", lambda m: "{" + PATH_PARAMS[m.group(1)][0] + "}", path)
        paths.setdefault(template, {})[method.lower()] = op
    return {
        "openapi": "3.0.0",
        "info": {"title": "Retool API (simulator)", "version": version},
        "servers": [{"url": "/api/v2"}],
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }


def _bad(message: str) -> ApiError:
    return ApiError(400, message)


@functools.cache
def _url_map() -> Map:
    """The routes, compiled once per process: werkzeug compiles a builder for every rule (tens of ms per app),
    and a bound Map is only read afterwards, so every simulator instance shares it."""
    rules = [Rule(V2 + path, endpoint=name, methods=[method]) for name, path, method, _ in ROUTES]
    rules.append(Rule("/api/checkHealth", endpoint="check_health", methods=["GET"]))
    rules.append(Rule(V2 + "/spec", endpoint="spec", methods=["GET"]))
    return Map(rules, strict_slashes=False, merge_slashes=False)


class RetoolSimulator(SimulatorApp):
    kind = "retool"

    def __init__(self, state: RetoolState, *, latency_ms: int = 0) -> None:
        super().__init__(latency_ms=latency_ms)
        self.state = state
        self.url_map = _url_map()

    # -- framework hooks -------------------------------------------------------------------------------
    def error_response(
        self, request: Request, status: int, message: Any, headers: dict | None = None
    ) -> Response:
        return json_response({"success": False, "message": str(message)}, status, headers)

    def not_found(self, request: Request) -> Response:
        return self.error_response(request, 404, f"Route {request.method} {request.path} not found")

    def before(self, request: Request, endpoint: str) -> Response | None:
        if endpoint in ("check_health", "spec"):
            return None
        state = self.state
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else None
        scopes = state.tokens.get(token) if token else None
        if scopes is None:
            return self.error_response(request, 401, "Authentication failure")
        if not state.allow(token):
            headers = {"Retry-After": str(state.retry_after)} if state.retry_after is not None else None
            return self.error_response(request, 429, "Rate limit exceeded", headers)
        needed = SCOPES[endpoint]
        if not scopes & set(needed) or FAMILY.get(endpoint) in PLAN_DENIED[state.profile]:
            wanted = " or ".join(f'"{s}"' for s in needed)
            return self.error_response(
                request, 403, f'API token is missing one of {wanted} or one of "mcp:admin"'
            )
        return None

    def state_counts(self) -> dict:
        s = self.state
        return {
            "profile": s.profile,
            "version": s.version,
            "users": len(s.users),
            "groups": len(s.groups),
            "apps": len(s.apps),
            "user_attributes": len(s.attributes),
            "folders": len(s.folders),
            "user_invites": len(s.invites),
        }

    # -- helpers ---------------------------------------------------------------------------------------
    @staticmethod
    def body(request: Request) -> Any:
        raw = request.get_data(cache=True)
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise _bad("Invalid JSON in request body") from None

    def object_body(self, request: Request) -> dict:
        data = self.body(request)
        if not isinstance(data, dict):
            raise _bad("Request body must be a JSON object")
        return data

    def _user(self, uid: str) -> dict:
        if not USER_ID_RE.match(uid):
            raise _bad(f"Invalid user id {uid!r}")
        user = self.state.users.get(uid)
        if user is None:
            raise ApiError(404, f"User {uid} not found")
        return user

    def membership_index(self) -> dict[str, list[dict]]:
        index: dict[str, list[dict]] = {}
        for group in self.state.groups.values():
            for member in group["members"]:
                index.setdefault(member["id"], []).append(group)
        return index

    def user_json(self, user: dict, *, include_groups: bool = False, index: dict | None = None) -> dict:
        admin_ids = self.state.admin_group_ids()
        if index is not None:
            groups = index.get(user["id"], [])
        else:
            groups = [
                g for g in self.state.groups.values() if any(m["id"] == user["id"] for m in g["members"])
            ]
        data = {
            k: user[k]
            for k in (
                "id",
                "legacy_id",
                "first_name",
                "last_name",
                "created_at",
                "last_active",
                "email",
                "active",
            )
        }
        data["metadata"] = dict(user["metadata"])
        data["is_admin"] = any(g["id"] in admin_ids for g in groups)
        data["two_factor_auth_enabled"] = user["two_factor_auth_enabled"]
        data["user_type"] = user["user_type"]
        if include_groups:
            data["groups"] = [{"id": g["id"], "legacy_id": g["legacy_id"], "name": g["name"]} for g in groups]
        return data

    def group_json(self, group: dict, *, exclude_disabled: bool = False) -> dict:
        users = self.state.users
        members = []
        for m in group["members"]:
            user = users.get(m["id"])
            if user is None or (exclude_disabled and not user["active"]):
                continue
            members.append({"id": m["id"], "email": user["email"], "is_group_admin": m["is_group_admin"]})
        out = {"id": group["id"], "legacy_id": group["legacy_id"], "name": group["name"], "members": members}
        out.update({k: group[k] for k in LEVELS})
        out["user_invites"] = list(group["user_invites"])
        out.update({k: group[k] for k in FLAGS})
        out.update({k: group[k] for k in ("landing_page_app_id", "updated_at", "created_at")})
        return out

    def _token(self, offset: int) -> str:
        self.state.token_serial += 1
        raw = f"{offset}:{self.state.token_serial}:{self.state.seed}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _offset(token: str) -> int:
        try:
            padded = token + "=" * (-len(token) % 4)
            return int(base64.urlsafe_b64decode(padded.encode()).decode().split(":", 1)[0])
        except (ValueError, UnicodeDecodeError):
            raise _bad("Invalid next_token") from None

    def paginate(self, request: Request, items: list, serialise) -> Response:
        raw_limit = request.args.get("limit")
        if raw_limit is None:
            prefix = '{"success":true,"data":['
            suffix = f'],"total_count":{len(items)},"next_token":null,"has_more":false}}'

            def chunk(start: int, stop: int) -> list:
                with self.lock:
                    return [serialise(x) for x in items[start:stop]]

            return Response(stream_json_array(chunk, len(items), prefix, suffix), content_type=JSON)
        try:
            limit = int(raw_limit)
        except ValueError:
            raise _bad("limit must be an integer between 1 and 100") from None
        if not 1 <= limit <= 100:
            raise _bad("limit must be an integer between 1 and 100")
        token = request.args.get("next_token")
        offset = self._offset(token) if token else 0
        page = items[offset : offset + limit]
        has_more = offset + limit < len(items)
        return json_response(
            {
                "success": True,
                "data": [serialise(x) for x in page],
                "total_count": len(items),
                "next_token": self._token(offset + limit) if has_more else None,
                "has_more": has_more,
            }
        )

    @staticmethod
    def _check_name(value: Any, field: str) -> None:
        if not isinstance(value, str) or not 1 <= len(value) <= 36:
            raise _bad(f"{field} must be a string of 1 to 36 characters")

    # -- health ---------------------------------------------------------------------------------------------
    def on_check_health(self, request: Request) -> Response:
        return json_response({"status": "HEALTHY", "version": self.state.version})

    def on_spec(self, request: Request) -> Response:
        """A small OpenAPI 3 stub listing the operations this simulator implements (no auth, like the real one)."""
        return json_response(openapi_stub(self.state.version))

    # -- users ----------------------------------------------------------------------------------------------
    def on_users_list(self, request: Request) -> Response:
        filters = {
            k: request.args[k].lower() for k in ("email", "first_name", "last_name") if request.args.get(k)
        }
        with self.lock:
            users = [
                u
                for u in self.state.users.values()
                if all((u[k] or "").lower() == v for k, v in filters.items())
            ]
            index = self.membership_index()
            return self.paginate(request, users, lambda u: self.user_json(u, index=index))

    def on_user_create(self, request: Request) -> Response:
        body = self.object_body(request)
        unknown = set(body) - CREATE_USER_KEYS
        if unknown:
            raise _bad(f"Unknown properties: {', '.join(sorted(unknown))}")
        if not isinstance(body.get("email"), str) or not EMAIL_RE.match(body["email"]):
            raise _bad("email is required and must be a valid email address")
        self._check_name(body.get("first_name"), "first_name")
        self._check_name(body.get("last_name"), "last_name")
        if "active" in body and not isinstance(body["active"], bool):
            raise _bad("active must be a boolean")
        if "metadata" in body and not isinstance(body["metadata"], dict):
            raise _bad("metadata must be an object")
        if body.get("user_type", "default") not in USER_TYPES:
            raise _bad(f"user_type must be one of {', '.join(USER_TYPES)}")
        with self.lock:
            if body["email"].lower() in self.state.emails:
                raise _bad(f"User with email {body['email']} already exists")
            user = self.state.add_user(
                email=body["email"],
                first=body["first_name"],
                last=body["last_name"],
                active=body.get("active", True),
                metadata=body.get("metadata") or {},
                user_type=body.get("user_type", "default"),
            )
            for group in self.state.groups.values():
                if group["name"] == "All Users":
                    group["members"].append({"id": user["id"], "is_group_admin": False})
            return json_response({"success": True, "data": self.user_json(user)})

    def on_user_get(self, request: Request, uid: str) -> Response:
        with self.lock:
            user = self._user(uid)
            include = request.args.get("includeGroups", "").lower() == "true"
            return json_response({"success": True, "data": self.user_json(user, include_groups=include)})

    def on_user_patch(self, request: Request, uid: str) -> Response:
        body = self.body(request)
        with self.lock:
            user = self._user(uid)
            if not isinstance(body, dict) or not isinstance(body.get("operations"), list):
                raise _bad("Body must be an object with an operations array")
            changes = {}
            for op in body["operations"]:
                # simulator's choice: seed 003 also allows `remove`; retool.md §6 leaves it unverified, so 400
                if not isinstance(op, dict) or op.get("op") not in ("replace", "add"):
                    raise _bad("Each operation must be {op: replace, path, value}")
                path, value = op.get("path"), op.get("value")
                if path not in PATCH_PATHS:
                    raise _bad(f"Path {path} cannot be patched")
                key = path[1:]
                if key in ("first_name", "last_name"):
                    self._check_name(value, key)
                elif key == "active" and not isinstance(value, bool):
                    raise _bad("active must be a boolean")
                elif key == "metadata" and not isinstance(value, dict):
                    raise _bad("metadata must be an object")
                elif key == "user_type" and value not in USER_TYPES:
                    raise _bad(f"user_type must be one of {', '.join(USER_TYPES)}")
                changes[key] = value
            user.update(changes)
            return json_response({"success": True, "data": self.user_json(user)})

    def on_user_delete(self, request: Request, uid: str) -> Response:
        with self.lock:
            self._user(uid)["active"] = False
        return empty_response(204)

    def _attr_set(self, request: Request, holder: Callable[[], dict]) -> Response:
        """``POST …/user_attributes`` of a user or an invite: ``{name, value}``, a declared name, a string or null."""
        body = self.object_body(request)
        with self.lock:
            record = holder()
            name, value = body.get("name"), body.get("value", ...)
            if set(body) - {"name", "value"} or value is ...:
                raise _bad("Body must be {name, value}")
            if value is not None and not isinstance(value, str):
                raise _bad("value must be a string or null")
            if not any(a["name"] == name for a in self.state.attributes.values()):
                raise _bad(f"User attribute {name!r} does not exist")
            record["metadata"][name] = value
            return json_response({"success": True, "data": {"metadata": dict(record["metadata"])}})

    def _attr_delete(self, holder: Callable[[], dict], name: str) -> Response:
        with self.lock:
            record = holder()
            # simulator's choice: retool.md §12 pins the 400 for an undeclared name on POST only
            if not any(a["name"] == name for a in self.state.attributes.values()):
                raise _bad(f"User attribute {name!r} does not exist")
            record["metadata"].pop(name, None)
            return json_response({"success": True, "data": {"metadata": dict(record["metadata"])}})

    def on_user_attr_set(self, request: Request, uid: str) -> Response:
        return self._attr_set(request, lambda: self._user(uid))

    def on_user_attr_delete(self, request: Request, uid: str, name: str) -> Response:
        return self._attr_delete(lambda: self._user(uid), name)

    # -- org user attributes ------------------------------------------------------------------------------------
    def on_attributes_list(self, request: Request) -> Response:
        with self.lock:
            return json_response({"success": True, "data": [dict(a) for a in self.state.attributes.values()]})

    def _attribute_fields(self, body: dict, *, creating: bool) -> dict:
        out = {}
        if creating or "name" in body:
            name = body.get("name")
            if not isinstance(name, str) or not 1 <= len(name) <= 255 or not ATTR_NAME_RE.match(name):
                raise _bad("name must match ^[a-z0-9_]+$ (1 to 255 characters)")
            out["name"] = name
        if creating or "label" in body:
            if not isinstance(body.get("label"), str) or len(body["label"]) < 2:
                raise _bad("label must be a string of at least 2 characters")
            out["label"] = body["label"]
        if creating or "dataType" in body:
            if body.get("dataType") not in ("string", "number", "json"):
                raise _bad("dataType must be one of string, number, json")
            out["data_type"] = body["dataType"]
        if "defaultValue" in body:
            if body["defaultValue"] is not None and not isinstance(body["defaultValue"], str):
                raise _bad("defaultValue must be a string")
            out["default_value"] = body["defaultValue"]
        return out

    def on_attribute_create(self, request: Request) -> Response:
        body = self.object_body(request)
        fields = self._attribute_fields(body, creating=True)
        with self.lock:
            if any(a["name"] == fields["name"] for a in self.state.attributes.values()):
                raise ApiError(409, f"User attribute with name {fields['name']} already exists")
            attr_id = rng_uuid(
                make_rng(self.state.seed, f"attr:{fields['name']}:{len(self.state.attributes)}")
            )
            attr = {
                "id": attr_id,
                "name": fields["name"],
                "label": fields["label"],
                "data_type": fields["data_type"],
                "default_value": fields.get("default_value"),
                "intercom_attribute_name": None,
            }
            self.state.attributes[attr_id] = attr
            return json_response({"success": True, "data": dict(attr)})

    def _attribute(self, attr_id: str) -> dict:
        if not UUID_RE.fullmatch(attr_id):
            raise _bad(f"Invalid user attribute id {attr_id!r}")
        attr = self.state.attributes.get(attr_id)
        if attr is None:
            raise ApiError(404, f"User attribute {attr_id} not found")
        return attr

    @staticmethod
    def _attribute_operations(body: dict) -> dict:
        """Seed 003: ``{operations: [{op: "replace", path, value}], update_existing?}``, no other keys."""
        unknown = set(body) - {"operations", "update_existing"}
        if unknown or not isinstance(body.get("operations"), list):
            raise _bad("Body must be {operations: [{op: replace, path, value}], update_existing?}")
        if not isinstance(body.get("update_existing", False), bool):
            raise _bad("update_existing must be a boolean")
        changes = {}
        for op in body["operations"]:
            if not isinstance(op, dict) or op.get("op") != "replace" or not isinstance(op.get("path"), str):
                raise _bad("Each operation must be {op: replace, path, value}")
            if op["path"] not in ATTRIBUTE_PATCH:
                raise _bad(f"Path {op['path']} cannot be patched")
            key, valid, wanted = ATTRIBUTE_PATCH[op["path"]]
            if not valid(op.get("value")):
                raise _bad(f"{key} must be {wanted}")
            changes[key] = op.get("value")
        return changes

    def on_attribute_update(self, request: Request, attr_id: str) -> Response:
        changes = self._attribute_operations(self.object_body(request))
        with self.lock:
            attr = self._attribute(attr_id)
            # update_existing is accepted but changes no user: the contract does not say what it rewrites
            attr.update(changes)
            return json_response({"success": True, "data": dict(attr)})

    def on_attribute_delete(self, request: Request, attr_id: str) -> Response:
        with self.lock:
            attr = self.state.attributes.pop(self._attribute(attr_id)["id"])
            if request.args.get("update_existing_users", "").lower() == "true":
                for user in self.state.users.values():
                    user["metadata"].pop(attr["name"], None)
        return empty_response(204)

    # -- groups ---------------------------------------------------------------------------------------------
    def _group(self, gid: str) -> dict:
        if not gid.isdigit():
            raise _bad(f"Invalid group id {gid!r}")
        group = self.state.groups.get(int(gid))
        if group is None:
            raise ApiError(404, f"Group {gid} not found")
        return group

    def _members(self, raw: Any) -> list[dict]:
        if not isinstance(raw, list):
            raise _bad("members must be an array")
        out: dict[str, dict] = {}
        for m in raw:
            # seed 003 requires both keys in every entry (despite is_group_admin's `default: false`)
            if (
                not isinstance(m, dict)
                or not isinstance(m.get("id"), str)
                or not isinstance(m.get("is_group_admin"), bool)
            ):
                raise _bad("members entries must be {id, is_group_admin}, both required")
            if m["id"] not in self.state.users:  # simulator's choice: the contract does not say (400)
                raise _bad(f"User {m['id']} does not exist")
            out[m["id"]] = {"id": m["id"], "is_group_admin": m["is_group_admin"]}
        return list(out.values())

    def _group_fields(self, body: dict) -> dict:
        # simulator's choice: seed 003 does not forbid extra keys in group bodies; retool.md §12 rejects unknown
        # keys on create, and the simulator does the same on PUT so that client typos show up
        unknown = set(body) - GROUP_KEYS
        if unknown:
            raise _bad(f"Unknown properties: {', '.join(sorted(unknown))}")
        # PUT: seed 003 does not require name; the simulator does (a strict replace cannot reset a name)
        if not isinstance(body.get("name"), str) or not body["name"]:
            raise _bad("name is required")
        for key in GROUP_TIMESTAMPS:
            if key in body and not isinstance(body[key], str):
                raise _bad(f"{key} must be a string")
        fields: dict = {"name": body["name"]}
        for key in LEVELS:
            allowed = QUERY_ACCESS if key == "universal_query_library_access" else ACCESS
            value = body.get(key, "none")
            if value not in allowed:
                raise _bad(f"{key} must be one of {', '.join(allowed)}")
            fields[key] = value
        for key in FLAGS:
            value = body.get(key, False)
            if not isinstance(value, bool):
                raise _bad(f"{key} must be a boolean")
            fields[key] = value
        fields["members"] = self._members(body.get("members", []))
        invites = body.get("user_invites", [])
        if not isinstance(invites, list):
            raise _bad("user_invites must be an array")
        fields["user_invites"] = invites
        landing = body.get("landing_page_app_id")
        # simulator's choice: the contract does not say what an unknown landing page app answers
        if landing is not None and landing not in self.state.apps:
            raise _bad(f"App {landing} does not exist")
        fields["landing_page_app_id"] = landing
        return fields

    def on_groups_list(self, request: Request) -> Response:
        with self.lock:
            data = [self.group_json(g) for g in self.state.groups.values()]
            return json_response(
                {
                    "success": True,
                    "data": data,
                    "total_count": len(data),
                    "next_token": None,
                    "has_more": False,
                }
            )

    def on_group_create(self, request: Request) -> Response:
        body = self.object_body(request)
        with self.lock:
            fields = self._group_fields(body)
            # simulator's choice: the contract does not say what Retool does with a duplicate group name
            if any(g["name"] == fields["name"] for g in self.state.groups.values()):
                raise _bad(f"Group with name {fields['name']} already exists")
            group = self.state.add_group(fields.pop("name"))
            group.update(fields)
            return json_response({"success": True, "data": self.group_json(group)})

    def on_group_get(self, request: Request, gid: str) -> Response:
        with self.lock:
            exclude = request.args.get("excludeDisabledUsers", "").lower() == "true"
            return json_response(
                {"success": True, "data": self.group_json(self._group(gid), exclude_disabled=exclude)}
            )

    def on_group_put(self, request: Request, gid: str) -> Response:
        body = self.object_body(request)
        with self.lock:
            group = self._group(gid)
            fields = self._group_fields(body)
            group.update(fields)
            group["updated_at"] = self.state.clock.stamp()
            return json_response({"success": True, "data": self.group_json(group)})

    def on_group_delete(self, request: Request, gid: str) -> Response:
        with self.lock:
            del self.state.groups[self._group(gid)["id"]]
        return empty_response(204)

    def on_group_members_add(self, request: Request, gid: str) -> Response:
        body = self.object_body(request)
        with self.lock:
            group = self._group(gid)
            if "members" not in body:  # required; seed 003 does not forbid other keys, so they are ignored
                raise _bad("Body must be {members: [{id, is_group_admin}]}")
            current = {m["id"]: m for m in group["members"]}
            for m in self._members(body["members"]):
                if m["id"] in current:
                    current[m["id"]]["is_group_admin"] = m["is_group_admin"]
                else:
                    group["members"].append(m)
            group["updated_at"] = self.state.clock.stamp()
            return json_response({"success": True, "data": self.group_json(group)})

    def on_group_member_remove(self, request: Request, gid: str, uid: str) -> Response:
        with self.lock:
            group = self._group(gid)
            self._user(uid)
            # simulator's choice: the contract does not say what removing a non-member answers
            if not any(m["id"] == uid for m in group["members"]):
                raise ApiError(404, f"User {uid} is not a member of group {gid}")
            group["members"] = [m for m in group["members"] if m["id"] != uid]
            group["updated_at"] = self.state.clock.stamp()
            return json_response({"success": True, "data": self.group_json(group)})

    # -- apps and spaces --------------------------------------------------------------------------------------
    def _app(self, app_id: Any) -> dict:
        if not isinstance(app_id, str) or not UUID_RE.fullmatch(app_id):
            raise _bad(f"Invalid app id {app_id!r}")
        app = self.state.apps.get(app_id)
        if app is None:
            raise ApiError(404, f"App {app_id} not found")
        return app

    def on_apps_list(self, request: Request) -> Response:
        needle = request.args.get("name_contains")
        if needle is not None and not 1 <= len(needle) <= 255:
            raise _bad("name_contains must be 1 to 255 characters")
        resource = request.args.get("using_resource")
        if resource is not None and not UUID_RE.fullmatch(resource):
            raise _bad("using_resource must be a UUID")
        with self.lock:
            apps = [
                a
                for a in self.state.apps.values()
                if (not needle or needle.lower() in a["name"].lower())
                and (resource is None or resource in self.state.app_resources.get(a["id"], ()))
            ]
            return self.paginate(request, apps, dict)

    def on_app_get(self, request: Request, app_id: str) -> Response:
        with self.lock:
            return json_response({"success": True, "data": dict(self._app(app_id))})

    def on_app_clone(self, request: Request) -> Response:
        body = self.object_body(request)
        if set(body) - {"app_id", "new_app_name", "folder_id"}:
            raise _bad(
                f"Unknown properties: {', '.join(sorted(set(body) - {'app_id', 'new_app_name', 'folder_id'}))}"
            )
        if (
            not isinstance(body.get("app_id"), str)
            or not isinstance(body.get("new_app_name"), str)
            or not body["new_app_name"]
        ):
            raise _bad("app_id and new_app_name are required")
        with self.lock:
            source = self._app(body["app_id"])
            stamp = self.state.clock.stamp()
            app_id = rng_uuid(
                make_rng(self.state.seed, f"clone:{body['new_app_name']}:{len(self.state.apps)}")
            )
            clone = {
                **source,
                "id": app_id,
                "name": body["new_app_name"],
                "created_at": stamp,
                "updated_at": stamp,
                "shortlink": None,
                "protected": False,
                "release_version": "latest",
            }
            if body.get("folder_id"):
                clone["folder_id"] = body["folder_id"]
            self.state.apps[app_id] = clone
            self.state.app_resources[app_id] = list(self.state.app_resources.get(source["id"], ()))
            return json_response({"success": True, "data": dict(clone)})

    def on_spaces_list(self, request: Request) -> Response:
        with self.lock:
            data = [dict(s) for s in self.state.spaces]
            return json_response(
                {
                    "success": True,
                    "data": data,
                    "total_count": len(data),
                    "next_token": None,
                    "has_more": False,
                }
            )

    # -- folders (retool.md §9a) ------------------------------------------------------------------------------
    def _folder(self, folder_id: str) -> dict:
        folder = self.state.folders.get(folder_id)
        if folder is None:
            raise ApiError(404, f"Folder {folder_id} not found")
        return folder

    def _list_envelope(self, data: list) -> Response:
        return json_response(
            {"success": True, "data": data, "total_count": len(data), "next_token": None, "has_more": False}
        )

    def on_folders_list(self, request: Request) -> Response:
        with self.lock:
            return self._list_envelope([dict(f) for f in self.state.folders.values()])

    def on_folder_get(self, request: Request, folder_id: str) -> Response:
        with self.lock:
            return json_response({"success": True, "data": dict(self._folder(folder_id))})

    def _check_folder_name(
        self, name: Any, folder_type: str, parent_id: str | None, *, skip: str = ""
    ) -> None:
        if not isinstance(name, str) or not name:
            raise _bad("name is required")
        # the spec's 409 "same name exists"; simulator's choice: "same" means same type and same parent
        for f in self.state.folders.values():
            if (
                f["id"] != skip
                and f["name"] == name
                and f["folder_type"] == folder_type
                and f["parent_folder_id"] == parent_id
            ):
                raise ApiError(409, f"A folder named {name} already exists here")

    def on_folder_create(self, request: Request) -> Response:
        body = self.object_body(request)
        unknown = set(body) - {"name", "folder_type", "parent_folder_id"}
        if unknown:  # simulator's choice: extra keys are a bad structure (the spec's 422)
            raise ApiError(422, f"Unknown properties: {', '.join(sorted(unknown))}")
        folder_type = body.get("folder_type")
        if folder_type not in FOLDER_TYPES:
            raise ApiError(422, f"folder_type must be one of {', '.join(FOLDER_TYPES)}")
        with self.lock:
            parent_id = body.get("parent_folder_id")
            if parent_id is None:
                # simulator's choice: no parent means the type's root folder
                parent_id = next(
                    (
                        f["id"]
                        for f in self.state.folders.values()
                        if f["folder_type"] == folder_type and f["parent_folder_id"] is None
                    ),
                    None,
                )
            elif not isinstance(parent_id, str) or parent_id not in self.state.folders:
                raise ApiError(422, f"Parent folder {parent_id!r} does not exist")
            elif self.state.folders[parent_id]["folder_type"] != folder_type:
                raise ApiError(422, "The parent folder holds another type of object")
            self._check_folder_name(body.get("name"), folder_type, parent_id)
            folder = self.state.add_folder(body["name"], folder_type, parent_id)
            return json_response({"success": True, "data": dict(folder)})

    def on_folder_patch(self, request: Request, folder_id: str) -> Response:
        body = self.object_body(request)
        with self.lock:
            folder = self._folder(folder_id)
            if not isinstance(body.get("operations"), list) or set(body) != {"operations"}:
                raise _bad("Body must be {operations: [{op, path, value}]}")
            changes = {}
            for op in body["operations"]:
                # simulator's choice: the spec names no paths; renaming and moving are the ones that make sense
                if not isinstance(op, dict) or op.get("op") != "replace":
                    raise _bad("Each operation must be {op: replace, path, value}")
                if op.get("path") == "/name":
                    changes["name"] = op.get("value")
                elif op.get("path") == "/parent_folder_id":
                    parent = op.get("value")
                    if parent not in self.state.folders or parent == folder_id:
                        raise _bad(f"Parent folder {parent!r} does not exist")
                    changes["parent_folder_id"] = parent
                else:
                    raise _bad(f"Path {op.get('path')} cannot be patched")
            if folder["is_system_folder"]:  # simulator's choice: system folders keep their names and places
                raise _bad("System folders cannot be changed")
            self._check_folder_name(
                changes.get("name", folder["name"]),
                folder["folder_type"],
                changes.get("parent_folder_id", folder["parent_folder_id"]),
                skip=folder_id,
            )
            folder.update(changes)
            folder["updated_at"] = self.state.clock.stamp()
            return json_response({"success": True, "data": dict(folder)})

    def on_folder_delete(self, request: Request, folder_id: str) -> Response:
        with self.lock:
            folder = self._folder(folder_id)
            # simulator's choice: the contract does not say what deleting a system or non-empty folder answers
            if folder["is_system_folder"]:
                raise _bad("System folders cannot be deleted")
            doomed = [folder_id]
            for current in doomed:  # the folder and everything under it
                doomed += [f["id"] for f in self.state.folders.values() if f["parent_folder_id"] == current]
            apps = [a["id"] for a in self.state.apps.values() if a["folder_id"] in doomed]
            recursive = request.args.get("recursive", "").lower() == "true" and folder["folder_type"] == "app"
            # seed 003: `recursive` deletes the contents too, "only supported for app folders"
            if (len(doomed) > 1 or apps) and not recursive:
                raise _bad("The folder is not empty: delete its contents first, or pass recursive=true")
            for fid in doomed:
                del self.state.folders[fid]
            for app_id in apps:
                del self.state.apps[app_id]
            for held in self.state.grants.values():
                for key in [k for k in held if k[1] in doomed or k[1] in apps]:
                    del held[key]
        return empty_response(204)

    # -- permissions (retool.md §9a) --------------------------------------------------------------------------
    def _subject(self, raw: Any) -> tuple[str, Any]:
        if not isinstance(raw, dict) or set(raw) != {"id", "type"}:
            raise _bad("subject must be {id, type}")
        if raw["type"] == "group":
            if not isinstance(raw["id"], int) or isinstance(raw["id"], bool):
                raise _bad("A group subject id is a number")
            if raw["id"] not in self.state.groups:
                raise ApiError(404, f"Group {raw['id']} not found")
            return "group", raw["id"]
        if raw["type"] == "user":
            if not isinstance(raw["id"], str):
                raise _bad("A user subject id is a string")
            self._user(raw["id"])
            return "user", raw["id"]
        raise _bad("subject type must be group or user")

    def _object(self, raw: Any) -> tuple[str, str]:
        if not isinstance(raw, dict) or set(raw) != {"id", "type"} or not isinstance(raw.get("id"), str):
            raise _bad("object must be {id, type}")
        kind, object_id = raw["type"], raw["id"]
        if kind == "folder":
            self._folder(object_id)
        elif kind == "app":
            self._app(object_id)
        else:  # simulator's choice: resources, workflows and screens are out of scope (retool.md preamble)
            raise _bad(f"object type {kind!r} is not supported by this simulator")
        return kind, object_id

    def _held(self, subject: tuple[str, Any], kind: str) -> list[dict]:
        held = self.state.grants.get(subject, {})
        return [
            {"type": k, "id": oid, "access_level": level} for (k, oid), level in held.items() if k == kind
        ]

    def _permission_body(self, request: Request, keys: set[str]) -> dict:
        body = self.object_body(request)
        if set(body) - keys:  # simulator's choice (retool.md §9a): an extra key is a 400
            raise _bad(f"Unknown properties: {', '.join(sorted(set(body) - keys))}")
        return body

    def on_permissions_grant(self, request: Request) -> Response:
        body = self._permission_body(request, {"access_level", "object", "subject"})
        if body.get("access_level") not in ("use", "edit", "own"):
            raise _bad("access_level must be one of use, edit, own")
        with self.lock:
            subject = self._subject(body.get("subject"))
            kind, object_id = self._object(body.get("object"))
            # simulator's choice (retool.md §9a): a second grant of another level replaces the first. A folder
            # grant is stored once; the apps directly inside it inherit it when read (never sub-folders)
            self.state.grants.setdefault(subject, {})[(kind, object_id)] = body["access_level"]
            return self._list_envelope(self._held(subject, kind))

    def on_permissions_revoke(self, request: Request) -> Response:
        body = self._permission_body(request, {"object", "subject"})
        with self.lock:
            subject = self._subject(body.get("subject"))
            kind, object_id = self._object(body.get("object"))
            self.state.grants.get(subject, {}).pop((kind, object_id), None)
            return self._list_envelope(self._held(subject, kind))

    def on_permissions_list_objects(self, request: Request) -> Response:
        body = self._permission_body(request, {"object_type", "subject", "include_inherited_access"})
        kind = body.get("object_type")
        if kind not in ("folder", "app", "resource", "resource_configuration"):
            raise _bad("object_type must be one of folder, app, resource, resource_configuration")
        inherited = body.get("include_inherited_access", False)
        if not isinstance(inherited, bool):
            raise _bad("include_inherited_access must be a boolean")
        with self.lock:
            subject = self._subject(body.get("subject"))
            data = self._held(subject, kind)
            if inherited and kind == "app":
                # simulator's choice: "inherited" adds the apps directly inside folders the subject holds
                direct = {d["id"] for d in data}
                held = self.state.grants.get(subject, {})
                for app in self.state.apps.values():
                    level = held.get(("folder", app["folder_id"]))
                    if level and app["id"] not in direct:
                        data.append({"type": "app", "id": app["id"], "access_level": level})
            return self._list_envelope(data)

    def _sources(self, subject: tuple[str, Any], kind: str, object_id: str, folder_id: str | None) -> dict:
        """``{level, sources}`` of one subject on one object, or level "none"."""
        held = self.state.grants.get(subject, {})
        levels = []
        sources: dict = {}
        if (kind, object_id) in held:
            levels.append(held[(kind, object_id)])
            sources["direct"] = True
        if kind == "app" and folder_id and ("folder", folder_id) in held:
            levels.append(held[("folder", folder_id)])
            sources["inherited"] = {"id": folder_id, "type": "folder"}
        if subject[0] == "group":
            # simulator's choice: universal app access covers app folders too
            universal = self.state.groups[subject[1]]["universal_app_access"]
            if universal != "none":
                levels.append(universal)
                sources["universal"] = True
        return {"level": max(levels, key=ACCESS.index) if levels else "none", "sources": sources}

    def on_permissions_access_list(self, request: Request, object_type: str, object_id: str) -> Response:
        if object_type not in ("app", "folder", "resource", "workflow", "agent"):
            raise _bad("objectType must be one of app, folder, resource, workflow, agent")
        with self.lock:
            if object_type == "app":
                folder_id = self._app(object_id)["folder_id"]
            elif object_type == "folder":
                self._folder(object_id)
                folder_id = None
            else:  # simulator's choice: out of scope here
                raise _bad(f"objectType {object_type!r} is not supported by this simulator")
            groups_out, by_group = [], {}
            for gid in self.state.groups:
                found = self._sources(("group", gid), object_type, object_id, folder_id)
                if found["level"] != "none":
                    by_group[gid] = found["level"]
                    groups_out.append(
                        {
                            "subject": {"id": str(gid), "type": "group"},
                            "accessLevel": found["level"],
                            "sources": found["sources"],
                        }
                    )
            index = self.membership_index()
            users_out = []
            for uid in self.state.users:
                found = self._sources(("user", uid), object_type, object_id, folder_id)
                via = [g["id"] for g in index.get(uid, []) if g["id"] in by_group]
                levels = [found["level"], *(by_group[g] for g in via)]
                level = max(levels, key=ACCESS.index)
                if level == "none":
                    continue
                sources = dict(found["sources"])
                if via:
                    sources["groups"] = [{"id": str(g), "type": "group"} for g in via]
                users_out.append(
                    {"subject": {"id": uid, "type": "user"}, "accessLevel": level, "sources": sources}
                )
            return json_response(
                {"success": True, "data": {"group": groups_out, "user": users_out, "userInvite": []}}
            )

    # -- user invites (retool.md §6a) -------------------------------------------------------------------------
    def _invite(self, invite_id: str) -> dict:
        if not invite_id.isdigit():
            raise _bad(f"Invalid user invite id {invite_id!r}")
        invite = self.state.invites.get(int(invite_id))
        if invite is None:
            raise ApiError(404, f"User invite {invite_id} not found")
        return invite

    @staticmethod
    def invite_json(invite: dict) -> dict:
        return {
            k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
            for k, v in invite.items()
        }

    def on_invites_list(self, request: Request) -> Response:
        with self.lock:
            return self._list_envelope([self.invite_json(i) for i in self.state.invites.values()])

    def on_invite_get(self, request: Request, invite_id: str) -> Response:
        with self.lock:
            return json_response({"success": True, "data": self.invite_json(self._invite(invite_id))})

    def on_invite_create(self, request: Request) -> Response:
        body = self.object_body(request)
        unknown = set(body) - {"email", "defaultGroupIds", "metadata"}
        if unknown:
            raise _bad(f"Unknown properties: {', '.join(sorted(unknown))}")
        if not isinstance(body.get("email"), str) or not EMAIL_RE.match(body["email"]):
            raise _bad("email is required and must be a valid email address")
        group_ids = body.get("defaultGroupIds", [])
        if not isinstance(group_ids, list) or not all(
            isinstance(g, int) and not isinstance(g, bool) for g in group_ids
        ):
            raise _bad("defaultGroupIds must be an array of numbers")
        if "metadata" in body and not isinstance(body["metadata"], dict):
            raise _bad("metadata must be an object")
        with self.lock:
            for gid in group_ids:  # simulator's choice: an unknown group is refused (400)
                if gid not in self.state.groups:
                    raise _bad(f"Group {gid} does not exist")
            if (
                body["email"].lower() in self.state.emails
            ):  # simulator's choice: people already in are refused
                raise _bad(f"User with email {body['email']} already exists")
            # simulator's choice: the org's first user is the one inviting (invited_by is their e-mail)
            inviter = next(iter(self.state.users.values()))["email"]
            invite = self.state.add_invite(
                email=body["email"],
                group_ids=list(dict.fromkeys(group_ids)),
                metadata=body.get("metadata") or {},
                invited_by=inviter,
            )
            return json_response({"success": True, "data": self.invite_json(invite)})

    def on_invite_delete(self, request: Request, invite_id: str) -> Response:
        with self.lock:
            invite = self.state.invites.pop(self._invite(invite_id)["id"])
            for group in self.state.groups.values():
                group["user_invites"] = [
                    i for i in group["user_invites"] if not isinstance(i, dict) or i.get("id") != invite["id"]
                ]
        return empty_response(204)

    def on_invite_attr_set(self, request: Request, invite_id: str) -> Response:
        # simulator's choice: "the updated attributes" take the users' shape, {metadata}
        return self._attr_set(request, lambda: self._invite(invite_id))

    def on_invite_attr_delete(self, request: Request, invite_id: str, name: str) -> Response:
        return self._attr_delete(lambda: self._invite(invite_id), name)


def create_app(
    *,
    token: str,
    profile: str = "enterprise",
    users: int = 40,
    seed: int = 1,
    latency_ms: int = 0,
    **options: Any,
) -> RetoolSimulator:
    return RetoolSimulator(
        build_state(profile=profile, token=token, users=users, seed=seed, **options), latency_ms=latency_ms
    )
