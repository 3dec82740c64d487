"""ToolJet optional v2 users API through the client (tooljet.md §8), against the simulator's ``v2_api=True``."""

from __future__ import annotations

import pytest

from apps.providers.base import ConnectionConfig
from apps.providers.errors import ConflictError, NotFoundError, RejectedError, Unsupported, UpstreamBroken
from apps.providers.tooljet import ToolJetProvider

TOKEN = "tj-v2-token"


def make(sim):
    config = ConnectionConfig(kind="tooljet", base_url=sim.url, token=TOKEN, key=f"tjv2-{id(sim)}")
    return ToolJetProvider(config, sleep=lambda s: None)


@pytest.fixture
def v2(simulator):  # noqa: F811
    return simulator("tooljet", token=TOKEN, profile="latest", users=45, seed=5, v2_api=True)


def test_it_probes_the_v2_users_api(v2, simulator):  # noqa: F811
    assert make(v2).probe().capabilities.supports_v2_users
    off = simulator("tooljet", token=TOKEN, profile="latest", users=5)
    caps = make(off).probe().capabilities
    assert not caps.supports_v2_users and caps.reasons["supports_v2_users"]


def test_it_pages_and_searches_users_server_side(v2):
    p = make(v2)
    first = p.search_users_v2(per_page=20)
    assert len(first.items) == 20 and first.total == 45 and first.next == "2"
    last = p.search_users_v2(page=3, per_page=20)
    assert len(last.items) == 5 and last.next is None
    everyone = list(p.iter_users_v2())
    assert len({u.id for u in everyone}) == 45
    target = everyone[7]
    found = p.search_users_v2(search=target.email.upper())
    assert target.id in {u.id for u in found.items}
    assert all(u.status == "archived" for u in p.search_users_v2(status="archived").items)
    assert p.search_users_v2(search="no-such-person-xyz").items == ()
    with pytest.raises(ValueError):
        p.search_users_v2(per_page=101)
    assert v2.requests[-1] == ("GET", "/api/v2/ext/users")  # the bad per_page was refused before sending


def test_it_archives_and_unarchives_with_409_on_repeat(v2):
    p = make(v2)
    user = next(u for u in p.iter_users_v2() if u.status == "active")
    p.archive_user_v2(user.email)
    again = p.get_user_v2(user.id)
    assert again.status == "archived"
    assert again.workspaces and all(m.status == "archived" for m in again.workspaces)
    with pytest.raises(ConflictError):
        p.archive_user_v2(user.id)
    p.unarchive_user_v2(user.id)
    assert p.get_user_v2(user.id).status == "active"
    with pytest.raises(ConflictError):
        p.unarchive_user_v2(user.id)
    writes = [w for w in v2.writes() if w[1].endswith("archive")]
    assert len(writes) == 4  # one request per call, never retried


def test_it_reports_unknown_users_and_absent_api(v2, simulator):  # noqa: F811
    p = make(v2)
    with pytest.raises(NotFoundError):
        p.get_user_v2("nobody@example.com")
    off = make(simulator("tooljet", token=TOKEN, profile="lts-3.16", users=5, v2_api=True))
    with pytest.raises(Unsupported) as err:
        off.search_users_v2()
    assert err.value.capability == "supports_v2_users"


def test_it_never_retries_archive_and_refuses_html(v2):
    p = make(v2)
    user = next(iter(p.iter_users_v2()))
    v2.faults.add(kind="status", status=503, path="/api/v2/ext/users/", method="POST", times=3)
    with pytest.raises(UpstreamBroken):
        p.archive_user_v2(user.id)
    assert [w for w in v2.writes() if w[1].endswith("/archive")] == [
        ("POST", f"/api/v2/ext/users/{user.id}/archive")
    ]
    v2.faults.add(kind="html", status=200, path="/api/v2/ext/users", method="GET", times=1)
    with pytest.raises(UpstreamBroken):
        p.search_users_v2()
    v2.faults.add(kind="status", status=400, path="/api/v2/ext/users", method="GET", times=1)
    with pytest.raises(RejectedError):
        p.search_users_v2()
