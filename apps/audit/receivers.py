"""Sign-in events come from Django's auth signals (the one place we audit from a signal: there is no service
for them). `user_login_failed` hands us the submitted credentials: only the username is ever kept."""

from __future__ import annotations

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record


def _target(user) -> dict:
    return {"target_type": "operator", "target_id": str(user.pk), "target_repr": user.get_username()}


def record_login(sender, request, user, **kwargs) -> None:
    audit_record(action=AuditEvent.Action.AUTH_LOGIN, actor=user, **_target(user))


def record_logout(sender, request, user, **kwargs) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        return
    audit_record(action=AuditEvent.Action.AUTH_LOGOUT, actor=user, **_target(user))


def record_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str((credentials or {}).get("username", "") or "")[:150]
    audit_record(
        action=AuditEvent.Action.AUTH_LOGIN_FAILED,
        actor=username or None,
        target_type="operator",
        target_id="",
        target_repr=username,
        outcome=AuditEvent.Outcome.FAILURE,
        error="invalid credentials",
    )
