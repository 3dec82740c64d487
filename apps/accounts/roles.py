"""The three operator roles and what each may do. Roles are auth Groups created by a data migration;
views check permissions (never role names) through `require`."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

VIEWER, HELPDESK, ADMIN = "viewer", "helpdesk", "admin"
ROLE_ORDER = (VIEWER, HELPDESK, ADMIN)


class Perm:
    VIEW = "accounts.view_console"
    CHANGE_PEOPLE = "accounts.change_people"
    GRANT_ADMIN = "accounts.grant_admin"
    MANAGE_CONNECTIONS = "accounts.manage_connections"
    MANAGE_GROUPS = "accounts.manage_groups"
    TRANSFER_APPS = "accounts.transfer_apps"
    EXPORT_AUDIT = "accounts.export_audit"


ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    VIEWER: ("view_console",),
    HELPDESK: ("view_console", "change_people"),
    ADMIN: (
        "view_console",
        "change_people",
        "grant_admin",
        "manage_connections",
        "manage_groups",
        "transfer_apps",
        "export_audit",
    ),
}


def require(user, perm: str) -> None:
    """Raise PermissionDenied (→ 403 page, or an alert fragment for htmx) unless `user` has `perm`."""
    if not user.has_perm(perm):
        raise PermissionDenied
