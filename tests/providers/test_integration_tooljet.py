"""ToolJet client against the ToolJet simulator over real HTTP (127.0.0.1), every profile."""

from __future__ import annotations

import io
import json
import socket

import pytest

from apps.providers.base import ConnectionConfig, ProbeResult, WorkspaceAssignment
from apps.providers.errors import (
    AuthError,
    ConflictError,
    ConnectionRefused,
    ForbiddenError,
    ProviderTimeout,
    ProviderUnavailable,
    RejectedError,
    Unsupported,
    UpstreamBroken,
)
from apps.providers.http import RetryPolicy
from apps.providers.tooljet import ToolJetProvider

TOKEN = "tj-test-token"


def make(sim, *, token=TOKEN, timeout=10.0, sleeps=None, policy=None, base_url=None):
    config = ConnectionConfig(
        kind="tooljet",
        base_url=base_url or sim.url,
        token=token,
        timeout=timeout,
        key=f"tj-{id(sim)}-{token}",
    )
    return ToolJetProvider(
        config, sleep=(sleeps.append if sleeps is not None else lambda s: None), policy=policy
    )


@pytest.fixture
def latest(simulator):  # noqa: F811
    return simulator("tooljet", token=TOKEN, profile="latest", users=40, seed=1)


def test_it_probes_latest(latest):
    result = make(latest).probe(thorough=True)
    caps = result.capabilities
    assert result.ok and caps.supports_users and caps.supports_groups and caps.supports_metadata
    assert caps.supports_app_export and caps.supports_status_filter and caps.supports_role_change
    assert not caps.supports_app_clone and caps.reasons["supports_app_clone"]
    assert ProbeResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_it_probes_lts_316(simulator):  # noqa: F811
    sim = simulator("tooljet", token=TOKEN, profile="lts-3.16", users=10)
    result = make(sim).probe(thorough=True)
    caps = result.capabilities
    assert result.ok and caps.supports_users and caps.supports_app_export
    assert not caps.supports_groups and "groups API" in caps.reasons["supports_groups"]
    assert not caps.supports_metadata and not caps.supports_status_filter


@pytest.mark.parametrize(
    ("switch", "cls", "needle"),
    [
        ({"disabled": True}, ForbiddenError, "ENABLE_EXTERNAL_API=true"),
        ({"unlicensed": True}, ForbiddenError, "licence"),
        ({"starter_plan": True}, ForbiddenError, "plan"),
    ],
)
def test_it_explains_forbidden_instances(simulator, switch, cls, needle):  # noqa: F811
    sim = simulator("tooljet", token=TOKEN, profile="latest", users=5, **switch)
    result = make(sim).probe()
    assert not result.ok and needle in result.message
    with pytest.raises(cls):
        make(sim).list_workspaces()


def test_it_filters_users_by_email_and_name_whatever_the_case(latest):
    p = make(latest)
    priya = p.get_user("priya.raman@example.com")
    assert [u.id for u in p.iter_users(email="PRIYA.RAMAN@example.com")] == [priya.id]
    assert priya.id in {u.id for u in p.iter_users(first_name=priya.first_name.upper())}
    both = p.iter_users(first_name=priya.first_name, last_name=priya.last_name.lower())
    assert {u.email for u in both} == {priya.email}
    assert list(p.iter_users(email="priya.raman@example.co")) == []  # exact, not a substring


def test_it_reports_a_wrong_token(latest):
    result = make(latest, token="wrong-token-canary-123").probe()
    assert not result.ok and "EXTERNAL_API_ACCESS_TOKEN" in result.message
    assert "wrong-token-canary-123" not in json.dumps(result.to_dict())
    with pytest.raises(AuthError):
        list(make(latest, token="wrong-token-canary-123").iter_users())


