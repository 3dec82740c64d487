"""In-memory state of the Retool simulator and its deterministic seed."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from apps.simulators.people import DEPARTMENTS, TIERS, generate_people, make_rng, rng_hex, rng_uuid
from apps.simulators.server import Clock, iso_ms

PROFILES = ("enterprise", "business")
ALL_SCOPES = frozenset(
    {
        "users:read",
        "users:write",
        "groups:read",
        "groups:write",
        "user_attributes:read",
        "user_attributes:write",
        "apps:read",
        "apps:write",
        "spaces:read",
        "spaces:write",
        "folders:read",
        "folders:write",
        "permissions:read",
        "permissions:write",
    }
)
# simulator's choice: invites need users:read/users:write (retool.md §6a) and Business has invites (§10) but no
# users API, so a Business token carries the users scopes and the plan, not the token, refuses the users routes
BUSINESS_SCOPES = frozenset(
    {"user_attributes:read", "user_attributes:write", "apps:read", "apps:write", "users:read", "users:write"}
)
# route families a plan lacks (retool.md §10): answered 403 with the missing-scope message whatever the token holds
PLAN_DENIED = {
    "enterprise": frozenset(),
    "business": frozenset({"users", "groups", "folders", "permissions", "spaces"}),
}
ACCESS = ("none", "use", "edit", "own")
QUERY_ACCESS = ("none", "use", "edit")
FLAGS = (
    "user_list_access",
    "audit_log_access",
    "unpublished_release_access",
    "usage_analytics_access",
    "theme_access",
    "account_details_access",
)
LEVELS = (
    "universal_app_access",
    "universal_resource_access",
    "universal_workflow_access",
    "universal_query_library_access",
)
BUILT_INS = (
    ("admin", ("own", "own", "own", "edit"), set(FLAGS)),
    (
        "editor",
        ("edit", "own", "edit", "edit"),
        {"user_list_access", "unpublished_release_access", "account_details_access"},
    ),
    ("viewer", ("use", "use", "use", "use"), {"user_list_access", "account_details_access"}),
    ("All Users", ("edit", "own", "edit", "edit"), {"account_details_access"}),
)
CUSTOM_GROUPS = (
    ("Support", ("use", "use", "none", "use"), {"account_details_access"}),
    ("Finance", ("use", "use", "use", "none"), {"user_list_access"}),
    ("Engineering", ("edit", "own", "edit", "edit"), {"unpublished_release_access"}),
)
APPS = (
    ("Sales dashboard", "Pipeline and bookings by region"),
    ("Customer 360", "Everything we know about a customer"),
    ("Refund approvals", None),
    ("Ops console", "Internal tools for the ops team"),
    ("Header module", None),
)
# resources (not served: out of scope, retool.md preamble) only so that GET /apps?using_resource= can filter
RESOURCES = (
    ("Sales Postgres", ("Sales dashboard", "Customer 360")),
    ("Stripe", ("Customer 360", "Refund approvals")),
    ("Unused REST API", ()),
)
ATTRIBUTES = (
    ("department", "Department", "string", None),
    ("tier", "Support tier", "string", "bronze"),
    ("cost_center", "Cost center", "number", None),
)
# (name, folder_type, parent name or None, is_system); ids are <type>_<n> with one counter, as recorded (§9a)
FOLDERS = (
    ("root", "app", None, True),
    ("Finance tools", "app", "root", False),
    ("archive", "app", "root", True),
    ("Reports", "app", "Finance tools", False),
    ("root", "resource", None, True),
    ("root", "workflow", None, True),
)
APP_FOLDERS = ("root", "Finance tools", "root", "Finance tools", "Reports")  # per APPS entry
INVITE_DAYS = 7  # "User invite link expires 7 days after generation" (retool.md §6a)
SPACES = (("EMEA", "emea.acme-retool.example.com"), ("Partners", "partners.acme-retool.example.com"))


@dataclass
class RetoolState:
    profile: str
    tokens: dict  # token -> frozenset of scopes
    seed: int = 1
    rate_limit_rpm: int | None = None
    retry_after: int | None = None
    version: str = "3.373.0"
    clock: Clock = field(default_factory=Clock)
    monotonic: object = time.monotonic  # replaceable by tests to move the rate-limit window
    users: dict = field(default_factory=dict)
    emails: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)
    attributes: dict = field(default_factory=dict)
    apps: dict = field(default_factory=dict)
    resources: dict = field(default_factory=dict)  # resource UUID -> name
    app_resources: dict = field(default_factory=dict)  # app id -> [resource UUID]
    spaces: list = field(default_factory=list)
    folders: dict = field(default_factory=dict)  # folder id -> folder
    grants: dict = field(
        default_factory=dict
    )  # (subject type, subject id) -> {(object type, object id): level}
    invites: dict = field(default_factory=dict)  # invite id (int) -> invite
    next_folder_n: int = 1
    next_invite_id: int = 1
    next_legacy_id: int = 1
    next_group_id: int = 1
    token_serial: int = 0
    hits: dict = field(default_factory=dict)  # token -> deque of monotonic times

    def admin_group_ids(self) -> set[int]:
        return {gid for gid, g in self.groups.items() if g["name"] == "admin"}

    def add_user(
        self,
        *,
        email: str,
        first: str,
        last: str,
        active: bool = True,
        metadata: dict | None = None,
        user_type: str = "default",
        uid: str | None = None,
    ) -> dict:
        rng = make_rng(self.seed, f"user:{email}:{self.next_legacy_id}")
        stamp = self.clock.stamp()
        user = {
            "id": uid or f"user_{rng_hex(rng)}",
            "legacy_id": self.next_legacy_id,
            "first_name": first,
            "last_name": last,
            "created_at": stamp,
            "last_active": None,
            "email": email,
            "active": active,
            "metadata": dict(metadata or {}),
            "two_factor_auth_enabled": False,
            "user_type": user_type,
        }
        self.next_legacy_id += 1
        self.users[user["id"]] = user
        self.emails[email.lower()] = user["id"]
        return user

    def add_group(self, name: str, levels=("none", "none", "none", "none"), flags=(), **extra) -> dict:
        gid = self.next_group_id
        self.next_group_id += 1
        stamp = self.clock.stamp()
        group = {
            "id": gid,
            "legacy_id": gid,
            "name": name,
            "members": [],
            **dict(zip(LEVELS, levels, strict=True)),
            "user_invites": [],
            **{f: f in flags for f in FLAGS},
            "landing_page_app_id": None,
            "updated_at": stamp,
            "created_at": stamp,
        }
        group.update(extra)
        self.groups[gid] = group
        return group

    def add_folder(self, name: str, folder_type: str, parent_id: str | None, *, system: bool = False) -> dict:
        folder_id = f"{folder_type}_{self.next_folder_n}"
        self.next_folder_n += 1
        stamp = self.clock.stamp()
        folder = {
            "id": folder_id,
            "legacy_id": folder_id,
            "name": name,
            "parent_folder_id": parent_id,
            "is_system_folder": system,
            "folder_type": folder_type,
            "created_at": stamp,
            "updated_at": stamp,
        }
        self.folders[folder_id] = folder
        return folder

    def add_invite(
        self,
        *,
        email: str,
        group_ids=(),
        metadata: dict | None = None,
        invited_by: str | None = None,
        created: float | None = None,
    ) -> dict:
        invite_id = self.next_invite_id
        self.next_invite_id += 1
        start = time.time() if created is None else created
        invite = {
            "id": invite_id,
            "legacy_id": invite_id,
            "invited_by": invited_by,
            "invited_email": email,
            "expires_at": iso_ms(start + INVITE_DAYS * 86400),
            "claimed_by": None,
            "claimed_at": None,
            "user_type": "default",  # simulator's choice: nullable in seed 003; an invite made here is a default user
            "metadata": dict(metadata or {}),
            "created_at": iso_ms(start),
            # simulator's choice: the link's form (seed 003 only says it is a URI that expires after 7 days)
            "invite_link": f"https://retool.example.com/invite/{invite_id:06d}",
            "groups": [{"legacy_id": gid, "id": gid, "name": self.groups[gid]["name"]} for gid in group_ids],
        }
        self.invites[invite_id] = invite
        for (
            gid
        ) in group_ids:  # retool.md §8: groups list their pending invites (seed 003: User Invite objects)
            self.groups[gid]["user_invites"].append(
                {k: v for k, v in invite.items() if k not in ("groups", "invite_link")}
            )
        return invite

    def allow(self, token: str) -> bool:
        """Rolling 60 s window per token; True when the request may proceed."""
        if not self.rate_limit_rpm:
            return True
        now = self.monotonic()
        window = self.hits.setdefault(token, deque())
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= self.rate_limit_rpm:
            return False
        window.append(now)
        return True


def build_state(
    *,
    profile: str,
    token: str,
    users: int = 40,
    seed: int = 1,
    rate_limit_rpm: int | None = None,
    retry_after: int | None = None,
    scopes: frozenset | set | None = None,
) -> RetoolState:
    if profile not in PROFILES:
        raise ValueError(f"unknown Retool profile {profile!r}; expected one of {', '.join(PROFILES)}")
    granted = frozenset(scopes) if scopes is not None else ALL_SCOPES
    if profile == "business":
        granted &= BUSINESS_SCOPES
    state = RetoolState(
        profile=profile,
        tokens={token: granted},
        seed=seed,
        rate_limit_rpm=rate_limit_rpm,
        retry_after=retry_after,
    )
    rng = make_rng(seed, "retool")
    for name, levels, flags in BUILT_INS + CUSTOM_GROUPS:
        state.add_group(name, levels, flags)
    for name, label, data_type, default in ATTRIBUTES:
        attr_id = rng_uuid(rng)
        state.attributes[attr_id] = {
            "id": attr_id,
            "name": name,
            "label": label,
            "data_type": data_type,
            "default_value": default,
            "intercom_attribute_name": None,
        }
    people = generate_people(max(users, 3), seed)
    groups_by_name = {g["name"]: g for g in state.groups.values()}
    for i, person in enumerate(people):
        active = i < 3 or rng.random() > 0.1
        metadata = {
            "department": DEPARTMENTS[rng.randrange(len(DEPARTMENTS))],
            "tier": TIERS[rng.randrange(len(TIERS))],
        }
        user = state.add_user(
            email=person.email,
            first=person.first,
            last=person.last,
            active=active,
            metadata=metadata,
            uid=f"user_{rng_hex(rng)}",
        )
        if i == 0:
            picks = ["admin"]
        elif i < 3 or rng.random() < 0.25:
            picks = (
                ["editor"]
                if i == 1
                else ["viewer", "Support"]
                if i == 2
                else [("editor", "viewer", "Support", "Finance", "Engineering")[rng.randrange(5)]]
            )
        else:
            picks = []
        for name in ["All Users", *picks]:
            if len(groups_by_name["All Users"]["members"]) > 2000 and name == "All Users":
                continue
            groups_by_name[name]["members"].append({"id": user["id"], "is_group_admin": False})
    stamp = state.clock.stamp()
    for n, (name, description) in enumerate(APPS):
        app_id = rng_uuid(rng)
        state.apps[app_id] = {
            "id": app_id,
            "name": name,
            "description": description,
            "folder_id": f"app_{1 + n % 2}",
            "protected": n == 0,
            "synced": False,
            "shortlink": f"{rng_hex(rng, 8)}" if n < 2 else None,
            "is_module": name.endswith("module"),
            "is_mobile_app": False,
            "created_at": stamp,
            "updated_at": stamp,
            "release_version": "latest" if n else "2.4.0",
        }
    folder_ids: dict[tuple[str, str], str] = {}
    for name, folder_type, parent, system in FOLDERS:
        parent_id = folder_ids[(folder_type, parent)] if parent else None
        folder_ids[(folder_type, name)] = state.add_folder(name, folder_type, parent_id, system=system)["id"]
    for app, folder in zip(state.apps.values(), APP_FOLDERS, strict=True):
        app["folder_id"] = folder_ids[("app", folder)]
    # simulator's choice: seed 003 types invited_by as a string without saying what it names; the inviter's e-mail
    admin = state.users[groups_by_name["admin"]["members"][0]["id"]]["email"]
    now = time.time()
    state.add_invite(
        email="pending.invitee@example.com", group_ids=[groups_by_name["Support"]["id"]], invited_by=admin
    )
    state.add_invite(email="late.invitee@example.com", invited_by=admin, created=now - 10 * 86400)
    claimed = state.add_invite(email=people[0].email, invited_by=admin, created=now - 30 * 86400)
    claimed.update(claimed_by=state.emails[people[0].email.lower()], claimed_at=iso_ms(now - 29 * 86400))
    app_ids = {a["name"]: a["id"] for a in state.apps.values()}
    resource_rng = make_rng(seed, "retool:resources")  # its own stream: the ids seeded above stay the same
    for name, used_by in RESOURCES:
        resource_id = rng_uuid(resource_rng)
        state.resources[resource_id] = name
        for app_name in used_by:
            state.app_resources.setdefault(app_ids[app_name], []).append(resource_id)
    for name, domain in SPACES:
        state.spaces.append(
            {
                "id": f"org_{rng_hex(rng)}",
                "name": name,
                "domain": domain,
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    return state
