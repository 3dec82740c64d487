from __future__ import annotations

import pytest

from tests.transfers.conftest import workspace_id


def test_it_lists_tooljet_apps_per_workspace_with_versions(viewer_client, tooljet):
    sim, connection = tooljet
    response = viewer_client.get(f"/connections/{connection.slug}/apps/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Sales Dashboard" in body and "Onboarding Portal" in body
    assert "v4" in body  # versions shown
    assert "Export newest" not in body  # viewers see, do not export


def test_it_filters_by_workspace_and_name(admin_client, tooljet, htmx_headers):
    sim, connection = tooljet
    ws = workspace_id(sim, "acme-staging")
    response = admin_client.get(
        f"/connections/{connection.slug}/apps/", {"workspace": ws, "q": "onboard"}, headers=htmx_headers
    )
    body = response.content.decode()
    assert "<html" not in body
    assert "Onboarding Portal" in body and "Customer 360" not in body
    assert "Export newest" in body


def test_it_lists_retool_apps_by_folder_with_search(viewer_client, retool):
    sim, connection = retool
    names = [a["name"] for a in sim.app.state.apps.values()]
    response = viewer_client.get(f"/connections/{connection.slug}/apps/")
    body = response.content.decode()
    assert response.status_code == 200
    assert all(n in body for n in names[:3])
    assert "Folder" in body
    assert "Export to JSON" in body  # the plain explanation instead of an export button
    needle = names[0][:5]
    response = viewer_client.get(f"/connections/{connection.slug}/apps/", {"q": needle})
    body = response.content.decode()
    assert response.status_code == 200
    assert names[0] in body
    assert all(n not in body for n in names if needle.lower() not in n.lower())


def test_it_matches_the_same_app_across_instances(viewer_client, simulator, probed_connection):
    a = simulator("tooljet", profile="latest")
    b = simulator("tooljet", profile="lts-3.16")
    probed_connection(a, slug="tj-a", name="TJ A", environment="production")
    probed_connection(b, slug="tj-b", name="TJ B")
    response = viewer_client.get("/apps/", {"q": "sales", "shared": "1"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Sales Dashboard" in body
    assert body.count("TJ A") >= 2 and "TJ B" in body  # two workspaces on A, both on B
    response = viewer_client.get("/apps/", {"environment": "production"})
    assert "TJ B ·" not in response.content.decode()


def test_it_shows_an_instance_error_without_failing_the_page(viewer_client, simulator, probed_connection):
    sim = simulator("tooljet", profile="latest")
    probed_connection(sim, slug="tj-x", name="TJ X")
    sim.faults.add(kind="status", status=403, path="/api/ext/workspaces", times=None)
    response = viewer_client.get("/apps/")
    assert response.status_code == 200
    assert "TJ X" in response.content.decode()


def test_it_requires_a_role(stranger_client, tooljet):
    _sim, connection = tooljet
    assert stranger_client.get(f"/connections/{connection.slug}/apps/").status_code == 403
    assert stranger_client.get("/apps/").status_code == 403


@pytest.mark.parametrize("app", ["00000000-0000-4000-8000-000000000000", "nope"])
def test_an_app_the_instance_does_not_have_is_a_404_on_the_instances_page(
    viewer_client, tooljet, retool, app
):
    for _sim, connection in (tooljet, retool):
        response = viewer_client.get(f"/connections/{connection.slug}/apps/{app}/")
        assert response.status_code == 404, (connection.kind, app)
        assert f'aria-label="{connection.name}"' in response.content.decode()
