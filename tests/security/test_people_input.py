"""Hostile input on the people and apps pages: JSON attribute values go through the depth guard, and a read-only
operator never reads an instance's own error text inline."""

from __future__ import annotations

from apps.providers import jsonguard
from tests.directory.conftest import fleet_connection, synced

__all__ = ["fleet_connection", "synced"]

R = {"reason": "access review", "ticket": ""}


def test_it_refuses_a_json_attribute_nested_too_deep(admin_client, synced, htmx_headers):
    sim, connection = synced("retool", "enterprise")
    jose = sim.state.users[sim.state.emails["jose.alvarez@example.com"]]
    attribute = next(iter(sim.state.attributes.values()))
    attribute["data_type"] = "json"
    jsonguard.set_max_depth(8)  # what ADMINUI_JSON_MAX_DEPTH=8 does at start-up; the form must ask the guard
    try:
        deep = admin_client.post(
            f"/connections/{connection.slug}/users/{jose['id']}/attributes/",
            {"name": attribute["name"], "value": "[" * 9 + "]" * 9, **R},
            headers=htmx_headers,
        )
        shallow = admin_client.post(
            f"/connections/{connection.slug}/users/{jose['id']}/attributes/",
            {"name": attribute["name"], "value": "[" * 8 + "]" * 8, **R},
            headers=htmx_headers,
        )
    finally:
        jsonguard.set_max_depth(jsonguard.DEFAULT_MAX_DEPTH)
    assert deep.status_code == 200 and "not valid JSON" in deep.content.decode()
    assert "not valid JSON" not in shallow.content.decode()
    assert sim.state.users[jose["id"]]["metadata"][attribute["name"]] == "[" * 8 + "]" * 8


def test_a_viewer_reads_a_plain_message_where_a_workspace_failed(admin_client, viewer_client, synced):
    sim, connection = synced("tooljet", "latest")
    url = f"/connections/{connection.slug}/apps/"
    assert admin_client.get(url).status_code == 200
    upstream_words = "ToolJet rejected the request: Error"  # the instance's own words after ours
    sim.faults.add("status", status=400, path="/api/ext/workspace/", method="GET", times=None)
    as_admin = admin_client.get(url).content.decode()
    as_viewer = viewer_client.get(url).content.decode()
    assert upstream_words in as_admin
    assert upstream_words not in as_viewer
    assert "An administrator can see the details" in as_viewer
