from __future__ import annotations

from django.http import Http404

from apps.connections.models import Connection


def connection_list(*, kind: str = "", environment: str = ""):
    """All connections by name, optionally only one product or environment (filters the operator picks)."""
    connections = Connection.objects.all().order_by("name")
    if kind:
        connections = connections.filter(kind=kind)
    if environment:
        connections = connections.filter(environment=environment)
    return connections


def connection_get(slug: str) -> Connection:
    """The connection for a URL slug, or 404 (every operator sees every connection; roles limit actions)."""
    try:
        return Connection.objects.get(slug=slug)
    except Connection.DoesNotExist:
        raise Http404("No such connection") from None
