"""An operator whose scope does not cover a connection does not see it anywhere: connection list and pages (404),
search and person rows, the apps fleet, group drift, the audit trail and plans."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.directory.services import directory_sync
from apps.plans.models import Operation, Plan

PRIYA = "priya.raman@example.com"


@pytest.fixture
def fleet(simulator, probed_connection):
    """The same people on a staging and a production ToolJet, both indexed."""
    connections = {}
    for environment in ("staging", "production"):
        sim = simulator("tooljet", profile="latest", users=10)
        connection = probed_connection(
            sim, slug=f"tj-{environment}", name=f"TJ {environment}", environment=environment
        )
        directory_sync(connection=connection)
        connections[environment] = connection
    return connections["staging"], connections["production"]


def test_connections_outside_the_scope_are_not_listed_and_404(scoped_client, fleet):
    staging, production = fleet
    page = scoped_client.get("/connections/").content.decode()
    assert staging.name in page and production.name not in page
    assert scoped_client.get(f"/connections/{staging.slug}/").status_code == 200
    for url in ("", "users/", f"users/{PRIYA}/", "groups/", "apps/", "users/new/"):
        assert scoped_client.get(f"/connections/{production.slug}/{url}").status_code == 404, url
    home = scoped_client.get("/").content.decode()
    assert production.name not in home


def test_search_and_person_rows_only_show_covered_connections(scoped_client, helpdesk_client, fleet):
    staging, production = fleet
    found = scoped_client.get("/", {"q": "priya"})
    rows = [r for p in found.context["result"].people for r in p.rows]
    assert rows and {r.connection_id for r in rows} == {staging.pk}
    everyone = helpdesk_client.get("/", {"q": "priya"})
    assert {r.connection_id for p in everyone.context["result"].people for r in p.rows} == {
        staging.pk,
        production.pk,
    }
    person = scoped_client.get(f"/people/{PRIYA}/")
    assert [r.connection_id for r in person.context["rows"]] == [staging.pk]
    assert production.name not in person.content.decode()


def test_the_apps_fleet_and_drift_skip_uncovered_connections(scoped_client, fleet):
    staging, production = fleet
    page = scoped_client.get("/apps/").content.decode()
    assert staging.name in page and production.name not in page
    drift = scoped_client.get("/groups/drift/", {"left": staging.slug, "right": production.slug})
    assert drift.status_code == 404
    assert production.name not in scoped_client.get("/groups/drift/").content.decode()


def test_the_audit_trail_shows_covered_connections_and_admins_see_the_rest(
    scoped_client, viewer_client, admin_client, fleet
):
    staging, production = fleet
    mine = audit_record(action="user.role", actor=None, connection=staging, target_id="a")
    theirs = audit_record(action="user.role", actor=None, connection=production, target_id="b")
    general = audit_record(action="operator.create", actor=None, target_id="c")
    listed = {e.pk for e in scoped_client.get("/audit/").context["page"].object_list}
    assert mine.pk in listed and theirs.pk not in listed and general.pk not in listed
    assert scoped_client.get(f"/audit/{theirs.pk}/").status_code == 404
    assert scoped_client.get(f"/audit/{general.pk}/").status_code == 404
    assert scoped_client.get(f"/audit/{mine.pk}/").status_code == 200
    # an unscoped viewer sees every connection's events but not the console's own (operators, sign-ins)
    viewer = {e.pk for e in viewer_client.get("/audit/").context["page"].object_list}
    assert {mine.pk, theirs.pk} <= viewer and general.pk not in viewer
    admin = {e.pk for e in admin_client.get("/audit/").context["page"].object_list}
    assert {mine.pk, theirs.pk, general.pk} <= admin
    export = b"".join(admin_client.get("/audit/export/?format=jsonl").streaming_content)
    assert b'"operator.create"' in export
    assert AuditEvent.objects.filter(action="audit.export").count() == 1


def test_plans_on_uncovered_connections_are_hidden(scoped_client, operator_admin, fleet):
    staging, production = fleet
    plans = {}
    for connection in fleet:
        plan = Plan.objects.create(title="t", author=operator_admin, state=Plan.State.DONE)
        Operation.objects.create(
            plan=plan, position=1, connection=connection, action="user.status", target_id="x"
        )
        plans[connection.environment] = plan
    page = scoped_client.get("/plans/")
    assert {p.pk for p in page.context["plans"]} == {plans["staging"].pk}
    assert scoped_client.get(f"/plans/{plans['production'].pk}/").status_code == 404


def test_a_plan_built_by_a_scoped_operator_only_reaches_covered_connections(scoped_client, fleet):
    staging, production = fleet
    response = scoped_client.post("/plans/offboard/", {"email": PRIYA})
    assert response.status_code == 302
    plan = Plan.objects.get()
    assert {op.connection_id for op in plan.operations.all()} == {staging.pk}
    assert scoped_client.get(response["Location"]).status_code == 200
