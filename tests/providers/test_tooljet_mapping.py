from __future__ import annotations

import io
import json

import httpx
import pytest

from apps.providers import get_provider_class
from apps.providers.base import ConnectionConfig
from apps.providers.errors import UpstreamBroken
from apps.providers.streams import splice_json_object
from apps.providers.tooljet import ToolJetProvider
from apps.providers.tooljet.mapping import permissions_from_wire, permissions_to_wire, user_from_wire


def test_it_maps_snake_case_and_legacy_folder_permissions():
    assert permissions_from_wire(
        {"apps_create": True, "workspace_constants": False, "folder_create": True}
    ) == {
        "appCreate": True,
        "orgConstantCRUD": False,
        "folderCreate": True,
    }
    assert permissions_from_wire({"folder": True}) == {"folderCreate": True, "folderDelete": True}
    assert permissions_from_wire({"appCreate": True}) == {"appCreate": True}
    assert permissions_to_wire({"folderCreate": True, "appDelete": False}, legacy_folder=True) == {
        "folderCRUD": True,
        "appDelete": False,
    }
    assert permissions_to_wire({"apps_create": True}) == {"appCreate": True}


def test_it_reads_the_role_from_user_permission_or_user_groups():
    a = user_from_wire(
        {
            "id": "1",
            "email": "a@x",
            "name": "Ann Lee",
            "status": "active",
            "workspaces": [{"id": "w", "status": "active", "userPermission": {"name": "builder"}}],
        }
    )
    assert a.workspaces[0].role == "builder" and (a.first_name, a.last_name) == ("Ann", "Lee")
    b = user_from_wire(
        {
            "id": "2",
            "email": "b@x",
            "name": "Bo",
            "status": "invited",
            "workspaces": [{"id": "w", "status": "invited"}],
            "userGroups": [{"id": "g1", "name": "end-user"}, {"id": "g2", "name": "Support"}],
        }
    )
    assert b.workspaces[0].role == "end-user" and [g.name for g in b.workspaces[0].groups] == ["Support"]
    assert b.active is False


def test_it_streams_users_item_by_item():
    users = [
        {"id": str(i), "email": f"u{i}@x", "name": "U", "status": "active", "workspaces": []}
        for i in range(500)
    ]
    body = json.dumps(users).encode()

    def handler(request):
        return httpx.Response(
            200,
            content=iter([body[i : i + 1000] for i in range(0, len(body), 1000)]),
            headers={"content-type": "application/json"},
        )

    p = ToolJetProvider(
        ConnectionConfig(kind="tooljet", base_url="https://tj.test", token="t0ken"),
        transport=httpx.MockTransport(handler),
    )
    it = p.iter_users()
    assert next(it).id == "0"
    assert sum(1 for _ in it) == 499


def test_it_rejects_malformed_user_streams():
    def handler(request):
        return httpx.Response(
            200, content=b'[{"id": "1", "email": ', headers={"content-type": "application/json"}
        )

    p = ToolJetProvider(
        ConnectionConfig(kind="tooljet", base_url="https://tj.test", token="t0ken"),
        transport=httpx.MockTransport(handler),
    )
    with pytest.raises(UpstreamBroken):
        list(p.iter_users())


@pytest.mark.parametrize(
    "source", [b'{"a": 1}', b'  {"a": {"b": [1, 2]}}\n', b"{}", b'{"x": "' + b"y" * 200000 + b'"}']
)
def test_it_splices_app_name_into_a_streamed_bundle(source):
    out = b"".join(splice_json_object(io.BytesIO(source), {"appName": "New"}))
    assert json.loads(out) == {**json.loads(source), "appName": "New"}


def test_it_resolves_providers_lazily():
    assert get_provider_class("tooljet") is ToolJetProvider
    assert get_provider_class("retool").__name__ == "RetoolProvider"
    with pytest.raises(ValueError):
        get_provider_class("appsmith")
