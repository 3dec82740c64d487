"""The transfers storage with more than one host, a full disk, a quota and a store that does not answer.

"Hosts" here are settings that differ the way two hosts do: their own host name and their own local folder
(``ADMINUI_EXPORTS_DIR``); what they share is only the database and, with ``ADMINUI_STORAGE=s3``, the bucket of a real
S3-compatible server (moto in server mode) on loopback. The full disk is a real one: a 2 MiB tmpfs mounted for the
test (the tests run as root, as CI does).
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import zipfile
from pathlib import Path

import pytest

from apps.audit.models import AuditEvent
from apps.transfers.models import Bundle, BundleItem, StagedImport
from apps.transfers.services import bundles
from tests.transfers.conftest import (
    app_id,
    app_names,
    export_body,
    imports,
    stored_keys,
    upload,
    workspace_id,
)

PAD = 12 * 1024 * 1024  # the padded app's export: more than one 8 MiB upload part


@pytest.fixture
def host(settings, tmp_path):
    """Switch to host ``name``: its own host name and its own local folder."""

    def switch(name: str) -> Path:
        settings.ADMINUI_HOST_NAME = name
        settings.ADMINUI_EXPORTS_DIR = tmp_path / name / "exports"
        return settings.ADMINUI_EXPORTS_DIR

    return switch


@pytest.fixture
def padded(simulator, probed_connection):
    sim = simulator("tooljet", profile="latest", export_pad_bytes=PAD)
    return sim, probed_connection(sim, slug="tj-prod", name="TJ Prod")


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _create(client, connection, sim, apps) -> Bundle:
    response = client.post(
        f"/connections/{connection.slug}/bundles/",
        {"workspace": workspace_id(sim), "apps": apps, "tjdb": "1", "reason": "backup"},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return Bundle.objects.get()


def _download(client, connection, bundle):
    return client.get(f"/connections/{connection.slug}/bundles/{bundle.pk}/download/")


def test_a_bundle_built_on_one_host_downloads_through_another_from_the_bucket(
    admin_client, padded, s3_storage, host
):
    sim, connection = padded
    disk_a = host("host-a")
    bundle = _create(
        admin_client, connection, sim, [app_id(sim, "Archive Browser"), app_id(sim, "Sales Dashboard")]
    )
    bundles.bundle_build(bundle_id=bundle.pk)  # the worker on host A
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.DONE and bundle.stored_on == ""
    assert stored_keys(s3_storage) == [f"adminui-transfers/{bundle.pk}.zip"]  # the parts went once zipped

    disk_b = host("host-b")
    response = _download(admin_client, connection, bundle)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body) == bundle.size
    assert hashlib.sha256(body).hexdigest() == bundle.sha256
    archive = zipfile.ZipFile(io.BytesIO(body))
    padded_entry = next(n for n in archive.namelist() if "archive-browser" in n)
    assert archive.getinfo(padded_entry).file_size > PAD
    assert _files(disk_a) == [] and _files(disk_b) == []  # nothing on either host's disk
    assert AuditEvent.objects.filter(action="app.bundle_download").count() == 1


def test_a_retry_keeps_the_apps_that_worked_from_the_bucket(admin_client, tooljet, s3_storage, host):
    sim, connection = tooljet
    host("host-a")
    failing = app_id(sim, "Customer 360")
    sim.faults.add(
        kind="status",
        status=500,
        path=f"/api/ext/export/workspace/{workspace_id(sim)}/apps/{failing}",
        times=1,
    )
    bundle = _create(admin_client, connection, sim, [app_id(sim, "Sales Dashboard"), failing])
    bundles.bundle_build(bundle_id=bundle.pk)
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.PARTIAL
    host("host-b")
    assert bundles.bundle_retry_failed(bundle=bundle, actor="alice")
    bundles.bundle_build(bundle_id=bundle.pk, only_failed=True)  # a worker on host B
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.DONE
    archive = zipfile.ZipFile(
        io.BytesIO(b"".join(_download(admin_client, connection, bundle).streaming_content))
    )
    for item in bundle.items.all():
        assert hashlib.sha256(archive.read(f"apps/{item.file_name}")).hexdigest() == item.sha256
    assert stored_keys(s3_storage) == [f"adminui-transfers/{bundle.pk}.zip"]


def test_an_import_checked_on_one_host_is_confirmed_on_another(admin_client, tooljet, s3_storage, host):
    sim, connection = tooljet
    host("host-a")
    response = admin_client.post(
        f"/connections/{connection.slug}/apps/import/",
        {"workspace": workspace_id(sim, "acme-staging"), "file": upload(export_body())},
    )
    assert response.status_code == 302
    staged = StagedImport.objects.get()
    assert stored_keys(s3_storage) == [f"adminui-transfers/staging/{staged.pk}.json"]

    host("host-b")
    done = admin_client.post(response["Location"], {"app_name": "Shipped App", "reason": "release"})
    assert done.status_code == 302
    assert "imported successfully" in admin_client.get(done["Location"]).content.decode()
    assert "Shipped App" in app_names(sim, "acme-staging")
    assert AuditEvent.objects.get(action="app.import").outcome == "success"
    assert stored_keys(s3_storage) == []


def test_without_shared_storage_another_host_says_where_the_file_is(admin_client, tooljet, host):
    sim, connection = tooljet
    host("host-a")
    bundle = _create(admin_client, connection, sim, [app_id(sim, "Sales Dashboard")])
    bundles.bundle_build(bundle_id=bundle.pk)
    response = admin_client.post(
        f"/connections/{connection.slug}/apps/import/",
        {"workspace": workspace_id(sim, "acme-staging"), "file": upload(export_body())},
    )
    confirm = response["Location"]

    host("host-b")
    download = _download(admin_client, connection, bundle)
    assert download.status_code == 503
    text = download.content.decode()
    assert "local disk of host “host-a”" in text and "expired" not in text
    page = admin_client.post(confirm, {"app_name": "Shipped App", "reason": "release"})
    assert page.status_code == 200
    assert "local disk of host “host-a”" in page.content.decode()
    assert not imports(sim)  # nothing sent

    host("host-a")
    assert _download(admin_client, connection, bundle).status_code == 200  # still fine where it lives


def test_a_full_disk_fails_the_bundle_and_keeps_nothing(
    admin_client, padded, settings, tmp_path, htmx_headers
):
    sim, connection = padded
    disk = tmp_path / "small"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], check=True)
    try:
        settings.ADMINUI_EXPORTS_DIR = disk / "exports"
        settings.ADMINUI_EXPORTS_MIN_FREE_BYTES = 0
        bundle = _create(
            admin_client, connection, sim, [app_id(sim, "Sales Dashboard"), app_id(sim, "Archive Browser")]
        )
        bundles.bundle_build(bundle_id=bundle.pk)
        bundle.refresh_from_db()
        leftovers = _files(disk)
    finally:
        subprocess.run(["umount", str(disk)], check=True)
    assert bundle.status == Bundle.Status.FAILED
    assert "full" in bundle.error and "no space left" in bundle.error
    assert leftovers == []  # no half-written export, no part of the app that worked, no ZIP
    assert set(bundle.items.values_list("status", flat=True)) == {BundleItem.Status.FAILED}
    status = admin_client.get(f"/connections/{connection.slug}/bundles/{bundle.pk}/", headers=htmx_headers)
    assert status.status_code == 286  # finished: the page stops polling
    assert "no space left" in status.content.decode()
    event = AuditEvent.objects.get(action="app.bundle")
    assert event.outcome == "failure" and "full" in event.error


def test_it_refuses_a_bundle_over_the_quota(admin_client, tooljet, settings):
    sim, connection = tooljet
    Bundle.objects.create(status=Bundle.Status.DONE, file_name="old.zip", size=5000)
    settings.ADMINUI_EXPORTS_QUOTA_BYTES = 4096
    response = admin_client.post(
        f"/connections/{connection.slug}/bundles/",
        {
            "workspace": workspace_id(sim),
            "apps": [app_id(sim, "Sales Dashboard")],
            "tjdb": "1",
            "reason": "backup",
        },
        follow=True,
    )
    text = response.content.decode()
    assert "quota" in text and "Nothing was started" in text, text[text.find("<main") :][:3000]
    assert Bundle.objects.count() == 1


def test_it_refuses_a_bundle_when_the_disk_is_nearly_full(admin_client, tooljet, settings):
    sim, connection = tooljet
    settings.ADMINUI_EXPORTS_MIN_FREE_BYTES = 2**60
    response = admin_client.post(
        f"/connections/{connection.slug}/bundles/",
        {
            "workspace": workspace_id(sim),
            "apps": [app_id(sim, "Sales Dashboard")],
            "tjdb": "1",
            "reason": "backup",
        },
        follow=True,
    )
    assert "must stay free" in response.content.decode()
    assert not Bundle.objects.exists()
    page = admin_client.post(
        f"/connections/{connection.slug}/apps/import/",
        {"workspace": workspace_id(sim, "acme-staging"), "file": upload(export_body())},
    )
    assert page.status_code == 200 and "must stay free" in page.content.decode()
    assert not StagedImport.objects.exists()


def test_a_bucket_this_host_cannot_reach_is_said_plainly(admin_client, tooljet, s3_storage, settings, host):
    sim, connection = tooljet
    host("host-a")
    bundle = _create(admin_client, connection, sim, [app_id(sim, "Sales Dashboard")])
    bundles.bundle_build(bundle_id=bundle.pk)
    import socket

    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
        transfers = settings.STORAGES["transfers"]
        settings.STORAGES = {
            **settings.STORAGES,
            "transfers": {
                **transfers,
                "OPTIONS": {
                    **transfers["OPTIONS"],
                    "endpoint_url": f"http://127.0.0.1:{closed}",
                    "client_config": _no_retries(),
                },
            },
        }
        response = _download(admin_client, connection, bundle)
    assert response.status_code == 503
    assert "shared storage that this host cannot reach" in response.content.decode()
    assert not AuditEvent.objects.filter(action="app.bundle_download").exists()


def _no_retries():
    from botocore.config import Config

    return Config(retries={"max_attempts": 1}, connect_timeout=2, s3={"addressing_style": "path"})


def test_a_source_that_fails_mid_upload_leaves_no_object_and_no_open_upload(s3_storage):
    from apps.transfers import storage

    class SourceFailed(Exception):
        pass

    def source():
        yield b"x" * (9 * 1024 * 1024)  # one 8 MiB part goes up before the failure
        yield b"y" * 1024
        raise SourceFailed

    with pytest.raises(SourceFailed):
        storage.write_stream("staging/half.json", source())
    assert stored_keys(s3_storage) == []
    assert list(s3_storage.multipart_uploads.all()) == []  # aborted, not left to linger
    size, sha = storage.write_stream("staging/whole.json", iter([b"a" * 10, b"b" * 10]))
    assert (size, sha) == (20, hashlib.sha256(b"a" * 10 + b"b" * 10).hexdigest())
    assert b"".join(storage.read_chunks("staging/whole.json")) == b"a" * 10 + b"b" * 10


def test_the_cleanup_removes_expired_bundles_from_the_bucket(admin_client, tooljet, s3_storage, host):
    from datetime import timedelta

    from django.utils import timezone

    from apps.transfers.services.cleanup import transfers_cleanup

    sim, connection = tooljet
    host("host-a")
    bundle = _create(admin_client, connection, sim, [app_id(sim, "Sales Dashboard")])
    bundles.bundle_build(bundle_id=bundle.pk)
    assert stored_keys(s3_storage) == [f"adminui-transfers/{bundle.pk}.zip"]
    Bundle.objects.filter(pk=bundle.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert transfers_cleanup().bundles == 1
    assert stored_keys(s3_storage) == []
    assert Bundle.objects.filter(pk=bundle.pk).exists()  # the row stays for the record
    assert transfers_cleanup().bundles == 0


def test_the_exports_metric_counts_what_shared_storage_holds(db, s3_storage, settings):
    from django.test import Client

    from apps.transfers.models import Bundle

    settings.ADMINUI_METRICS_TOKEN = "t"
    Bundle.objects.create(status=Bundle.Status.DONE, size=4321)
    Bundle.objects.create(status=Bundle.Status.FAILED, size=99)  # its files are gone
    text = Client().get("/metrics", headers={"Authorization": "Bearer t"}).content.decode()
    assert "adminui_exports_bytes 4321.0" in text
