from __future__ import annotations

import hashlib
import json
import re
from unittest import mock

from django.db import connection as db_connection

from apps.audit.models import AuditEvent
from apps.providers.http import READ_SIZE
from apps.transfers.digest import OverlappedSha256
from apps.transfers.services.common import OUT_CHUNK
from tests.transfers.conftest import app_id, workspace_id


def _download(client, connection, sim, name="Sales Dashboard", **params):
    ws = workspace_id(sim)
    response = client.post(
        f"/connections/{connection.slug}/apps/{app_id(sim, name)}/export/", {"workspace": ws, **params}
    )
    return response


def test_it_streams_the_newest_version_as_an_attachment(admin_client, tooljet):
    sim, connection = tooljet
    response = _download(admin_client, connection, sim)
    assert response.status_code == 200
    assert response.streaming
    disposition = response["Content-Disposition"]
    assert re.search(
        r'attachment; filename="tj-prod-acme-production-sales-dashboard-v4-\d{8}-\d{4}\.json"',
        disposition,
    ), disposition
    body = b"".join(response.streaming_content)
    data = json.loads(body)
    assert [v["name"] for v in data["app"][0]["definition"]["appV2"]["appVersions"]] == ["v4"]
    assert "tooljet_database" in data
    event = AuditEvent.objects.get(action="app.export")
    assert event.outcome == "success"
    assert event.after["size"] == len(body)
    assert event.after["sha256"] == hashlib.sha256(body).hexdigest()
    assert event.target_repr == "Sales Dashboard"


def test_it_exports_a_named_version_without_tables(admin_client, tooljet):
    sim, connection = tooljet
    response = _download(admin_client, connection, sim, version="v2", tjdb="0")
    data = json.loads(b"".join(response.streaming_content))
    assert [v["name"] for v in data["app"][0]["definition"]["appV2"]["appVersions"]] == ["v2"]
    assert "tooljet_database" not in data
    assert "-v2-" in response["Content-Disposition"]
    assert (
        "POST",
        f"/api/ext/export/workspace/{workspace_id(sim)}/apps/{app_id(sim, 'Sales Dashboard')}",
    ) in [(m, p) for m, p in sim.requests]


def test_it_exports_all_versions(admin_client, tooljet):
    sim, connection = tooljet
    response = _download(admin_client, connection, sim, all_versions="on")
    data = json.loads(b"".join(response.streaming_content))
    assert len(data["app"][0]["definition"]["appV2"]["appVersions"]) == 4
    assert "-all-" in response["Content-Disposition"]


def test_it_shows_the_upstream_refusal_and_audits_it(admin_client, tooljet):
    sim, connection = tooljet
    response = _download(admin_client, connection, sim, version="v99")
    assert response.status_code == 502
    assert not response.streaming
    assert "v99" in response.content.decode()
    event = AuditEvent.objects.get(action="app.export")
    assert event.outcome == "failure" and event.upstream_status == 400


def test_it_audits_an_interrupted_stream(admin_client, tooljet):
    sim, connection = tooljet
    response = _download(admin_client, connection, sim)
    iterator = iter(response.streaming_content)
    next(iterator)
    # the browser went away: the WSGI server closes the response. Closing ends the request, and Django then
    # closes "obsolete" connections — the test's own (inside its transaction) on PostgreSQL; a real request
    # ends its connection after the audit row is written, so keep the test's connection open.
    with mock.patch.object(db_connection, "close_if_unusable_or_obsolete"):
        response.close()
    event = AuditEvent.objects.get(action="app.export")
    assert event.outcome == "failure"
    assert "interrupted" in event.error


def test_the_audit_row_is_written_even_when_the_digest_fails(admin_client, tooljet):
    sim, connection = tooljet
    response = _download(admin_client, connection, sim)
    with mock.patch.object(OverlappedSha256, "hexdigest", side_effect=RuntimeError("hash thread died")):
        body = b"".join(response.streaming_content)
    event = AuditEvent.objects.get(action="app.export")
    assert event.outcome == "success"
    assert event.after["size"] == len(body)
    assert event.after["sha256"] == ""


def test_it_streams_a_large_export_without_buffering(admin_client, simulator, probed_connection):
    sim = simulator("tooljet", profile="latest", export_pad_bytes=8 * 1024 * 1024)
    connection = probed_connection(sim, slug="tj-big")
    response = _download(admin_client, connection, sim, name="Archive Browser")
    sizes = [len(c) for c in response.streaming_content]
    assert sum(sizes) > 8 * 1024 * 1024
    # passed through in pieces of at most one gathered OUT_CHUNK plus one upstream read, never the whole body
    assert max(sizes) <= OUT_CHUNK + READ_SIZE < sum(sizes) / 4
    assert AuditEvent.objects.get(action="app.export").after["size"] == sum(sizes)


def test_it_is_for_admins_only(helpdesk_client, viewer_client, tooljet):
    sim, connection = tooljet
    assert _download(helpdesk_client, connection, sim).status_code == 403
    assert _download(viewer_client, connection, sim).status_code == 403
    assert not [r for r in sim.requests if "/export/" in r[1]]


def test_it_is_not_offered_where_the_api_has_no_export(admin_client, retool):
    sim, connection = retool
    some_app = next(iter(sim.app.state.apps))
    response = admin_client.post(
        f"/connections/{connection.slug}/apps/{some_app}/export/", {"workspace": "x"}
    )
    assert response.status_code == 409


def test_a_get_changes_nothing(admin_client, tooljet):
    """An <img src> or a link on any page cannot start an export: GET is refused before the instance is called."""
    sim, connection = tooljet
    url = f"/connections/{connection.slug}/apps/{app_id(sim, 'Sales Dashboard')}/export/"
    response = admin_client.get(url, {"workspace": workspace_id(sim)})
    assert response.status_code == 405
    assert not [r for r in sim.requests if "/export/" in r[1]]
    assert not AuditEvent.objects.filter(action="app.export").exists()


def test_the_post_needs_the_csrf_token(operator_admin, tooljet):
    from django.test import Client

    sim, connection = tooljet
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_admin)
    url = f"/connections/{connection.slug}/apps/{app_id(sim, 'Sales Dashboard')}/export/"
    assert client.post(url, {"workspace": workspace_id(sim)}).status_code == 403
    assert not [r for r in sim.requests if "/export/" in r[1]]
    page = client.get(f"/connections/{connection.slug}/apps/").content.decode()
    assert 'method="post" action="' + url in page and "csrfmiddlewaretoken" in page
    token = client.cookies["csrftoken"].value
    response = client.post(url, {"workspace": workspace_id(sim), "csrfmiddlewaretoken": token})
    assert response.status_code == 200 and response.streaming
    b"".join(response.streaming_content)
    assert AuditEvent.objects.get(action="app.export").outcome == "success"
