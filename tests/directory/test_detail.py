from __future__ import annotations

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
