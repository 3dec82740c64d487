from __future__ import annotations

import re
from dataclasses import dataclass

from django.http import Http404, HttpRequest

from apps.accounts.roles import require
from apps.accounts.scope import operator_scope
from apps.connections.clients import connection_capabilities
from apps.connections.models import Connection
from apps.providers.errors import Unsupported


def connection_list(*, kind: str = "", environment: str = "", user=None):
    """All connections by name, optionally only one product or environment (filters the operator picks); with
    ``user``, only those the operator's scope covers (an operator never sees the others)."""
    connections = Connection.objects.all().order_by("name")
    if user is not None:
        connections = connections.filter(operator_scope(user).q())
    if kind:
        connections = connections.filter(kind=kind)
    if environment:
        connections = connections.filter(environment=environment)
    return connections


def connection_get(slug: str, user=None) -> Connection:
    """The connection for a URL slug, or 404 — also when ``user`` is given and their scope does not cover it (a
    connection outside an operator's scope does not exist for them)."""
    try:
        connection = Connection.objects.get(slug=slug)
    except Connection.DoesNotExist:
        raise Http404("No such connection") from None
    if user is not None and not operator_scope(user).covers(connection):
        raise Http404("No such connection")
    return connection


# The probes' check names (apps/providers/*/probe.py) as operators read them.
CHECK_LABELS = {
    "reachable_and_authenticated": "Reachable and token accepted",
    "reachable": "Reachable",  # Retool results stored before the version check had its own name
    "version": "Version",
    "users": "Users API",
    "groups": "Groups API",
    "user_attributes": "User attributes API",
    "metadata": "User metadata API",
    "apps": "Apps API",
    "status_filter": "Status filter on user lists",
    "v2_users": "Users API (v2)",
}
# checks whose failure fails the whole test; every other check is a capability that may simply be absent
_GATES = ("reachable_and_authenticated", "reachable")
# a bare status as the whole detail: results stored before the probes explained their answers in words
_BARE_CODE = re.compile(r"(HTTP )?\d{3}")


@dataclass(frozen=True)
class HealthCheck:
    label: str
    state: str  # ok | off (not available: neutral) | failed (the test failed here)
    status: str
    detail: str = ""
    code: str = ""

    @property
    def mark(self) -> str:
        return {"ok": "✓", "failed": "✗"}.get(self.state, "–")


def connection_for(request: HttpRequest, slug: str, perm: str, capability: str | None = None) -> Connection:
    """The connection a view acts on, checked once at the top of the view: the operator's permission
    (PermissionDenied), the connection in the URL (404) and, when given, a capability from its probe
    (``Unsupported``, which the core answers with one status wherever it is raised). A connection outside the
    operator's scope is a 404, like one that does not exist."""
    require(request.user, perm)
    connection = connection_get(slug, request.user)
    if capability is not None:
        caps = connection_capabilities(connection)
        if not getattr(caps, capability, False):
            message = caps.reason(capability) or "Not available on this connection."
            raise Unsupported(message, capability=capability)
    return connection


def connection_health_checks(connection: Connection) -> list[HealthCheck]:
    """The last test's checks for the health list: a tick only for what is available, a neutral mark and the
    reason for what is not, ✗ only where the connection itself failed."""
    last_test = connection.last_test or {}
    rows = []
    for check in last_test.get("checks") or ():
        name = str(check.get("name") or "")
        ok = bool(check.get("ok"))
        detail = str(check.get("detail") or "").strip()
        code = ""
        if _BARE_CODE.fullmatch(detail):
            code, detail = (detail if detail.startswith("HTTP") else f"HTTP {detail}"), ""
        if name in _GATES:
            state, status = ("ok", "Yes") if ok else ("failed", "No")
            if not ok and detail == last_test.get("message"):
                detail = ""  # the headline above already says it
        elif name == "version":
            state, status = ("ok", "Known") if ok else ("off", "Unknown")
        else:
            state, status = ("ok", "Available") if ok else ("off", "Not available")
        label = CHECK_LABELS.get(name) or name.replace("_", " ").capitalize()
        rows.append(HealthCheck(label=label, state=state, status=status, detail=detail, code=code))
    return rows
