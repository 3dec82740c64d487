"""The audit trail: append-only, hash-chained `AuditEvent` rows.

Rows are written only by `apps.audit.services.audit_record` (and `audited`). The primary key *is* the chain's
sequence number (1, 2, 3 … without gaps), assigned under the chain-head lock. The model and its queryset refuse
updates and deletes; on PostgreSQL a trigger (migration 0002) rejects them in the database too. The only
permitted change is Django's own `SET_NULL` when an operator or connection is deleted: the FK columns are
navigation helpers, the evidential copies (`actor_username`, `connection_name`, …) are part of the hash.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager

from django.conf import settings
from django.db import models
from django.urls import reverse

GENESIS_HASH = ""

# Set (by services) while a row is being appended; save() refuses to insert otherwise.
_append_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar("audit_append_allowed", default=False)


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit row through the ORM."""


@contextmanager
def allow_append():
    """For apps.audit.services only: the window in which new rows may be inserted."""
    token = _append_allowed.set(True)
    try:
        yield
    finally:
        _append_allowed.reset(token)


# FK columns that Django's on_delete=SET_NULL may clear; nothing else may ever change.
_NULLABLE_REFS = frozenset({"actor", "actor_id", "connection", "connection_id"})


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if kwargs and set(kwargs) <= _NULLABLE_REFS and all(v is None for v in kwargs.values()):
            return super().update(**kwargs)  # SET_NULL cascade from a deleted operator/connection
        raise AppendOnlyError("audit events cannot be updated")

    def delete(self):
        raise AppendOnlyError("audit events cannot be deleted (use `manage.py audit_prune`)")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("audit events cannot be updated")

    def bulk_create(self, objs, *args, **kwargs):
        if not _append_allowed.get():
            raise AppendOnlyError("audit events are written only by apps.audit.services.audit_record")
        return super().bulk_create(objs, *args, **kwargs)

    def update_or_create(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be updated")


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        CONNECTION_CREATE = "connection.create", "Connection created"
        CONNECTION_UPDATE = "connection.update", "Connection updated"
        CONNECTION_DELETE = "connection.delete", "Connection deleted"
        CONNECTION_TEST = "connection.test", "Connection tested"
        CONNECTION_ROTATE_KEYS = "connection.rotate_keys", "Connection keys rotated"
        USER_CREATE = "user.create", "User created"
        USER_UPDATE = "user.update", "User updated"
        USER_STATUS = "user.status", "User status changed"
        USER_ROLE = "user.role", "User role changed"
        USER_METADATA = "user.metadata", "User metadata changed"
        USER_WORKSPACES = "user.workspaces", "User workspaces changed"
        USER_ATTRIBUTE = "user.attribute", "User attribute changed"
        USER_ACCESS_REVOKE = "user.access_revoke", "User access revoked"
        GROUP_CREATE = "group.create", "Group created"
        GROUP_UPDATE = "group.update", "Group updated"
        GROUP_DELETE = "group.delete", "Group deleted"
        GROUP_MEMBER_ADD = "group.member_add", "Group member added"
        GROUP_MEMBER_REMOVE = "group.member_remove", "Group member removed"
        GROUP_MEMBER_ADMIN = "group.member_admin", "Group member admin flag changed"
        GROUP_ACCESS_GRANT = "group.access_grant", "Group access granted"
        GROUP_ACCESS_REVOKE = "group.access_revoke", "Group access revoked"
        APP_EXPORT = "app.export", "App exported"
        APP_IMPORT = "app.import", "App imported"
        APP_IMPORT_REJECTED = "app.import_rejected", "App import rejected"
        APP_COPY = "app.copy", "App copied"
        APP_CLONE = "app.clone", "App cloned"
        APP_BUNDLE = "app.bundle", "App bundle built"
        APP_BUNDLE_DOWNLOAD = "app.bundle_download", "App bundle downloaded"
        AUDIT_EXPORT = "audit.export", "Audit trail exported"
        AUDIT_PRUNE = "audit.prune", "Audit trail pruned"
        AUDIT_CHECKPOINT = "audit.checkpoint", "Audit chain checkpoint"
        AUTH_LOGIN = "auth.login", "Signed in"
        AUTH_LOGIN_FAILED = "auth.login_failed", "Sign-in failed"
        AUTH_LOGOUT = "auth.logout", "Signed out"
        DIRECTORY_SYNC = "directory.sync", "Directory synced"
        PLAN_APPROVE = "plan.approve", "Plan approved"
        PLAN_REJECT = "plan.reject", "Plan rejected"
        PLAN_APPLY = "plan.apply", "Plan applied"
        OPERATOR_CREATE = "operator.create", "Operator created"
        OPERATOR_ROLE = "operator.role", "Operator role changed"
        OPERATOR_SCOPE = "operator.scope", "Operator scope changed"
        OPERATOR_DISABLE = "operator.disable", "Operator disabled"
        OPERATOR_PASSWORD_RESET = "operator.password_reset", "Operator password reset"
        OPERATOR_TWO_FACTOR = "operator.two_factor", "Operator second factor set up"
        INVITE_CREATE = "invite.create", "User invited"
        INVITE_REVOKE = "invite.revoke", "User invite revoked"
        INVITE_RENEW = "invite.renew", "User invited again"
        REQUEST_DENIED = "request.denied", "Request refused"

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILURE = "failure", "Failure"
        DENIED = "denied", "Denied"
        UNKNOWN = "unknown", "Unknown (may have been applied)"

    sequence = models.PositiveBigIntegerField(primary_key=True, editable=False)
    created_at = models.DateTimeField(db_index=True, editable=False)

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=True,
    )
    actor_username = models.CharField(max_length=150, blank=True, db_index=True)
    remote_addr = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=128, blank=True, db_index=True)

    connection = models.ForeignKey(
        "connections.Connection", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connection_name = models.CharField(max_length=100, blank=True)
    connection_slug = models.CharField(max_length=60, blank=True, db_index=True)
    provider = models.CharField(
        max_length=16, blank=True, help_text="Connection kind at the time (tooljet, retool)."
    )

    action = models.CharField(max_length=40, choices=Action, db_index=True)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=200, blank=True)
    target_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    ticket = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome, default=Outcome.SUCCESS, db_index=True)
    error = models.TextField(blank=True)
    upstream_status = models.PositiveSmallIntegerField(null=True, blank=True)
    upstream_request_id = models.CharField(max_length=200, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-sequence"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            # The list reads newest first along one of these (selectors.event_page) and stops after a page, however
            # rare the filtered value is in the whole trail.
            models.Index(fields=["connection_slug", "sequence"], name="audit_connection_seq"),
            models.Index(fields=["actor_username", "sequence"], name="audit_actor_seq"),
            models.Index(fields=["action", "sequence"], name="audit_action_seq"),
            models.Index(fields=["outcome", "sequence"], name="audit_outcome_seq"),
            models.Index(fields=["target_type", "target_id", "sequence"], name="audit_target_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.target_repr or self.target_id}".strip()

    def get_absolute_url(self) -> str:
        return reverse("audit:event_detail", kwargs={"pk": self.pk})

    @property
    def member(self) -> str:
        """Who a group membership change was about (its target is the group): the e-mail where it was recorded,
        else the upstream user id."""
        if not self.action.startswith("group.member_"):
            return ""
        extra, after, before = self.extra or {}, self.after or {}, self.before or {}
        return str(
            extra.get("user_email") or after.get("user") or before.get("user") or extra.get("user_id") or ""
        )

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be updated")
        if not _append_allowed.get():
            raise AppendOnlyError("audit events are written only by apps.audit.services.audit_record")
        kwargs["force_insert"] = True
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted (use `manage.py audit_prune`)")


class AuditChainHead(models.Model):
    """A single row (pk=1) that writers lock (`select_for_update`) to serialize appends, so the chain never forks.
    It holds no state of its own: the head is always the AuditEvent with the highest sequence."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)

    def __str__(self) -> str:
        return "audit chain head lock"


class AuditVerification(models.Model):
    """The result of each `audit_verify` run; the audit page shows the latest."""

    checked_at = models.DateTimeField(db_index=True)
    ok = models.BooleanField()
    count = models.PositiveBigIntegerField(default=0)
    head_sequence = models.PositiveBigIntegerField(null=True, blank=True)
    head_hash = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-checked_at"]
        get_latest_by = "checked_at"

    def __str__(self) -> str:
        return f"{'OK' if self.ok else 'FAILED'} at {self.checked_at:%Y-%m-%d %H:%M:%S}"
