from __future__ import annotations

import re

import pytest

from apps.directory.models import DirectoryUser

from .conftest import PROFILES


def _uid(connection, email="priya.raman@example.com"):
    return DirectoryUser.objects.get(connection=connection, email=email).remote_id


@pytest.mark.parametrize(("kind", "profile"), [p for p in PROFILES if p[1] != "business"])
def test_it_reads_the_user_live(viewer_client, synced, kind, profile):
    sim, connection = synced(kind, profile)
    uid = _uid(connection)
    response = viewer_client.get(f"/connections/{connection.slug}/users/{uid}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "priya.raman@example.com" in html
    assert f"/audit/?target=user%3A{uid}&amp;connection={connection.slug}" in html
    if kind == "tooljet":
        assert "Acme Production" in html
        if profile == "lts-3.16":
            assert "no user metadata API" in html  # disabled with the reason
        else:
            assert "Save metadata" in html
    else:
        assert "User attributes" in html and "is_admin" in html


def test_it_shows_upstream_errors_as_alert(viewer_client, fleet_connection, htmx_headers):
    _sim, connection = fleet_connection("retool", "business")
    response = viewer_client.get(f"/connections/{connection.slug}/users/user_abc/", headers=htmx_headers)
    assert response.headers.get("HX-Retarget") == "#alerts"
    assert "users:read" in response.content.decode()


def test_it_404s_unknown_connection(viewer_client, db):
    assert viewer_client.get("/connections/nope/users/x/").status_code == 404


def test_it_names_the_remote_person_person_not_user(operator_admin, admin_client, synced):
    """`user` in a template is the logged-in operator (Django's auth context processor); the page's subject is
    `person`."""
    _sim, connection = synced("tooljet", "latest")
    response = admin_client.get(f"/connections/{connection.slug}/users/{_uid(connection)}/")
    assert response.context["person"].email == "priya.raman@example.com"
    assert response.context["user"] == operator_admin


def test_it_explains_why_a_user_without_workspaces_has_no_metadata_form(viewer_client, synced):
    from .conftest import tj_user

    sim, connection = synced("tooljet", "latest")
    priya = tj_user(sim, "priya.raman@example.com")
    sim.state.memberships[priya["id"]].clear()  # upstream: in no workspace
    html = viewer_client.get(f"/connections/{connection.slug}/users/{priya['id']}/").content.decode()
    assert "Not a member of any workspace." in html and "Save metadata" not in html
    assert "ToolJet keeps user metadata per workspace" in html


def test_it_says_why_retool_raw_metadata_is_read_only(viewer_client, synced):
    _sim, connection = synced("retool", "enterprise")
    html = viewer_client.get(f"/connections/{connection.slug}/users/{_uid(connection)}/").content.decode()
    assert "Raw metadata" in html and "replacing the whole metadata object" in html


@pytest.mark.parametrize(
    ("kind", "profile", "missing"),
    [
        ("tooljet", "latest", "00000000-0000-4000-8000-000000000000"),
        ("retool", "enterprise", "user_doesnotexist"),
        ("retool", "enterprise", "00000000-0000-4000-8000-000000000000"),  # malformed: Retool answers 400
    ],
)
def test_a_person_the_instance_does_not_have_is_a_404_that_keeps_the_instance_around_it(
    viewer_client, synced, kind, profile, missing
):
    sim, connection = synced(kind, profile)
    response = viewer_client.get(f"/connections/{connection.slug}/users/{missing}/")
    html = response.content.decode()
    assert response.status_code == 404  # the address names nothing; not a 502 "the instance failed"
    assert "does not exist" in html or "There is no such user" in html
    assert f'<nav class="subnav" aria-label="{connection.name}">' in html  # its tabs, name and banner stay
    assert f'href="/connections/{connection.slug}/users/{missing}/">Try again</a>' in html


def test_an_upstream_failure_page_offers_a_retry_and_keeps_the_instance(viewer_client, synced):
    sim, connection = synced("tooljet", "latest")
    uid = _uid(connection)
    sim.faults.add(kind="status", status=500, path="/api/ext/user/", times=1)
    response = viewer_client.get(f"/connections/{connection.slug}/users/{uid}/")
    html = response.content.decode()
    assert response.status_code == 502 and "internal error" in html
    assert f'aria-label="{connection.name}"' in html and ">Try again</a>" in html
    assert viewer_client.get(f"/connections/{connection.slug}/users/{uid}/").status_code == 200


def test_reason_fields_are_required_in_the_browser_too(viewer_client, synced, settings):
    """So a confirm dialog never comes before the 'say why' check; the server checks as well."""
    sim, connection = synced("tooljet", "latest")
    url = f"/connections/{connection.slug}/users/{_uid(connection)}/"
    html = viewer_client.get(url).content.decode()
    reasons = re.findall(r'<input type="text" name="reason"[^>]*>', html)
    assert reasons and all(" required" in r for r in reasons)
    settings.ADMINUI_REQUIRE_REASON = False
    html = viewer_client.get(url).content.decode()
    assert not any(" required" in r for r in re.findall(r'<input type="text" name="reason"[^>]*>', html))
