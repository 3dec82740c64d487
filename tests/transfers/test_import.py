from __future__ import annotations

import json

import pytest

from apps.audit.models import AuditEvent
from apps.transfers.models import StagedImport
from apps.transfers.services import imports as import_services
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
    assert response.status_code == 302
    result = admin_client.get(response["Location"]).content.decode()
    assert "imported successfully" in result
    assert "Shipped App" in app_names(sim, "acme-staging")
    new_id = next(a["id"] for a in sim.state.apps.values() if a["name"] == "Shipped App")
    assert f'href="/connections/{connection.slug}/apps/{new_id}/' in result and "Open “Shipped App”" in result
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
    assert done.status_code == 302
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
    from apps.transfers.selectors import instance_tooljet_version

    sim, connection = tooljet
    connection.last_test = {**(connection.last_test or {}), "version": ""}
    version = instance_tooljet_version(connection, workspace_id=workspace_id(sim, "acme-staging"))
    assert version == "3.20.40-ee"
    assert [r for r in sim.requests if r[0] == "POST" and "/export" in r[1]]


def test_it_warns_before_sending_a_file_over_tooljets_default_limit(admin_client, tooljet, monkeypatch):
    sim, connection = tooljet
    monkeypatch.setattr(import_services, "TOOLJET_BODY_LIMIT", 1024)
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


# -- names over the limit -----------------------------------------------------------------------------------------


def _named(name: str) -> dict:
    body = export_body()
    body["app"][0]["definition"]["appV2"]["name"] = name
    return body


def test_it_flags_an_overlong_name_in_the_preflight_and_suggests_a_shorter_one(admin_client, tooljet):
    sim, connection = tooljet
    long_name = "Quarterly" + "X" * 4991  # 5000 characters, one unbroken word
    response = _upload(admin_client, connection, sim, _named(long_name))
    assert response.status_code == 302
    page = admin_client.get(response["Location"]).content.decode()
    shortened = long_name[:200]
    assert "Name too long" in page and "5,000 characters" in page and "limited to 200" in page
    assert "Name is free" not in page
    assert f'value="{shortened}"' in page  # the confirm form starts with a name it accepts
    assert not imports(sim)
    done = admin_client.post(response["Location"], {"app_name": shortened})
    assert done.status_code == 302
    assert shortened in app_names(sim, "acme-staging")
    assert AuditEvent.objects.get(action="app.import").after["app_name"] == shortened


def test_it_keeps_a_shortened_suggestion_within_the_limit_when_it_is_taken(admin_client, tooljet):
    sim, connection = tooljet
    long_name = "Sales Dashboard " + "y" * 300
    first = _upload(admin_client, connection, sim, _named(long_name))
    admin_client.post(first["Location"], {"app_name": long_name[:200].rstrip()})
    second = _upload(admin_client, connection, sim, _named(long_name))
    page = admin_client.get(second["Location"]).content.decode()
    suggested = long_name[: 200 - len(" (2)")] + " (2)"
    assert len(suggested) == 200 and f'value="{suggested}"' in page
    assert "Name too long" in page


def test_it_refuses_an_overlong_name_at_confirm_without_sending(admin_client, tooljet):
    sim, connection = tooljet
    response = _upload(admin_client, connection, sim, export_body())
    page = admin_client.post(response["Location"], {"app_name": "Z" * 201})
    assert page.status_code == 200
    assert "at most 200 characters" in page.content.decode()
    assert not imports(sim)


def test_suggest_name_shortens_and_numbers_within_the_limit():
    assert import_services.suggest_name("a" * 250, []) == "a" * 200
    assert import_services.suggest_name("a" * 250, ["a" * 200]) == "a" * 196 + " (2)"
    assert import_services.suggest_name("Tool", ["tool", "Tool (2)"]) == "Tool (3)"


# -- the reason travels with the staged import --------------------------------------------------------------------


