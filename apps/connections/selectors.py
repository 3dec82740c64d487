from __future__ import annotations

from django.http import Http404

from apps.connections.models import Connection


def connection_list():
    return Connection.objects.all().order_by("name")


def connection_get(slug: str) -> Connection:
    """The connection for a URL slug, or 404 (every operator sees every connection; roles limit actions)."""
    try:
        return Connection.objects.get(slug=slug)
    except Connection.DoesNotExist:
        raise Http404("No such connection") from None
