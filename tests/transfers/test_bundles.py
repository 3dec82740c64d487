from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.transfers.models import Bundle, BundleItem
from apps.transfers.services import bundles
from tests.transfers.conftest import app_id, workspace_id


def _create(client, connection, sim, apps=(), **extra):
    response = client.post(
        f"/connections/{connection.slug}/bundles/",
        {"workspace": workspace_id(sim), "apps": list(apps), "tjdb": "1", "reason": "backup"} | extra,
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return Bundle.objects.get()


def _zip(client, connection, bundle) -> zipfile.ZipFile:
    response = client.get(f"/connections/{connection.slug}/bundles/{bundle.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_it_builds_a_zip_with_a_manifest(
    admin_client, tooljet, htmx_headers, django_capture_on_commit_callbacks
):
    sim, connection = tooljet
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        bundle = _create(admin_client, connection, sim)
    assert len(callbacks) == 1  # the build task is queued after commit
    assert bundle.items.count() == 5
    page = admin_client.get(f"/connections/{connection.slug}/bundles/{bundle.pk}/", headers=htmx_headers)
    assert page.status_code == 200 and 'hx-trigger="every 1s"' in page.content.decode()
    bundles.bundle_build(bundle_id=bundle.pk)  # the task body, run synchronously
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.DONE
    final = admin_client.get(f"/connections/{connection.slug}/bundles/{bundle.pk}/", headers=htmx_headers)
    assert final.status_code == 286  # stops the polling
    assert "every 1s" not in final.content.decode() and "<html" not in final.content.decode()
    assert final["Content-Type"].startswith("text/html")
    archive = _zip(admin_client, connection, bundle)
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["connection"]["slug"] == "tj-prod"
    assert manifest["workspace"]["id"] == workspace_id(sim)
    assert manifest["tooljet_version"] == "3.20.40-ee"
    assert manifest["created_by"] == "alice"
    assert {a["name"] for a in manifest["apps"]} >= {"Sales Dashboard", "Customer 360"}
    for entry in manifest["apps"]:
        data = archive.read(f"apps/{entry['file']}")
        import hashlib

        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert entry["versions"]
    assert AuditEvent.objects.get(action="app.bundle").after["sha256"] == bundle.sha256
    assert AuditEvent.objects.filter(action="app.bundle_download").count() == 1


def test_it_bundles_a_selection(admin_client, tooljet):
    sim, connection = tooljet
    bundle = _create(admin_client, connection, sim, apps=[app_id(sim, "Refund Approvals")], all_versions="on")
    bundles.bundle_build(bundle_id=bundle.pk)
    manifest = json.loads(_zip(admin_client, connection, bundle).read("manifest.json"))
    assert [a["name"] for a in manifest["apps"]] == ["Refund Approvals"]
    assert manifest["options"]["all_versions"] is True


def test_without_all_versions_the_page_and_manifest_list_only_the_exported_version(admin_client, tooljet):
    sim, connection = tooljet
    app = next(a for a in sim.state.apps.values() if len(a["versions"]) > 1)
    names = [v["name"] for v in app["versions"]]
    bundle = _create(admin_client, connection, sim, apps=[app["id"]], workspace=app["organizationId"])
    bundles.bundle_build(bundle_id=bundle.pk)
    manifest = json.loads(_zip(admin_client, connection, bundle).read("manifest.json"))
    assert [a["versions"] for a in manifest["apps"]] == [[names[-1]]]
    page = admin_client.get(f"/connections/{connection.slug}/bundles/{bundle.pk}/").content.decode()
    assert names[-1] in page and names[0] not in page


def test_it_retries_only_the_failed_apps(admin_client, tooljet, htmx_headers):
    sim, connection = tooljet
    failing = app_id(sim, "Customer 360")
    sim.faults.add(
        kind="status",
        status=500,
        path=f"/api/ext/export/workspace/{workspace_id(sim)}/apps/{failing}",
        times=1,
    )
    bundle = _create(admin_client, connection, sim)
    bundles.bundle_build(bundle_id=bundle.pk)
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.PARTIAL
    failed = bundle.items.get(status=BundleItem.Status.FAILED)
    assert failed.app_name == "Customer 360" and failed.error
    page = admin_client.get(f"/connections/{connection.slug}/bundles/{bundle.pk}/").content.decode()
    assert "Retry failed only" in page
    manifest = json.loads(_zip(admin_client, connection, bundle).read("manifest.json"))
    assert next(a for a in manifest["apps"] if a["name"] == "Customer 360")["status"] == "failed"
    exports_before = len([r for r in sim.requests if "/export/" in r[1]])

    response = admin_client.post(
        f"/connections/{connection.slug}/bundles/{bundle.pk}/retry/", headers=htmx_headers
    )
    assert response.status_code == 200 and "every 1s" in response.content.decode()
    bundles.bundle_build(bundle_id=bundle.pk, only_failed=True)
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.DONE
    assert len([r for r in sim.requests if "/export/" in r[1]]) == exports_before + 1  # only the failed one
    assert bundle.items.get(app_id=failing).attempts == 2
    archive = _zip(admin_client, connection, bundle)
    assert len([n for n in archive.namelist() if n.startswith("apps/")]) == 5
    assert [e.outcome for e in AuditEvent.objects.filter(action="app.bundle").order_by("sequence")] == [
        "failure",
        "success",
    ]


def test_it_expires_the_download_link(admin_client, tooljet, exports_dir):
    sim, connection = tooljet
    bundle = _create(admin_client, connection, sim, apps=[app_id(sim, "Archive Browser")])
    bundles.bundle_build(bundle_id=bundle.pk)
    bundle.refresh_from_db()
    assert (exports_dir / bundle.storage_name).exists()
    assert not (exports_dir / bundle.parts_name).exists()  # the per-app files went once zipped
    Bundle.objects.filter(pk=bundle.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = admin_client.get(f"/connections/{connection.slug}/bundles/{bundle.pk}/download/")
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not (exports_dir / bundle.storage_name).exists()
    assert not AuditEvent.objects.filter(action="app.bundle_download").exists()


def test_it_is_for_admins_only(helpdesk_client, viewer_client, admin_client, tooljet):
    sim, connection = tooljet
    response = helpdesk_client.post(
        f"/connections/{connection.slug}/bundles/", {"workspace": workspace_id(sim), "reason": "x"}
    )
    assert response.status_code == 403
    bundle = _create(admin_client, connection, sim, apps=[app_id(sim, "Archive Browser")])
    bundles.bundle_build(bundle_id=bundle.pk)
    assert (
        viewer_client.get(f"/connections/{connection.slug}/bundles/{bundle.pk}/download/").status_code == 403
    )
    assert viewer_client.get(f"/connections/{connection.slug}/bundles/{bundle.pk}/").status_code == 403


def test_it_hides_bundles_of_other_connections(admin_client, tooljet, simulator, probed_connection):
    sim, connection = tooljet
    other = probed_connection(simulator("tooljet", seed=9), slug="tj-other")
    bundle = _create(admin_client, connection, sim, apps=[app_id(sim, "Archive Browser")])
    assert admin_client.get(f"/connections/{other.slug}/bundles/{bundle.pk}/").status_code == 404


def test_the_task_runs_the_build(admin_client, tooljet):
    from apps.transfers.tasks import bundle_build_task

    sim, connection = tooljet
    bundle = _create(admin_client, connection, sim, apps=[app_id(sim, "Archive Browser")])
    assert bundle_build_task.call(str(bundle.pk), request_id="req-1") == Bundle.Status.DONE
    assert AuditEvent.objects.get(action="app.bundle").request_id == "req-1"


def test_a_queued_bundle_says_it_waits_for_the_worker(
    admin_client, tooljet, htmx_headers, django_capture_on_commit_callbacks
):
    sim, connection = tooljet
    with django_capture_on_commit_callbacks(execute=False):
        bundle = _create(admin_client, connection, sim, apps=[app_id(sim, "Sales Dashboard")])
    assert bundle.queued_at is not None
    html = admin_client.get(
        f"/connections/{connection.slug}/bundles/{bundle.pk}/", headers=htmx_headers
    ).content.decode()
    assert "Waiting for the background worker…" in html
    assert "manage.py worker" not in html  # not yet worth a warning


def test_it_warns_when_the_worker_seems_not_to_run(
    admin_client, tooljet, htmx_headers, django_capture_on_commit_callbacks
):
    sim, connection = tooljet
    with django_capture_on_commit_callbacks(execute=False):
        bundle = _create(admin_client, connection, sim, apps=[app_id(sim, "Sales Dashboard")])
    Bundle.objects.filter(pk=bundle.pk).update(queued_at=timezone.now() - timedelta(seconds=31))
    response = admin_client.get(f"/connections/{connection.slug}/bundles/{bundle.pk}/", headers=htmx_headers)
    html = response.content.decode()
    assert response.status_code == 200 and 'hx-trigger="every 1s"' in html  # still polling
    assert "may not be running" in html and "manage.py worker" in html


def test_a_finished_bundle_reads_done(admin_client, tooljet, django_capture_on_commit_callbacks):
    sim, connection = tooljet
    apps = [app_id(sim, "Sales Dashboard"), app_id(sim, "Customer 360")]
    with django_capture_on_commit_callbacks(execute=False):
        bundle = _create(admin_client, connection, sim, apps=apps)
    bundles.bundle_build(bundle_id=bundle.pk)
    html = admin_client.get(f"/connections/{connection.slug}/bundles/{bundle.pk}/").content.decode()
    assert '<span class="badge bundle-done">Done</span>' in html
    assert "2 of 2 done" in html and "Waiting for the background worker" not in html and "Ready" not in html


def test_a_retried_bundle_measures_its_wait_from_the_retry(
    admin_client, tooljet, django_capture_on_commit_callbacks
):
    sim, connection = tooljet
    with django_capture_on_commit_callbacks(execute=False):
        bundle = _create(admin_client, connection, sim, apps=[app_id(sim, "Sales Dashboard")])
    Bundle.objects.filter(pk=bundle.pk).update(
        status=Bundle.Status.PARTIAL, queued_at=timezone.now() - timedelta(hours=1)
    )
    bundle.items.update(status=BundleItem.Status.FAILED)
    bundle.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=False):
        bundles.bundle_retry_failed(bundle=bundle, actor=None)
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.PENDING and not bundle.waiting_too_long


def test_it_refuses_to_download_a_bundle_that_is_not_built_yet(admin_client, tooljet):
    sim, connection = tooljet
    bundle = _create(admin_client, connection, sim, apps=[app_id(sim, "Archive Browser")])
    assert bundle.status == Bundle.Status.PENDING
    response = admin_client.get(f"/connections/{connection.slug}/bundles/{bundle.pk}/download/")
    assert response.status_code == 409
    assert "not ready" in response.content.decode()
    assert not AuditEvent.objects.filter(action="app.bundle_download").exists()


def test_it_has_nothing_to_retry_when_every_app_worked(admin_client, tooljet):
    sim, connection = tooljet
    bundle = _create(admin_client, connection, sim, apps=[app_id(sim, "Archive Browser")])
    bundles.bundle_build(bundle_id=bundle.pk)
    response = admin_client.post(f"/connections/{connection.slug}/bundles/{bundle.pk}/retry/", follow=True)
    assert "Nothing to retry." in response.content.decode()
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.DONE
