from __future__ import annotations

import json
import re

from apps.audit.models import AuditEvent
from apps.transfers.models import Bundle
from tests.transfers.conftest import app_id, app_names, imports, workspace_id


def _copy(client, source, source_sim, target, target_sim, name="Customer 360", **extra):
    ws = workspace_id(source_sim)
    target_ws = workspace_id(target_sim, "acme-staging")
    return client.post(
        f"/connections/{source.slug}/apps/{app_id(source_sim, name)}/copy/?workspace={ws}",
        {"workspace": ws, "target": f"{target.slug}|{target_ws}", "tjdb": "1", **extra},
    )


def test_it_copies_an_app_between_two_instances(admin_client, simulator, probed_connection):
    src_sim = simulator("tooljet", profile="lts-3.16")
    dst_sim = simulator("tooljet", profile="latest", seed=2)
    source = probed_connection(src_sim, slug="tj-old", name="Old")
    target = probed_connection(dst_sim, slug="tj-new", name="New")
    form = admin_client.get(
        f"/connections/{source.slug}/apps/{app_id(src_sim, 'Customer 360')}/copy/",
        {"workspace": workspace_id(src_sim)},
    )
    assert "New → ACME Staging" in form.content.decode() or "New →" in form.content.decode()
    response = _copy(admin_client, source, src_sim, target, dst_sim, version="v2")
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"].startswith(f"/connections/{target.slug}/apps/import/")
    assert not imports(dst_sim)
    preview = admin_client.get(response["Location"]).content.decode()
    assert "dry run" in preview and "Customer 360" in preview and "v2" in preview
    assert "3.16.12-ee-lts" in preview and "Version compatible" in preview
    done = admin_client.post(response["Location"], {"app_name": "Customer 360", "reason": "promote"})
    assert done.status_code == 302, done.content.decode()[:3000]
    assert "Copy finished" in admin_client.get(done["Location"]).content.decode()
    assert "Customer 360" in app_names(dst_sim, "acme-staging")
    staging = workspace_id(dst_sim, "acme-staging")
    copied = next(
        a
        for a in dst_sim.app.state.apps.values()
        if a["name"] == "Customer 360" and a["organizationId"] == staging
    )
    assert [v["name"] for v in copied["versions"]] == ["v2"]
    event = AuditEvent.objects.get(action="app.copy")
    assert event.outcome == "success"
    assert event.after["source"]["connection"] == "tj-old"
    assert AuditEvent.objects.filter(action="app.export", connection=source).count() == 1


def test_it_backs_up_the_same_named_target_app_first(admin_client, simulator, probed_connection):
    src_sim = simulator("tooljet", profile="latest")
    dst_sim = simulator("tooljet", profile="latest", seed=3)
    source = probed_connection(src_sim, slug="tj-a")
    target = probed_connection(dst_sim, slug="tj-b")
    response = _copy(admin_client, source, src_sim, target, dst_sim, name="Sales Dashboard")
    preview = admin_client.get(response["Location"]).content.decode()
    assert "Name already taken" in preview and "backup" in preview
    dst_sim.requests.clear()
    done = admin_client.post(response["Location"], {"app_name": "Sales Dashboard (2)", "backup": "on"})
    listings = [p for m, p in dst_sim.requests if m == "GET" and p.endswith("/apps")]
    assert len(listings) == 1, listings  # the name check's listing also finds the app to back up
    done = admin_client.get(done["Location"])  # the result page looks the new app up to link to it
    assert done.status_code == 200
    backup = Bundle.objects.get(kind=Bundle.Kind.BACKUP)
    assert backup.status == Bundle.Status.DONE and backup.sha256
    assert f"/bundles/{backup.pk}/download/" in done.content.decode()
    download = admin_client.get(f"/connections/{target.slug}/bundles/{backup.pk}/download/")
    data = json.loads(b"".join(download.streaming_content))
    assert data["app"][0]["definition"]["appV2"]["name"] == "Sales Dashboard"
    assert "Sales Dashboard (2)" in app_names(dst_sim, "acme-staging")


def test_it_refuses_to_copy_to_an_older_instance(admin_client, simulator, probed_connection):
    src_sim = simulator("tooljet", profile="latest")
    dst_sim = simulator("tooljet", profile="lts-3.16")
    source = probed_connection(src_sim, slug="tj-new")
    target = probed_connection(dst_sim, slug="tj-old")
    response = _copy(admin_client, source, src_sim, target, dst_sim)
    assert response.status_code == 200
    assert "newer than the target" in response.content.decode()
    assert not imports(dst_sim)
    assert AuditEvent.objects.filter(action="app.import_rejected").count() == 1


