"""/metrics and the readiness check. Both answer without a login; /metrics wants its token or network."""

from __future__ import annotations

import hmac
import ipaddress
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from prometheus_client import CONTENT_TYPE_LATEST

from apps.core import views as core_views
from apps.core.http import HtmxHttpRequest
from apps.ops.metrics import metrics_render
from apps.ops.workers import fresh_worker_ids

logger = logging.getLogger(__name__)


def _metrics_allowed(request: HtmxHttpRequest) -> bool:
    token = settings.ADMINUI_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    for network in settings.ADMINUI_METRICS_ALLOWED_NETWORKS:
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            logger.warning("ADMINUI_METRICS_ALLOWED_NETWORKS: %r is not a network", network)
    return False


@require_http_methods(["GET", "HEAD"])
@login_not_required
@never_cache
def metrics(request: HtmxHttpRequest) -> HttpResponse:
    if not _metrics_allowed(request):
        response = HttpResponse("metrics: a bearer token or an allowed network is required\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        response["Content-Type"] = "text/plain"
        return response
    return HttpResponse(metrics_render(), content_type=CONTENT_TYPE_LATEST)


def readiness_problems() -> list[str]:
    """The full check: the database answers, the cache answers, and a task worker has a fresh heartbeat."""
    problems = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return ["database unavailable"]  # the other checks need it
    try:
        cache.set("adminui:readyz", "1", timeout=30)
        if cache.get("adminui:readyz") != "1":
            problems.append("cache does not keep values")
    except Exception:  # noqa: BLE001 - any cache client error (redis, memcached) means unavailable
        problems.append("cache unavailable")
    try:
        if not fresh_worker_ids():
            problems.append(f"no task worker heartbeat in the last {settings.ADMINUI_WORKER_STALE_AFTER} s")
    except DatabaseError:
        problems.append("database unavailable")
    return problems


@require_http_methods(["GET", "HEAD"])
@login_not_required
@never_cache
def readyz(request: HtmxHttpRequest) -> HttpResponse:
    """``/readyz``: the cheap check of ``apps.core`` (the database answers); ``/readyz?full=1`` also wants the
    cache and a live task worker (for a monitor, not for a load balancer: one dead worker must not take every
    web host out of rotation)."""
    if request.GET.get("full") not in ("1", "true", "yes"):
        return core_views.readyz(request)
    problems = readiness_problems()
    if problems:
        return HttpResponse("\n".join(problems) + "\n", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")
