"""Change plans end to end over real HTTP against the simulators: build from the person page, review live, submit,
approve, apply (the task body), conflicts, revert and time-boxed expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import audit_verify
from apps.plans.models import Operation, Plan
from apps.plans.services import plan_apply, plans_expire

from .conftest import JOSE, rt_user, tj_user

REASON = {"reason": "José left the company", "ticket": "HD-1234"}


def _build(client, what: str = "offboard", **data) -> Plan:
    response = client.post(f"/plans/{what}/", {"email": JOSE, "include_groups": "on", **data})
    assert response.status_code == 302, response.content.decode()[:500]
    return Plan.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def _review(client, plan: Plan) -> str:
    response = client.get(f"/plans/{plan.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _submit(client, plan: Plan, **extra) -> Plan:
    response = client.post(f"/plans/{plan.pk}/submit/", {**REASON, **extra})
    assert response.status_code == 302, response.content.decode()[:2000]
    plan.refresh_from_db()
    return plan


def _groups(sim, uid: str) -> set:
    return {g for m in sim.state.memberships[uid].values() for g in m["groups"]}


def _second_admin(django_user_model):
    bob = django_user_model.objects.create_user(username="bob", password="x" * 20)
    bob.groups.add(Group.objects.get(name="admin"))
    client = Client()
    client.force_login(bob)
    return bob, client


def test_it_offboards_a_person_across_three_instances(
    admin_client, fleet, django_capture_on_commit_callbacks
):
    f = fleet()
    plan = _build(admin_client)
    html = _review(admin_client, plan)
    assert "TJ1" in html and "TJ2" in html and "RETOOL" in html
    assert "will apply" in html and "<strong>TJ1</strong>: 2 changes" in html  # Support group, then archive
    ops = list(plan.operations.all())
    assert {op.connection.slug for op in ops} == {"tj1", "tj2", "retool"}
    assert all(op.planned and "error" not in op.planned for op in ops)

    with django_capture_on_commit_callbacks(execute=True):
        plan = _submit(admin_client, plan)
    assert plan.state == Plan.State.APPROVED and plan.reason == REASON["reason"] and plan.ticket == "HD-1234"
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(task_path="apps.plans.tasks.plan_apply_task").exists()

    assert plan_apply(plan_id=plan.pk) == Plan.State.DONE
    for key in ("tj1", "tj2"):
        sim, _ = f[key]
        jose = tj_user(sim)
        assert jose["status"] == "archived"
        assert not _groups(sim, jose["id"])  # out of Support
    sim, _ = f["retool"]
    assert rt_user(sim)["active"] is False
    assert not any(
        m["id"] == rt_user(sim)["id"]
        for g in sim.state.groups.values()
        if g["name"] == "Support"
        for m in g["members"]
    )
    plan_row = AuditEvent.objects.get(action="plan.apply")
    assert plan_row.reason == REASON["reason"] and plan_row.ticket == "HD-1234"
    assert plan_row.extra["requested_by"] == "alice" and plan_row.extra["plan_id"] == plan.pk
    op_rows = AuditEvent.objects.filter(action__in=["user.status", "group.member_remove"])
    assert op_rows.count() == plan.operations.filter(state="success").count() >= 5
    assert all(r.extra["plan_id"] == plan.pk and r.outcome == "success" for r in op_rows)
    assert audit_verify().ok
    page = admin_client.get(f"/plans/{plan.pk}/", headers={"HX-Request": "true"})
    assert page.status_code == 286 and "<html" not in page.content.decode()


def test_it_skips_a_target_changed_since_review(admin_client, fleet):
    f = fleet()
    plan = _build(admin_client, "role", role="builder")
    _review(admin_client, plan)
    sim, _ = f["tj1"]
    jose = tj_user(sim)
    changed_ws = next(iter(sim.state.memberships[jose["id"]]))
    sim.state.memberships[jose["id"]][changed_ws]["role"] = (
        "admin"  # someone else, upstream, after the review
    )
    plan = _submit(admin_client, plan)
    assert plan_apply(plan_id=plan.pk) == Plan.State.DONE
    conflict = plan.operations.get(connection__slug="tj1", params__workspace_id=changed_ws)
    assert conflict.state == Operation.State.SKIPPED and "Changed upstream" in conflict.message
    assert sim.state.memberships[jose["id"]][changed_ws]["role"] == "admin"  # not overwritten
    other = tj_user(f["tj2"][0])
    assert {m["role"] for m in f["tj2"][0].state.memberships[other["id"]].values()} == {"builder"}


def test_it_needs_a_second_admin_on_production(admin_client, operator_admin, fleet, django_user_model):
    f = fleet(environment="production")
    plan = _build(admin_client)
    html = _review(admin_client, plan)
    assert "Needs a second approver" in html and "Offboarding on a production instance" in html
    plan = _submit(admin_client, plan)
    assert plan.state == Plan.State.PENDING_APPROVAL and plan.request_expires_at > timezone.now()

    # a second plan touching the same person is refused at review, naming the first
    second = _build(admin_client, "role", role="builder")
    response = admin_client.post(f"/plans/{second.pk}/submit/", REASON)
    assert response.status_code == 200 and f"Plan #{plan.pk}" in response.content.decode()
    second.refresh_from_db()
    assert second.state == Plan.State.DRAFT

    # the author cannot approve
    response = admin_client.post(f"/plans/{plan.pk}/approve/")
    plan.refresh_from_db()
    assert plan.state == Plan.State.PENDING_APPROVAL and response.status_code == 302
    assert tj_user(f["tj1"][0])["status"] == "active"

    bob, bob_client = _second_admin(django_user_model)
    queue = bob_client.get("/plans/approvals/").content.decode()
    assert f"#{plan.pk}" in queue and "1 to approve" in queue
    assert (
        "to approve" not in admin_client.get("/plans/approvals/").content.decode()
    )  # own plans do not count
    response = bob_client.post(f"/plans/{plan.pk}/approve/")
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.state == Plan.State.APPROVED and plan.approved_by == bob
    assert plan_apply(plan_id=plan.pk) == Plan.State.DONE
    assert tj_user(f["tj1"][0])["status"] == "archived"
    assert AuditEvent.objects.get(action="plan.apply").extra["approved_by"] == "bob"
    assert AuditEvent.objects.filter(action="plan.approve", actor=bob).exists()


def test_it_expires_an_unanswered_request(admin_client, fleet, settings):
    settings.ADMINUI_PLAN_APPROVAL_TTL = 60
    fleet(environment="production")
    plan = _build(admin_client)
    _review(admin_client, plan)
    plan = _submit(admin_client, plan)
    plans_expire(now=timezone.now() + timedelta(minutes=2))
    plan.refresh_from_db()
    assert plan.state == Plan.State.EXPIRED


def test_it_reverts_an_offboarding(admin_client, fleet):
    f = fleet()
    plan = _build(admin_client)
    _review(admin_client, plan)
    plan = _submit(admin_client, plan)
    plan_apply(plan_id=plan.pk)
    before_groups = {k: _groups(f[k][0], tj_user(f[k][0])["id"]) for k in ("tj1", "tj2")}
    assert not any(before_groups.values())

    response = admin_client.post(f"/plans/{plan.pk}/revert/")
    assert response.status_code == 302
    revert = Plan.objects.get(reverts=plan)
    assert revert.source == Plan.Source.REVERT and revert.state == Plan.State.DRAFT
    html = _review(admin_client, revert)
    assert "will apply" in html
    revert = _submit(admin_client, revert)
    assert plan_apply(plan_id=revert.pk) == Plan.State.DONE
    for key in ("tj1", "tj2"):
        sim, _ = f[key]
        jose = tj_user(sim)
        assert jose["status"] == "active"
        assert {m["status"] for m in sim.state.memberships[jose["id"]].values()} == {"active"}
        assert _groups(sim, jose["id"])  # back in Support
    assert rt_user(f["retool"][0])["active"] is True


def test_it_reverts_time_boxed_access_when_it_expires(admin_client, operator_admin, fleet):
    f = fleet()
    plan = _build(admin_client, "role", role="builder")
    _review(admin_client, plan)
    plan = _submit(admin_client, plan, expires_in_hours=8)
    assert plan.expires_at is not None
    plan_apply(plan_id=plan.pk)
    sim, _ = f["tj1"]
    jose = tj_user(sim)
    assert {m["role"] for m in sim.state.memberships[jose["id"]].values()} == {"builder"}

    assert plans_expire() == []  # not yet
    applied = plans_expire(now=timezone.now() + timedelta(hours=9))
    assert len(applied) == 1
    revert = Plan.objects.get(pk=applied[0])
    assert (
        revert.source == Plan.Source.EXPIRY
        and revert.author is None
        and revert.on_behalf_of == operator_admin
    )
    assert revert.state == Plan.State.DONE and revert.reason == "time-boxed access ended"
    assert {m["role"] for m in sim.state.memberships[jose["id"]].values()} == {"end-user"}
    row = AuditEvent.objects.filter(action="user.role", extra__plan_id=revert.pk).first()
    assert row is not None and row.actor_username == "system (for alice)"
    assert plans_expire(now=timezone.now() + timedelta(hours=10)) == []  # reverted once


@pytest.mark.parametrize("persona", ["viewer_client", "stranger_client"])
def test_it_refuses_readers(request, fleet, persona):
    fleet()
    client = request.getfixturevalue(persona)
    assert client.post("/plans/offboard/", {"email": JOSE}).status_code == 403
    assert not Plan.objects.exists()


def test_it_hides_another_operators_draft(admin_client, helpdesk_client, fleet):
    fleet()
    plan = _build(admin_client)
    assert helpdesk_client.get(f"/plans/{plan.pk}/").status_code == 404


def test_it_tells_a_lost_answer_from_an_unknown_one_and_retries_only_those(admin_client, fleet):
    f = fleet()
    plan = _build(admin_client, include_groups="")
    plan_html = _review(admin_client, plan)
    assert "Remove from group" not in plan_html and "Status" in plan_html
    tj1, tj2 = f["tj1"][0], f["tj2"][0]
    tj1.faults.add("lost", path="/api/ext/user/", method="PATCH")  # carried out, answer never arrives
    tj2.faults.add(
        "status", status=504, path="/api/ext/user/", method="PATCH"
    )  # a proxy gave up: not applied
    plan = _submit(admin_client, plan)
    assert plan_apply(plan_id=plan.pk) == Plan.State.PARTLY_FAILED

    lost = plan.operations.get(connection__slug="tj1")
    assert lost.state == Operation.State.SUCCESS and "re-reading shows it was applied" in lost.message
    assert tj_user(tj1)["status"] == "archived"
    unknown = plan.operations.get(connection__slug="tj2")
    assert unknown.state == Operation.State.UNKNOWN and unknown.after["status"] == "active"
    assert AuditEvent.objects.get(pk=unknown.audit_event_id).outcome == "unknown"
    assert plan.operations.get(connection__slug="retool").state == Operation.State.SUCCESS

    response = admin_client.post(f"/plans/{plan.pk}/retry/")
    assert response.status_code == 302
    retry = Plan.objects.get(retry_of=plan)
    assert list(retry.operations.values_list("connection__slug", flat=True)) == ["tj2"]
    _review(admin_client, retry)
    retry = _submit(admin_client, retry)
    assert plan_apply(plan_id=retry.pk) == Plan.State.DONE
    assert tj_user(tj2)["status"] == "archived"


def test_it_refuses_an_approver_the_policy_refuses(admin_client, fleet, django_user_model):
    fleet(environment="production")
    plan = _build(admin_client, include_groups="")
    _review(admin_client, plan)
    plan = _submit(admin_client, plan)
    bob, bob_client = _second_admin(django_user_model)
    bob.scope_environments = ["staging"]  # the plan touches a production connection
    bob.save()
    # a plan on a connection outside the approver's scope does not exist for them
    assert bob_client.get(f"/plans/{plan.pk}/").status_code == 404
    assert bob_client.post(f"/plans/{plan.pk}/approve/").status_code == 404
    plan.refresh_from_db()
    assert plan.state == Plan.State.PENDING_APPROVAL and plan.approved_by is None


def test_it_resumes_a_plan_a_dead_worker_left_applying(admin_client, fleet):
    f = fleet()
    plan = _build(admin_client, include_groups="")
    _review(admin_client, plan)
    plan = _submit(admin_client, plan)
    first = plan.operations.get(connection__slug="tj1")
    # the worker died after sending tj1's change and before writing its outcome
    tj_user(f["tj1"][0])["status"] = "archived"
    Operation.objects.filter(pk=first.pk).update(state=Operation.State.UNKNOWN)
    Plan.objects.filter(pk=plan.pk).update(state=Plan.State.APPLYING)

    assert plan_apply(plan_id=plan.pk) == Plan.State.APPLYING  # a second run of the task does nothing
    assert plan_apply(plan_id=plan.pk, resume=True) == Plan.State.DONE
    first.refresh_from_db()
    assert first.state == Operation.State.SUCCESS and "had been applied" in first.message
    assert first.audit_event_id is None  # nothing was sent again
    assert tj_user(f["tj2"][0])["status"] == "archived"


def test_it_renders_the_review_with_counts_warnings_and_the_session_ticket(admin_client, fleet):
    fleet()
    admin_client.post("/plans/ticket/", {"ticket": "HD-77"})
    plan = _build(admin_client)
    assert plan.ticket == "HD-77"
    html = _review(admin_client, plan)
    assert 'value="HD-77"' in html
    assert "All Users is a built-in group" in html  # Retool's built-in group is skipped, with why
    assert "<strong>RETOOL</strong>" in html
    response = admin_client.post(f"/plans/{plan.pk}/submit/", {"reason": "", "ticket": "HD-77"})
    assert response.status_code == 200 and "Say why" in response.content.decode()
    assert admin_client.get(f"/plans/{plan.pk}/submit/").status_code == 405


def test_helpdesk_cannot_grant_admin_nor_change_a_protected_admin(helpdesk_client, fleet):
    f = fleet()
    plan = _build(helpdesk_client, "role", role="admin")
    html = _review(helpdesk_client, plan)
    assert "Not allowed: Only admin operators can grant admin rights." in html
    response = helpdesk_client.post(f"/plans/{plan.pk}/submit/", REASON)
    assert (
        response.status_code == 200
        and "Only admin operators can grant admin rights" in response.content.decode()
    )

    response = helpdesk_client.post("/plans/offboard/", {"email": "priya.raman@example.com"})
    priya_plan = Plan.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
    html = _review(helpdesk_client, priya_plan)
    assert "holds admin upstream; only admin operators can change it" in html  # a ToolJet workspace admin
    assert "Holds admin upstream (protected account)." in html
    sim, _ = f["tj1"]
    assert tj_user(sim, "priya.raman@example.com")["status"] == "active"


def test_helpdesk_cannot_approve(admin_client, helpdesk_client, fleet):
    fleet(environment="production")
    plan = _build(admin_client, include_groups="")
    _review(admin_client, plan)
    plan = _submit(admin_client, plan)
    response = helpdesk_client.post(f"/plans/{plan.pk}/approve/", follow=True)
    assert "Only admin operators can approve plans" in response.content.decode()
    assert "to approve" not in response.content.decode()  # no count in the top bar for helpdesk
    plan.refresh_from_db()
    assert plan.state == Plan.State.PENDING_APPROVAL


def test_a_plan_a_dead_worker_left_applying_resumes_on_another_worker(
    admin_client, fleet, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    from apps.ops.models import WorkerHeartbeat
    from apps.ops.workers import tasks_reap
    from tests.ops.conftest import run_queued_tasks

    f = fleet()
    plan = _build(admin_client, include_groups="")
    _review(admin_client, plan)
    with django_capture_on_commit_callbacks(execute=True):
        plan = _submit(admin_client, plan)
    # a worker took the apply, sent tj1's change, and died before writing its outcome
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker_id="dead", pid=1, started_at=now - timedelta(hours=1), seen_at=now - timedelta(minutes=5)
    )
    DBTaskResult.objects.get(task_path="apps.plans.tasks.plan_apply_task", status="READY").claim("dead")
    first = plan.operations.get(connection__slug="tj1")
    tj_user(f["tj1"][0])["status"] = "archived"
    Operation.objects.filter(pk=first.pk).update(state=Operation.State.UNKNOWN)
    Plan.objects.filter(pk=plan.pk).update(state=Plan.State.APPLYING)

    tasks_reap()
    assert run_queued_tasks() == 1
    plan.refresh_from_db()
    first.refresh_from_db()
    assert plan.state == Plan.State.DONE
    assert first.state == Operation.State.SUCCESS  # re-read, seen applied, not sent twice
