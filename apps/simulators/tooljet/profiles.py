"""ToolJet version profiles (contract tooljet.md §8): one option, not forked code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    version: str
    create_statuses: tuple[str, ...] = ("active", "archived", "invited")
    create_default_status: str = "invited"
    workspace_groups_include_default: bool = False
    role_route: bool = True
    apps: bool = True
    group_names_filter: bool = True
    metadata: bool = False
    groups: bool = False
    invite_url: bool = False
    status_filter: bool = False
    v2_possible: bool = False
    folder_single: bool = False  # groups answer a single `folder` flag instead of folder_create/folder_delete


PROFILES = {
    p.name: p
    for p in (
        Profile(
            "legacy-2x",
            "2.50.9-ee",
            create_statuses=("active", "archived"),
            create_default_status="archived",
            workspace_groups_include_default=True,
            role_route=False,
            apps=False,
            group_names_filter=False,
            folder_single=True,
        ),
        # 3.5.0 to 3.5.6: the role-change route is there, the app routes are not yet (tooljet.md §8)
        Profile("lts-3.5-early", "3.5.3-ee-lts", apps=False, group_names_filter=False),
        Profile("lts-3.5", "3.5.20-ee-lts", group_names_filter=False),
        Profile("lts-3.16", "3.16.12-ee-lts"),
        Profile("lts-3.16-patched", "3.16.30-ee-lts", metadata=True),
        Profile(
            "latest",
            "3.20.40-ee",
            metadata=True,
            groups=True,
            invite_url=True,
            status_filter=True,
            v2_possible=True,
        ),
    )
}


def version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("-", 1)[0].lstrip("v").split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)
