from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

LIST = "/audit/"


@pytest.fixture
def events(record, operator_admin, make_connection):
    prod = make_connection(name="Prod", slug="prod")
    stage = make_connection(name="Stage", slug="stage")
    return {
        "role": record(
            actor=operator_admin,
            connection=prod,
            action="user.role",
            target_id="42",
            target_repr="ada@example.com",
            before={"role": "viewer"},
            after={"role": "admin"},
            reason="promotion approved",
            ticket="OPS-7",
        ),
        "member": record(
            actor=operator_admin,
            connection=stage,
            action="group.member_add",
            target_type="group",
            target_id="g9",
            target_repr="Finance",
            outcome="failure",
            error="upstream 500",
        ),
        "sync": record(
            action="directory.sync", connection=prod, target_type="", target_id="", target_repr="all"
        ),
    }


def sequences(response) -> set[int]:
    return {e.sequence for e in response.context["page"].object_list}


def test_it_urls_resolve():
    assert reverse("audit:event_list") == LIST
    assert reverse("audit:event_detail", kwargs={"pk": 5}) == "/audit/5/"
    assert reverse("audit:event_export") == "/audit/export/"


def test_it_requires_login(client):
    response = client.get(LIST)
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("persona", ["viewer_client", "helpdesk_client", "admin_client"])
def test_it_shows_the_trail_to_every_role(request, persona, events):
    client = request.getfixturevalue(persona)
    response = client.get(LIST)
    assert response.status_code == 200
    assert "ada@example.com" in response.text
    detail = client.get(events["role"].get_absolute_url())
    assert detail.status_code == 200


def test_it_requires_a_role(stranger_client, events):
    assert stranger_client.get(LIST).status_code == 403


def test_it_rejects_post(admin_client):
    assert admin_client.post(LIST).status_code == 405


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("connection=prod", {"role", "sync"}),
        ("actor=alice", {"role", "member"}),
        ("action=group.member_add", {"member"}),
        ("action=user.", {"role"}),
        ("target=user:42", {"role"}),
        ("target=group:g9", {"member"}),
        ("target=Finance", {"member"}),
        ("outcome=failure", {"member"}),
        ("q=promotion", {"role"}),
        ("q=OPS-7", {"role"}),
        ("target=user:42&connection=stage", set()),
    ],
)
def test_it_filters(viewer_client, events, query, expected):
    response = viewer_client.get(f"{LIST}?{query}")
    assert response.status_code == 200
    assert sequences(response) == {events[name].sequence for name in expected}


def test_it_filters_by_date_range(viewer_client, events):
    today = datetime.now(UTC).date().isoformat()
    assert sequences(viewer_client.get(f"{LIST}?since={today}&until={today}")) >= {
        e.sequence for e in events.values()
    }
    assert sequences(viewer_client.get(f"{LIST}?until=2000-01-01")) == set()


def test_it_shows_filter_errors_without_results(viewer_client, events):
    response = viewer_client.get(f"{LIST}?since=not-a-date")
    assert response.status_code == 200 and sequences(response) == set()


def test_it_renders_partial_for_htmx(viewer_client, events, htmx_headers):
    response = viewer_client.get(f"{LIST}?q=promotion", headers=htmx_headers)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="results"' in response.text and "ada@example.com" in response.text
    assert "Finance" not in response.text


def test_it_renders_full_page_for_history_restore(viewer_client, events, htmx_headers):
    response = viewer_client.get(LIST, headers={**htmx_headers, "HX-History-Restore-Request": "true"})
    assert "<html" in response.text


def test_it_has_live_filters_and_real_links(viewer_client, events):
    text = viewer_client.get(LIST).text
    assert 'hx-trigger="input changed delay:300ms, change"' in text
    assert 'hx-push-url="true"' in text and 'hx-target="#results"' in text
    assert 'href="#"' not in text
    assert f'href="/audit/{events["role"].sequence}/"' in text


def test_it_pages_by_position_older_and_newer_with_the_filters_kept(admin_client, record):
    synced = [record(action="directory.sync").sequence for _ in range(55)]
    record(action="user.role")
    first = admin_client.get(f"{LIST}?action=directory.sync")
    assert [e.sequence for e in first.context["page"].object_list] == synced[::-1][:50]
    assert f"?action=directory.sync&amp;before={synced[5]}" in first.text and "after=" not in first.text
    second = admin_client.get(f"{LIST}?action=directory.sync&before={synced[5]}")
    assert [e.sequence for e in second.context["page"].object_list] == synced[4::-1]
    assert f"?action=directory.sync&amp;after={synced[4]}" in second.text and "before=" not in second.text
    back = admin_client.get(f"{LIST}?action=directory.sync&after={synced[4]}")
    assert [e.sequence for e in back.context["page"].object_list] == synced[::-1][:50]
    assert "after=" not in back.text  # the newest page again
    assert (
        admin_client.get(f"{LIST}?action=directory.sync&before=not-a-number")
        .context["page"]
        .object_list[0]
        .sequence
        == synced[-1]
    )  # a bad position is the newest page, not an error


