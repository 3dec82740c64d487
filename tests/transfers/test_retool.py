from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.audit.models import AuditEvent
from apps.transfers.models import Bundle, BundleItem


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


# -- “Store as bundle”: only export files are kept ----------------------------------------------------------------


def _store(client, connection, files, **extra):
    return client.post(
        f"/connections/{connection.slug}/bundles/upload/", {"files": files, "reason": "archive", **extra}
    )


def _stored_files(exports_dir) -> list:
    return [p for p in exports_dir.rglob("*") if p.is_file()] if exports_dir.exists() else []


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_it_refuses_files_that_are_not_json_exports_and_stores_nothing(admin_client, retool, exports_dir):
    sim, connection = retool
    requests_before = len(sim.requests)
    random_bytes = bytes((i * 97 + 13) % 256 for i in range(4096))
    files = [
        SimpleUploadedFile("Orders Admin.json", b'{"page": {"data": 1}}', content_type="application/json"),
        SimpleUploadedFile("random.json", random_bytes, content_type="application/json"),
        SimpleUploadedFile("notes.json", b"remember to export the app", content_type="application/json"),
    ]
    response = _store(admin_client, connection, files, ticket="OPS-9")
    assert response.status_code == 302
    assert response["Location"] == f"/connections/{connection.slug}/apps/"
    assert len(sim.requests) == requests_before  # nothing sent upstream
    assert not Bundle.objects.exists() and not BundleItem.objects.exists()
    assert _stored_files(exports_dir) == []  # not even the valid file is kept
    event = AuditEvent.objects.get(action="app.bundle")
    assert event.outcome == "failure"
    assert "2 of 3 file(s) refused" in event.error
    assert "random.json: This file is not JSON" in event.error and "notes.json" in event.error
    assert event.reason == "archive" and event.ticket == "OPS-9"
    files_after = {f["file_name"]: f for f in event.after["files"]}
    assert "error" not in files_after["Orders Admin.json"]
    assert files_after["random.json"]["size"] == 4096
    assert files_after["random.json"]["sha256"] == hashlib.sha256(random_bytes).hexdigest()
    page = admin_client.get(response["Location"]).content.decode()
    assert "Nothing was stored: 2 of 3 files were refused." in page
    assert "“random.json”: This file is not JSON." in page
    assert "“notes.json”: This file is not JSON." in page
    assert "Orders Admin.json" not in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'[{"page": 1}]', "it holds a list, not a JSON object"),
        (b'"just a string"', "it holds a single value, not a JSON object"),
        (b'{"page": {"data": ', "truncated"),
        (b'{"page": 1} trailing words', "not valid JSON: parse error: trailing garbage"),
        (b"", "The submitted file is empty."),  # Django's FileField says so first
        (_zip_bytes({"app.rsx": b"<App/>"}), "is a ZIP archive, not JSON; name it .zip"),
    ],
)
def test_it_says_why_a_json_file_is_refused(admin_client, retool, exports_dir, data, message):
    sim, connection = retool
    response = _store(admin_client, connection, [SimpleUploadedFile("Support Tool.json", data)])
    assert response.status_code == 302
    page = admin_client.get(response["Location"]).content.decode()
    assert "“Support Tool.json”:" in page and message in page
    assert not Bundle.objects.exists() and _stored_files(exports_dir) == []
    assert AuditEvent.objects.get(action="app.bundle").outcome == "failure"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "Sales Dashboard.json",
            b'{"tooljet_version": "3.20.40-ee", "app": [{"definition": {"appV2": {"name": "x"}}}]}',
            "This is a ToolJet app export",
        ),
        (
            "tj-prod-bundle.zip",
            _zip_bytes(
                {
                    "manifest.json": b'{"format": "adminui-bundle/1", "connection": {"kind": "tooljet"}}',
                    "apps/001-sales.json": b'{"tooljet_version": "3.20.40-ee", "app": []}',
                }
            ),
            "is a bundle this console built from a ToolJet connection",
        ),
    ],
)
def test_it_refuses_a_tooljet_export_or_console_bundle_on_a_retool_connection(
    admin_client, retool, exports_dir, name, data, message
):
    sim, connection = retool
    response = _store(admin_client, connection, [SimpleUploadedFile(name, data)])
    page = admin_client.get(response["Location"]).content.decode()
    assert f"“{name}”:" in page and message in page
    assert not Bundle.objects.exists() and _stored_files(exports_dir) == []


