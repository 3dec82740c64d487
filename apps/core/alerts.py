"""One place that turns problems into operator-facing alerts (a fragment for htmx, a page otherwise).

The core imports no app built on it: those apps tell it, once at start-up (their ``AppConfig.ready``), which
exceptions are upstream failures to show as alerts and what an error page should show about where it happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import reswap, retarget

from apps.core.http import HtmxHttpRequest

logger = logging.getLogger(__name__)

# exception type → the status its alert answers with (None: 404 when the object is gone, else 502)
_upstream_errors: dict[type[Exception], int | None] = {}
_page_context_hooks: list[Callable[[HttpRequest], dict[str, Any]]] = []


def register_upstream_error(exc_type: type[Exception], *, status: int | None = None) -> None:
    """Exceptions of this type, when no view handled them, become a plain-language alert (never a 500 page).
    ``status`` fixes the alert's status for this type (and its subclasses, unless registered themselves)."""
    _upstream_errors[exc_type] = status


def is_upstream_error(exc: BaseException) -> bool:
    return isinstance(exc, tuple(_upstream_errors))


def _registered_status(exc: BaseException) -> int | None:
    for cls in type(exc).__mro__:
        if cls in _upstream_errors:
            return _upstream_errors[cls]
    return None


def register_page_context(hook: Callable[[HttpRequest], dict[str, Any]]) -> None:
    """``hook(request)`` adds to an alert page's context, e.g. the connection the failed page was about."""
    if hook not in _page_context_hooks:
        _page_context_hooks.append(hook)


def alert_response(
    request: HtmxHttpRequest, message: str, *, level: str = "error", status: int = 200, details=()
) -> HttpResponse:
    """An alert: for htmx requests a fragment retargeted to #alerts; for full requests the alert page."""
    context = {
        "level": level,
        "message": message,
        "details": list(details),
        "request_id": getattr(request, "request_id", ""),
    }
    if getattr(request, "htmx", False):
        response = render(request, "components/alert.html", context, status=status)
        return reswap(retarget(response, "#alerts"), "afterbegin")
    for hook in _page_context_hooks:
        context.update(hook(request))
    context["retry_url"] = request.get_full_path() if request.method == "GET" else ""
    return render(request, "core/alert_page.html", context, status=status)


# who may read an instance's own words in an alert (they may be anything it serves): those who act on instances
UPSTREAM_TEXT_PERMS = ("accounts.manage_connections", "accounts.change_people")


def _sees_upstream_text(user) -> bool:
    return user is not None and any(user.has_perm(perm) for perm in UPSTREAM_TEXT_PERMS)


def provider_error_response(request: HtmxHttpRequest, exc: Exception) -> HttpResponse:
    """Render an upstream failure (a registered upstream error) in plain language with our request id."""
    message = getattr(exc, "message", None) or "The instance did not answer as expected."
    details = getattr(exc, "details", None) or ()
    status = getattr(exc, "status_code", None)
    upstream = getattr(exc, "upstream_message", None)
    if (details or (upstream and upstream in message)) and not _sees_upstream_text(
        getattr(request, "user", None)
    ):
        # a read-only operator gets the plain fact, not the instance's own words (which may be anything it serves)
        details = ()
        message = (
            f"The instance answered with an error{f' (HTTP {status})' if status else ''}. An administrator can "
            "see the details."
        )
    logger.warning("upstream error shown to operator: %s (upstream status %s)", type(exc).__name__, status)
    # 404 when the instance says the object does not exist (the address names nothing); otherwise 502: the console
    # worked, the upstream did not. htmx requests still get the alert swapped in.
    missing = bool(getattr(exc, "object_missing", False))
    status = _registered_status(exc) or (404 if missing else 502)
    return alert_response(request, message, details=details, status=status)
