"""A net for writes that fail before their service runs.

A write view often reads first (the connection's workspaces, the group being edited) to build what its service
needs. When the instance cannot be reached, that read raises before the service's audited block opens, and the
attempted write would leave no row. ``audit_failed_write(action)`` on such a view writes the failure row for any
upstream error of a POST that no audited block recorded (``audited`` marks the errors it recorded)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from apps.audit.services import audit_record
from apps.connections.models import Connection
from apps.providers.errors import ProviderError


def audit_failed_write(action: str, *, target_type: str = "", target_kwarg: str = "") -> Callable:
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def inner(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except ProviderError as exc:
                if request.method == "POST" and not getattr(exc, "audited", False):
                    audit_record(
                        action=action,
                        actor=request.user,
                        connection=Connection.objects.filter(slug=kwargs.get("slug", "")).first(),
                        target_type=target_type,
                        target_id=str(kwargs.get(target_kwarg, "") if target_kwarg else ""),
                        reason=request.POST.get("reason", "")[:500],
                        ticket=request.POST.get("ticket", "")[:64],
                        outcome="failure",
                        error=exc.message,
                        upstream_status=exc.status_code,
                        upstream_request_id=exc.upstream_request_id or "",
                    )
                    exc.audited = True
                raise

        return inner

    return decorate
