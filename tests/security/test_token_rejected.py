"""A 401/403 on the connection test says the token was rejected, over real HTTP to the simulators."""

from __future__ import annotations

import pytest


def _test(admin_client, connection) -> str:
    response = admin_client.post(f"/connections/{connection.slug}/test/")
    assert response.status_code == 200
    connection.refresh_from_db()
    assert connection.last_test_ok is False
    return connection.last_test["message"]


@pytest.mark.parametrize("kind", ["tooljet", "retool"])
def test_it_says_the_token_was_rejected_for_a_wrong_token(admin_client, simulator, make_connection, kind):
    sim = simulator(kind, users=3)
    message = _test(admin_client, make_connection(sim, token="wrong-token-value"))
    assert "the token was rejected" in message.lower()
    assert "does not look like" not in message


@pytest.mark.parametrize(("kind", "status"), [("tooljet", 401), ("tooljet", 403), ("retool", 401)])
def test_it_says_the_token_was_rejected_for_the_products_own_refusal(
    admin_client, simulator, make_connection, kind, status
):
    sim = simulator(kind, users=3)
    sim.faults.add(kind="status", status=status, times=None)
    message = _test(admin_client, make_connection(sim))
    assert "the token was rejected" in message.lower()
    assert f"HTTP {status}" in message
    assert "not ToolJet's JSON" not in message or "with ToolJet's JSON" not in message
    assert "does not look like" not in message


def test_it_still_names_the_other_product(admin_client, simulator, make_connection):
    retool = simulator("retool", users=3)
    message = _test(admin_client, make_connection(retool, kind="tooljet", token="wrong-token-value"))
    assert (
        "does not look like a ToolJet API" in message
        and "change the connection's product to Retool" in message
    )
