"""ToolJet capability probe (tooljet.md §9): read-only calls only, never a mutating one."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from apps.providers.base import CAPABILITY_FLAGS, Capabilities, ProbeCheck, ProbeResult
from apps.providers.errors import (
    ForbiddenError,
    NotFoundError,
    ProviderError,
    RejectedError,
    UpstreamBroken,
)
from apps.providers.http import seg
from apps.providers.tooljet import mapping

if TYPE_CHECKING:
    from apps.providers.tooljet.client import ToolJetProvider

PROBE_EMAIL = "adminui-probe@invalid.example"


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
        return json.loads(response.read())
    head = b""
    for chunk in response.iter_bytes(1024):
        head += chunk
        if head.strip():
            break
    if head.lstrip()[:1] not in (b"[", b"{"):
        raise ValueError("not JSON")
    return None


def _route(
    provider: ToolJetProvider,
    path: str,
    *,
    prefix: str | None = None,
    params: Any = None,
    shape: Callable[[Any], bool] | None = None,
) -> tuple[str, str]:
    """→ (outcome, detail) with outcome in ok | rejected | absent | notfound | plan | error.

    "ok" needs a JSON body (checked against ``shape`` when given, which reads the whole, small, body)."""
    try:
        with provider.session.stream("GET", path, prefix=prefix, params=params, retry=False) as response:
            try:
                body = _json_body(response, full=shape is not None)
            except httpx.TransportError as exc:
                return "error", provider.session.stream_error(exc, method="GET", path=path).message
            except ValueError:
                return "error", f"GET {path} {NOT_JSON}."
            if shape is not None and not shape(body):
                return "error", f"GET {path} answered 200 with an unexpected JSON shape."
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


def probe(provider: ToolJetProvider, *, thorough: bool = False) -> ProbeResult:
    probed_at = datetime.now(UTC).isoformat(timespec="seconds")
    checks: list[ProbeCheck] = []
    flags: dict[str, bool] = dict.fromkeys(CAPABILITY_FLAGS, False)
    reasons: dict[str, str] = {}
    t0 = time.monotonic()
    try:
        workspaces = provider.session.json("GET", "/workspaces")
        if not isinstance(workspaces, list) or not all(isinstance(w, dict) for w in workspaces):
            raise UpstreamBroken(
                "The base URL answered GET /api/ext/workspaces with JSON that is not ToolJet's workspace list: "
                "check the base URL (it must be the ToolJet instance, including any SUB_PATH).",
                status_code=200,
                request_id=provider.config.request_id,
                method="GET",
                path="/api/ext/workspaces",
            )
    except ProviderError as exc:
        latency = (time.monotonic() - t0) * 1000
        message = exc.message
        if isinstance(exc, NotFoundError):
            message = (
                "The ToolJet external API was not found at this base URL: check the sub-path (SUB_PATH), or this is "
                "the Community Edition, which has no external API."
            )
        reasons = dict.fromkeys(CAPABILITY_FLAGS, message)
        return ProbeResult(
            ok=False,
            capabilities=Capabilities(reasons=reasons, probed_at=probed_at),
            latency_ms=round(latency, 1),
            message=message,
            checks=(ProbeCheck("reachable_and_authenticated", False, message),),
            error=exc.to_dict(),
            probed_at=probed_at,
        )
    latency = (time.monotonic() - t0) * 1000
    checks.append(ProbeCheck("reachable_and_authenticated", True, f"{len(workspaces)} workspace(s)"))
    for flag in ("supports_users", "supports_user_create", "supports_status_change", "supports_workspaces"):
        flags[flag] = True
    ws_id = str(workspaces[0].get("id")) if workspaces and isinstance(workspaces[0], dict) else None

    # apps (also stands in for the role route, which arrived earlier: never probed with a PUT)
    outcome, detail = _route(provider, "/workspace/not-a-uuid/apps")
    apps = outcome == "rejected"
    checks.append(ProbeCheck("apps", apps, detail))
    for flag in ("supports_app_list", "supports_app_export", "supports_app_import", "supports_role_change"):
        flags[flag] = apps
    if not apps:
        why = "This ToolJet version has no app list/export/import API (needs 3.5.7 EE LTS or later)."
        if outcome == "error":
            why = f"The app API check failed: {detail}"
        for flag in ("supports_app_list", "supports_app_export", "supports_app_import"):
            reasons[flag] = why
        reasons["supports_role_change"] = "This ToolJet version has no role-change API (needs 3.x)."

    if ws_id:
        outcome, detail = _route(
            provider, f"/workspace/{seg(ws_id)}/groups", params={"per_page": 1}, shape=_paged
        )
        flags["supports_groups"] = flags["supports_group_crud"] = outcome == "ok"
        checks.append(ProbeCheck("groups", outcome == "ok", detail))
        if outcome != "ok":
            reasons["supports_groups"] = reasons["supports_group_crud"] = (
                "This ToolJet version has no groups API (added in 2026-03 builds)."
                if outcome in ("absent", "notfound")
                else f"The groups check failed: {detail}"
            )
        outcome, detail = _route(provider, f"/workspace/{seg(ws_id)}/user/{seg(PROBE_EMAIL)}")
        # a 404 that is not "Cannot GET" means the route exists and only our made-up user is unknown
        flags["supports_metadata"] = outcome in ("ok", "notfound")
        checks.append(ProbeCheck("metadata", flags["supports_metadata"], detail))
        if not flags["supports_metadata"]:
            reasons["supports_metadata"] = (
                "This ToolJet version has no user metadata API (added 2026-02, LTS backport 2026-06)."
                if outcome == "absent"
                else f"The metadata check failed: {detail}"
            )
    else:
        for flag in ("supports_groups", "supports_group_crud", "supports_metadata"):
            reasons[flag] = "The instance has no workspace to test this with."

    if thorough:
        outcome, detail = _route(provider, "/users", params={"status": "bogus"})
        flags["supports_status_filter"] = outcome == "rejected"
        checks.append(ProbeCheck("status_filter", flags["supports_status_filter"], detail))
        if not flags["supports_status_filter"]:
            reasons["supports_status_filter"] = (
                "This ToolJet version ignores the status filter; the console filters locally."
            )
    else:
        # the status filter (2026-07) arrived after groups (2026-03): infer, confirm on a full test
        flags["supports_status_filter"] = flags["supports_groups"]
        if not flags["supports_status_filter"]:
            reasons["supports_status_filter"] = (
                "Probably not supported by this version; the console filters locally."
            )

    outcome, detail = _route(provider, "/users", prefix="/api/v2/ext", params={"per_page": 1}, shape=_paged)
    flags["supports_v2_users"] = outcome == "ok"
    checks.append(ProbeCheck("v2_users", outcome == "ok", detail))
    if outcome != "ok":
        reasons["supports_v2_users"] = (
            "The plan does not include the v2 users API."
            if outcome == "plan"
            else "No v2 users API on this version."
        )

    reasons["supports_group_members"] = (
        "ToolJet has no group-membership API: custom groups are set on each workspace membership."
    )
    reasons["supports_user_attributes"] = "Retool only; ToolJet uses per-workspace user metadata."
    reasons["supports_app_clone"] = "ToolJet has no clone API; use export and import."
    reasons["supports_spaces"] = "Retool only; ToolJet has workspaces."
    caps = Capabilities(
        **flags,
        roles=mapping.ROLES,
        reasons={k: v for k, v in reasons.items() if not flags.get(k)},
        probed_at=probed_at,
    )
    missing = [c.name for c in checks if not c.ok]
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
