from __future__ import annotations

from apps.accounts.scope import operator_scope
from apps.connections.models import Connection


def nav(request):
    """The connection switcher list (lazy: only evaluated when the nav renders)."""
    user = getattr(request, "user", None)
    nav_connections = (
        Connection.objects.filter(operator_scope(user).q()).only(
            "name", "slug", "kind", "environment", "last_test_ok"
        )
        if user and user.is_authenticated
        else ()
    )
    return {"nav_connections": nav_connections}
