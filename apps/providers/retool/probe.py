"""Retool capability probe (retool.md §10): read-only calls only, never a mutating one.

Before reading anything as a capability, the probe makes sure the base URL is a Retool API at all: the first
authenticated call (``GET /api/v2/users``, present in every v2 API since the 2.4.0 reference) must answer in Retool's
JSON (``{"success": true, "data": …}``, or ``{"success": false, "message": …}`` for a missing scope). Anything else
— an HTML page, a 404, another product's JSON — means "this is not a Retool API" and the probe fails. Only once
that is proven does a Retool-shaped 404 on a later route mean "this Retool is too old for that API".
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol

from apps.providers.base import CAPABILITY_FLAGS, Capabilities, ConnectionConfig, ProbeCheck, ProbeResult
from apps.providers.errors import (
    AuthError,
    ForbiddenError,
    NotFoundError,
    ProviderError,
    ProviderStatusError,
    UpstreamBroken,
    describe_answer,
    token_rejected_message,
)
from apps.providers.http import Session, seg
from apps.providers.retool.vocabulary import ROLES


class Probed(Protocol):
    """What the probe uses of a provider: the client calls the probe, never the other way round."""

    session: Session
    config: ConnectionConfig


# the capability routes probed after the users call, with their plain names (also used in the headline)
ROUTES = (
    ("groups", "/groups", None, "groups"),
    ("user_attributes", "/user_attributes", None, "user attributes"),
    ("apps", "/apps", {"limit": 1}, "apps"),
    ("folders", "/folders", None, "folders"),
    ("invites", "/user_invites", None, "user invites"),
)
PLAIN = {
    "users": "users",
    **{name: plain for name, _, _, plain in ROUTES},
    "permissions": "access permissions",
}


def not_retool_message(path: str, status: int | None, what: str, kind: str) -> str:
    message = (
        f"This base URL does not look like a Retool API: GET {path} answered HTTP {status} with {what}, not "
        "Retool's JSON. Check the base URL: it must be the address of the Retool instance or space (for example "
        "https://acme.retool.com), including any sub-path."
    )
    if kind == "tooljet":
        message += " It looks like a ToolJet instance: if so, change the connection's product to ToolJet."
    return message


def probe(provider: Probed, *, thorough: bool = False) -> ProbeResult:
    """Version, proof that this is Retool's API, then which of users/groups/attributes/apps answer."""
    probed_at = datetime.now(UTC).isoformat(timespec="seconds")
    checks: list[ProbeCheck] = []
    t0 = time.monotonic()

    def failed(exc: ProviderError, message: str | None = None) -> ProbeResult:
        message = message or exc.message
        checks.append(ProbeCheck("reachable_and_authenticated", False, message))
        return ProbeResult(
            ok=False,
            capabilities=Capabilities(reasons=dict.fromkeys(CAPABILITY_FLAGS, message), probed_at=probed_at),
            latency_ms=round((time.monotonic() - t0) * 1000, 1),
            message=message,
            checks=tuple(checks),
            error={**exc.to_dict(), "message": message},
            probed_at=probed_at,
        )

    # 1. version (no auth): useful, not proof: a proxy may hide it, and other servers may have the same path
    version = None
    try:
        health = provider.session.json("GET", "/api/checkHealth", prefix="")
        raw = health.get("version") if isinstance(health, dict) else None
        version = str(raw) if raw else None
        checks.append(
            ProbeCheck(
                "version",
                bool(version),
                f"Retool {version}." if version else "The health check answered without a version number.",
            )
        )
    except ProviderStatusError as exc:
        checks.append(
            ProbeCheck(
                "version",
                False,
                f"Retool's health check (GET /api/checkHealth) gave no version here (HTTP {exc.status_code}), so "
                "the version is unknown.",
            )
        )
    except ProviderError as exc:  # refused, DNS, TLS, timeout: nothing else will work either
        return failed(exc)
    latency = (time.monotonic() - t0) * 1000

    # 2. is it Retool, and is the token accepted? GET /users is in every v2 API (retool.md §3, drift 11)
    path = provider.session.url("/users")
    users: tuple[bool, str]
    try:
        body = provider.session.json("GET", "/users", params={"limit": 1})
    except AuthError as exc:
        kind, what = describe_answer(exc.body, expected="Retool")
        if kind == "tooljet":
            return failed(exc, not_retool_message(path, exc.status_code, what, kind))
        if kind in ("json", "text", "empty"):
            return failed(exc, token_rejected_message(exc.status_code, what, kind, "Retool"))
        return failed(exc)  # Retool's 401, or a proxy's login page (its own message says so)
    except ForbiddenError as exc:
        kind, what = describe_answer(exc.body, expected="Retool")
        if kind in ("json", "text", "empty"):
            return failed(exc, token_rejected_message(exc.status_code, what, kind, "Retool"))
        if kind != "retool":
            return failed(exc, not_retool_message(path, exc.status_code, what, kind))
        users = (False, exc.message)  # Retool's missing-scope answer: Business plan, or a narrow token
    except NotFoundError as exc:
        kind, what = describe_answer(exc.body, expected="Retool")
        return failed(exc, not_retool_message(path, exc.status_code, what, kind))
    except UpstreamBroken as exc:
        kind, what = describe_answer(exc.body, expected="Retool")
        if exc.status_code == 200 and kind == "html":
            return failed(exc, not_retool_message(path, 200, what, kind))
        return failed(exc)
    except ProviderError as exc:
        return failed(exc)
    else:
        if not (
            isinstance(body, dict) and body.get("success") is True and isinstance(body.get("data"), list)
        ):
            kind, what = describe_answer(body, expected="Retool")
            exc = UpstreamBroken(
                status_code=200, request_id=provider.config.request_id, method="GET", path=path
            )
            return failed(exc, not_retool_message(path, 200, what, kind))
        users = (True, "")
    checks.append(
        ProbeCheck("reachable_and_authenticated", True, "Retool's API answered and accepted the token.")
    )
    checks.append(ProbeCheck("users", *users))

    # 3. the other capabilities: 401 now means the token stopped working; 403 a scope or plan; 404 too old
    results: dict[str, tuple[bool, str]] = {"users": users}
    first_folder: list[str] = []
    for name, route, params, plain in ROUTES:
        route_path = provider.session.url(route)
        try:
            # parse the body: a proxy login page answers 200 with HTML, which must not count as "works"
            body = provider.session.json("GET", route, params=params)
            if isinstance(body, dict) and body.get("success") is True and "data" in body:
                results[name] = (True, "")
                if name == "folders" and isinstance(body["data"], list):
                    first_folder = [
                        str(f["id"]) for f in body["data"][:1] if isinstance(f, dict) and f.get("id")
                    ]
            else:
                results[name] = (
                    False,
                    f"GET {route_path} answered without Retool's {{success, data}} JSON, so this feature cannot "
                    "be used: a proxy in front of Retool may be changing the answers.",
                )
        except AuthError as exc:
            return failed(exc)
        except ForbiddenError as exc:
            results[name] = (False, exc.message)
        except NotFoundError as exc:
            kind, what = describe_answer(exc.body, expected="Retool")
            if kind == "retool":
                results[name] = (False, f"This Retool version has no {plain} API (too old for it).")
            else:
                results[name] = (
                    False,
                    f"GET {route_path} answered HTTP 404 with {what} instead of Retool's JSON, so it is unknown "
                    f"whether this Retool has the {plain} API: a proxy in front of it may be blocking the route.",
                )
        except ProviderError as exc:
            results[name] = (False, exc.message)
        checks.append(ProbeCheck(name, *results[name]))

    # 4. permissions: its own scope (permissions:read); read the access list of a folder we were shown
    if not results["folders"][0]:
        results["permissions"] = (
            False,
            "Access permissions need the folders API as well: " + results["folders"][1],
        )
    elif not first_folder:
        results["permissions"] = (False, "This org has no folder to test the permissions API with.")
    else:
        try:
            provider.session.json("GET", f"/permissions/accessList/folder/{seg(first_folder[0])}")
            results["permissions"] = (True, "")
        except AuthError as exc:
            return failed(exc)
        except ProviderError as exc:
            results["permissions"] = (False, exc.message)
    checks.append(ProbeCheck("permissions", *results["permissions"]))

    flags = dict.fromkeys(CAPABILITY_FLAGS, False)
    reasons: dict[str, str] = {}

    def grant(flag: str, check: str) -> None:
        ok, detail = results[check]
        flags[flag] = ok
        if not ok:
            reasons[flag] = detail

    for flag in ("supports_users", "supports_user_create", "supports_status_change"):
        grant(flag, "users")
    for flag in ("supports_groups", "supports_group_crud", "supports_group_members"):
        grant(flag, "groups")
    flags["supports_role_change"] = flags["supports_users"] and flags["supports_groups"]
    if not flags["supports_role_change"]:
        reasons["supports_role_change"] = (
            "Making an admin needs both the users and groups scopes (Enterprise)."
        )
    grant("supports_user_attributes", "user_attributes")
    grant("supports_app_list", "apps")
    grant("supports_app_clone", "apps")
    grant("supports_folders", "folders")
    grant("supports_access", "permissions")
    grant("supports_access_grant", "permissions")  # permissions:write cannot be probed without a write
    grant("supports_invites", "invites")
    reasons.update(
        {
            "supports_app_export": "Retool's public API has no app export; use Retool's own Export to JSON.",
            "supports_app_import": "Retool's public API has no app import; use Retool's own From JSON/ZIP.",
            "supports_metadata": "ToolJet only; Retool uses user attributes.",
            "supports_workspaces": "ToolJet only; each Retool space is its own connection.",
            "supports_v2_users": "ToolJet only.",
            "supports_status_filter": "Retool has no status filter; the console filters locally.",
        }
    )
    caps = Capabilities(
        **flags,
        roles=ROLES if flags["supports_role_change"] else (),
        reasons={k: v for k, v in reasons.items() if not flags.get(k)},
        probed_at=probed_at,
    )
    missing = [PLAIN[name] for name, (ok, _) in results.items() if not ok]
    message = "Connected to Retool" + (f" {version}" if version else "") + "; token accepted."
    if missing:
        message += f" Not available for this token or plan: {', '.join(missing)}."
    return ProbeResult(
        ok=True,
        capabilities=caps,
        version=version,
        latency_ms=round(latency, 1),
        message=message,
        checks=tuple(checks),
        probed_at=probed_at,
    )
