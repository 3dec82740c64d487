"""Configuration checks (`manage.py check`, run at every start): a typo in the sign-in settings should stop a
deployment, not silently refuse everyone."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from apps.accounts.roles import ROLE_ORDER


@register()
def check_sign_in_settings(app_configs, **kwargs) -> list[Error]:
    errors = []
    for group, role in settings.ADMINUI_OIDC_ROLE_MAP.items():
        if role not in ROLE_ORDER:
            errors.append(
                Error(
                    f"ADMINUI_OIDC_ROLE_MAP maps {group!r} to {role!r}, which is not a role.",
                    hint=f"Use one of: {', '.join(ROLE_ORDER)}.",
                    id="accounts.E001",
                )
            )
    if (
        settings.ADMINUI_OIDC_ISSUER
        and settings.ADMINUI_OIDC_CLIENT_ID
        and not settings.ADMINUI_OIDC_ROLE_MAP
    ):
        errors.append(
            Error(
                "Single sign-on is configured but ADMINUI_OIDC_ROLE_MAP is empty: nobody could sign in with it.",
                hint="e.g. ADMINUI_OIDC_ROLE_MAP=adminui-admins=admin,adminui-helpdesk=helpdesk",
                id="accounts.E002",
            )
        )
    if not settings.ADMINUI_LOCAL_LOGIN and not (
        settings.ADMINUI_OIDC_ISSUER and settings.ADMINUI_OIDC_CLIENT_ID
    ):
        errors.append(
            Error(
                "ADMINUI_LOCAL_LOGIN=0 needs single sign-on (ADMINUI_OIDC_ISSUER and ADMINUI_OIDC_CLIENT_ID).",
                id="accounts.E003",
            )
        )
    return errors