def test_it_shows_the_last_verification(viewer_client, events):
    from apps.audit.services import audit_verify

    assert "not been verified yet" in viewer_client.get(LIST).text
    audit_verify()
    assert "Chain last verified" in viewer_client.get(LIST).text
    assert "Verify the chain now" not in viewer_client.get(LIST).text  # admins only


def test_an_admin_verifies_the_chain_from_the_page_and_the_line_follows_it(
    admin_client, viewer_client, events
):
    from django_tasks_db.models import DBTaskResult

    from apps.audit.tasks import verify_chain

    assert "Verify the chain now" in admin_client.get(LIST).text
    assert viewer_client.post("/audit/verify/").status_code == 403
    response = admin_client.post("/audit/verify/", follow=True)
    assert "Verifying the chain now" in response.text and "Verify the chain now" not in response.text
    admin_client.post("/audit/verify/")  # a second click does not queue a second walk
    swapped = admin_client.post("/audit/verify/", headers={"HX-Request": "true"})  # the button, with htmx
    assert (
        'id="verification"' in swapped.text
        and "<html" not in swapped.text
        and "Verifying the chain now" in swapped.text
    )
    (queued,) = DBTaskResult.objects.filter(task_path="apps.audit.tasks.verify_chain")
    status = admin_client.get("/audit/verify/status/", headers={"HX-Request": "true"})
    assert status.status_code == 200 and 'hx-trigger="every 2s"' in status.text  # still polling
    assert verify_chain.call() is True  # what the worker runs
    DBTaskResult.objects.filter(pk=queued.pk).update(status="SUCCESSFUL")
    status = admin_client.get("/audit/verify/status/", headers={"HX-Request": "true"})
    assert status.status_code == 286  # htmx stops polling
    assert "Chain last verified" in status.text and "OK" in status.text


def test_it_renders_a_readable_diff(admin_client, record):
    event = record(
        before={"role": "viewer", "name": "Ada", "metadata": {"team": "a", "old": 1}},
        after={"role": "admin", "name": "Ada", "metadata": {"team": "b", "new": 2}},
    )
    response = admin_client.get(event.get_absolute_url())
    lines = {line.path: line for line in response.context["diff"]}
    assert lines["role"].kind == "changed" and (lines["role"].before, lines["role"].after) == (
        "viewer",
        "admin",
    )
    assert lines["name"].kind == "unchanged"
    assert lines["metadata.team"].kind == "changed"
    assert lines["metadata.old"].kind == "removed" and lines["metadata.new"].kind == "added"
    assert 'class="diff-changed"' in response.text and 'class="diff-added"' in response.text
    assert 'class="diff-removed"' in response.text


def test_a_list_of_workspaces_diffs_item_by_item_with_what_changed_first(admin_client, record):
    ws = [
        {"id": "w1", "name": "Acme Staging", "role": "admin"},
        {"id": "w2", "name": "Lab", "role": "end-user"},
    ]
    moved = [{**ws[0], "role": "builder"}, ws[1], {"id": "w3", "name": "New", "role": "end-user"}]
    event = record(
        before={"email": "a@example.com", "workspaces": ws},
        after={"email": "a@example.com", "workspaces": moved},
    )
    response = admin_client.get(event.get_absolute_url())
    diff = response.context["diff"]
    lines = {line.path: line for line in diff}
    assert (lines["workspaces[Acme Staging].role"].before, lines["workspaces[Acme Staging].role"].after) == (
        "admin",
        "builder",
    )
    assert lines["workspaces[New].role"].kind == "added"
    assert lines["workspaces[Lab].role"].kind == "unchanged"
    assert [line.changed for line in diff] == sorted((line.changed for line in diff), reverse=True)
    assert "4 unchanged fields" in response.text  # email, the ids of both, Lab's role: folded away
    assert '"role": "admin"' not in response.text  # no raw JSON of the whole list


def test_it_404s_for_unknown_events(viewer_client):
    assert viewer_client.get("/audit/999999/").status_code == 404


