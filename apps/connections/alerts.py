"""What connections tell the core's alerts (the core imports no app built on it)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from apps.connections.models import Connection


def page_connection(request: HttpRequest) -> dict[str, Any]:
    """The connection a /connections/<slug>/… page is about, so an error page keeps its name, tabs and banner."""
    match = getattr(request, "resolver_match", None)
    slug = match.kwargs.get("slug") if match else None
    connection = Connection.objects.filter(slug=slug).first() if slug else None
    # connection_ctx: the top bar's instance name and the production banner
    return {"connection": connection, "connection_ctx": connection}
