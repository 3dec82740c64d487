"""The Retool client against the contract text itself: every recorded user and group keeps the fields the console
shows, and the folder, permission and invite request bodies are the ones retool.md §6a and §9a record."""

from __future__ import annotations

import json
import re

import httpx
import pytest
import yaml

from apps.core.paths import shared_dir
from apps.providers.base import ConnectionConfig
from apps.providers.retool import RetoolProvider
from apps.providers.retool.mapping import group_from_wire, user_from_wire

CONTRACT = shared_dir() / "contracts" / "retool.md"
RECORDINGS = shared_dir() / "contracts" / "retool-recordings"
USER_FIELDS = ("two_factor_auth_enabled", "created_at", "legacy_id", "last_active", "user_type")


def recorded_objects():
    for path in sorted(RECORDINGS.glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text())["interactions"]:
            text = entry["response"]["body"]
            if not text:
                continue
            data = json.loads(text).get("data")
            yield from (d for d in (data if isinstance(data, list) else [data]) if isinstance(d, dict))


def contract_row_body(call: str) -> dict:
    """The recorded JSON body in the §9a permissions table row that starts with ``call``."""
    for line in CONTRACT.read_text().splitlines():
        if line.startswith(f"| `{call}` |"):
            return json.loads(re.search(r"`(\{.*?\})`", line.split("|")[2]).group(1))
    raise AssertionError(f"{call} is not in the contract")


def test_it_reads_every_recording_keeping_user_fields():
    users = [u for u in recorded_objects() if "email" in u]
    assert len(users) > 50
    for raw in users:
        user = user_from_wire(raw)
        assert user.two_factor_auth_enabled is raw["two_factor_auth_enabled"]
        assert (user.created_at, user.last_active, user.user_type) == (
            raw["created_at"],
            raw["last_active"],
            raw["user_type"],
        )
        assert user.legacy_id == str(raw["legacy_id"])
        assert user.never_active is (raw["last_active"] is None)
    assert any(not u.never_active for u in map(user_from_wire, users))


def test_it_reads_every_recording_keeping_group_fields():
    groups = [g for g in recorded_objects() if "members" in g]
    assert len(groups) > 20
    for raw in groups:
        group = group_from_wire(raw)
        assert list(group.user_invites) == raw["user_invites"]
        assert group.landing_page_app_id == raw["landing_page_app_id"]
        assert (group.created_at, group.updated_at) == (raw["created_at"], raw["updated_at"])
        assert group.builtin is (raw["name"] in ("admin", "editor", "viewer", "All Users"))


class Capture:
    def __init__(self, answers: dict[str, object]):
        self.answers = answers
        self.bodies: dict[tuple[str, str], object] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v2")
        self.bodies[(request.method, path)] = json.loads(request.content) if request.content else None
        data = self.answers.get(path, {})
        return httpx.Response(200, json={"success": True, "data": data})


@pytest.fixture
def capture():
    return Capture(
        {
            "/permissions/grant": [{"type": "folder", "id": "app_190", "access_level": "use"}],
            "/permissions/revoke": [],
            "/permissions/listObjects": [],
            "/folders": {"id": "app_7", "name": "Ops", "parent_folder_id": "app_1", "folder_type": "app"},
            "/folders/app_7": {"id": "app_7", "name": "Operations", "folder_type": "app"},
            "/user_invites": {"id": 12, "invited_email": "new.hire@example.com"},
        }
    )


def provider(capture) -> RetoolProvider:
    config = ConnectionConfig(kind="retool", base_url="https://recorded.retool.dev", token="t")
    return RetoolProvider(config, transport=httpx.MockTransport(capture))


def test_it_sends_the_recorded_permission_bodies(capture):
    p = provider(capture)
    entries = p.grant_access(
        subject_kind="group", subject_id="133", object_kind="folder", object_id="app_190", level="use"
    )
    p.revoke_access(subject_kind="group", subject_id="133", object_kind="folder", object_id="app_190")
    p.list_access(subject_kind="group", subject_id="133", object_kind="folder")
    assert capture.bodies[("POST", "/permissions/grant")] == contract_row_body("POST /permissions/grant")
    assert capture.bodies[("POST", "/permissions/revoke")] == contract_row_body("POST /permissions/revoke")
    assert capture.bodies[("POST", "/permissions/listObjects")] == contract_row_body(
        "POST /permissions/listObjects"
    )
    assert [(e.object_kind, e.object_id, e.level) for e in entries] == [("folder", "app_190", "use")]


def test_it_sends_user_subjects_and_app_objects_as_the_contract_writes_them(capture):
    p = provider(capture)
    app_id = "8f2c1a9e-0b7d-4e33-9a51-7c0d2b6e4f18"
    p.grant_access(
        subject_kind="user",
        subject_id="user_1607dcd42a484c31b56095ec5df0b125",
        object_kind="app",
        object_id=app_id,
        level="edit",
    )
    assert capture.bodies[("POST", "/permissions/grant")] == {
        "access_level": "edit",
        "object": {"id": app_id, "type": "app"},
        "subject": {"id": "user_1607dcd42a484c31b56095ec5df0b125", "type": "user"},
    }


def test_it_sends_folder_bodies_with_only_the_contract_keys(capture):
    p = provider(capture)
    p.create_folder("Ops", parent_id="app_1")
    p.create_folder("Top")
    p.rename_folder("app_7", "Operations")
    assert capture.bodies[("POST", "/folders")] == {"name": "Top", "folder_type": "app"}
    assert capture.bodies[("PATCH", "/folders/app_7")] == {
        "operations": [{"op": "replace", "path": "/name", "value": "Operations"}]
    }


def test_it_sends_invite_bodies_with_only_email_groups_and_metadata(capture):
    p = provider(capture)
    p.create_invite("new.hire@example.com", group_ids=["5", "65"], metadata={"department": "ops"})
    assert capture.bodies[("POST", "/user_invites")] == {
        "email": "new.hire@example.com",
        "defaultGroupIds": [5, 65],
        "metadata": {"department": "ops"},
    }
    p.create_invite("bare@example.com")
    assert capture.bodies[("POST", "/user_invites")] == {"email": "bare@example.com"}
    with pytest.raises(ValueError):
        p.create_invite("x@example.com", group_ids=["admins"])
