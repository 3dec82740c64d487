"""Something a connection cannot do is answered the same way wherever it is asked: one status, the probe's plain
reason, nothing sent upstream."""

from __future__ import annotations

import pytest
from django.utils.html import escape

from apps.connections.clients import connection_capabilities


@pytest.fixture
def business(simulator, probed_connection):
    """A Retool business plan: no users or groups scopes, and Retool has no app export at all."""
    sim = simulator("retool", profile="business", users=3)
    return sim, probed_connection(sim)


def _asks(sim, connection):
    base = f"/connections/{connection.slug}"
    app_id = next(iter(sim.app.state.apps))
    user_id = next(iter(sim.app.state.users))
    return {
        "supports_role_change": (
            "post",
            f"{base}/users/{user_id}/role/",
            {"role": "admin", "reason": "Admin"},
        ),
        "supports_groups": ("post", f"{base}/groups/new/", {"name": "Support", "reason": "New team"}),
        "supports_app_export": ("post", f"{base}/apps/{app_id}/export/", {"workspace": "x"}),
    }


@pytest.mark.parametrize("htmx", [False, True])
def test_it_answers_every_unsupported_change_with_one_status(admin_client, htmx_headers, business, htmx):
    sim, connection = business
    headers = htmx_headers if htmx else {}
    statuses = {}
    caps = connection_capabilities(connection)
    for flag, (method, url, data) in _asks(sim, connection).items():
        response = getattr(admin_client, method)(url, data, headers=headers)
        statuses[flag] = response.status_code
        assert escape(caps.reason(flag)) in response.content.decode()
        assert (response.get("HX-Retarget") == "#alerts") is htmx
    assert set(statuses.values()) == {409}, statuses
    assert sim.writes() == []
