"""Retool's product vocabulary in one place: roles, built-in groups, group access levels and flags
(contracts/retool.md). Labels are the console's words."""

from __future__ import annotations

ROLES = ("admin", "member")
# The built-in group whose members are instance admins.
ADMIN_GROUP = "admin"
BUILTIN_GROUPS = frozenset({ADMIN_GROUP, "editor", "viewer", "All Users"})

# Universal access fields of a group, with their label and the levels each one takes.
ACCESS_LEVELS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("universal_app_access", "Apps", ("none", "use", "edit", "own")),
    ("universal_resource_access", "Resources", ("none", "use", "edit", "own")),
    ("universal_workflow_access", "Workflows", ("none", "use", "edit", "own")),
    ("universal_query_library_access", "Query library", ("none", "use", "edit")),
)
# On/off abilities of a group.
FLAGS: tuple[tuple[str, str], ...] = (
    ("user_list_access", "See the user list"),
    ("audit_log_access", "See audit logs"),
    ("unpublished_release_access", "See unpublished releases"),
    ("usage_analytics_access", "See usage analytics"),
    ("theme_access", "Edit themes"),
    ("account_details_access", "Edit own account details"),
)
