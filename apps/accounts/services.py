"""Operator writes: single sign-on provisioning and the operator-management changes, each audited with a reason.
`actor` is the operator making the change, or None for the system (`manage.py operator`)."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import User
from apps.accounts.oidc import OIDCError
from apps.accounts.roles import ROLE_ORDER
from apps.accounts.scope import operator_scope
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record, audited


def _target(user: User) -> dict:
    return {"target_type": "operator", "target_id": str(user.pk), "target_repr": user.get_username()}


def role_of(user: User) -> str:
    names = set(user.groups.filter(name__in=ROLE_ORDER).values_list("name", flat=True))
    return next((r for r in reversed(ROLE_ORDER) if r in names), "")


def _set_role(user: User, role: str) -> None:
    user.groups.remove(*Group.objects.filter(name__in=ROLE_ORDER).exclude(name=role))
    if role:
        user.groups.add(Group.objects.get(name=role))
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)


def _scope_snapshot(user: User) -> dict:
    scope = operator_scope(user)
    return {
        "environments": sorted(scope.environments) if scope.environments is not None else None,
        "connections": sorted(scope.connection_ids) if scope.connection_ids is not None else None,
    }


def role_from_groups(groups) -> str:
    """The highest console role the IdP groups map to (ADMINUI_OIDC_ROLE_MAP), or ''."""
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list | tuple):
        return ""
    mapped = {settings.ADMINUI_OIDC_ROLE_MAP.get(str(g), "") for g in groups}
    return next((r for r in reversed(ROLE_ORDER) if r in mapped), "")


def environments_from_groups(groups) -> list[str] | None:
    """The environments the IdP groups limit the operator to (ADMINUI_OIDC_ENVIRONMENT_MAP), or None."""
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list | tuple) or not settings.ADMINUI_OIDC_ENVIRONMENT_MAP:
        return None
    found = {
        settings.ADMINUI_OIDC_ENVIRONMENT_MAP[g]
        for g in map(str, groups)
        if g in settings.ADMINUI_OIDC_ENVIRONMENT_MAP
    }
    return sorted(found) if found else None


def _free_username(wanted: str) -> str:
    base = re.sub(r"[^\w.@+-]", "", wanted)[:140] or "operator"
    name, n = base, 1
    while User.objects.filter(username__iexact=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def operator_sign_in_oidc(*, claims: dict) -> User:
    """The operator for these verified ID-token claims, created on first sign-in, with its role (and environment
    scope, when mapped) re-read from the groups claim. Raises OIDCError — after recording the refusal and removing
    any role the operator had — when no group maps to a role or the operator was disabled here."""
    subject = f"{settings.ADMINUI_OIDC_ISSUER} {claims['sub']}"
    groups = claims.get(settings.ADMINUI_OIDC_GROUPS_CLAIM, [])
    role = role_from_groups(groups)
    wanted = str(
        claims.get(settings.ADMINUI_OIDC_USERNAME_CLAIM) or claims.get("email") or f"sso-{claims['sub']}"
    )
    with transaction.atomic():
        user = User.objects.select_for_update().filter(oidc_subject=subject).first()
        created = user is None
        if created:
            if not role:
                user = None
            else:
                user = User(username=_free_username(wanted), sign_in=User.SignIn.OIDC, oidc_subject=subject)
                user.set_unusable_password()
        if user is not None:
            user.email = str(claims.get("email") or user.email)[:254]
            user.first_name = str(claims.get("given_name") or user.first_name)[:150]
            user.last_name = str(claims.get("family_name") or user.last_name)[:150]
            user.save()
            before_role = "" if created else role_of(user)
            if user.is_active:
                _set_role(user, role)
            environments = environments_from_groups(groups)
            if environments is not None and user.scope_environments != environments:
                user.scope_environments = environments
                user.save(update_fields=["scope_environments"])
    if user is not None and created:
        audit_record(
            action=AuditEvent.Action.OPERATOR_CREATE,
            actor=None,
            after={"role": role, "sign_in": "oidc"},
            reason="first single sign-on",
            **_target(user),
        )
    elif user is not None and before_role != role and user.is_active:
        audit_record(
            action=AuditEvent.Action.OPERATOR_ROLE,
            actor=None,
            before={"role": before_role},
            after={"role": role},
            reason="groups at the identity provider",
            **_target(user),
        )
    if user is not None and not user.is_active:
        raise OIDCError(
            "Your adminui account is disabled. Ask an adminui administrator.",
            detail="disabled in adminui",
            username=wanted,
        )
    if not role:
        raise OIDCError(
            "You signed in, but your account is not in a group that gives access to adminui. "
            "Ask an administrator to add you to the adminui group at your identity provider.",
            detail="no mapped group",
            username=wanted,
        )
    return user


def operator_sign_in_refused(*, error: OIDCError) -> None:
    """Record a refused single sign-on: the username when the IdP vouched for one, and why (never a token)."""
    audit_record(
        action=AuditEvent.Action.AUTH_LOGIN_FAILED,
        actor=error.username[:150] or None,
        target_type="operator",
        target_repr=error.username,
        outcome=AuditEvent.Outcome.DENIED,
        error=error.detail or error.message,
    )


def password_set_path(user: User) -> str:
    """The one-time path where `user` chooses a password (valid PASSWORD_RESET_TIMEOUT seconds, until used)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"/password/{uid}/{default_token_generator.make_token(user)}/"


