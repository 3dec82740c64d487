"""What an operator is told, and what the audit says, when an import's answer is lost or the instance cannot be
reached at all."""

from __future__ import annotations

from apps.audit.models import AuditEvent
from tests.transfers.conftest import export_body, imports, upload, workspace_id


def _stage(client, connection, sim):
    response = client.post(
        f"/connections/{connection.slug}/apps/import/",
        {"workspace": workspace_id(sim, "acme-staging"), "file": upload(export_body())},
    )
    assert response.status_code == 302
    return response["Location"]


def test_a_lost_import_answer_is_an_unknown_outcome_settled_by_reading_the_app_list(admin_client, tooljet):
    sim, connection = tooljet
    confirm = _stage(admin_client, connection, sim)
    sim.faults.add(kind="lost", path="/api/ext/import/", times=1)  # carried out, then the answer is lost
    page = admin_client.post(confirm, {"app_name": "Shipped App"}).content.decode()
    assert "refused" not in page
    assert "outcome was unknown" in page
    assert "now shows “Shipped App”: the import was applied" in page
    assert len(imports(sim)) == 1
    assert AuditEvent.objects.get(action="app.import").outcome == "unknown"


def test_an_import_to_an_instance_refusing_connections_writes_a_failure_row(admin_client, tooljet):
    sim, connection = tooljet
    confirm = _stage(admin_client, connection, sim)
    connection.base_url = "http://127.0.0.1:9"  # nothing listens there: connection refused
    connection.save()
    page = admin_client.post(confirm, {"app_name": "Shipped App"}).content.decode()
    assert "could not be sent" in page and "refused the import" not in page
    event = AuditEvent.objects.get(action="app.import")
    assert event.outcome == "failure" and event.target_repr == "Shipped App"
    assert not imports(sim)


def _refusing(connection):
    connection.base_url = "http://127.0.0.1:9"  # nothing listens there: connection refused
    connection.save()


def test_group_writes_to_an_instance_refusing_connections_write_failure_rows(
    simulator, probed_connection, admin_client
):
    from tests.groups.helpers import ws_id

    sim = simulator("tooljet", profile="latest")
    connection = probed_connection(sim)
    group = sim.state.custom_groups(ws_id(sim))[0]
    person = next(iter(sim.state.users.values()))
    base = f"/connections/{connection.slug}/groups/{group['id']}"
    _refusing(connection)
    sent = {"ws": ws_id(sim), "reason": "audit me", "ticket": "", "name": "X", "version": "v"}
    edit = admin_client.post(f"{base}/edit/", sent)
    add = admin_client.post(f"{base}/members/", {**sent, "user_id": person["id"]})
    assert edit.status_code == 502 and add.status_code == 502
    rows = {e.action: e for e in AuditEvent.objects.filter(action__startswith="group.")}
    assert set(rows) == {"group.update", "group.member_add"}
    for event in rows.values():
        assert event.outcome == "failure" and event.target_id == group["id"] and event.reason == "audit me"
