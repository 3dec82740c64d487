"""Retool client against the Retool simulator over real HTTP (127.0.0.1), enterprise and business plans."""

from __future__ import annotations

import json

import httpx
import pytest

from apps.providers.base import ConnectionConfig
from apps.providers.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    Unsupported,
    UpstreamBroken,
)
from apps.providers.retool import RetoolProvider

TOKEN = "rt-test-token"


def make(sim, *, token=TOKEN, sleeps=None, transport=None, page_cap=100):
    config = ConnectionConfig(kind="retool", base_url=sim.url + "/api/v2/", token=token, key=f"rt-{id(sim)}")
    return RetoolProvider(
        config,
        transport=transport,
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
        page_cap=page_cap,
    )


@pytest.fixture
def enterprise(simulator):  # noqa: F811
    return simulator("retool", token=TOKEN, profile="enterprise", users=40, seed=1)


@pytest.fixture
def business(simulator):  # noqa: F811
    return simulator("retool", token=TOKEN, profile="business", users=40, seed=1)


def test_it_probes_enterprise(enterprise):
    result = make(enterprise).probe()
    caps = result.capabilities
    assert result.ok and result.version
    assert (
        caps.supports_users
        and caps.supports_groups
        and caps.supports_user_attributes
        and caps.supports_app_clone
    )
    assert caps.supports_role_change and caps.roles == ("admin", "member")
    assert not caps.supports_app_export and "Export to JSON" in caps.reasons["supports_app_export"]


def test_it_probes_business(business):
    result = make(business).probe()
    caps = result.capabilities
    assert result.ok
    assert caps.supports_user_attributes and caps.supports_app_list
    assert not caps.supports_users and "users:read" in caps.reasons["supports_users"]
    assert not caps.supports_groups
    with pytest.raises(ForbiddenError) as err:
        list(make(business).iter_users())
    assert err.value.reason == "missing_scope" and err.value.scope == "users:read"


def test_it_reports_a_wrong_token(enterprise):
    result = make(enterprise, token="nope-canary-987").probe()
    assert not result.ok and "token" in result.message
    assert "nope-canary-987" not in json.dumps(result.to_dict())


def test_it_filters_users_by_email_and_name_whatever_the_case(enterprise):
    p = make(enterprise)
    priya = p.get_user("priya.raman@example.com")
    assert [u.id for u in p.iter_users(email="Priya.Raman@EXAMPLE.com")] == [priya.id]
    both = p.iter_users(first_name=priya.first_name.upper(), last_name=priya.last_name)
    assert {u.email for u in both} == {priya.email}
    assert list(p.iter_users(last_name="Ram")) == []  # exact, not a prefix


def test_it_pages_users_with_next_token(enterprise):
    seen = []

    def spy(request):
        seen.append(dict(request.url.params))

    transport = httpx.HTTPTransport()
    p = make(enterprise, transport=_Spy(transport, spy))
    users = list(p.iter_users())
    assert len(users) == 40 and len({u.id for u in users}) == 40
    assert len(seen) == 1 and seen[0]["limit"] == "100"
    p = make(enterprise, page_cap=3)
    import apps.providers.retool.client as client_module

    old = client_module.PAGE_LIMIT
    client_module.PAGE_LIMIT = 7
    try:
        assert len(list(p.iter_users())) == 21  # stopped by the page cap
        assert len(list(make(enterprise).iter_users())) == 40
    finally:
        client_module.PAGE_LIMIT = old


class _Spy(httpx.BaseTransport):
    def __init__(self, inner, callback):
        self.inner = inner
        self.callback = callback

    def handle_request(self, request):
        self.callback(request)
        return self.inner.handle_request(request)


def test_it_manages_users_and_attributes(enterprise):
    p = make(enterprise)
    user = p.create_user(
        email="x.y@example.com", first_name="X", last_name="Y", metadata={"department": "ops"}
    )
    assert user.id.startswith("user_") and user.metadata == {"department": "ops"}
    assert p.get_user("x.y@example.com").id == user.id
    assert p.update_user_profile(user.id, first_name="Zed").name == "Zed Y"
    with pytest.raises(Unsupported):
        p.update_user_profile(user.id, email="other@example.com")
    assert p.set_user_status(user.id, "disabled").active is False
    assert user.id in {u.id for u in p.iter_users(status=["disabled"])}
    assert p.set_user_status(user.id, "active").active is True
    names = [a.name for a in p.list_user_attributes()]
    assert "department" in names
    assert p.set_user_attribute(user.id, "department", "sales")["department"] == "sales"
    assert "department" not in p.delete_user_attribute(user.id, "department")
    p.change_role(user.id, "admin")
    assert p.get_user(user.id).is_admin is True
    p.change_role(user.id, "member")
    assert p.get_user(user.id).is_admin is False