@pytest.mark.parametrize("profile", ["latest", "lts-3.16"])
def test_it_manages_users(simulator, profile):  # noqa: F811
    sim = simulator("tooljet", token=TOKEN, profile=profile, users=40, seed=1)
    p = make(sim)
    users = list(p.iter_users())
    assert len(users) == 40 and all(u.email for u in users)
    ws = p.list_workspaces()[0]
    user = p.create_user(
        email="new.person@example.com",
        first_name="New",
        last_name="Person",
        workspaces=[WorkspaceAssignment(ws.id, role="builder")],
    )
    assert user.membership(ws.id).role == "builder"
    assert bool(user.invite_urls) is (profile == "latest")
    assert p.get_user("new.person@example.com").id == user.id
    assert p.update_user_profile(user.id, last_name="Human").name == "New Human"
    p.change_role(user.id, "admin", workspace_id=ws.id)
    assert p.get_user(user.id).membership(ws.id).role == "admin"
    p.patch_membership(user.id, ws.id, status="active")
    assert p.get_user(user.id).membership(ws.id).status == "active"
    assert p.set_user_status(user.id, "archived").status == "archived"
    assert user.id in {u.id for u in p.iter_users(status=["archived"])}
    p.replace_workspaces(user.id, [])
    assert p.get_user(user.id).workspaces == ()
    with pytest.raises(RejectedError) as err:
        p.create_user(
            email="new.person@example.com",
            first_name="A",
            last_name="B",
            workspaces=[WorkspaceAssignment(ws.id)],
        )
    assert "already exists" in str(err.value)


def test_it_edits_metadata_with_a_conflict_check(latest):
    p = make(latest)
    ws = p.list_workspaces()[0]
    member = next(u for u in p.iter_users() if u.membership(ws.id))
    saved = p.put_user_metadata(ws.id, member.email, {"department": "eng", "tier": "gold"})
    assert saved.as_dict() == {"department": "eng", "tier": "gold"}
    assert p.get_user_metadata(ws.id, member.id).as_dict() == saved.as_dict()
    with pytest.raises(ConflictError) as err:
        p.put_user_metadata(ws.id, member.id, {"department": "ops"}, expected={"department": "eng"})
    assert err.value.current == {"department": "eng", "tier": "gold"}
    p.put_user_metadata(ws.id, member.id, {}, expected=saved.as_dict())
    assert p.get_user_metadata(ws.id, member.id).items == ()


def test_it_says_metadata_is_unsupported_on_lts(simulator):  # noqa: F811
    sim = simulator("tooljet", token=TOKEN, profile="lts-3.16", users=5)
    p = make(sim)
    ws = p.list_workspaces()[0]
    with pytest.raises(Unsupported):
        p.get_user_metadata(ws.id, "anyone@example.com")
    with pytest.raises(Unsupported):
        p.list_groups(ws.id)


def test_it_manages_groups(latest):
    p = make(latest)
    ws = p.list_workspaces()[0].id
    group = p.create_group("Support team", workspace_id=ws, permissions={"appCreate": True})
    assert group.permissions["appCreate"] is True and group.permissions["folderCreate"] is False
    group = p.update_group(group.id, workspace_id=ws, permissions={"folderCreate": True})
    assert group.permissions["appCreate"] is True and group.permissions["folderCreate"] is True
    page = p.list_groups(ws, per_page=2)
    assert len(page.items) == 2 and page.total >= 3 and page.next == "2"
    assert group.id in {g.id for g in p.iter_groups(ws)}
    p.delete_group(group.id, workspace_id=ws)
    assert group.id not in {g.id for g in p.iter_groups(ws)}
    with pytest.raises(RejectedError):
        p.create_group("Bad@Name!", workspace_id=ws)
    with pytest.raises(Unsupported):
        p.add_group_members(group.id, ["x"])