def operator_create(
    *, actor, username: str, role: str, reason: str, email: str = "", ticket: str = ""
) -> tuple[User, str]:
    """Invite a local operator: no usable password yet; returns (operator, one-time password-set path)."""
    if role not in ROLE_ORDER:
        raise ValueError(f"unknown role {role!r}")
    with audited(
        action=AuditEvent.Action.OPERATOR_CREATE,
        actor=actor,
        target_type="operator",
        target_repr=username,
        reason=reason,
        ticket=ticket,
    ) as event:
        with transaction.atomic():
            user = User(username=username, email=email, sign_in=User.SignIn.LOCAL)
            user.set_unusable_password()
            user.save()
            _set_role(user, role)
        event.target_id = str(user.pk)
        event.after = {"role": role, "sign_in": "local"}
    return user, password_set_path(user)


def operator_set_role(*, actor, user: User, role: str, reason: str, ticket: str = "") -> User:
    if role not in ("", *ROLE_ORDER):
        raise ValueError(f"unknown role {role!r}")
    with audited(
        action=AuditEvent.Action.OPERATOR_ROLE,
        actor=actor,
        reason=reason,
        ticket=ticket,
        before={"role": role_of(user)},
        **_target(user),
    ) as event:
        _set_role(user, role)
        event.after = {"role": role}
    return user


def operator_set_scope(
    *,
    actor,
    user: User,
    environments: list[str] | None,
    connection_ids: list[int],
    reason: str,
    ticket: str = "",
) -> User:
    with audited(
        action=AuditEvent.Action.OPERATOR_SCOPE,
        actor=actor,
        reason=reason,
        ticket=ticket,
        before=_scope_snapshot(user),
        **_target(user),
    ) as event:
        with transaction.atomic():
            user.scope_environments = sorted(set(environments)) if environments is not None else None
            user.save(update_fields=["scope_environments"])
            user.scope_connections.set(connection_ids)
        user.__dict__.pop("_adminui_scope", None)
        event.after = _scope_snapshot(user)
    return user


def operator_disable(*, actor, user: User, reason: str, ticket: str = "") -> User:
    """Disable an operator: no sign-in of any kind, and their open sessions stop working (is_active is checked on
    every request)."""
    with audited(
        action=AuditEvent.Action.OPERATOR_DISABLE,
        actor=actor,
        reason=reason,
        ticket=ticket,
        before={"active": user.is_active},
        **_target(user),
    ) as event:
        user.is_active = False
        user.save(update_fields=["is_active"])
        event.after = {"active": False}
    return user


def operator_password_reset(*, actor, user: User, reason: str, ticket: str = "") -> str:
    """Make the operator's password unusable, remove their second factor (a lost phone is the usual reason) and
    return a one-time password-set path for them."""
    if user.sign_in != User.SignIn.LOCAL:
        raise ValueError("single sign-on operators have no password here")
    with audited(
        action=AuditEvent.Action.OPERATOR_PASSWORD_RESET,
        actor=actor,
        reason=reason,
        ticket=ticket,
        **_target(user),
    ) as event:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        event.after = {"second_factor_removed": bool(removed)}
    return password_set_path(user)
