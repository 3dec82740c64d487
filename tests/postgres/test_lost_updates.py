"""Two operators save different metadata keys of one person at the same moment, over real HTTP, with the instance
slow to answer: one save lands, the other is told about the conflict with both versions — never two "saved" and one
change gone. The lock is a row lock here (select_for_update on the UpstreamLock row).

On SQLite the lock is the IMMEDIATE transaction, which waits on the busy timeout of a file database; the in-memory
test database is shared between threads in shared-cache mode, where a second writer is refused at once ("database
table is locked") instead of waiting, so this test runs on PostgreSQL only (CI's second run)."""

from __future__ import annotations

import re
import threading

import httpx
import pytest

from apps.people.services import fingerprint
from tests.directory.conftest import fleet_connection, synced

__all__ = ["fleet_connection", "synced"]

ROUNDS = 3


def _session(live_server, user, path):
    from django.test import Client

    client = Client()
    client.force_login(user)
    http = httpx.Client(base_url=live_server.url, timeout=30)
    http.cookies.set("sessionid", client.cookies["sessionid"].value)
    page = http.get(path)
    assert page.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return http, token


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_saves_never_both_succeed(live_server, synced, operator_admin, django_user_model):
    sim, connection = synced("tooljet", "latest")
    ws = next(w["id"] for w in sim.state.workspaces.values() if w["name"] == "Acme Production")
    uid = sim.state.emails["priya.raman@example.com"]
    path = f"/connections/{connection.slug}/users/{uid}/"
    other = django_user_model.objects.create_user("second-admin", password="x")  # noqa: S106
    other.groups.set(operator_admin.groups.all())
    sessions = [_session(live_server, operator_admin, path), _session(live_server, other, path)]
    for round_ in range(ROUNDS):
        loaded = {d["key"]: d["value"] for d in sim.state.metadata[(uid, ws)]}
        # both reads answer slowly, so without a lock both would read the old state before either writes
        sim.faults.add(kind="latency", path=f"/api/ext/workspace/{ws}/user/", method="GET", ms=400, times=2)
        barrier = threading.Barrier(2)
        answers: list[str] = [""] * 2

        def save(i, key, loaded=loaded, round_=round_, barrier=barrier, answers=answers):
            http, token = sessions[i]
            data = {
                "workspace_id": ws,
                "fingerprint": fingerprint(loaded),
                "key": [*loaded, key],
                "value": [*loaded.values(), f"v{round_}"],
                "reason": "concurrency",
                "ticket": "",
                "csrfmiddlewaretoken": token,
            }
            barrier.wait()
            answers[i] = http.post(f"{path}metadata/", data=data, headers={"HX-Request": "true"}).text

        keys = [f"a{round_}", f"b{round_}"]
        threads = [threading.Thread(target=save, args=(i, keys[i])) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        saved = [i for i in range(2) if "Metadata saved" in answers[i]]
        conflicts = [i for i in range(2) if "changed in ToolJet" in answers[i]]
        assert len(saved) == 1 and len(conflicts) == 1, answers
        loser = conflicts[0]
        assert "Now in ToolJet" in answers[loser] and "Your version" in answers[loser]
        now = {d["key"] for d in sim.state.metadata[(uid, ws)]}
        assert keys[saved[0]] in now and keys[loser] not in now
