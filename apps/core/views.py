from __future__ import annotations

import sys

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from apps.core.alerts import alert_response
from apps.core.http import HtmxHttpRequest
from apps.core.logging import database_down


@require_safe
@login_not_required
@never_cache
def healthz(request: HtmxHttpRequest) -> HttpResponse:
    """Liveness: the process answers. Touches neither the database nor any upstream."""
    return HttpResponse("ok", content_type="text/plain")


@require_safe
@login_not_required
@never_cache
def readyz(request: HtmxHttpRequest) -> HttpResponse:
    """Readiness: the database answers. Upstream instances never affect it."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


def permission_denied(request: HtmxHttpRequest, exception=None) -> HttpResponse:
    """403 with the reason the refusal gave (the change policy's plain sentence), or the general one."""
    reason = str(exception or "").strip() if exception is not None else ""
    if getattr(request, "htmx", False):
        return alert_response(request, reason or "You do not have permission to do that.", status=403)
    return render(request, "403.html", {"reason": reason}, status=403)


def page_not_found(request: HtmxHttpRequest, exception=None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HtmxHttpRequest) -> HttpResponse:
    """Rendered without the request's context (no session, no user, no database): it must work when they fail.
    A database that does not answer is a 503 with its own page: the operator can only wait or call an admin."""
    context = {"request_id": getattr(request, "request_id", "")}
    if database_down(sys.exc_info()[1]):
        response = HttpResponse(render_to_string("503.html", context), status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponse(render_to_string("500.html", context), status=500)


def bad_request(request: HtmxHttpRequest, exception=None) -> HttpResponse:
    return render(request, "400.html", status=400)
