"""The simulator fixture's server pool: a reused server serves a freshly seeded app, never a previous test's."""

from __future__ import annotations

import httpx
import pytest

from apps.simulators import DEFAULT_TOKENS
from apps.simulators.pytest_plugin import SimulatorPool

TJ = {"Authorization": f"Basic {DEFAULT_TOKENS['tooljet']}"}


@pytest.fixture
def pool():
    pool = SimulatorPool()
    yield pool
    pool.close()


def _emails(sim) -> set[str]:
    response = httpx.get(f"{sim.url}/api/ext/users", headers=TJ, timeout=5)
    assert response.status_code == 200, response.text
    return {u["email"] for u in response.json()}


def test_it_reuses_the_server_with_a_freshly_seeded_app(pool):
    key, first = pool.lease("tooljet", {"users": 3, "seed": 4})
    seeded = _emails(first)
    first.state.users.clear()
    first.state.profile = None
    first.app.on_users_list = None
    first.faults.add(kind="status", status=503, path="/", times=None)
    url, first_app = first.url, first.app
    pool.release(key, first)

    key, second = pool.lease("tooljet", {"users": 3, "seed": 4})
    assert second.url == url and second.app is not first_app
    assert len(second.faults) == 0 and list(second.requests) == []
    assert _emails(second) == seeded
    assert list(second.requests) == [("GET", "/api/ext/users")]
    assert list(first_app.requests) == [("GET", "/api/ext/users")]  # the old app saw nothing more


def test_it_gives_two_servers_to_two_leases_at_once_and_one_per_set_of_arguments(pool):
    _, a = pool.lease("tooljet", {"users": 3})
    _, b = pool.lease("tooljet", {"users": 3})
    key_c, c = pool.lease("tooljet", {"users": 4})
    assert len({a.url, b.url, c.url}) == 3
    pool.release(key_c, c)
    _, d = pool.lease("tooljet", {"users": 5})
    assert d.url != c.url and len(_emails(d)) == 5


def test_it_never_hands_out_a_server_a_test_stopped(pool):
    key, sim = pool.lease("retool", {"users": 3})
    url = sim.url
    sim.stop()
    pool.release(key, sim)
    _, again = pool.lease("retool", {"users": 3})
    assert again.url != url
    assert again.thread.is_alive()


def test_fresh_gives_a_server_of_the_tests_own(simulator):
    shared = simulator("tooljet", users=3)
    own = simulator("tooljet", users=3, fresh=True)
    assert own.url != shared.url
    assert _emails(own) == _emails(shared)


def test_it_empties_the_local_cache_a_reused_url_could_be_found_in():
    from django.core.cache import cache

    from apps.simulators.pytest_plugin import _forget_cached_answers

    cache.set("transfers:tjversion:1:http://127.0.0.1:1", "3.16.0")
    _forget_cached_answers()
    assert cache.get("transfers:tjversion:1:http://127.0.0.1:1") is None
