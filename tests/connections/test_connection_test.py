from __future__ import annotations

import socket

import pytest

from apps.audit.models import AuditEvent
from apps.connections.models import Connection


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("kind", "profile", "expected_on", "expected_off"),
    [
        ("tooljet", "latest", ["supports_groups", "supports_metadata", "supports_app_export"], []),
        (
            "tooljet",
            "lts-3.16",
            ["supports_users", "supports_app_export"],
            ["supports_groups", "supports_metadata"],
        ),
        (
            "retool",
            "enterprise",
            ["supports_users", "supports_groups", "supports_app_clone"],
            ["supports_app_export"],
        ),
        (
            "retool",
            "business",
            ["supports_app_list", "supports_user_attributes"],
            ["supports_users", "supports_groups"],
        ),
    ],
)
def test_it_probes_and_stores_capabilities(
    admin_client, simulator, make_connection, kind, profile, expected_on, expected_off
):
    sim = simulator(kind, profile=profile, users=5)
    connection = make_connection(sim, kind=kind)
    response = admin_client.post(f"/connections/{connection.slug}/test/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b"<html" not in response.content
    connection.refresh_from_db()
    assert connection.last_test_ok is True
    for flag in expected_on:
        assert connection.capabilities[flag] is True, flag
    for flag in expected_off:
        assert connection.capabilities[flag] is False, flag
        assert connection.capabilities["reasons"][flag]
    assert AuditEvent.objects.filter(
        action="connection.test", connection=connection, outcome="success"
    ).exists()


def test_it_explains_a_wrong_token(admin_client, simulator, make_connection):
    sim = simulator("tooljet", users=3)
    connection = make_connection(sim, token="wrong-token")
    response = admin_client.post(f"/connections/{connection.slug}/test/")
    connection.refresh_from_db()
    assert connection.last_test_ok is False
    assert b"token" in response.content.lower()
    assert connection.health == "failing"
    assert AuditEvent.objects.filter(action="connection.test", outcome="failure").exists()


def test_it_explains_a_disabled_tooljet_api(admin_client, simulator, make_connection):
    sim = simulator("tooljet", users=3, disabled=True)
    connection = make_connection(sim)
    response = admin_client.post(f"/connections/{connection.slug}/test/")
    assert b"ENABLE_EXTERNAL_API" in response.content


def test_it_explains_a_refused_connection(admin_client, make_connection):
    connection = make_connection(None, kind="tooljet", base_url=f"http://127.0.0.1:{_free_port()}")
    response = admin_client.post(f"/connections/{connection.slug}/test/")
    assert response.status_code == 200
    connection.refresh_from_db()
    assert connection.last_test_ok is False
    assert "refused" in connection.last_test["message"].lower()


def test_it_explains_html_where_json_was_expected(admin_client, simulator, make_connection):
    sim = simulator("retool", users=3)
    sim.faults.add(kind="html", status=200, path="/api/v2", times=None)
    connection = make_connection(sim, kind="retool")
    admin_client.post(f"/connections/{connection.slug}/test/")
    connection.refresh_from_db()
    assert connection.last_test_ok is False
    assert (
        "html" in connection.last_test["message"].lower()
        or "base url" in connection.last_test["message"].lower()
    )


def test_the_list_shows_a_health_dot(admin_client, simulator, make_connection):
    sim = simulator("tooljet", users=3)
    connection = make_connection(sim)
    admin_client.post(f"/connections/{connection.slug}/test/")
    assert b"dot-ok" in admin_client.get("/connections/").content
    assert Connection.objects.get(pk=connection.pk).health == "ok"