def test_it_keeps_a_toolscript_zip_and_refuses_one_that_is_not(admin_client, retool, exports_dir):
    sim, connection = retool
    toolscript = _zip_bytes({"Orders Admin/main.rsx": b"<App></App>", "Orders Admin/lib/q.sql": b"select 1"})
    bad = _store(admin_client, connection, [SimpleUploadedFile("Orders Admin.zip", b"PK but not really")])
    page = admin_client.get(bad["Location"]).content.decode()
    assert "“Orders Admin.zip”: This file is not a ZIP archive" in page
    assert not Bundle.objects.exists() and _stored_files(exports_dir) == []
    good = _store(admin_client, connection, [SimpleUploadedFile("Orders Admin.zip", toolscript)])
    bundle = Bundle.objects.get(kind=Bundle.Kind.UPLOAD)
    assert good["Location"] == f"/connections/{connection.slug}/bundles/{bundle.pk}/"
    assert bundle.status == Bundle.Status.DONE
    item = bundle.items.get()
    assert item.file_name == "001-orders-admin.zip"
    assert item.sha256 == hashlib.sha256(toolscript).hexdigest()
    assert [e.outcome for e in AuditEvent.objects.filter(action="app.bundle").order_by("sequence")] == [
        "failure",
        "success",
    ]


def test_it_still_refuses_uploads_over_the_size_limit(admin_client, retool, settings, exports_dir):
    sim, connection = retool
    settings.ADMINUI_IMPORT_MAX_BYTES = 100
    requests_before = len(sim.requests)
    files = [SimpleUploadedFile("big.json", b'{"page": "' + b"x" * 200 + b'"}')]
    response = _store(admin_client, connection, files)
    assert response.status_code == 302
    assert len(sim.requests) == requests_before
    page = admin_client.get(response["Location"]).content.decode()
    assert "the limit is 100" in page
    assert not Bundle.objects.exists() and _stored_files(exports_dir) == []
    event = AuditEvent.objects.get(action="app.bundle")
    assert event.outcome == "failure" and "the limit is" in event.error
    assert event.after["files"] == [{"file_name": "big.json", "size": 212}]


def test_it_refuses_an_oversized_upload_before_reading_it(admin_client, retool, settings, exports_dir):
    sim, connection = retool
    settings.ADMINUI_IMPORT_MAX_BYTES = 100
    files = [SimpleUploadedFile("huge.json", b'{"page": "' + b"x" * (2 * 1024 * 1024) + b'"}')]
    response = _store(admin_client, connection, files)
    assert response.status_code == 302
    assert "over the 100" in admin_client.get(response["Location"]).content.decode()
    assert not Bundle.objects.exists() and _stored_files(exports_dir) == []
    event = AuditEvent.objects.get(action="app.bundle")
    assert event.outcome == "failure" and "Nothing was stored" in event.error
    assert event.after["files"] == []  # refused from the request's size: no file was read (or named)


def test_it_checks_json_in_pieces_without_loading_the_file(tmp_path):
    from apps.transfers.preflight import READ_SIZE, inspect_json_object

    class RecordingFile(io.BytesIO):
        largest = 0

        def read(self, n=-1):
            assert n is not None and n >= 0, "read the whole file at once"
            self.largest = max(self.largest, n)
            return super().read(n)

    body = b'{"page": {"data": "' + b"x" * (3 * 1024 * 1024) + b'"}}'
    source = RecordingFile(body)
    with open(tmp_path / "copy.json", "wb") as sink:
        summary = inspect_json_object(source, sink=sink, hint="")
    assert 0 < source.largest <= READ_SIZE
    assert summary.size == len(body) and summary.sha256 == hashlib.sha256(body).hexdigest()
    assert (tmp_path / "copy.json").read_bytes() == body
