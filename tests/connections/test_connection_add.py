"""After "Add connection" the page says what happened: indexing starts only once the first test has passed."""

from __future__ import annotations

import re

import pytest

from apps.connections.models import Connection
from apps.directory.models import DirectorySync
from apps.directory.services import directory_sync
from apps.simulators import DEFAULT_TOKENS

SYNC_TASK = "apps.directory.tasks.sync_connection"


def _form(sim, *, kind: str, slug: str) -> dict:
    return {
        "name": f"New {slug}",
        "slug": slug,
        "kind": kind,
        "base_url": sim.url,
        "environment": "staging",
        "timeout": "5",
        "requests_per_minute": "",
        "token": DEFAULT_TOKENS[sim.kind],
        "notes": "",
    }


def _sync_tasks(connection: Connection) -> int:
    from django_tasks_db.models import DBTaskResult

    return sum(
        1
        for task in DBTaskResult.objects.filter(task_path=SYNC_TASK)
        if task.args_kwargs["args"] == [connection.pk]
    )


def _add_and_autotest(
    admin_client, django_capture_on_commit_callbacks, form, *, anyway: bool = False
) -> tuple[str, str]:
    """Add (following the redirect, as the browser does), then the page's automatic test (hx-trigger load).
    ``anyway``: the add form's test fails and the operator saves it anyway."""
    with django_capture_on_commit_callbacks(execute=True):
        page = admin_client.post(
            "/connections/add/", form | ({"save_anyway": "1"} if anyway else {}), follow=True
        )
    assert page.redirect_chain[-1][0] == f"/connections/{form['slug']}/?test=1"
    with django_capture_on_commit_callbacks(execute=True):
        result = admin_client.post(f"/connections/{form['slug']}/test/", headers={"HX-Request": "true"})
    return page.content.decode(), result.content.decode()


def test_a_working_connection_is_tested_then_indexed(
    admin_client, simulator, django_capture_on_commit_callbacks
):
    sim = simulator("tooljet", users=3)
    page, result = _add_and_autotest(
        admin_client, django_capture_on_commit_callbacks, _form(sim, kind="tooljet", slug="new-tj")
    )
    connection = Connection.objects.get(slug="new-tj")
    assert "Connection “New new-tj” added. Testing it now…" in page
    assert "indexed" not in page  # nothing is claimed before the test ran
    assert "<strong>Working:</strong>" in result
    assert "Its people are being indexed now" in result
    assert _sync_tasks(connection) == 1
    assert DirectorySync.objects.get(connection=connection).status == DirectorySync.Status.RUNNING

    # testing again does not queue the first index twice
    with django_capture_on_commit_callbacks(execute=True):
        again = admin_client.post(
            "/connections/new-tj/test/", headers={"HX-Request": "true"}
        ).content.decode()
    assert "indexed" not in again and _sync_tasks(connection) == 1


@pytest.mark.parametrize(("sim_kind", "kind"), [("tooljet", "retool"), ("retool", "tooljet")])
def test_a_connection_that_fails_its_first_test_is_not_said_to_be_indexed(
    admin_client, simulator, django_capture_on_commit_callbacks, sim_kind, kind
):
    sim = simulator(sim_kind, users=3)
    page, result = _add_and_autotest(
        admin_client,
        django_capture_on_commit_callbacks,
        _form(sim, kind=kind, slug="wrong-kind"),
        anyway=True,
    )
    connection = Connection.objects.get(slug="wrong-kind")
    assert connection.last_test_ok is False
    assert "being indexed" not in page and "being indexed" not in result
    assert "<strong>Problem:</strong>" in result and "does not look like a" in result
    assert "Its people will be indexed once the test passes." in result
    assert _sync_tasks(connection) == 0
    assert not DirectorySync.objects.filter(connection=connection).exists()


def test_a_connection_fixed_after_a_failed_first_test_is_indexed_then(
    admin_client, simulator, django_capture_on_commit_callbacks
):
    sim = simulator("retool", users=3)
    _add_and_autotest(
        admin_client,
        django_capture_on_commit_callbacks,
        _form(sim, kind="tooljet", slug="fixme"),
        anyway=True,
    )
    connection = Connection.objects.get(slug="fixme")
    assert _sync_tasks(connection) == 0
    directory_sync(connection=connection)  # the periodic sync runs in between and fails: not "indexed before"
    connection.kind = "retool"
    connection.save()
    with django_capture_on_commit_callbacks(execute=True):
        result = admin_client.post(
            "/connections/fixme/test/", headers={"HX-Request": "true"}
        ).content.decode()
    assert "<strong>Working:</strong>" in result and "Its people are being indexed now" in result
    assert _sync_tasks(connection) == 1


def test_a_failing_instance_is_tested_before_saving_and_saved_only_on_request(
    admin_client, simulator, htmx_headers
):
    from apps.audit.models import AuditEvent

    sim = simulator("retool", users=3)
    form = _form(sim, kind="tooljet", slug="not-saved")
    page = admin_client.get("/connections/add/").content.decode()
    assert 'hx-indicator="#add-progress"' in page and "Testing the instance before saving" in page
    response = admin_client.post("/connections/add/", form, headers=htmx_headers)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="add-outcome"' in html and "<html" not in html
    assert "The test failed, so nothing was saved." in html and 'name="save_anyway"' in html
    assert DEFAULT_TOKENS[sim.kind] not in html
    assert not Connection.objects.filter(slug="not-saved").exists()
    failed = re.search(r'name="failed_test" value="([^"]*)"', html).group(1)
    saved = admin_client.post(
        "/connections/add/", form | {"save_anyway": "1", "failed_test": failed}, headers=htmx_headers
    )
    assert saved["HX-Redirect"] == "/connections/not-saved/?test=1"
    event = AuditEvent.objects.get(action="connection.create")
    assert event.after["saved_despite_failed_test"]


def test_a_working_instance_is_saved_after_its_test(admin_client, simulator, htmx_headers):
    sim = simulator("tooljet", users=3)
    response = admin_client.post(
        "/connections/add/", _form(sim, kind="tooljet", slug="ok-tj"), headers=htmx_headers
    )
    assert response["HX-Redirect"] == "/connections/ok-tj/?test=1"
    assert Connection.objects.filter(slug="ok-tj").exists()


def test_invalid_input_re_renders_the_whole_form(admin_client, simulator, htmx_headers):
    sim = simulator("tooljet", users=3)
    response = admin_client.post(
        "/connections/add/", _form(sim, kind="tooljet", slug="x") | {"token": ""}, headers=htmx_headers
    )
    assert response["HX-Retarget"] == "#connection-form" and "needs a token" in response.content.decode()
