from __future__ import annotations

from django.conf import settings


def console(request):
    """Layout context the core owns (the connection switcher comes from apps.connections.context_processors)."""
    return {
        "require_reason": settings.ADMINUI_REQUIRE_REASON,
        "request_id": getattr(request, "request_id", ""),
    }