@pytest.mark.parametrize("profile", ["latest", "lts-3.16"])
def test_it_exports_and_imports_apps(simulator, profile):  # noqa: F811
    sim = simulator("tooljet", token=TOKEN, profile=profile, users=5)
    p = make(sim)
    ws = p.list_workspaces()[0].id
    app = next(iter(p.iter_apps(ws)))
    assert p.get_app(app.id, workspace_id=ws).name == app.name
    with p.export_app(app.id, workspace_id=ws, export_tjdb=False) as export:
        chunks = list(export)
    bundle = json.loads(b"".join(chunks))
    assert "tooljet_database" not in bundle and len(bundle["app"]) == 1
    result = p.import_app(ws, io.BytesIO(b"".join(chunks)), app_name="Imported copy")
    assert result.ok and ws in result.message
    assert "Imported copy" in {a.name for a in p.iter_apps(ws)}
    with pytest.raises(RejectedError) as err:
        p.import_app(ws, bundle, app_name="Imported copy")
    assert "already taken" in str(err.value)
    with pytest.raises(ValueError):
        p.import_app(ws, b'{"appName": "x"}', app_name="y")


# -- faults ------------------------------------------------------------------------------------------------------------


def test_it_retries_a_transient_503_on_reads(latest):
    sleeps: list[float] = []
    latest.faults.add(kind="status", status=503, path="/api/ext/workspaces", times=1)
    assert make(latest, sleeps=sleeps).list_workspaces()
    assert len(sleeps) == 1


def test_it_retries_a_429_honouring_retry_after(latest):
    sleeps: list[float] = []
    latest.faults.add(kind="status", status=429, path="/api/ext/users", times=1, retry_after=2)
    assert len(list(make(latest, sleeps=sleeps).iter_users())) == 40
    assert sleeps == [2.0]


def test_it_never_retries_create_user(latest):
    fault = latest.faults.add(kind="status", status=503, path="/api/ext/users", method="POST", times=2)
    p = make(latest)
    ws = p.list_workspaces()[0].id
    with pytest.raises(UpstreamBroken):
        p.create_user(
            email="once@example.com", first_name="O", last_name="N", workspaces=[WorkspaceAssignment(ws)]
        )
    assert fault.times == 1  # the simulator saw exactly one request


def test_it_never_retries_import_or_group_create(latest):
    p = make(latest)
    ws = p.list_workspaces()[0].id
    fault = latest.faults.add(kind="status", status=503, path=f"/api/ext/import/workspace/{ws}", times=2)
    with pytest.raises(UpstreamBroken):
        p.import_app(ws, {"tooljet_version": "3.0.0", "app": []}, app_name="Once")
    assert fault.times == 1
    fault = latest.faults.add(kind="status", status=503, path=f"/api/ext/workspace/{ws}/groups", times=2)
    with pytest.raises(UpstreamBroken):
        p.create_group("Once", workspace_id=ws)
    assert fault.times == 1


def test_it_reports_html_pages(latest):
    latest.faults.add(kind="html", status=502, path="/api/ext/workspaces", times=3)
    with pytest.raises(UpstreamBroken) as err:
        make(latest).list_workspaces()
    assert "HTML" in str(err.value)


def test_it_reports_truncated_streams(latest):
    latest.faults.add(kind="truncated", path="/api/ext/users", times=1)
    with pytest.raises((UpstreamBroken, ProviderUnavailable)) as err:
        list(make(latest).iter_users())
    assert "truncated" in str(err.value) or "malformed" in str(err.value)


def test_it_reports_dropped_connections(latest):
    latest.faults.add(kind="drop", path="/api/ext/workspaces", times=3)
    with pytest.raises(ProviderUnavailable) as err:
        make(latest).list_workspaces()
    assert err.value.message


def test_it_times_out(latest):
    latest.faults.add(kind="latency", path="/api/ext/workspaces", ms=1500, times=1)
    with pytest.raises(ProviderTimeout) as err:
        make(latest, timeout=0.3).list_workspaces()
    assert "did not answer in time" in str(err.value)


def test_it_reports_connection_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = ConnectionConfig(kind="tooljet", base_url=f"http://127.0.0.1:{port}", token=TOKEN, key="refused")
    result = ToolJetProvider(config, policy=RetryPolicy(max_retries=0)).probe()
    assert not result.ok and "refused" in result.message
    assert result.error["error"] == ConnectionRefused.__name__


def test_it_reports_a_wrong_base_url(latest):
    result = make(latest, base_url=latest.url + "/tooljet").probe()
    assert not result.ok and "SUB_PATH" in result.message
