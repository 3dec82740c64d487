"""ToolJet capability probe (tooljet.md §9): read-only calls only, never a mutating one."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from apps.providers import jsonguard
from apps.providers.base import CAPABILITY_FLAGS, Capabilities, ConnectionConfig, ProbeCheck, ProbeResult
from apps.providers.errors import (
    AuthError,
    ForbiddenError,
    NotFoundError,
    ProviderError,
    RejectedError,
    UpstreamBroken,
    describe_answer,
    token_rejected_message,
)
from apps.providers.http import Session, seg
from apps.providers.tooljet.vocabulary import ROLES


class Probed(Protocol):
    """What the probe uses of a provider: the client calls the probe, never the other way round."""

    session: Session
    config: ConnectionConfig


PROBE_EMAIL = "adminui-probe@invalid.example"
CREATE_STATUSES = ("invited", "active", "archived")  # 3.x: `invited` is the default
CREATE_STATUSES_2X = ("active", "archived")
# plain names of the checks, for the headline ("Not available on this instance: …")
PLAIN = {
    "apps": "apps (list, export, import)",
    "role_change": "role change",
    "groups": "groups",
    "metadata": "user metadata",
    "status_filter": "status filter",
    "v2_users": "v2 users API",
}


def not_tooljet_message(status: int | None, what: str, kind: str) -> str:
    message = (
        f"This base URL does not look like a ToolJet API: GET /api/ext/workspaces answered HTTP {status} with "
        f"{what}, not ToolJet's JSON. Check the base URL: it must be the ToolJet instance's address, including any "
        "sub-path (SUB_PATH), with no proxy login page in the way."
    )
    if kind == "retool":
        message += " It looks like a Retool API: if so, change the connection's product to Retool."
    return message


def _first_call_message(exc: ProviderError) -> str:
    """The headline when ``GET /api/ext/workspaces`` fails: ToolJet's own answers keep their specific messages;
    anything that is not ToolJet's JSON (ToolJet never answers 401) says the URL is not a ToolJet API."""
    kind, what = describe_answer(exc.body, expected="ToolJet")
    status = exc.status_code
    if isinstance(exc, NotFoundError):
        if kind == "tooljet":
            return (
                "The ToolJet external API was not found at this base URL: check the sub-path (SUB_PATH), or this "
                "is the Community Edition, which has no external API."
            )
        return not_tooljet_message(status, what, kind)
    if isinstance(exc, AuthError | ForbiddenError) and status in (401, 403) and kind == "retool":
        return not_tooljet_message(status, what, kind)
    if isinstance(exc, AuthError) and status == 401 and kind != "html":
        # ToolJet itself answers 403, but a 401 from a gateway in front of it means the same: wrong token
        return token_rejected_message(status, what, kind, "ToolJet")
    if isinstance(exc, AuthError | ForbiddenError) and status == 403 and kind != "tooljet":
        return token_rejected_message(status, what, kind, "ToolJet")
    if isinstance(exc, ForbiddenError) and exc.reason == "other":  # not one of ToolJet's known refusals
        return token_rejected_message(status, what, kind, "ToolJet")
    if isinstance(exc, UpstreamBroken) and status == 200 and kind == "html":
        return not_tooljet_message(status, what, kind)
    return exc.message


def _workspace_list(body: Any) -> bool:
    return isinstance(body, list) and all(isinstance(w, dict) and w.get("id") for w in body)


NOT_JSON = (
    "answered 200 with something that is not the ToolJet API's JSON (an HTML page?): the base URL or a proxy "
    "is wrong"
)


def _json_body(response: Any, *, full: bool) -> Any:
    """The parsed body (``full``), or a peek at its first byte: a 200 HTML page must not count as "the route works"."""
    ctype = response.headers.get("content-type", "").lower()
    if "html" in ctype:
        raise ValueError(ctype)
    if full:
        return jsonguard.loads(response.read())
    head = b""
    for chunk in response.iter_bytes(1024):
        head += chunk
        if head.strip():
            break
    if head.lstrip()[:1] not in (b"[", b"{"):
        raise ValueError("not JSON")
    return None


