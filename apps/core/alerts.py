"""One place that turns problems into operator-facing alerts (a fragment for htmx, a page otherwise)."""

from __future__ import annotations

import logging

from django.http import HttpResponse
from django.shortcuts import render
from django_htmx.http import reswap, retarget

from apps.core.http import HtmxHttpRequest
from apps.providers.errors import NotFoundError

logger = logging.getLogger(__name__)


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
    connection = _page_connection(request)
    context.update(
        connection=connection,
        connection_ctx=connection,  # the top bar's instance name and the production banner
        retry_url=request.get_full_path() if request.method == "GET" else "",
    )
    return render(request, "core/alert_page.html", context, status=status)


def _page_connection(request: HtmxHttpRequest):
    """The connection a /connections/<slug>/… page is about, so an error page keeps its name, tabs and banner."""
    match = getattr(request, "resolver_match", None)
    slug = match.kwargs.get("slug") if match else None
    if not slug:
        return None
    from apps.connections.models import Connection

    return Connection.objects.filter(slug=slug).first()


def _sees_upstream_text(user) -> bool:
    from apps.accounts.roles import Perm

    return user is not None and (user.has_perm(Perm.MANAGE_CONNECTIONS) or user.has_perm(Perm.CHANGE_PEOPLE))


def provider_error_response(request: HtmxHttpRequest, exc: Exception) -> HttpResponse:
    """Render an upstream failure (apps.providers.errors.ProviderError) in plain language with our request id."""
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
    missing = isinstance(exc, NotFoundError) and exc.object_missing
    return alert_response(request, message, details=details, status=404 if missing else 502)
