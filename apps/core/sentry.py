"""Scrubbing for the optional Sentry reporting (SENTRY_DSN): nothing that grants access leaves the server."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

FILTERED = "[Filtered]"
_ALWAYS = re.compile(
    r"(?i)^(authorization|proxy-authorization|cookie|set-cookie|x-csrftoken|csrfmiddlewaretoken)$"
)


def _secret_name(name: Any) -> bool:
    name = str(name)
    return bool(_ALWAYS.match(name) or re.search(settings.ADMINUI_SECRET_KEY_PATTERN, name))


def _scrub(value: Any, depth: int = 0) -> Any:
    if depth > 8:
        return value
    if isinstance(value, dict):
        return {k: FILTERED if _secret_name(k) else _scrub(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, depth + 1) for v in value]
    return value


def before_send(event: dict, hint: dict | None = None) -> dict:
    """Replace every header, cookie, form field, local variable and extra whose name looks secret."""
    request = event.get("request")
    if isinstance(request, dict):
        for part in ("headers", "cookies", "data", "env"):
            if part in request:
                request[part] = _scrub(request[part]) if isinstance(request[part], dict) else FILTERED
        if request.get("query_string"):
            request["query_string"] = FILTERED
    for part in ("extra", "contexts"):
        if isinstance(event.get(part), dict):
            event[part] = _scrub(event[part])
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            if isinstance(frame.get("vars"), dict):
                frame["vars"] = _scrub(frame["vars"])
    for crumb in (event.get("breadcrumbs") or {}).get("values") or []:
        if isinstance(crumb.get("data"), dict):
            crumb["data"] = _scrub(crumb["data"])
    return event
