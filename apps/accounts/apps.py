from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Operators"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_migrate

        from apps.accounts import checks  # noqa: F401 - registers the sign-in settings checks
        from apps.accounts.reauth import record_sign_in_time
        from apps.accounts.roles import ensure_roles

        # after django.contrib.auth has created the permissions (it is earlier in INSTALLED_APPS)
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="adminui-ensure-roles")
        user_logged_in.connect(record_sign_in_time, dispatch_uid="adminui-sign-in-time")
