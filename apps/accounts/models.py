from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from apps.accounts.roles import ROLE_ORDER


class User(AbstractUser):
    """An operator of this console (not a user of a ToolJet or Retool instance)."""

    class SignIn(models.TextChoices):
        LOCAL = "local", "Password"
        OIDC = "oidc", "Single sign-on"

    sign_in = models.CharField(max_length=8, choices=SignIn, default=SignIn.LOCAL)
    # "<issuer> <sub>" of a single sign-on operator: the IdP's stable id, never the (changeable) username.
    oidc_subject = models.CharField(max_length=500, unique=True, null=True, blank=True)
    # Scope of the role (enforced by the change policy; see apps.accounts.scope). Null = every environment;
    # no connections = no per-connection limit.
    scope_environments = models.JSONField(null=True, blank=True)
    scope_connections = models.ManyToManyField("connections.Connection", blank=True, related_name="+")

    class Meta:
        permissions = [
            ("view_console", "Can view connections, people, groups, apps and the audit trail"),
            ("change_people", "Can change user status, role, metadata and group memberships"),
            ("grant_admin", "Can grant admin roles upstream and change admin groups"),
            ("manage_connections", "Can add, edit, test, delete and rotate connections"),
            ("manage_groups", "Can create, edit permissions of and delete groups"),
            ("transfer_apps", "Can export, import, copy and bundle apps"),
            ("export_audit", "Can export and prune the audit trail"),
        ]

    @property
    def role(self) -> str:
        """The operator's highest role ('admin', 'helpdesk', 'viewer'), or '' for none — read from the
        permissions the request already loaded (no query of its own on every page)."""
        for role, perm in zip(
            reversed(ROLE_ORDER), ("manage_connections", "change_people", "view_console"), strict=True
        ):
            if self.has_perm(f"accounts.{perm}"):
                return role
        return ""
