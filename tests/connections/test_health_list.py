"""The Health panel reads the probe's checks in words: labels, a tick only for what is available."""

from __future__ import annotations

import re

import pytest

from apps.connections.models import Connection


def _rows(html: str) -> dict[str, str]:
    """label → the row's text (tags stripped), for every row of the checks list."""
    block = re.search(r'<ul class="checks">(.*?)</ul>', html, re.DOTALL)
    assert block, "no checks list"
    rows = {}
    for li in re.findall(r"<li class=\"(\w+)\">(.*?)</li>", block.group(1), re.DOTALL):
        text = " ".join(re.sub(r"<[^>]+>", " ", li[1]).split())
        label = text[2:].split(":", 1)[0]  # after the mark
        rows[label] = f"{li[0]} {text}"
    return rows


def _test(admin_client, connection: Connection) -> str:
    response = admin_client.post(f"/connections/{connection.slug}/test/", headers={"HX-Request": "true"})
    assert response.status_code == 200 and b"<html" not in response.content
    return response.content.decode()


def test_it_labels_the_tooljet_checks_and_ticks_only_what_is_available(
    admin_client, simulator, make_connection
):
    connection = make_connection(simulator("tooljet", profile="latest", users=3))
    html = _test(admin_client, connection)
    for raw in ("reachable_and_authenticated", "v2_users", "status_filter", "— HTTP"):
        assert raw not in html
    rows = _rows(html)
    assert rows["Reachable and token accepted"].startswith("ok ✓ Reachable and token accepted: Yes")
    # the probe's deliberately invalid requests are explained, not shown as a bare "HTTP 400" or "User not found"
    assert rows["Apps API"].startswith("ok ✓ Apps API: Available")
    assert "refused as invalid (HTTP 400), as expected" in rows["Apps API"]
    assert rows["User metadata API"].startswith("ok ✓ User metadata API: Available")
    assert "made-up user" in rows["User metadata API"]
    assert "as expected" in rows["Status filter on user lists"]
    assert rows["Users API (v2)"] == "no – Users API (v2): Not available No v2 users API on this version."
    assert "Not available on this instance: v2 users API." in html


def test_it_marks_what_a_plan_lacks_as_not_available_not_failed(admin_client, simulator, make_connection):
    connection = make_connection(simulator("retool", profile="business", users=3), kind="retool")
    rows = _rows(_test(admin_client, connection))
    assert rows["Users API"].startswith("no – Users API: Not available")
    assert "the Business plan has no users API" in rows["Users API"]
    assert rows["Apps API"] == "ok ✓ Apps API: Available"
    assert rows["Version"].startswith("ok ✓ Version: Known")


def test_it_shows_a_retool_pointed_at_a_tooljet_as_a_problem(admin_client, simulator, make_connection):
    connection = make_connection(simulator("tooljet", users=3), kind="retool")
    html = _test(admin_client, connection)
    connection.refresh_from_db()
    assert connection.last_test_ok is False
    assert "<strong>Problem:</strong>" in html and "Working" not in html
    assert "does not look like a Retool API" in html and "too old" not in html
    rows = _rows(html)
    assert rows["Reachable and token accepted"] == "error ✗ Reachable and token accepted: No"
    assert not any(row.startswith("ok") for row in rows.values())


@pytest.mark.django_db(transaction=True)
def test_it_shows_a_retool_pointed_at_the_console_as_a_problem(admin_client, live_server, make_connection):
    connection = make_connection(None, kind="retool", base_url=live_server.url)
    html = _test(admin_client, connection)
    connection.refresh_from_db()
    assert connection.last_test_ok is False and connection.health == "failing"
    assert "does not look like a Retool API" in connection.last_test["message"]
    assert "Not found · adminui" in connection.last_test["message"]
    assert not connection.capabilities["supports_users"]
    assert "Working" not in html


def test_it_reads_results_stored_before_the_checks_had_labels(admin_client, make_connection):
    connection = make_connection(None, kind="tooljet")
    connection.last_test = {
        "ok": True,
        "message": "Connected to ToolJet; token accepted.",
        "checks": [
            {"name": "apps", "ok": True, "detail": "HTTP 400"},
            {"name": "groups", "ok": True, "detail": "200"},
            {"name": "v2_users", "ok": False, "detail": "Cannot GET /api/v2/ext/users"},
        ],
    }
    connection.last_test_ok = True
    connection.save()
    rows = _rows(admin_client.get(f"/connections/{connection.slug}/").content.decode())
    assert rows["Apps API"] == "ok ✓ Apps API: Available (HTTP 400)"
    assert rows["Groups API"] == "ok ✓ Groups API: Available (HTTP 200)"
    assert rows["Users API (v2)"].startswith("no – Users API (v2): Not available")
