"""Every refused POST by a signed-in operator leaves a ``denied`` audit row: what was tried (the URL name and its
arguments), on which connection, and the reason given. One place for every view: refusals a service already
recorded (inside ``audited``) are not recorded twice, and ``audit_denied`` throttles a loop to one row a minute per
(operator, URL name, target)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from apps.audit.models import AuditEvent
from apps.audit.services import audit_denied, is_audited, mark_audited
from apps.connections.models import Connection

# URL arguments that name what a request was about, in the order a target is described
_TARGET_KWARGS = ("user_id", "group_id", "app_id", "bundle_id", "plan_id", "pk", "sequence", "email", "slug")


def record_refusal(request, exc: PermissionDenied) -> None:
    """Write the (throttled) denied row for a refused POST, unless it was recorded already."""
    user = getattr(request, "user", None)
    if request.method != "POST" or user is None or not user.is_authenticated or is_audited(exc):
        return
    match = getattr(request, "resolver_match", None)
    url_name = match.view_name if match else ""
    kwargs = {k: str(v) for k, v in (match.kwargs if match else {}).items()}
    slug = kwargs.get("slug", "")
    connection = Connection.objects.filter(slug=slug).first() if slug else None
    target = next((kwargs[k] for k in _TARGET_KWARGS if kwargs.get(k)), "")
    audit_denied(
        throttle=(user.pk, url_name, tuple(sorted(kwargs.items()))),
        action=AuditEvent.Action.REQUEST_DENIED,
        actor=user,
        connection=connection,
        target_type="url",
        target_id=target,
        target_repr=f"POST {request.path}"[:300],
        error=str(exc) or "Your role does not allow this.",
        extra={"url_name": url_name, "kwargs": kwargs},
    )
    mark_audited(exc)


class DeniedRequestAuditMiddleware:
    """``process_exception`` for PermissionDenied raised by a view (or its decorators): record, then let Django's
    403 handler answer with the reason."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied):
            record_refusal(request, exception)
        return None
