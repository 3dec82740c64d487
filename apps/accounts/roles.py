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


READ_ONLY = "Your role is read-only: it can look but not change anything."
NOT_ALLOWED = "Your role does not allow this."


def require(user, perm: str) -> None:
    """Raise PermissionDenied (→ 403 page, or an alert fragment for htmx, with the reason) unless `user` has
    `perm`."""
    if not user.has_perm(perm):
        read_only = perm != Perm.VIEW and not user.has_perm(Perm.CHANGE_PEOPLE)
        raise PermissionDenied(READ_ONLY if read_only else NOT_ALLOWED)


def ensure_roles(**kwargs) -> None:
    """Create or repair the three role groups and their permissions (idempotent). Runs after every migrate and
    flush (post_migrate), so a flushed database — e.g. after a transactional test — still has its roles."""
    from django.contrib.auth.models import Group, Permission

    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = set(Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames))
        if set(group.permissions.all()) != wanted:
            group.permissions.set(wanted)
