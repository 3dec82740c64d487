from __future__ import annotations

from django.conf import settings


def console(request):
    """Layout context: the connection switcher list (lazy: only evaluated when the nav renders)."""
    from apps.connections.models import Connection

    user = getattr(request, "user", None)
    nav_connections = (
        Connection.objects.only("name", "slug", "kind", "environment", "last_test_ok")
        if user and user.is_authenticated
        else ()
    )
    return {
        "require_reason": settings.ADMINUI_REQUIRE_REASON,
        "request_id": getattr(request, "request_id", ""),
        "nav_connections": nav_connections,
    }