def test_it_is_for_admins_only(helpdesk_client, simulator, probed_connection):
    a = simulator("tooljet")
    source = probed_connection(a, slug="tj-a")
    target = probed_connection(simulator("tooljet", seed=5), slug="tj-b")
    assert _copy(helpdesk_client, source, a, target, a).status_code == 403


def test_it_rejects_a_taken_name_at_the_confirm_step(admin_client, simulator, probed_connection):
    src_sim = simulator("tooljet", profile="latest")
    dst_sim = simulator("tooljet", profile="latest", seed=3)
    source = probed_connection(src_sim, slug="tj-a")
    target = probed_connection(dst_sim, slug="tj-b")
    response = _copy(admin_client, source, src_sim, target, dst_sim, name="Sales Dashboard")
    again = admin_client.post(response["Location"], {"app_name": "Sales Dashboard", "reason": "promote"})
    assert again.status_code == 200
    assert "already exists" in again.content.decode()
    assert not imports(dst_sim)
    event = AuditEvent.objects.get(action="app.import_rejected")
    assert event.outcome == "failure" and event.after["source"]["connection"] == "tj-a"
    assert not AuditEvent.objects.filter(action="app.copy").exists()


def test_it_marks_targets_that_run_an_older_tooljet(admin_client, simulator, probed_connection):
    src_sim = simulator("tooljet", profile="latest")
    source = probed_connection(src_sim, slug="tj-src", name="Source")
    probed_connection(simulator("tooljet", profile="lts-3.16", seed=4), slug="tj-old", name="Old")
    probed_connection(simulator("tooljet", profile="latest", seed=5), slug="tj-new", name="New")
    mute_sim = simulator("tooljet", profile="lts-3.5", seed=6)
    probed_connection(mute_sim, slug="tj-mute", name="Mute")
    mute_sim.faults.add(kind="status", status=500, path="/api/ext/export/")  # its version cannot be learnt
    page = admin_client.get(
        f"/connections/{source.slug}/apps/{app_id(src_sim, 'Customer 360')}/copy/",
        {"workspace": workspace_id(src_sim)},
    ).content.decode()
    assert (
        "Old → Acme Staging — incompatible: runs ToolJet 3.16.12-ee-lts, older than the source&#x27;s 3.20.40-ee"
        in page
    )
    assert "New → Acme Staging<" in page
    assert "Mute → Acme Staging<" in page  # not known to be older: not marked
    assert page.count("incompatible") == 3  # Old's three active workspaces
    # listed after the targets that can take it, in a group of their own
    assert page.index('<optgroup label="Can import this app">') < page.index("New → Acme Staging<")
    assert page.index('<optgroup label="Older ToolJet: will refuse this export">') < page.index(
        "Old → Acme Staging"
    )
    # versions are learnt once: a second load exports nothing more, not even from Mute, which did not answer
    exports = lambda sim: sum(1 for m, p in list(sim.requests) if m == "POST" and "/export/" in p)  # noqa: E731
    before = exports(mute_sim)
    admin_client.get(
        f"/connections/{source.slug}/apps/{app_id(src_sim, 'Customer 360')}/copy/",
        {"workspace": workspace_id(src_sim)},
    )
    assert exports(mute_sim) == before
    assert not imports(src_sim)


def test_it_does_not_repeat_the_workspace_in_the_backup_file_name(admin_client, simulator, probed_connection):
    src_sim = simulator("tooljet", profile="latest")
    dst_sim = simulator("tooljet", profile="latest", seed=3)
    source = probed_connection(src_sim, slug="tj-a")
    target = probed_connection(dst_sim, slug="tj-b")
    response = _copy(admin_client, source, src_sim, target, dst_sim, name="Sales Dashboard")
    admin_client.post(response["Location"], {"app_name": "Sales Dashboard (2)", "backup": "on"})
    backup = Bundle.objects.get(kind=Bundle.Kind.BACKUP)
    assert re.fullmatch(r"tj-b-acme-staging-sales-dashboard-all-\d{8}-\d{4}-backup\.json", backup.file_name)
