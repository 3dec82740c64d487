from __future__ import annotations

import hashlib
import io
import json
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.audit.models import AuditEvent
from apps.transfers.models import Bundle


def _an_app(sim):
    return next(iter(sim.app.state.apps.values()))


def test_it_clones_an_app_into_a_folder(admin_client, retool, htmx_headers):
    sim, connection = retool
    app = _an_app(sim)
    page = admin_client.get(f"/connections/{connection.slug}/apps/{app['id']}/").content.decode()
    assert "Clone app" in page and "Export to JSON" in page
    response = admin_client.post(
        f"/connections/{connection.slug}/apps/{app['id']}/clone/",
        {"new_name": "Copy of it", "folder_id": "app_2", "reason": "sandbox"},
        headers=htmx_headers,
    )
    assert response.status_code == 200
    assert "Cloned into “Copy of it”" in response.content.decode()
    clone = next(a for a in sim.app.state.apps.values() if a["name"] == "Copy of it")
    assert clone["folder_id"] == "app_2"
    event = AuditEvent.objects.get(action="app.clone")
    assert event.outcome == "success" and event.after["folder_id"] == "app_2"


def test_it_shows_a_clone_failure_in_the_form(admin_client, retool, htmx_headers):
    sim, connection = retool
    response = admin_client.post(
        f"/connections/{connection.slug}/apps/00000000-0000-4000-8000-000000000000/clone/",
        {"new_name": "Ghost"},
        headers=htmx_headers,
    )
    assert response.status_code == 200
    assert 'value="Ghost"' in response.content.decode()
    assert AuditEvent.objects.get(action="app.clone").outcome == "failure"


def test_it_stores_uploaded_retool_exports_as_a_bundle(admin_client, retool):
    sim, connection = retool
    requests_before = len(sim.requests)
    files = [
        SimpleUploadedFile("Orders Admin.json", b'{"page": {"data": 1}}', content_type="application/json"),
        SimpleUploadedFile(
            "../evil/Support Tool.json", b'{"page": {"data": 2}}', content_type="application/json"
        ),
    ]
    response = admin_client.post(
        f"/connections/{connection.slug}/bundles/upload/", {"files": files, "reason": "archive"}
    )
    assert response.status_code == 302
    assert len(sim.requests) == requests_before  # no upstream call
    bundle = Bundle.objects.get(kind=Bundle.Kind.UPLOAD)
    assert bundle.status == Bundle.Status.DONE
    download = admin_client.get(f"/connections/{connection.slug}/bundles/{bundle.pk}/download/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["connection"]["kind"] == "retool"
    assert [a["name"] for a in manifest["apps"]] == ["Orders Admin", "Support Tool"]
    for entry in manifest["apps"]:
        assert hashlib.sha256(archive.read(f"apps/{entry['file']}")).hexdigest() == entry["sha256"]
        assert ".." not in entry["file"]
    assert AuditEvent.objects.get(action="app.bundle").outcome == "success"


def test_it_is_for_admins_only(helpdesk_client, retool):
    sim, connection = retool
    app = _an_app(sim)
    response = helpdesk_client.post(
        f"/connections/{connection.slug}/apps/{app['id']}/clone/", {"new_name": "x", "reason": "y"}
    )
    assert response.status_code == 403
    response = helpdesk_client.post(
        f"/connections/{connection.slug}/bundles/upload/",
        {"files": [SimpleUploadedFile("a.json", b"{}")], "reason": "y"},
    )
    assert response.status_code == 403
