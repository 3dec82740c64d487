"""ToolJet's product vocabulary in one place: roles, built-in groups, user statuses, group permission keys,
granular permission types and app environments (contracts/tooljet.md). Labels are the console's words."""

from __future__ import annotations

# Every workspace has these three role groups; a person's role is their membership of one of them.
ROLES = ("admin", "builder", "end-user")
# Built-in groups: the role groups plus the group every workspace member is in.
ROLE_GROUP_NAMES = frozenset({*ROLES, "all_users"})
USER_STATUSES = ("invited", "verified", "active", "archived")
GROUP_NAME_MAX = 50

# Group permission keys (canonical camelCase) with what they allow.
PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("appCreate", "Create apps"),
    ("appDelete", "Delete apps"),
    ("appPromote", "Promote apps between environments"),
    ("appRelease", "Release apps"),
    ("workflowCreate", "Create workflows"),
    ("workflowDelete", "Delete workflows"),
    ("dataSourceCreate", "Create data sources"),
    ("dataSourceDelete", "Delete data sources"),
    ("orgConstantCRUD", "Manage workspace constants"),
    ("folderCreate", "Create folders"),
    ("folderDelete", "Delete folders"),
)
GRANULAR_TYPES: tuple[tuple[str, str], ...] = (
    ("app", "Apps"),
    ("data_source", "Data sources"),
    ("workflow", "Workflows"),
)
APP_ENVIRONMENTS: tuple[tuple[str, str], ...] = (
    ("development", "Development"),
    ("staging", "Staging"),
    ("production", "Production"),
    ("released", "Released"),
)