def test_it_carries_the_reason_and_ticket_to_the_confirm_step(admin_client, tooljet, settings):
    sim, connection = tooljet
    settings.ADMINUI_REQUIRE_REASON = True
    response = _upload(
        admin_client, connection, sim, export_body(), reason="Release 42 to staging", ticket="CHG-7"
    )
    assert response.status_code == 302
    page = admin_client.get(response["Location"]).content.decode()
    assert 'value="Release 42 to staging"' in page and 'value="CHG-7"' in page
    assert StagedImport.objects.get().reason == "Release 42 to staging"
    # the browser sends the pre-filled fields back as they are
    done = admin_client.post(
        response["Location"],
        {"app_name": "Shipped App", "reason": "Release 42 to staging", "ticket": "CHG-7"},
    )
    assert done.status_code == 302
    event = AuditEvent.objects.get(action="app.import")
    assert event.reason == "Release 42 to staging" and event.ticket == "CHG-7"


# -- after the import: a result page, and Back still works --------------------------------------------------------


def test_it_redirects_to_a_result_page_that_back_and_reload_keep(admin_client, tooljet):
    sim, connection = tooljet
    staged_url = _upload(admin_client, connection, sim, export_body(), reason="release")["Location"]
    done = admin_client.post(staged_url, {"app_name": "Shipped App", "reason": "release"})
    assert done.status_code == 302
    result_url = done["Location"]
    assert result_url == f"{staged_url}done/"
    page = admin_client.get(result_url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Import finished" in html and "“Shipped App” was imported into TJ Prod · Acme Staging" in html
    event = AuditEvent.objects.get(action="app.import")
    assert event.after["sha256"] in html
    assert f"audit entry #{event.sequence}" in html
    # Back to the staged-import URL: the import is done, so it leads to the result instead of a 404
    back = admin_client.get(staged_url)
    assert back.status_code == 302 and back["Location"] == result_url
    # submitting the old form again does not import twice
    again = admin_client.post(staged_url, {"app_name": "Shipped App", "reason": "release"})
    assert again.status_code == 302 and again["Location"] == result_url
    assert len(imports(sim)) == 1
    assert admin_client.get(result_url).status_code == 200  # reload


def test_it_keeps_results_private_and_404s_unknown_imports(admin_client, tooljet, django_user_model):
    import uuid

    from django.contrib.auth.models import Group
    from django.test import Client

    sim, connection = tooljet
    staged_url = _upload(admin_client, connection, sim, export_body())["Location"]
    result_url = admin_client.post(staged_url, {"app_name": "Shipped App"})["Location"]
    other = django_user_model.objects.create_user(username="olga", password="x")
    other.groups.add(Group.objects.get(name="admin"))
    client = Client()
    client.force_login(other)
    assert client.get(staged_url).status_code == 404
    assert client.get(result_url).status_code == 404
    unknown = f"/connections/{connection.slug}/apps/import/{uuid.uuid4()}/"
    assert admin_client.get(unknown).status_code == 404
    assert admin_client.get(f"{unknown}done/").status_code == 404


def test_a_failed_import_has_no_result_page(admin_client, tooljet):
    sim, connection = tooljet
    staged_url = _upload(admin_client, connection, sim, export_body())["Location"]
    sim.faults.add(kind="status", status=400, path="/api/ext/import/", times=1)
    assert admin_client.post(staged_url, {"app_name": "Shipped App"}).status_code == 200
    assert admin_client.get(f"{staged_url}done/").status_code == 404
    assert admin_client.get(staged_url).status_code == 200  # still there to try again


# -- polish -------------------------------------------------------------------------------------------------------


def test_it_names_the_target_workspace_instead_of_its_id(admin_client, tooljet):
    sim, connection = tooljet
    response = _upload(admin_client, connection, sim, export_body())
    page = admin_client.get(response["Location"]).content.decode()
    assert "TJ Prod · workspace “Acme Staging”" in page
    assert f"<code>{workspace_id(sim, 'acme-staging')}</code>" not in page
