"""Retool folders on the apps pages: names instead of ids, and every app folder offered to a clone."""

from __future__ import annotations


def _folder(sim, name: str) -> dict:
    return next(f for f in sim.state.folders.values() if f["name"] == name and f["folder_type"] == "app")


def test_it_names_the_folders_on_the_apps_page(viewer_client, retool):
    sim, connection = retool
    html = viewer_client.get(f"/connections/{connection.slug}/apps/").content.decode()
    finance = _folder(sim, "Finance tools")
    assert f'<span title="Folder {finance["id"]}">Finance tools</span>' in html
    assert "Retool's API gives folder ids" not in html


def test_it_names_the_folder_on_the_app_page(viewer_client, retool):
    sim, connection = retool
    reports = _folder(sim, "Reports")
    app = next(a for a in sim.state.apps.values() if a["folder_id"] == reports["id"])
    html = viewer_client.get(f"/connections/{connection.slug}/apps/{app['id']}/").content.decode()
    assert f'Reports <code class="small">{reports["id"]}</code>' in html


def test_the_clone_form_offers_every_app_folder(admin_client, retool):
    sim, connection = retool
    archive = _folder(sim, "archive")  # holds no app
    assert not any(a["folder_id"] == archive["id"] for a in sim.state.apps.values())
    app = next(iter(sim.state.apps.values()))
    html = admin_client.get(f"/connections/{connection.slug}/apps/{app['id']}/").content.decode()
    assert f'<option value="{archive["id"]}">root / archive</option>' in html
    assert ">root / Finance tools / Reports</option>" in html


def test_it_shows_ids_when_the_folders_cannot_be_read(viewer_client, simulator, probed_connection):
    sim = simulator("retool", profile="enterprise")
    connection = probed_connection(sim)
    sim.state.tokens[next(iter(sim.state.tokens))] -= {"folders:read"}
    html = viewer_client.get(f"/connections/{connection.slug}/apps/").content.decode()
    app = next(iter(sim.state.apps.values()))
    assert f"Folder <code>{app['folder_id']}</code>" in html
