"""More ways to make a plan, over real HTTP against the simulators: a multi-select on the search results, copying
access from another person, and the person page's history and temporary access (with "End now")."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.directory.models import DirectoryUser
from apps.plans.models import Operation, Plan
from apps.plans.services import plan_apply, plans_expire

from .conftest import JOSE, rt_user, tj_user

ZOE = "zoe.obrien@example.com"
REASON = {"reason": "Quarterly access review", "ticket": "HD-77"}


def _plan_from(response) -> Plan:
    assert response.status_code == 302, response.content.decode()[:1000]
    return Plan.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def _ids(*emails: str) -> list[str]:
    return [
        ",".join(str(pk) for pk in DirectoryUser.objects.filter(email=e).values_list("pk", flat=True))
        for e in emails
    ]


def _apply(client, plan: Plan, django_capture_on_commit_callbacks, **extra) -> Plan:
    client.get(f"/plans/{plan.pk}/")  # the review reads every target live
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/plans/{plan.pk}/submit/", {**REASON, **extra})
    assert response.status_code == 302, response.content.decode()[:2000]
    plan.refresh_from_db()
    assert plan.state == Plan.State.APPROVED
    assert plan_apply(plan_id=plan.pk) == Plan.State.DONE
    plan.refresh_from_db()
    return plan


# -- multi-select on the search results ----------------------------------------------------------------------------


def test_it_offers_checkboxes_on_search_results_and_keeps_the_partial(
    admin_client, viewer_client, fleet, htmx_headers
):
    fleet()
    page = admin_client.get("/?q=example.com").content.decode()
    assert (
        'id="selection-form"' in page
        and 'name="account"' in page
        and "Plan a change for the selected" in page
    )
    partial = admin_client.get("/?q=jose", headers=htmx_headers)
    html = partial.content.decode()
    assert "<html" not in html and 'action="/plans/selection/"' in html
    import re

    values = re.findall(r'name="account" value="([0-9,]+)"', html)
    # one checkbox per result row, carrying that person's accounts
    assert [set(v.split(",")) for v in values] == [set(_ids(JOSE)[0].split(","))]
    assert 'name="account"' not in viewer_client.get("/?q=jose").content.decode()


def test_it_builds_one_operation_per_selected_account(
    admin_client, fleet, django_capture_on_commit_callbacks
):
    f = fleet()
    plan = _plan_from(
        admin_client.post("/plans/selection/", {"account": _ids(JOSE, ZOE), "action": "offboard"})
    )
    assert plan.source == Plan.Source.SELECTION and plan.title == "Offboard 2 selected people"
    ops = list(plan.operations.all())
    assert len(ops) == 6 and {op.action for op in ops} == {"user.status"}
    assert {(op.connection.slug, op.target_email) for op in ops} == {
        (slug, email) for slug in ("tj1", "tj2", "retool") for email in (JOSE, ZOE)
    }
    html = admin_client.get(f"/plans/{plan.pk}/").content.decode()
    assert "Review" in html and "will apply" in html
    _apply(admin_client, plan, django_capture_on_commit_callbacks)
    assert tj_user(f["tj1"][0], ZOE)["status"] == "archived"
    assert rt_user(f["retool"][0])["active"] is False


def test_it_adds_the_selected_to_a_group_by_name(admin_client, fleet, django_capture_on_commit_callbacks):
    f = fleet()
    plan = _plan_from(
        admin_client.post(
            "/plans/selection/", {"account": _ids(ZOE), "action": "group_add", "group": "Support"}
        )
    )
    html = admin_client.get(f"/plans/{plan.pk}/").content.decode()
    assert "not in Support" in html
    plan = _apply(admin_client, plan, django_capture_on_commit_callbacks)
    sim = f["retool"][0]
    support = next(g for g in sim.state.groups.values() if g["name"] == "Support")
    assert any(m["id"] == rt_user(sim, ZOE)["id"] for m in support["members"])
    tj = f["tj1"][0]
    zoe = tj_user(tj, ZOE)
    prod = next(w for w, m in tj.state.memberships[zoe["id"]].items() if m["groups"])
    names = {tj.state.groups[g]["name"] for g in tj.state.memberships[zoe["id"]][prod]["groups"]}
    assert "Support" in names
    # a workspace without a Support group is skipped, saying so
    missing = plan.operations.filter(state=Operation.State.SKIPPED)
    assert all("no group named Support" in op.message or "Already" in op.message for op in missing)


def test_it_refuses_an_empty_selection(admin_client, fleet, htmx_headers):
    fleet()
    response = admin_client.post("/plans/selection/", {"action": "offboard"}, headers=htmx_headers)
    assert response.status_code == 400 and "Select at least one person" in response.content.decode()
    response = admin_client.post(
        "/plans/selection/", {"account": _ids(JOSE), "action": "role"}, headers=htmx_headers
    )
    assert response.status_code == 400 and "Pick the role" in response.content.decode()
    assert not Plan.objects.exists()


def test_it_refuses_the_selection_to_viewers(viewer_client, fleet):
    fleet()
    response = viewer_client.post("/plans/selection/", {"account": _ids(JOSE), "action": "offboard"})
    assert response.status_code == 403 and not Plan.objects.exists()


# -- copy access ---------------------------------------------------------------------------------------------------


def test_it_copies_access_from_another_person(admin_client, fleet, django_capture_on_commit_callbacks):
    f = fleet()
    plan = _plan_from(admin_client.post("/plans/copy-access/", {"email": JOSE, "source_email": ZOE}))
    assert plan.title == f"Copy access from {ZOE} to {JOSE}"
    roles = plan.operations.filter(action="user.role", connection__slug="tj1")
    assert {op.params["role"] for op in roles} == {"builder"} and roles.count() == 2
    assert plan.operations.filter(action="group.member_add", params__group_name="App Builders").count() == 2
    html = admin_client.get(f"/plans/{plan.pk}/").content.decode()
    assert "end-user" in html and "builder" in html
    _apply(admin_client, plan, django_capture_on_commit_callbacks)
    tj = f["tj1"][0]
    jose = tj_user(tj)
    assert {m["role"] for m in tj.state.memberships[jose["id"]].values()} == {"builder"}
    groups = {
        tj.state.groups[g]["name"] for m in tj.state.memberships[jose["id"]].values() for g in m["groups"]
    }
    assert "App Builders" in groups and "Support" in groups  # given, never taken away
    rt = f["retool"][0]
    editor = next(g for g in rt.state.groups.values() if g["name"] == "editor")
    assert any(m["id"] == rt_user(rt)["id"] for m in editor["members"])  # Retool's built-in editor group
    assert not plan.operations.filter(params__group_name="All Users").exists()


def test_it_says_why_access_cannot_be_copied_somewhere(admin_client, fleet):
    fleet()
    DirectoryUser.objects.filter(email=JOSE, connection__slug="tj2").delete()
    priya = "priya.raman@example.com"
    plan = _plan_from(admin_client.post("/plans/copy-access/", {"email": JOSE, "source_email": priya}))
    html = admin_client.get(f"/plans/{plan.pk}/").content.decode()
    assert "Not copied" in html and f"TJ2: {JOSE} has no account there" in html
    assert "is not a member of workspace Research Lab" in html


def test_it_refuses_copying_from_oneself(admin_client, fleet, htmx_headers):
    fleet()
    response = admin_client.post(
        "/plans/copy-access/", {"email": JOSE, "source_email": JOSE.upper()}, headers=htmx_headers
    )
    assert response.status_code == 400 and "another person" in response.content.decode()


# -- history and temporary access on the person page ------------------------------------------------------------------


def test_it_shows_a_persons_history_from_plans_and_group_pages(
    admin_client, fleet, django_capture_on_commit_callbacks
):
    f = fleet()
    plan = _plan_from(admin_client.post("/plans/role/", {"email": JOSE, "role": "builder"}))
    _apply(admin_client, plan, django_capture_on_commit_callbacks)
    # a member added from a group page: the audit row's target is the group, the member is in extra.user_id
    sim, connection = f["retool"]
    editor = next(g for g in sim.state.groups.values() if g["name"] == "Support")
    zoe_id = rt_user(sim, ZOE)["id"]
    response = admin_client.post(
        f"/connections/retool/groups/{editor['id']}/members/",
        {"user_id": zoe_id, "reason": "covering support", "ticket": "HD-9"},
    )
    assert response.status_code in (200, 302), response.content.decode()[:500]
    assert AuditEvent.objects.filter(action="group.member_add", extra__user_id=zoe_id).exists()

    html = admin_client.get(f"/people/{JOSE}/").content.decode()
    assert "History" in html and f"#{plan.pk} Change role of {JOSE} to builder" in html
    assert html.count("User role changed") >= 3
    zoe = admin_client.get(f"/people/{ZOE}/").content.decode()
    assert "Group member added" in zoe and "No plan has touched" in zoe
    assert "User role changed" not in zoe


def test_it_lists_temporary_access_and_ends_it_now(admin_client, fleet, django_capture_on_commit_callbacks):
    f = fleet()
    plan = _plan_from(admin_client.post("/plans/role/", {"email": JOSE, "role": "builder"}))
    plan = _apply(admin_client, plan, django_capture_on_commit_callbacks, expires_in_hours=8)
    html = admin_client.get(f"/people/{JOSE}/").content.decode()
    assert "Temporary access" in html and f'action="/plans/{plan.pk}/end/"' in html
    assert "7\xa0hours" in html  # time left

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(f"/plans/{plan.pk}/end/")
    revert = _plan_from(response)
    assert len(callbacks) == 1  # the apply task is queued
    assert (
        revert.reverts_id == plan.pk
        and revert.state == Plan.State.APPROVED
        and revert.author.username == "alice"
    )
    assert plan_apply(plan_id=revert.pk) == Plan.State.DONE
    jose = tj_user(f["tj1"][0])
    assert {m["role"] for m in f["tj1"][0].state.memberships[jose["id"]].values()} == {"end-user"}
    assert "Temporary access" not in admin_client.get(f"/people/{JOSE}/").content.decode()
    # expiry does not revert it a second time
    Plan.objects.filter(pk=plan.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert plans_expire() == []
    again = admin_client.post(f"/plans/{plan.pk}/end/")
    assert again.status_code == 302 and Plan.objects.filter(reverts=plan).count() == 1


def test_it_lets_a_draft_revert_not_block_expiry(admin_client, fleet, django_capture_on_commit_callbacks):
    fleet()
    plan = _plan_from(admin_client.post("/plans/role/", {"email": JOSE, "role": "builder"}))
    plan = _apply(admin_client, plan, django_capture_on_commit_callbacks, expires_in_hours=1)
    admin_client.post(f"/plans/{plan.pk}/revert/")  # a revert draft, never submitted
    Plan.objects.filter(pk=plan.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    applied = plans_expire()
    assert len(applied) == 1 and Plan.objects.get(pk=applied[0]).state == Plan.State.DONE


def test_it_reads_each_person_once_per_instance_at_review(admin_client, fleet):
    f = fleet()
    plan = _plan_from(admin_client.post("/plans/offboard/", {"email": JOSE, "include_groups": "on"}))
    sim = f["retool"][0]
    uid = rt_user(sim)["id"]
    sim.app.requests.clear()
    admin_client.get(f"/plans/{plan.pk}/")
    assert plan.operations.filter(connection__slug="retool").count() == 4  # three groups, then disable
    assert [r for r in sim.app.requests if r[0] == "GET" and r[1].endswith(f"/users/{uid}")] == [
        ("GET", f"/api/v2/users/{uid}")
    ]


def test_it_refuses_end_now_to_an_operator_the_policy_refuses(
    admin_client, helpdesk_client, fleet, django_capture_on_commit_callbacks
):
    fleet()
    plan = _plan_from(admin_client.post("/plans/role/", {"email": ZOE, "role": "admin"}))
    admin_client.get(f"/plans/{plan.pk}/")
    with django_capture_on_commit_callbacks(execute=False):
        admin_client.post(f"/plans/{plan.pk}/submit/", {**REASON, "expires_in_hours": 2})
    Plan.objects.filter(pk=plan.pk).update(state=Plan.State.APPROVED)  # as if a second admin approved it
    assert plan_apply(plan_id=plan.pk) == Plan.State.DONE
    response = helpdesk_client.post(f"/plans/{plan.pk}/end/")
    assert response.status_code == 302 and response["Location"] == f"/plans/{plan.pk}/"
    assert not Plan.objects.filter(reverts=plan).exists()  # Zoë is admin now: protected from helpdesk
    assert "holds admin upstream" in helpdesk_client.get(response["Location"]).content.decode()
