"""Retool folders, access permissions and user invites through the provider, against the simulator over real HTTP
(retool.md §6a, §9a, §10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.providers.base import AccessEntry, ConnectionConfig
from apps.providers.errors import ConflictError, ForbiddenError, NotFoundError, RejectedError
from apps.providers.retool import RetoolProvider, mapping

TOKEN = "rt-test-token"


def make(sim, *, token=TOKEN):
    config = ConnectionConfig(kind="retool", base_url=sim.url, token=token, key=f"rt-{id(sim)}")
    return RetoolProvider(config, sleep=lambda s: None)


@pytest.fixture
def enterprise(simulator):
    return simulator("retool", token=TOKEN, profile="enterprise", users=10, seed=4)


@pytest.fixture
def business(simulator):
    return simulator("retool", token=TOKEN, profile="business", users=10, seed=4)


def test_it_probes_folders_access_and_invites_on_enterprise(enterprise):
    caps = make(enterprise).probe().capabilities
    assert caps.supports_folders and caps.supports_access and caps.supports_access_grant
    assert caps.supports_invites


def test_it_probes_invites_without_users_folders_or_access_on_business(business):
    caps = make(business).probe().capabilities
    assert caps.supports_invites and caps.supports_user_attributes
    assert not caps.supports_users
    for flag in ("supports_folders", "supports_access", "supports_access_grant"):
        assert not getattr(caps, flag)
        # the plan, not the token, lacks them (invites answer, and they need the users scopes)
        assert "Business plan has no folders and access permissions API" in caps.reasons[flag]


def test_it_lists_folders_in_tree_order(enterprise):
    folders = make(enterprise).list_folders("app")
    assert [(f.name, f.depth) for f in folders] == [
        ("root", 0),
        ("Finance tools", 1),
        ("Reports", 2),
        ("archive", 1),
    ]
    reports = folders[2]
    assert reports.path == ("root", "Finance tools") and reports.parent_id == folders[1].id
    assert folders[0].is_system and not reports.is_system and reports.folder_type == "app"


def test_it_maps_folder_ids_to_names_for_the_apps_page(enterprise):
    p = make(enterprise)
    names = p.folder_names()
    for app in p.iter_apps():
        assert names[app.folder_id] in ("root", "Finance tools", "Reports")
    root = next(f for f in p.list_folders("app") if f.name == "Finance tools")
    p.create_folder("Reports", parent_id=p.list_folders("app")[0].id)
    names = p.folder_names()
    assert sorted(n for n in names.values() if n.endswith("Reports")) == [
        "root / Finance tools / Reports",
        "root / Reports",
    ]
    assert names[root.id] == "Finance tools"


def test_it_creates_renames_and_deletes_folders(enterprise):
    p = make(enterprise)
    root = p.list_folders("app")[0]
    made = p.create_folder("  Ops  ", parent_id=root.id)
    assert made.name == "Ops" and made.parent_id == root.id
    with pytest.raises(ConflictError):
        p.create_folder("Ops", parent_id=root.id)
    assert p.rename_folder(made.id, "Operations").name == "Operations"
    assert p.get_folder(made.id).name == "Operations"
    p.delete_folder(made.id)
    p.delete_folder(made.id)  # already gone is fine
    with pytest.raises(NotFoundError):
        p.get_folder(made.id)


def test_it_deletes_a_folder_with_its_contents_only_when_asked(enterprise):
    p = make(enterprise)
    finance = next(f for f in p.list_folders("app") if f.name == "Finance tools")
    with pytest.raises(RejectedError):
        p.delete_folder(finance.id)
    assert p.get_folder(finance.id).name == "Finance tools"
    p.delete_folder(finance.id, recursive=True)
    assert [f.name for f in p.list_folders("app")] == ["root", "archive"]
    assert all(a.folder_id == p.list_folders("app")[0].id for a in p.iter_apps())


def test_it_grants_lists_and_revokes_one_access_shape(enterprise):
    p = make(enterprise)
    group = next(g for g in p.iter_groups() if g.name == "Finance")
    folder = next(f for f in p.list_folders("app") if f.name == "Finance tools")
    answer = p.grant_access(
        subject_kind="group", subject_id=group.id, object_kind="folder", object_id=folder.id, level="edit"
    )
    assert answer == (
        AccessEntry(
            subject_kind="group",
            subject_id=group.id,
            object_kind="folder",
            object_id=folder.id,
            level="edit",
            source="direct",
            sources=("direct",),
        ),
    )
    assert p.list_access(subject_kind="group", subject_id=group.id, object_kind="folder") == answer
    inside = [a for a in p.iter_apps() if a.folder_id == folder.id]
    inherited = p.list_access(
        subject_kind="group", subject_id=group.id, object_kind="app", include_inherited=True
    )
    assert {e.object_id for e in inherited} == {a.id for a in inside}
    assert (
        p.revoke_access(subject_kind="group", subject_id=group.id, object_kind="folder", object_id=folder.id)
        == ()
    )
    with pytest.raises(ValueError):
        p.grant_access(
            subject_kind="group", subject_id="abc", object_kind="folder", object_id=folder.id, level="use"
        )
    with pytest.raises(ValueError):
        p.grant_access(
            subject_kind="group", subject_id=group.id, object_kind="folder", object_id=folder.id, level="x"
        )


def test_it_reads_who_can_use_an_app_and_why(enterprise):
    p = make(enterprise)
    group = next(g for g in p.iter_groups() if g.name == "Finance")
    folder = next(f for f in p.list_folders("app") if f.name == "Finance tools")
    app = next(a for a in p.iter_apps() if a.folder_id == folder.id)
    p.grant_access(
        subject_kind="group", subject_id=group.id, object_kind="folder", object_id=folder.id, level="own"
    )
    entries = p.access_list("app", app.id)
    finance = next(e for e in entries if e.subject_kind == "group" and e.subject_id == group.id)
    assert finance.subject_name == "Finance" and finance.level == "own"
    assert finance.source == "folder" and finance.sources == ("folder", "universal")
    assert finance.source_ids == (folder.id,)
    admin = next(e for e in entries if e.subject_name == "admin")
    assert (admin.level, admin.source) == ("own", "universal")
    people = [e for e in entries if e.subject_kind == "user"]
    assert people and all(e.subject_name.endswith("@example.com") and e.source == "group" for e in people)
    with pytest.raises(NotFoundError):
        p.access_list("app", "00000000-0000-0000-0000-000000000000")


def test_it_manages_invites_and_derives_their_status(enterprise):
    p = make(enterprise)
    seeded = {i.email: i for i in p.list_invites()}
    assert seeded["pending.invitee@example.com"].status == "pending"
    assert seeded["late.invitee@example.com"].status == "expired"
    claimed = next(i for i in seeded.values() if i.status == "claimed")
    assert claimed.claimed_by.startswith("user_") and claimed.claimed_at
    support = next(g for g in p.iter_groups() if g.name == "Support")
    made = p.create_invite("new.hire@example.com", group_ids=[support.id], metadata={"department": "ops"})
    assert (made.email, made.group_ids, made.status) == ("new.hire@example.com", (support.id,), "pending")
    assert made.invited_by and made.expires_at and made.metadata == {"department": "ops"}
    assert made.invite_url.startswith("https://")
    assert p.get_invite(made.id) == made
    assert made.id in {str(i["id"]) for i in p.get_group(support.id).user_invites}
    assert p.set_invite_attribute(made.id, "tier", "gold")["tier"] == "gold"
    assert "tier" not in p.delete_invite_attribute(made.id, "tier")
    p.delete_invite(made.id)
    with pytest.raises(NotFoundError):
        p.get_invite(made.id)
    with pytest.raises(NotFoundError):
        p.get_invite("abc")


def test_it_serves_invites_on_business_but_not_folders(business):
    p = make(business)
    made = p.create_invite("new.hire@example.com")
    assert made.status == "pending"
    with pytest.raises(ForbiddenError):
        p.list_folders()


def test_it_derives_invite_status_from_claim_and_expiry():
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    later = (now + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    earlier = (now - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    assert mapping.invite_status({"expires_at": later, "claimed_at": None}, now=now) == "pending"
    assert mapping.invite_status({"expires_at": earlier, "claimed_at": None}, now=now) == "expired"
    assert mapping.invite_status(
        {"expires_at": earlier, "claimed_at": earlier, "claimed_by": "user_1"}, now=now
    ) == ("claimed")
