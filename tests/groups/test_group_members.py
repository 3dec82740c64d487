from __future__ import annotations

from apps.connections.clients import get_provider
from apps.directory.models import DirectoryUser
from apps.directory.services import index_upsert_user
from tests.groups.helpers import (
    audit_rows,
    hidden,
    reason,
    retool,
    rt_group,
    tj_group,
    tj_user,
    tooljet,
    ws_id,
)


def _tj_member_ids(sim, group):
    return {
        uid for uid, ms in sim.state.memberships.items() for m in ms.values() if group["id"] in m["groups"]
    }


def test_it_lists_tooljet_members_of_this_workspace_only(simulator, probed_connection, viewer_client):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    group = tj_group(sim, "Support")
    html = viewer_client.get(f"/connections/{conn.slug}/groups/{group['id']}/?ws={ws}").content.decode()
    assert "jose.alvarez@example.com" in html
    members = _tj_member_ids(sim, group)
    assert f'Members <small class="muted">{len(members)}</small>' in html
    assert "Remove" not in html  # viewers read


def test_it_adds_a_tooljet_member_through_the_membership_patch(
    simulator, probed_connection, helpdesk_client, htmx_headers
):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    group = tj_group(sim, "Finance Analysts")
    zoe = tj_user(sim, "zoe.obrien@example.com")
    builders = tj_group(sim, "App Builders")
    response = helpdesk_client.post(
        f"/connections/{conn.slug}/groups/{group['id']}/members/",
        reason(ws=ws, user_id=zoe["id"]),
        headers=htmx_headers,
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "Member added." in html and 'hx-swap-oob="true"' in html
    assert "zoe.obrien@example.com" in html
    assert sim.state.memberships[zoe["id"]][ws]["groups"] == {
        group["id"],
        builders["id"],
    }  # kept her other group
    (row,) = audit_rows("group.member_add")
    assert row.outcome == "success" and row.before["groups"] == [builders["id"]]
    assert sorted(row.after["groups"]) == sorted([builders["id"], group["id"]])
    assert row.reason == "ticketed change" and row.ticket == "HELP-1"
    indexed = DirectoryUser.objects.get(connection=conn, remote_id=zoe["id"])
    assert "Finance Analysts" in indexed.group_names


def test_it_removes_a_tooljet_member(simulator, probed_connection, helpdesk_client, htmx_headers):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    group = tj_group(sim, "Support")
    jose = tj_user(sim, "jose.alvarez@example.com")
    page = helpdesk_client.get(f"/connections/{conn.slug}/groups/{group['id']}/?ws={ws}").content.decode()
    assert f'value="{jose["id"]}"' in page
    response = helpdesk_client.post(
        f"/connections/{conn.slug}/groups/{group['id']}/members/remove/",
        reason(ws=ws, user_id=jose["id"], expected_groups=group["id"]),
        headers=htmx_headers,
    )
    assert "Member removed." in response.content.decode()
    assert sim.state.memberships[jose["id"]][ws]["groups"] == set()
    assert audit_rows("group.member_remove")[0].outcome == "success"


def test_it_refuses_a_tooljet_removal_when_the_users_groups_changed(
    simulator, probed_connection, helpdesk_client, htmx_headers
):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    group = tj_group(sim, "Support")
    jose = tj_user(sim, "jose.alvarez@example.com")
    page = helpdesk_client.get(f"/connections/{conn.slug}/groups/{group['id']}/?ws={ws}").content.decode()
    expected = page.split(f'value="{jose["id"]}"', 1)[1]
    expected = hidden(expected, "expected_groups")
    # someone else adds Jose to another group between load and save
    other = tj_group(sim, "Finance Analysts")
    with sim.app.lock:
        sim.state.memberships[jose["id"]][ws]["groups"].add(other["id"])
    response = helpdesk_client.post(
        f"/connections/{conn.slug}/groups/{group['id']}/members/remove/",
        reason(ws=ws, user_id=jose["id"], expected_groups=expected),
        headers=htmx_headers,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "changed since the page was loaded" in html
    assert sim.state.memberships[jose["id"]][ws]["groups"] == {group["id"], other["id"]}
    (row,) = audit_rows("group.member_remove")
    assert row.outcome == "failure"


def test_it_requires_a_reason(simulator, probed_connection, helpdesk_client, htmx_headers):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    group = tj_group(sim, "Support")
    zoe = tj_user(sim, "zoe.obrien@example.com")
    response = helpdesk_client.post(
        f"/connections/{conn.slug}/groups/{group['id']}/members/",
        {"ws": ws, "user_id": zoe["id"]},
        headers=htmx_headers,
    )
    assert "Say why" in response.content.decode()
    assert group["id"] not in sim.state.memberships[zoe["id"]][ws]["groups"]


def test_a_refused_add_keeps_the_search_and_the_person_picked(
    simulator, probed_connection, helpdesk_client, htmx_headers
):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    group = tj_group(sim, "Support")
    zoe = tj_user(sim, "zoe.obrien@example.com")
    index_upsert_user(connection=conn, user=get_provider(conn).get_user(zoe["id"]))
    response = helpdesk_client.post(
        f"/connections/{conn.slug}/groups/{group['id']}/members/",
        {"ws": ws, "user_q": "zoe", "user_id": zoe["id"]},  # no reason
        headers=htmx_headers,
    )
    html = response.content.decode()
    assert "Say why" in html
    assert 'name="user_q" value="zoe"' in html
    assert f'value="{zoe["id"]}" required checked' in html


def test_the_picker_searches_the_directory_index(simulator, probed_connection, helpdesk_client, htmx_headers):
    sim, conn = tooljet(simulator, probed_connection)
    zoe = tj_user(sim, "zoe.obrien@example.com")
    index_upsert_user(connection=conn, user=get_provider(conn).get_user(zoe["id"]))
    html = helpdesk_client.get(
        f"/connections/{conn.slug}/groups/people/?user_q=zoe", headers=htmx_headers
    ).content.decode()
    assert f'value="{zoe["id"]}"' in html and "zoe.obrien@example.com" in html


def test_it_pages_a_retool_group_with_5000_members(simulator, probed_connection, viewer_client, htmx_headers):
    sim, conn = retool(simulator, probed_connection)
    group = rt_group(sim, "Engineering")
    with sim.app.lock:
        for i in range(5000):
            user = sim.state.add_user(email=f"bulk{i:04d}@example.com", first="Bulk", last=f"{i:04d}")
            group["members"].append({"id": user["id"], "is_group_admin": False})
    total = len(group["members"])
    html = viewer_client.get(f"/connections/{conn.slug}/groups/{group['id']}/").content.decode()
    assert f'Members <small class="muted">{total}</small>' in html
    assert f"Page 1 of {-(-total // 50)}" in html
    assert html.count("<tr>") <= 50 + 12
    page = viewer_client.get(
        f"/connections/{conn.slug}/groups/{group['id']}/?mpage=100", headers=htmx_headers
    ).content.decode()
    assert "<html" not in page and f"Page 100 of {-(-total // 50)}" in page
    found = viewer_client.get(
        f"/connections/{conn.slug}/groups/{group['id']}/?mq=bulk4999", headers=htmx_headers
    ).content.decode()
    assert "bulk4999@example.com" in found and "Page 1 of" not in found


def test_it_adds_removes_and_toggles_retool_group_admin(
    simulator, probed_connection, helpdesk_client, htmx_headers
):
    sim, conn = retool(simulator, probed_connection)
    group = rt_group(sim, "Finance")
    admins = {m["id"] for m in rt_group(sim, "admin")["members"]}
    user = next(
        u
        for u in sim.state.users.values()
        if u["id"] not in admins and not any(m["id"] == u["id"] for m in group["members"])
    )
    url = f"/connections/{conn.slug}/groups/{group['id']}/members/"
    response = helpdesk_client.post(url, reason(user_id=user["id"]), headers=htmx_headers)
    assert "Member added." in response.content.decode()
    assert any(m["id"] == user["id"] for m in group["members"])
    response = helpdesk_client.post(
        url + "admin/", reason(user_id=user["id"], is_group_admin="on"), headers=htmx_headers
    )
    assert "Group admin set." in response.content.decode()
    assert next(m for m in group["members"] if m["id"] == user["id"])["is_group_admin"] is True
    response = helpdesk_client.post(url + "remove/", reason(user_id=user["id"]), headers=htmx_headers)
    assert "Member removed." in response.content.decode()
    assert not any(m["id"] == user["id"] for m in group["members"])
    assert [
        r.action
        for r in audit_rows("group.member_add")
        + audit_rows("group.member_admin")
        + audit_rows("group.member_remove")
    ] == ["group.member_add", "group.member_admin", "group.member_remove"]
    assert audit_rows("group.member_admin")[0].before == {"is_group_admin": False}


def test_the_retool_admin_group_is_admin_only(
    simulator, probed_connection, helpdesk_client, admin_client, htmx_headers
):
    sim, conn = retool(simulator, probed_connection)
    group = rt_group(sim, "admin")
    user = next(u for u in sim.state.users.values() if not any(m["id"] == u["id"] for m in group["members"]))
    page = helpdesk_client.get(f"/connections/{conn.slug}/groups/{group['id']}/").content.decode()
    assert "its members are instance admins" in page
    assert "Add to admin" not in page
    url = f"/connections/{conn.slug}/groups/{group['id']}/members/"
    assert helpdesk_client.post(url, reason(user_id=user["id"])).status_code == 403
    assert not any(m["id"] == user["id"] for m in group["members"])
    assert audit_rows("group.member_add")[0].outcome == "denied"
    response = admin_client.post(url, reason(user_id=user["id"]), headers=htmx_headers)
    assert "Member added." in response.content.decode()
    assert any(m["id"] == user["id"] for m in group["members"])


def test_viewers_cannot_change_members(simulator, probed_connection, viewer_client):
    sim, conn = retool(simulator, probed_connection)
    group = rt_group(sim, "Finance")
    user = next(iter(sim.state.users.values()))
    url = f"/connections/{conn.slug}/groups/{group['id']}/members/"
    assert viewer_client.post(url, reason(user_id=user["id"])).status_code == 403
    assert viewer_client.post(url + "remove/", reason(user_id=user["id"])).status_code == 403
    assert viewer_client.get(url).status_code == 405


def _row_forms(html: str, action_url: str) -> list[str]:
    """The member rows' own forms posting to ``action_url`` (each one's HTML)."""
    return [part.split("</form>", 1)[0] for part in html.split(f'action="{action_url}"')[1:]]


def test_each_row_action_carries_its_own_reason_fields(simulator, probed_connection, helpdesk_client):
    sim, conn = retool(simulator, probed_connection)
    group = rt_group(sim, "Finance")
    base = f"/connections/{conn.slug}/groups/{group['id']}/members/"
    html = helpdesk_client.get(f"/connections/{conn.slug}/groups/{group['id']}/").content.decode()
    assert "#member-reason" not in html  # nothing borrows the add form's reason any more
    for url in (base + "remove/", base + "admin/"):
        forms = _row_forms(html, url)
        assert len(forms) == len(group["members"])
        for form in forms:
            assert "<details>" in form and 'name="reason"' in form and 'name="ticket"' in form
    ids = [hidden(f, "user_id") for f in _row_forms(html, base + "remove/")]
    assert len(set(ids)) == len(ids)


def test_it_removes_a_tooljet_member_without_javascript(simulator, probed_connection, helpdesk_client):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    group = tj_group(sim, "Support")
    jose = tj_user(sim, "jose.alvarez@example.com")
    detail = f"/connections/{conn.slug}/groups/{group['id']}/"
    html = helpdesk_client.get(f"{detail}?ws={ws}").content.decode()
    (form,) = [f for f in _row_forms(html, detail + "members/remove/") if f'value="{jose["id"]}"' in f]
    data = {
        "user_id": jose["id"],
        "ws": hidden(form, "ws"),
        "expected_groups": hidden(form, "expected_groups"),
    }
    response = helpdesk_client.post(detail + "members/remove/", reason(**data), follow=True)
    assert response.redirect_chain[-1] == (f"{detail}?ws={ws}", 302)
    html = response.content.decode()
    assert "Member removed." in html and "<html" in html
    assert sim.state.memberships[jose["id"]][ws]["groups"] == set()
    (row,) = audit_rows("group.member_remove")
    assert row.outcome == "success" and row.reason == "ticketed change" and row.ticket == "HELP-1"


def test_it_toggles_retool_group_admin_without_javascript(simulator, probed_connection, helpdesk_client):
    sim, conn = retool(simulator, probed_connection)
    group = rt_group(sim, "Finance")
    member = next(m for m in group["members"] if not m["is_group_admin"])
    detail = f"/connections/{conn.slug}/groups/{group['id']}/"
    response = helpdesk_client.post(
        detail + "members/admin/", reason(user_id=member["id"], is_group_admin="on"), follow=True
    )
    assert response.redirect_chain[-1] == (detail, 302)
    assert "Group admin set." in response.content.decode()
    assert next(m for m in group["members"] if m["id"] == member["id"])["is_group_admin"] is True


def test_a_full_page_removal_without_a_reason_says_why_and_changes_nothing(
    simulator, probed_connection, helpdesk_client
):
    sim, conn = retool(simulator, probed_connection)
    group = rt_group(sim, "Finance")
    member = group["members"][0]
    detail = f"/connections/{conn.slug}/groups/{group['id']}/"
    response = helpdesk_client.post(detail + "members/remove/", {"user_id": member["id"]}, follow=True)
    assert response.redirect_chain[-1] == (detail, 302)
    assert "Say why" in response.content.decode()
    assert any(m["id"] == member["id"] for m in group["members"])
    assert sim.writes() == []


def test_the_picker_offers_only_members_of_the_groups_workspace(
    simulator, probed_connection, helpdesk_client, htmx_headers
):
    from apps.directory.services import directory_sync

    sim, conn = tooljet(simulator, probed_connection)
    directory_sync(connection=conn)
    ws = ws_id(sim)
    outsider = next(
        r
        for r in DirectoryUser.objects.filter(connection=conn)
        if not any(m["workspace_id"] == ws for m in r.memberships)
    )
    url = f"/connections/{conn.slug}/groups/people/"
    anywhere = helpdesk_client.get(url, {"user_q": outsider.email}, headers=htmx_headers).content.decode()
    assert f'value="{outsider.remote_id}"' in anywhere
    here = helpdesk_client.get(
        url, {"user_q": outsider.email, "ws": ws}, headers=htmx_headers
    ).content.decode()
    assert f'value="{outsider.remote_id}"' not in here and "among this workspace's members" in here
