from __future__ import annotations

from django.contrib.auth.models import AbstractUser

from apps.accounts.roles import ROLE_ORDER


class User(AbstractUser):
    """An operator of this console (not a user of a ToolJet or Retool instance)."""

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
