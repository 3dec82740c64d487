from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "apps.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from apps.audit import receivers

        user_logged_in.connect(receivers.record_login, dispatch_uid="audit.record_login")
        user_logged_out.connect(receivers.record_logout, dispatch_uid="audit.record_logout")
        user_login_failed.connect(receivers.record_login_failed, dispatch_uid="audit.record_login_failed")