def test_it_manages_groups(enterprise):
    p = make(enterprise)
    users = list(p.iter_users())
    group = p.create_group("Helpdesk", permissions={"universal_app_access": "use"})
    group = p.add_group_members(group.id, [users[1].id, users[2].id])
    assert {m.id for m in group.members} == {users[1].id, users[2].id}
    group = p.set_group_admin(group.id, users[1].id, True)
    assert next(m for m in group.members if m.id == users[1].id).is_group_admin
    updated = p.update_group(
        group.id, name="Helpdesk 2", permissions={"theme_access": True}, expected_updated_at=group.updated_at
    )
    assert updated.name == "Helpdesk 2" and len(updated.members) == 2  # members preserved by the PUT
    assert (
        updated.permissions["universal_app_access"] == "use" and updated.permissions["theme_access"] is True
    )
    with pytest.raises(ConflictError):
        p.update_group(group.id, name="stale", expected_updated_at=group.updated_at)
    group = p.remove_group_member(group.id, users[2].id)
    assert [m.id for m in group.members] == [users[1].id]
    assert len(p.list_groups(per_page=2).items) == 2
    p.delete_group(group.id)
    p.delete_group(group.id)  # already gone is fine
    with pytest.raises(NotFoundError):  # not a Retool group id: it names no group (nothing is asked)
        p.get_group("abc")
    with pytest.raises(NotFoundError):  # malformed user and app ids: Retool answers 400, i.e. no such object
        p.get_user("00000000-0000-4000-8000-000000000000")
    with pytest.raises(NotFoundError):
        p.get_app("nope")


@pytest.mark.parametrize("profile", ["enterprise", "business"])
def test_it_lists_and_clones_apps(simulator, profile):  # noqa: F811
    sim = simulator("retool", token=TOKEN, profile=profile, users=5)
    p = make(sim)
    apps = list(p.iter_apps())
    assert apps
    needle = apps[0].name.split()[0].upper()
    assert apps[0].id in {a.id for a in p.iter_apps(name_contains=needle)}
    assert p.get_app(apps[0].id).name == apps[0].name
    clone = p.clone_app(apps[0].id, "Cloned app")
    assert clone.name == "Cloned app" and clone.id != apps[0].id
    with pytest.raises(Unsupported):
        p.export_app(apps[0].id)


def test_it_retries_reads_after_503_and_429(enterprise):
    sleeps: list[float] = []
    enterprise.faults.add(kind="status", status=503, path="/api/v2/groups", times=1)
    enterprise.faults.add(kind="status", status=429, path="/api/v2/users", times=1, retry_after=3)
    p = make(enterprise, sleeps=sleeps)
    assert list(p.iter_groups())
    assert list(p.iter_users())
    assert len(sleeps) == 2 and sleeps[1] == 3.0


def test_it_never_retries_create_user_or_group_or_clone(enterprise):
    p = make(enterprise)
    app = next(iter(p.iter_apps()))
    for path, call in (
        ("/api/v2/users", lambda: p.create_user(email="a.b@example.com", first_name="A", last_name="B")),
        ("/api/v2/groups", lambda: p.create_group("Once")),
        ("/api/v2/apps/cloneApp", lambda: p.clone_app(app.id, "Once")),
    ):
        fault = enterprise.faults.add(kind="status", status=503, path=path, method="POST", times=2)
        with pytest.raises(UpstreamBroken):
            call()
        assert fault.times == 1, path


def test_it_reports_the_servers_rate_limit(simulator):  # noqa: F811
    sim = simulator("retool", token=TOKEN, profile="enterprise", users=5, rate_limit_rpm=2, retry_after=90)
    p = make(sim)
    list(p.iter_groups())
    list(p.iter_groups())
    with pytest.raises(RateLimitedError) as err:
        list(p.iter_groups())
    assert err.value.retry_after == 90


def test_it_reports_html_and_truncated_answers(enterprise):
    enterprise.faults.add(kind="html", status=502, path="/api/v2/groups", times=3)
    with pytest.raises(UpstreamBroken) as err:
        list(make(enterprise).iter_groups())
    assert "HTML" in str(err.value)
    enterprise.faults.add(kind="truncated", path="/api/v2/users", times=1)
    with pytest.raises(UpstreamBroken) as err:
        list(make(enterprise).iter_users())
    assert "malformed" in str(err.value)


def test_users_carry_their_instance_wide_role(simulator):
    from apps.providers.base import ConnectionConfig
    from apps.providers.retool import RetoolProvider

    sim = simulator("retool", users=8)
    provider = RetoolProvider(ConnectionConfig(kind="retool", base_url=sim.url, token="retool-test-token"))
    roles = {u.email: u.role for u in provider.iter_users()}
    assert roles["priya.raman@example.com"] == "admin"
    assert set(roles.values()) == {"admin", "member"}