def _route(
    provider: Probed,
    path: str,
    *,
    prefix: str | None = None,
    params: Any = None,
    shape: Callable[[Any], bool] | None = None,
    method: str = "GET",
    json_body: Any = None,
) -> tuple[str, str]:
    """→ (outcome, detail) with outcome in ok | rejected | absent | notfound | plan | error.

    "ok" needs a JSON body (checked against ``shape`` when given, which reads the whole, small, body). A
    ``method`` other than GET is only ever sent with a body the route must refuse (never a change)."""
    extra = {"json": json_body} if json_body is not None else {}
    try:
        with provider.session.stream(
            method, path, prefix=prefix, params=params, retry=False, **extra
        ) as response:
            try:
                body = _json_body(response, full=shape is not None)
            except httpx.TransportError as exc:
                return "error", provider.session.stream_error(exc, method=method, path=path).message
            except ValueError:
                return "error", f"{method} {path} {NOT_JSON}."
            if shape is not None and not shape(body):
                return "error", f"{method} {path} answered 200 with an unexpected JSON shape."
            return "ok", "200"
    except RejectedError as exc:
        return "rejected", f"HTTP {exc.status_code}"
    except NotFoundError as exc:
        if exc.upstream_message is None:  # an HTML or empty 404 is not ToolJet's answer: the route is unknown
            return "error", exc.message
        if (exc.upstream_message or "").startswith("Cannot "):
            return "absent", exc.upstream_message or "404"
        return "notfound", exc.upstream_message or "404"
    except ForbiddenError as exc:
        if exc.reason == "plan":
            return "plan", exc.message
        return "error", exc.message
    except ProviderError as exc:
        return "error", exc.message