@pytest.mark.parametrize("persona", ["viewer_client", "helpdesk_client", "stranger_client"])
def test_it_exports_for_admins_only(request, persona, events):
    client = request.getfixturevalue(persona)
    assert client.get("/audit/export/?format=jsonl").status_code == 403
    assert not AuditEvent.objects.filter(action="audit.export", outcome="success").exists()


def test_it_hides_export_links_from_non_admins(viewer_client, admin_client, events):
    assert "/audit/export/" not in viewer_client.get(LIST).text
    assert "/audit/export/?format=csv" in admin_client.get(LIST).text


def test_it_streams_jsonl(admin_client, events):
    response = admin_client.get("/audit/export/?format=jsonl&connection=prod")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("application/x-ndjson")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert [r["sequence"] for r in rows] == sorted([events["role"].sequence, events["sync"].sequence])
    assert rows[0]["after"] == {"role": "admin"} and rows[0]["hash"] == events["role"].hash


def test_it_streams_csv(admin_client, events):
    response = admin_client.get("/audit/export/?format=csv&outcome=failure")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [int(r["sequence"]) for r in rows] == [events["member"].sequence]
    assert rows[0]["error"] == "upstream 500" and rows[0]["target_repr"] == "Finance"


def test_it_audits_the_export(admin_client, events, operator_admin):
    response = admin_client.get("/audit/export/?format=csv&actor=alice")
    b"".join(response.streaming_content)
    export = AuditEvent.objects.filter(action="audit.export").get()
    assert export.actor == operator_admin and export.outcome == "success"
    assert export.extra["format"] == "csv" and export.extra["filters"] == {"actor": "alice"}
    # role + member change, and alice's own sign-in (the logged-in client)
    assert export.extra["rows"] == 3 and export.extra["filename"].endswith(".csv")


def test_it_rejects_unknown_export_format(admin_client):
    assert admin_client.get("/audit/export/?format=xml").status_code == 400


def test_it_exports_from_the_command(events, capsys):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("audit_export", "--format", "jsonl", "--target", "user:42", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["sequence"] for r in rows] == [events["role"].sequence]
    assert AuditEvent.objects.filter(action="audit.export", actor_username__startswith="cli:").exists()


def test_it_links_to_one_objects_history(viewer_client, events):
    from apps.audit.selectors import history_url

    url = history_url(target_type="user", target_id="42", connection="prod")
    assert url == "/audit/?target=user%3A42&connection=prod"
    assert sequences(viewer_client.get(url)) == {events["role"].sequence}


def test_a_verification_left_behind_by_a_stopped_worker_does_not_hide_the_button(
    admin_client, events, settings
):
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    admin_client.post("/audit/verify/")
    assert "Verify the chain now" not in admin_client.get(LIST).text  # queued: the line follows it
    long_ago = timezone.now() - timedelta(hours=2)
    DBTaskResult.objects.update(
        status="RUNNING", enqueued_at=long_ago, started_at=long_ago
    )  # its worker died
    assert "Verify the chain now" in admin_client.get(LIST).text
    DBTaskResult.objects.update(status="READY", started_at=None)  # or no worker ever took it
    assert "Verify the chain now" in admin_client.get(LIST).text


@pytest.mark.parametrize("outcome", ["failure", "denied"])
def test_a_failed_or_denied_change_reads_as_not_applied_with_the_attempted_change(
    admin_client, record, outcome
):
    before = {f"field{i:02}": f"value {i}" for i in range(20)}
    event = record(before=before, after=None, outcome=outcome, error="refused", extra={"role": "builder"})
    response = admin_client.get(event.get_absolute_url())  # an event about no connection: admins see it
    assert "Not applied — no change." in response.text
    assert "− removed" not in response.text and 'class="diff-removed"' not in response.text
    assert "Attempted change" in response.text and "builder" in response.text
    assert all(line.kind == "unchanged" for line in response.context["diff"])


def test_a_change_with_an_unknown_outcome_says_it_may_have_been_applied(admin_client, record):
    event = record(before={"role": "viewer"}, after=None, outcome="unknown", extra={"role": "admin"})
    response = admin_client.get(event.get_absolute_url())
    assert "may have been applied" in response.text and "− removed" not in response.text


def test_the_list_names_the_member_a_group_change_was_about(admin_client, record):
    record(
        action="group.member_add",
        target_type="group",
        target_id="7",
        target_repr="Support",
        extra={"user_id": "u-9", "user_email": "zoe.obrien@example.com"},
    )
    record(
        action="group.member_remove", target_type="group", target_id="7", after={"user": "mateo@example.com"}
    )
    html = admin_client.get(LIST).text
    assert "member zoe.obrien@example.com" in html and "member mateo@example.com" in html
