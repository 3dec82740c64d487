"""Every refused POST by a signed-in operator leaves one denied audit row (what was tried, the reason), at most one
a minute per (operator, URL name, target), recorded in one place for every view."""

from __future__ import annotations

from apps.audit.models import AuditEvent

R = {"reason": "ticket says so", "ticket": "HELP-1"}


def test_a_refused_post_writes_one_denied_row_per_minute(viewer_client, make_connection, htmx_headers):
    connection = make_connection(None, kind="tooljet")
    url = f"/connections/{connection.slug}/users/u-1/role/"
    for _ in range(5):
        response = viewer_client.post(url, {"role": "admin", **R}, headers=htmx_headers)
        assert response.status_code == 403
    rows = list(AuditEvent.objects.filter(outcome="denied"))
    assert len(rows) == 1
    row = rows[0]
    assert row.action == "request.denied" and row.actor_username == "vera"
    assert row.connection_id == connection.pk and row.target_id == "u-1"
    assert row.extra["url_name"] == "people:user_role_change"
    assert row.target_repr == f"POST {url}"
    assert row.error == "Your role is read-only: it can look but not change anything."
    # another target is another row
    viewer_client.post(f"/connections/{connection.slug}/users/u-2/role/", {"role": "admin", **R})
    assert AuditEvent.objects.filter(outcome="denied").count() == 2


def test_a_refused_get_writes_nothing(viewer_client, make_connection):
    make_connection(None, kind="tooljet")
    assert viewer_client.get("/connections/add/").status_code == 403
    assert not AuditEvent.objects.filter(outcome="denied").exists()


def test_a_refusal_a_service_recorded_is_not_recorded_twice(
    helpdesk_client, simulator, probed_connection, htmx_headers
):
    sim = simulator("retool", profile="enterprise")
    connection = probed_connection(sim)
    admin_group = next(g for g in sim.state.groups.values() if g["name"] == "admin")
    outsider = next(
        u for u in sim.state.users.values() if all(m["id"] != u["id"] for m in admin_group["members"])
    )
    url = f"/connections/{connection.slug}/groups/{admin_group['id']}/members/"
    for _ in range(3):
        response = helpdesk_client.post(url, {"user_id": outsider["id"], **R}, headers=htmx_headers)
        assert response.status_code == 403
        assert (
            "Only admin operators can change the membership of an admin group." in response.content.decode()
        )
    rows = list(AuditEvent.objects.filter(outcome="denied"))
    assert [r.action for r in rows] == ["group.member_add"]
    assert rows[0].error == "Only admin operators can change the membership of an admin group."