def _paged(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and isinstance(body.get("data"), list)
        and isinstance(body.get("pagination"), dict)
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _absent_reason(outcome: str, detail: str, absent: str, what: str) -> str:
    """Why a capability is off: the route is absent (``absent`` text), the plan lacks it, or the check failed."""
    if outcome in ("absent", "notfound"):
        return absent
    if outcome == "plan":
        return detail
    if outcome == "ok":  # a deliberately invalid request was accepted: not the route we know
        return (
            f"The {what} check got an unexpected answer (a deliberately invalid test request was accepted)."
        )
    return f"The {what} check failed: {detail}"


def probe(provider: Probed, *, thorough: bool = False) -> ProbeResult:
    probed_at = datetime.now(UTC).isoformat(timespec="seconds")
    checks: list[ProbeCheck] = []
    flags: dict[str, bool] = dict.fromkeys(CAPABILITY_FLAGS, False)
    reasons: dict[str, str] = {}
    t0 = time.monotonic()
    try:
        workspaces = provider.session.json("GET", "/workspaces")
        if not _workspace_list(workspaces):
            kind, what = describe_answer(workspaces, expected="ToolJet")
            raise UpstreamBroken(
                not_tooljet_message(200, what, kind),
                status_code=200,
                request_id=provider.config.request_id,
                method="GET",
                path="/api/ext/workspaces",
            )
    except ProviderError as exc:
        latency = (time.monotonic() - t0) * 1000
        message = _first_call_message(exc)
        reasons = dict.fromkeys(CAPABILITY_FLAGS, message)
        return ProbeResult(
            ok=False,
            capabilities=Capabilities(reasons=reasons, probed_at=probed_at),
            latency_ms=round(latency, 1),
            message=message,
            checks=(ProbeCheck("reachable_and_authenticated", False, message),),
            error={**exc.to_dict(), "message": message},
            probed_at=probed_at,
        )
    latency = (time.monotonic() - t0) * 1000
    checks.append(
        ProbeCheck(
            "reachable_and_authenticated",
            True,
            f"ToolJet's API answered and accepted the token ({_count(len(workspaces), 'workspace')}).",
        )
    )
    for flag in ("supports_users", "supports_user_create", "supports_status_change", "supports_workspaces"):
        flags[flag] = True
    ws_id = str(workspaces[0].get("id")) if workspaces else None

    # Some checks send a deliberately invalid request on purpose (never a mutating one): a route that exists
    # refuses it (400, or "not found" for a made-up user), a route that does not exist answers "Cannot GET".
    # The details below say so in words, so an expected 400 never reads like a failure.

    # apps (3.5.7 and later)
    outcome, detail = _route(provider, "/workspace/not-a-uuid/apps")
    apps = outcome == "rejected"
    for flag in ("supports_app_list", "supports_app_export", "supports_app_import"):
        flags[flag] = apps
    if apps:
        note = (
            "The app routes exist: a test request with a made-up workspace id was refused as invalid "
            f"({detail}), as expected."
        )
    else:
        note = _absent_reason(
            outcome,
            detail,
            "This ToolJet version has no app list/export/import API (needs 3.5.7 EE LTS or later).",
            "app",
        )
        for flag in ("supports_app_list", "supports_app_export", "supports_app_import"):
            reasons[flag] = note
    checks.append(ProbeCheck("apps", apps, note))

    # role change: its own route (3.5.0 and later, before the app routes). A PUT without the required newRole
    # is refused by validation before anything runs; a version without the route answers "Cannot PUT".
    outcome, detail = _route(provider, "/update-user-role/workspace/not-a-uuid", method="PUT", json_body={})
    flags["supports_role_change"] = outcome == "rejected"
    if flags["supports_role_change"]:
        note = (
            "The role-change route exists: a test request without a role was refused as invalid "
            f"({detail}), as expected."
        )
    else:
        note = reasons["supports_role_change"] = _absent_reason(
            outcome, detail, "This ToolJet version has no role-change API (needs 3.x).", "role change"
        )
    checks.append(ProbeCheck("role_change", flags["supports_role_change"], note))
    # the `invited` status came with 3.x, as did the role route: a 2.x instance (no route at all) takes active or
    # archived and, asked for neither, archives the new user (tooljet.md §8)
    create_statuses = CREATE_STATUSES_2X if outcome == "absent" else CREATE_STATUSES

    if ws_id:
        outcome, detail = _route(
            provider, f"/workspace/{seg(ws_id)}/groups", params={"per_page": 1}, shape=_paged
        )
        flags["supports_groups"] = flags["supports_group_crud"] = outcome == "ok"
        note = ""
        if outcome != "ok":
            note = reasons["supports_groups"] = reasons["supports_group_crud"] = _absent_reason(
                outcome, detail, "This ToolJet version has no groups API (added in 2026-03 builds).", "groups"
            )
        checks.append(ProbeCheck("groups", outcome == "ok", note))

        outcome, detail = _route(provider, f"/workspace/{seg(ws_id)}/user/{seg(PROBE_EMAIL)}")
        # a 404 that is not "Cannot GET" means the route exists and only our made-up user is unknown
        flags["supports_metadata"] = outcome in ("ok", "notfound")
        if flags["supports_metadata"]:
            note = (
                f"The metadata route exists: asked about a made-up user, ToolJet answered “{detail}”, as expected."
                if outcome == "notfound"
                else ""
            )
        else:
            note = reasons["supports_metadata"] = _absent_reason(
                outcome,
                detail,
                "This ToolJet version has no user metadata API (added 2026-02, LTS backport 2026-06).",
                "metadata",
            )
        checks.append(ProbeCheck("metadata", flags["supports_metadata"], note))
    else:
        for flag in ("supports_groups", "supports_group_crud", "supports_metadata"):
            reasons[flag] = "The instance has no workspace to test this with."

    if thorough:
        outcome, detail = _route(provider, "/users", params={"status": "bogus"})
        flags["supports_status_filter"] = outcome == "rejected"
        if flags["supports_status_filter"]:
            note = (
                "ToolJet applies the status filter: a test request with a made-up status was refused as invalid "
                f"({detail}), as expected."
            )
        elif outcome == "ok":
            note = reasons["supports_status_filter"] = (
                "This ToolJet version ignores the status filter; the console filters locally."
            )
        else:
            note = reasons["supports_status_filter"] = (
                f"The status filter check failed ({detail}); the console filters locally."
            )
        checks.append(ProbeCheck("status_filter", flags["supports_status_filter"], note))
    else:
        # the status filter (2026-07) arrived after groups (2026-03): infer, confirm on a full test
        flags["supports_status_filter"] = flags["supports_groups"]
        if not flags["supports_status_filter"]:
            reasons["supports_status_filter"] = (
                "Probably not supported by this version; the console filters locally."
            )

    outcome, detail = _route(provider, "/users", prefix="/api/v2/ext", params={"per_page": 1}, shape=_paged)
    flags["supports_v2_users"] = outcome == "ok"
    note = ""
    if outcome != "ok":
        note = reasons["supports_v2_users"] = (
            "The plan does not include the v2 users API."
            if outcome == "plan"
            else _absent_reason(outcome, detail, "No v2 users API on this version.", "v2 users")
        )
    checks.append(ProbeCheck("v2_users", outcome == "ok", note))

    reasons["supports_group_members"] = (
        "ToolJet has no group-membership API: custom groups are set on each workspace membership."
    )
    reasons["supports_user_attributes"] = "Retool only; ToolJet uses per-workspace user metadata."
    reasons["supports_app_clone"] = "ToolJet has no clone API; use export and import."
    # app access is read from custom groups' granular permissions, so it comes with the groups API
    flags["supports_access"] = flags["supports_groups"]
    if not flags["supports_access"]:
        reasons["supports_access"] = (
            "App access is read from custom groups, and this instance has no groups API."
        )
    reasons["supports_access_grant"] = "ToolJet grants app access on a custom group's granular permissions."
    reasons["supports_folders"] = "ToolJet's external API has no folders."
    reasons["supports_invites"] = "ToolJet invites are workspace memberships with status invited."
    caps = Capabilities(
        **flags,
        roles=ROLES,
        create_statuses=create_statuses,
        reasons={k: v for k, v in reasons.items() if not flags.get(k)},
        probed_at=probed_at,
    )
    missing = [PLAIN[c.name] for c in checks if not c.ok and c.name in PLAIN]
    message = "Connected to ToolJet; token accepted."
    if missing:
        message += f" Not available on this instance: {', '.join(missing)}."
    return ProbeResult(
        ok=True,
        capabilities=caps,
        version=None,
        latency_ms=round(latency, 1),
        message=message,
        checks=tuple(checks),
        probed_at=probed_at,
    )
