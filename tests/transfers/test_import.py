from __future__ import annotations

import json

import pytest

from apps.audit.models import AuditEvent
from apps.transfers import services
from apps.transfers.models import StagedImport
from tests.transfers.conftest import app_names, export_body, imports, upload, workspace_id


def _upload(client, connection, sim, data, **extra):
    return client.post(
        f"/connections/{connection.slug}/apps/import/",
        {"workspace": workspace_id(sim, "acme-staging"), "file": upload(data), **extra},
    )


def test_it_preflights_then_imports_with_the_chosen_name(admin_client, tooljet):
    sim, connection = tooljet
    response = _upload(
        admin_client,
        connection,
        sim,
        export_body(
            tooljet_database=[
                {"id": "7b0f3b7e-8d5c-4c55-9a7e-0d7f3e2b9a11", "table_name": "invoices", "schema": {}}
            ]
        ),
    )
    assert response.status_code == 302
    assert not imports(sim)  # nothing sent before the confirm step
    page = admin_client.get(response["Location"]).content.decode()
    assert "Version compatible" in page and "3.20.40-ee" in page
    assert "invoices" in page
    assert "credentials" in page
    response = admin_client.post(response["Location"], {"app_name": "Shipped App", "reason": "release"})
    assert response.status_code == 200
    assert "imported successfully" in response.content.decode()
    assert "Shipped App" in app_names(sim, "acme-staging")
    event = AuditEvent.objects.get(action="app.import")
    assert event.outcome == "success" and len(event.after["sha256"]) == 64
    assert event.after["tables"] == ["invoices"]
    assert not StagedImport.objects.exists()


def test_it_offers_a_new_name_on_collision(admin_client, tooljet):
    sim, connection = tooljet
    body = export_body()
    body["app"][0]["definition"]["appV2"]["name"] = "Sales Dashboard"
    response = _upload(admin_client, connection, sim, body)
    page = admin_client.get(response["Location"]).content.decode()
    assert "Name already taken" in page
    assert 'value="Sales Dashboard (2)"' in page
    # insisting on the taken name: refused here, nothing sent
    again = admin_client.post(response["Location"], {"app_name": "sales dashboard"})
    assert "already exists" in again.content.decode()
    assert not imports(sim)
    assert AuditEvent.objects.filter(action="app.import_rejected").count() == 1
    done = admin_client.post(response["Location"], {"app_name": "Sales Dashboard (2)"})
    assert done.status_code == 200
    assert "Sales Dashboard (2)" in app_names(sim, "acme-staging")
    assert len(imports(sim)) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html>not json</html>", "not JSON"),
        (json.dumps(export_body()).encode()[:-20], "truncated"),
        (b"[1, 2, 3]", "not a ToolJet export"),
        ({"hello": "world"}, "tooljet_version"),
        ({"tooljet_version": "3.0.0"}, "no “app” list"),
        ({"tooljet_version": "3.0.0", "app": []}, "no “app” list"),
        ({"tooljet_version": "3.0.0", "app": [{"nope": 1}]}, "definition"),
        (export_body(tooljet_version="999.0.0"), "newer than the target"),
        (b"", "empty"),
    ],
)
def test_it_rejects_bad_input_without_sending_anything(admin_client, tooljet, data, message):
    sim, connection = tooljet
    response = _upload(admin_client, connection, sim, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not imports(sim)
    event = AuditEvent.objects.get(action="app.import_rejected")
    assert event.outcome == "failure"
    assert not StagedImport.objects.exists()


def test_it_rejects_an_upload_over_the_limit_before_reading_it(admin_client, tooljet, settings):
    sim, connection = tooljet
    settings.ADMINUI_IMPORT_MAX_BYTES = 1000
    big = export_body(padding="x" * 3 * 1024 * 1024)
    response = _upload(admin_client, connection, sim, big)
    assert response.status_code == 413
    assert "limit" in response.content.decode()
    assert not imports(sim)
    assert AuditEvent.objects.filter(action="app.import_rejected").count() == 1


def test_it_rejects_a_file_over_the_limit(admin_client, tooljet, settings):
    sim, connection = tooljet
    settings.ADMINUI_IMPORT_MAX_BYTES = 200
    response = _upload(admin_client, connection, sim, export_body(padding="x" * 400))
    assert "the limit is" in response.content.decode()
    assert not imports(sim)
    assert AuditEvent.objects.filter(action="app.import_rejected").count() == 1


def test_it_shows_the_upstream_refusal_and_keeps_the_form(admin_client, tooljet):
    sim, connection = tooljet
    response = _upload(admin_client, connection, sim, export_body())
    sim.faults.add(kind="status", status=400, path="/api/ext/import/", times=1)
    page = admin_client.post(response["Location"], {"app_name": "Shipped App"})
    assert page.status_code == 200
    assert "refused the import" in page.content.decode()
    event = AuditEvent.objects.get(action="app.import")
    assert event.outcome == "failure"
    assert StagedImport.objects.count() == 1  # the operator can try again


def test_it_is_for_admins_only(helpdesk_client, viewer_client, tooljet):
    sim, connection = tooljet
    assert _upload(helpdesk_client, connection, sim, export_body()).status_code == 403
    assert viewer_client.get(f"/connections/{connection.slug}/apps/import/").status_code == 403
    assert not imports(sim)


def test_it_hides_another_operators_staged_file(admin_client, tooljet, django_user_model):
    from django.contrib.auth.models import Group
    from django.test import Client

    sim, connection = tooljet
    response = _upload(admin_client, connection, sim, export_body())
    other = django_user_model.objects.create_user(username="olga", password="x")
    other.groups.add(Group.objects.get(name="admin"))
    client = Client()
    client.force_login(other)
    assert client.get(response["Location"]).status_code == 404


def test_it_learns_the_target_version_from_an_export_when_the_probe_has_none(tooljet):
    from apps.transfers.services import target_tooljet_version

    sim, connection = tooljet
    connection.last_test = {**(connection.last_test or {}), "version": ""}
    version = target_tooljet_version(connection, workspace_id=workspace_id(sim, "acme-staging"))
    assert version == "3.20.40-ee"
    assert [r for r in sim.requests if r[0] == "POST" and "/export" in r[1]]


def test_it_warns_before_sending_a_file_over_tooljets_default_limit(admin_client, tooljet, monkeypatch):
    sim, connection = tooljet
    monkeypatch.setattr(services, "TOOLJET_BODY_LIMIT", 1024)
    response = _upload(admin_client, connection, sim, export_body(padding="x" * 2000))
    page = admin_client.get(response["Location"]).content.decode()
    assert "Larger than ToolJet accepts by default" in page and "MAX_JSON_SIZE" in page
    assert not imports(sim)


def test_it_says_plainly_when_the_target_refuses_the_file_as_too_large(admin_client, tooljet):
    sim, connection = tooljet
    sim.app.state.max_json_bytes = 1024  # as a ToolJet whose MAX_JSON_SIZE is lower than this file
    response = _upload(admin_client, connection, sim, export_body(padding="x" * 2000))
    page = admin_client.post(response["Location"], {"app_name": "Shipped App"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "too large (HTTP 413)" in html and "MAX_JSON_SIZE" in html
    assert "Shipped App" not in app_names(sim, "acme-staging")
    event = AuditEvent.objects.get(action="app.import")
    assert event.outcome == "failure" and event.upstream_status == 413
    assert StagedImport.objects.count() == 1  # kept, to try again once the limit is raised
