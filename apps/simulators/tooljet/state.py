"""In-memory state of the ToolJet simulator and its deterministic seed."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from apps.simulators.people import DEPARTMENTS, TIERS, generate_people, make_rng, rng_uuid
from apps.simulators.server import Clock

from .profiles import PROFILES, Profile

ROLES = ("admin", "builder", "end-user")
ROLE_GROUP_NAMES = {"admin", "builder", "end-user", "all_users"}
PERMISSION_KEYS = (
    "appCreate",
    "appDelete",
    "appPromote",
    "appRelease",
    "workflowCreate",
    "workflowDelete",
    "dataSourceCreate",
    "dataSourceDelete",
    "orgConstantCRUD",
    "folderCreate",
    "folderDelete",
)
SNAKE = {
    "appCreate": "apps_create",
    "appDelete": "apps_delete",
    "appPromote": "apps_promote",
    "appRelease": "apps_release",
    "workflowCreate": "workflows_create",
    "workflowDelete": "workflows_delete",
    "dataSourceCreate": "datasources_create",
    "dataSourceDelete": "datasources_delete",
    "orgConstantCRUD": "workspace_constants",
    "folderCreate": "folder_create",
    "folderDelete": "folder_delete",
}
BUILDER_LEVEL = (
    "appCreate",
    "appDelete",
    "workflowCreate",
    "workflowDelete",
    "dataSourceCreate",
    "dataSourceDelete",
    "folderCreate",
    "folderDelete",
    "orgConstantCRUD",
    "appPromote",
    "appRelease",
)

WORKSPACES = (
    ("Acme Production", "acme-production", "active"),
    ("Acme Staging", "acme-staging", "active"),
    ("Research Lab", "research-lab", "active"),
    ("Old Sandbox", "old-sandbox", "archived"),
)
CUSTOM_GROUPS = (
    ("Support", {}),
    ("Finance Analysts", {}),
    ("App Builders", {"appCreate": True, "appDelete": True, "folderCreate": True}),
)
APPS = {
    "acme-production": (
        ("Sales Dashboard", "zoe.obrien@example.com", 4),
        ("Customer 360", "zoe.obrien@example.com", 3),
        ("Refund Approvals", "priya.raman@example.com", 2),
        ("Inventory Tracker", "priya.raman@example.com", 3),
        ("Archive Browser", "priya.raman@example.com", 1),
    ),
    "acme-staging": (
        ("Sales Dashboard", "zoe.obrien@example.com", 2),
        ("Onboarding Portal", "priya.raman@example.com", 2),
    ),
}
DATA_SOURCES = ("Postgres Main", "Stripe Payments", "REST Orders API")
WORKFLOWS = ("Nightly Sync", "Refund Escalation")
TJDB_TABLES = ("customers", "orders")


@dataclass
class ToolJetState:
    profile: Profile
    token: str
    seed: int = 1
    disabled: bool = False
    unlicensed: bool = False
    starter_plan: bool = False
    community_edition: bool = False  # CE: the guard always denies; v2, app and git routes are not registered
    v2_api: bool = False
    max_json_bytes: int = 50 * 1024 * 1024  # JSON body limit, ToolJet's default (env MAX_JSON_SIZE)
    export_pad_bytes: int = 0
    clock: Clock = field(default_factory=Clock)
    workspaces: dict = field(default_factory=dict)
    role_groups: dict = field(default_factory=dict)  # ws id -> {role name: group id}
    groups: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    emails: dict = field(default_factory=dict)  # lower email -> user id
    memberships: dict = field(default_factory=dict)  # user id -> {ws id: membership}
    metadata: dict = field(default_factory=dict)  # (user id, ws id) -> [{key, value}]
    apps: dict = field(default_factory=dict)
    data_sources: dict = field(default_factory=dict)  # ws id -> [{id, name}]
    workflows: dict = field(default_factory=dict)
    tjdb: dict = field(default_factory=dict)  # ws id -> [{id, table_name, schema}]
    padded_app_id: str | None = None

    # -- lookups -----------------------------------------------------------------------------------------
    def user_by_ref(self, ref: str) -> dict | None:
        user = self.users.get(ref)
        if user is None and "@" in ref:
            uid = self.emails.get(ref.lower())
            user = self.users.get(uid) if uid else None
        return user

    def workspace_by_ref(self, ref: str, *, slug: bool = False) -> dict | None:
        ws = self.workspaces.get(ref)
        if ws is None and slug:
            ws = next((w for w in self.workspaces.values() if w["slug"] == ref), None)
        return ws

    def custom_groups(self, ws_id: str) -> list[dict]:
        return [g for g in self.groups.values() if g["organizationId"] == ws_id and g["type"] == "custom"]

    def find_group(self, ws_id: str, ref: dict) -> dict | None:
        """A group of ws by ``{id}`` or ``{name}`` (any type)."""
        if "id" in ref:
            group = self.groups.get(ref["id"])
            return group if group and group["organizationId"] == ws_id else None
        return next(
            (
                g
                for g in self.groups.values()
                if g["organizationId"] == ws_id and g["name"] == ref.get("name")
            ),
            None,
        )

    def apps_of(self, ws_id: str) -> list[dict]:
        return [a for a in self.apps.values() if a["organizationId"] == ws_id]

    # -- mutations -----------------------------------------------------------------------------------------
    def add_workspace(self, name: str, slug: str, status: str, ws_id: str) -> dict:
        now = self.clock.stamp()
        ws = {"id": ws_id, "name": name, "slug": slug, "status": status, "createdAt": now}
        self.workspaces[ws_id] = ws
        rng = make_rng(self.seed, f"roles:{ws_id}")
        self.role_groups[ws_id] = {}
        for role in (*ROLES, "all_users"):
            gid = rng_uuid(rng)
            perms = {
                k: role == "admin" or (role == "builder" and k not in ("appPromote", "appRelease"))
                for k in PERMISSION_KEYS
            }
            self.groups[gid] = {
                "id": gid,
                "organizationId": ws_id,
                "name": role,
                "type": "default",
                "permissions": perms,
                "granular": [],
                "createdAt": now,
                "updatedAt": now,
            }
            self.role_groups[ws_id][role] = gid
        self.data_sources[ws_id] = [{"id": rng_uuid(rng), "name": n} for n in DATA_SOURCES]
        self.workflows[ws_id] = [{"id": rng_uuid(rng), "name": n} for n in WORKFLOWS]
        self.tjdb[ws_id] = [
            {
                "id": rng_uuid(rng),
                "table_name": t,
                "schema": {
                    "columns": [
                        {
                            "column_name": "id",
                            "data_type": "integer",
                            "constraints_type": {
                                "is_primary_key": True,
                                "is_not_null": True,
                                "is_unique": True,
                            },
                        },
                        {"column_name": "name", "data_type": "character varying"},
                        {"column_name": "created_at", "data_type": "timestamp with time zone"},
                    ]
                },
            }
            for t in TJDB_TABLES
        ]
        return ws

    def add_custom_group(
        self, ws_id: str, name: str, permissions: dict | None = None, gid: str | None = None
    ) -> dict:
        now = self.clock.stamp()
        gid = gid or rng_uuid(make_rng(self.seed, f"group:{ws_id}:{name}:{len(self.groups)}"))
        perms = dict.fromkeys(PERMISSION_KEYS, False)
        perms.update(permissions or {})
        group = {
            "id": gid,
            "organizationId": ws_id,
            "name": name,
            "type": "custom",
            "permissions": perms,
            "granular": [],
            "createdAt": now,
            "updatedAt": now,
        }
        self.groups[gid] = group
        return group

    def add_user(self, *, uid: str, first: str, last: str, email: str, status: str, created_at: str) -> dict:
        user = {
            "id": uid,
            "firstName": first,
            "lastName": last,
            "email": email,
            "status": status,
            "password": None,
            "invitationToken": None,
            "createdAt": created_at,
        }
        self.users[uid] = user
        self.emails[email.lower()] = uid
        self.memberships[uid] = {}
        return user

    @staticmethod
    def new_membership(role: str, status: str, groups: set | None = None, token: str | None = None) -> dict:
        return {"role": role, "status": status, "groups": groups or set(), "invitationToken": token}

    @staticmethod
    def new_token() -> str:
        return secrets.token_hex(16)


def build_state(
    *,
    profile: str = "latest",
    token: str,
    users: int = 40,
    seed: int = 1,
    **switches: object,
) -> ToolJetState:
    if profile not in PROFILES:
        raise ValueError(f"unknown ToolJet profile {profile!r}; expected one of {', '.join(PROFILES)}")
    state = ToolJetState(profile=PROFILES[profile], token=token, seed=seed, **switches)
    rng = make_rng(seed, "tooljet")
    ws_ids = []
    for name, slug, status in WORKSPACES:
        ws = state.add_workspace(name, slug, status, rng_uuid(rng))
        ws_ids.append(ws["id"])
        if status == "active":
            for gname, perms in CUSTOM_GROUPS:
                state.add_custom_group(ws["id"], gname, perms, rng_uuid(rng))
    prod, staging, research = ws_ids[:3]
    custom = {ws: {g["name"]: g["id"] for g in state.custom_groups(ws)} for ws in ws_ids[:3]}
    people = generate_people(max(users, 5), seed)
    created = state.clock.stamp()
    well_known = {
        "priya.raman@example.com": (
            "active",
            [
                (prod, "admin", "active", ()),
                (staging, "admin", "active", ()),
                (research, "admin", "active", ()),
            ],
        ),
        "zoe.obrien@example.com": (
            "active",
            [(prod, "builder", "active", ("App Builders",)), (staging, "builder", "active", ())],
        ),
        "jose.alvarez@example.com": (
            "active",
            [(prod, "end-user", "active", ("Support",)), (staging, "end-user", "active", ())],
        ),
        "marten.angstrom@example.com": ("archived", [(prod, "end-user", "archived", ())]),
        "aoife.nibhriain@example.com": ("invited", [(research, "builder", "invited", ())]),
    }
    weights_ws = (prod,) * 6 + (staging,) * 3 + (research,)
    for i, person in enumerate(people):
        uid = rng_uuid(rng)
        if person.email in well_known:
            status, links = well_known[person.email]
        else:
            r = rng.random()
            status = "active" if r < 0.8 else "invited" if r < 0.9 else "verified" if r < 0.95 else "archived"
            mstatus = {
                "active": "active",
                "verified": "active",
                "invited": "invited",
                "archived": "archived",
            }[status]
            first_ws = weights_ws[rng.randrange(len(weights_ws))]
            picks = [first_ws]
            if rng.random() < 0.2:
                picks.append(staging if first_ws != staging else prod)
            links = []
            for ws in picks:
                rr = rng.random()
                role = "admin" if rr < 0.04 else "builder" if rr < 0.2 else "end-user"
                groups: tuple = ()
                if rng.random() < 0.15:
                    groups = ("Support",) if rng.random() < 0.6 or role == "end-user" else ("App Builders",)
                links.append((ws, role, mstatus, groups))
        state.add_user(
            uid=uid,
            first=person.first,
            last=person.last,
            email=person.email,
            status=status,
            created_at=created,
        )
        for ws, role, mstatus, groups in links:
            state.memberships[uid][ws] = state.new_membership(role, mstatus, {custom[ws][g] for g in groups})
            if i < 5 or rng.random() < 0.3:
                state.metadata[(uid, ws)] = [
                    {"key": "department", "value": DEPARTMENTS[rng.randrange(len(DEPARTMENTS))]},
                    {"key": "tier", "value": TIERS[rng.randrange(len(TIERS))]},
                ]
    slugs = {w["slug"]: w["id"] for w in state.workspaces.values()}
    for slug, apps in APPS.items():
        for name, owner_email, n_versions in apps:
            app_id = rng_uuid(rng)
            owner = state.emails.get(owner_email)
            state.apps[app_id] = {
                "id": app_id,
                "name": name,
                "slug": f"{slug}-{name.lower().replace(' ', '-')}",
                "organizationId": slugs[slug],
                "ownerId": owner,
                "createdAt": created,
                "versions": [
                    {"id": rng_uuid(rng), "name": f"v{n + 1}", "createdAt": created}
                    for n in range(n_versions)
                ],
                "definition": None,
            }
            if name == "Archive Browser":
                state.padded_app_id = app_id
    return state
