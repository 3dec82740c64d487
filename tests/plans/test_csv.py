"""Plans from a CSV file over real HTTP against the simulators: the template, row-by-row validation, the summary
on the review, the error report, and nothing applied before the review is confirmed."""

from __future__ import annotations

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.audit.models import AuditEvent
from apps.plans import csvplan
from apps.plans.models import Plan
from apps.plans.services import plan_apply

from .conftest import JOSE, rt_user, tj_user

ZOE = "zoe.obrien@example.com"
PRIYA = "priya.raman@example.com"
HEADER = "email,instance,workspace,action,role,status,group,key,value\n"


def _upload(client, body: str, name: str = "changes.csv"):
    return client.post("/plans/csv/", {"file": SimpleUploadedFile(name, body.encode(), "text/csv")})


def _plan(response) -> Plan:
    assert response.status_code == 302, response.content.decode()[:3000]
    return Plan.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def test_it_downloads_the_template(admin_client):
    response = admin_client.get("/plans/csv/template.csv")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert tuple(rows[0]) == csvplan.COLUMNS and len(rows) > 3
    page = admin_client.get("/plans/csv/").content.decode()
    assert 'href="/plans/csv/template.csv"' in page and 'enctype="multipart/form-data"' in page


def test_it_validates_row_by_row_and_applies_only_when_confirmed(
    admin_client, fleet, django_capture_on_commit_callbacks
):
    f = fleet()
    body = HEADER + "\n".join(
        [
            f"{JOSE},tj1,Acme Production,role,builder,,,,",  # 2: to change
            f"{JOSE},tj1,Acme Staging,role,end-user,,,,",  # 3: already so
            f"{ZOE},retool,,group_add,,,Support,,",  # 4: to change
            f"{ZOE},nowhere,,offboard,,,,,",  # 5: unknown connection
            "nobody@example.com,tj1,,offboard,,,,,",  # 6: unknown person
            f"{ZOE},tj1,,group_add,,,Ghosts,,",  # 7: unknown group
            f"{JOSE},tj2,,frobnicate,,,,,",  # 8: unknown action
            f"{JOSE},retool,,metadata,,,,team,blue",  # 9: Retool has no such user attribute
            "",
            f"{JOSE},tj2,Acme Staging,metadata,,,,team,blue",  # 11: to change
            f"{ZOE},retool,,metadata,,,,department,Support",  # 12: to change (a Retool user attribute)
        ]
    )
    before = len(AuditEvent.objects.all())
    plan = _plan(_upload(admin_client, body))
    assert plan.state == Plan.State.DRAFT and plan.source == Plan.Source.CSV
    errors = {e[0]: e[4] for e in plan.source_report["errors"]}
    assert set(errors) == {5, 6, 7, 8, 9}, errors
    assert "No connection 'nowhere'" in errors[5] and "nobody@example.com is not on TJ1" in errors[6]
    assert "No group named 'Ghosts'" in errors[7] and "Unknown action 'frobnicate'" in errors[8]
    assert "RETOOL has no user attribute 'team'" in errors[9]

    html = admin_client.get(f"/plans/{plan.pk}/").content.decode()
    assert "From <strong>changes.csv</strong>: 10 rows" in html
    assert "<strong>4</strong> to change, <strong>1</strong> already so" in html, html[
        html.find("From <strong>") :
    ][:400]
    assert f'href="/plans/{plan.pk}/errors.csv"' in html
    report = admin_client.get(f"/plans/{plan.pk}/errors.csv")
    assert report["Content-Disposition"].startswith("attachment")
    lines = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert lines[0] == ["line", "email", "instance", "action", "error"] and [r[0] for r in lines[1:]] == [
        "5",
        "6",
        "7",
        "8",
        "9",
    ]
    # nothing was sent: no upstream change, no audit row for a change
    jose = tj_user(f["tj1"][0])
    assert {m["role"] for m in f["tj1"][0].state.memberships[jose["id"]].values()} == {"end-user"}
    assert len(AuditEvent.objects.all()) == before

    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(f"/plans/{plan.pk}/submit/", {"reason": "bulk change", "ticket": "HD-5"})
    assert response.status_code == 302
    assert plan_apply(plan_id=plan.pk) == Plan.State.DONE
    assert "builder" in {m["role"] for m in f["tj1"][0].state.memberships[jose["id"]].values()}
    sim = f["retool"][0]
    support = next(g for g in sim.state.groups.values() if g["name"] == "Support")
    assert any(m["id"] == rt_user(sim, ZOE)["id"] for m in support["members"])
    assert rt_user(sim, ZOE)["metadata"]["department"] == "Support"


def test_it_reports_a_policy_refusal_per_row(helpdesk_client, fleet):
    fleet()
    body = (
        HEADER + f"{PRIYA},tj1,,offboard,,,,,\n{JOSE},tj1,,role,admin,,,,\n{JOSE},tj1,,status,,archived,,,\n"
    )
    plan = _plan(_upload(helpdesk_client, body))
    errors = {e[0]: e[4] for e in plan.source_report["errors"]}
    assert "holds admin upstream" in errors[2] and "Only admin operators can grant admin" in errors[3]
    assert plan.operations.count() == 1 and plan.operations.get().source_line == 4


def test_it_refuses_unreadable_files(admin_client, fleet):
    fleet()
    response = _upload(admin_client, "who,where\nx,y\n")
    assert response.status_code == 200 and "Missing: email, instance, action" in response.content.decode()
    response = admin_client.post(
        "/plans/csv/", {"file": SimpleUploadedFile("x.csv", HEADER.encode() + b"\xff\xfe,\n", "text/csv")}
    )
    assert "not UTF-8" in response.content.decode()
    assert "no rows" in _upload(admin_client, HEADER).content.decode()
    assert not Plan.objects.exists()


def test_it_caps_the_rows_and_the_size(admin_client, fleet, monkeypatch):
    fleet()
    monkeypatch.setattr(csvplan, "MAX_ROWS", 3)
    body = HEADER + f"{JOSE},tj1,,offboard,,,,,\n" * 4
    assert "more than 3 rows" in _upload(admin_client, body).content.decode()
    monkeypatch.setattr(csvplan, "MAX_BYTES", 100)
    assert "the limit is 100" in _upload(admin_client, body).content.decode()
    assert not Plan.objects.exists()


def test_it_refuses_viewers(viewer_client):
    assert viewer_client.get("/plans/csv/").status_code == 403


def test_it_refuses_a_row_the_instance_cannot_do(admin_client, fleet):
    f = fleet()
    connection = f["tj2"][1]
    caps = dict(connection.capabilities)
    caps["supports_role_change"] = False
    caps["reasons"] = {**caps.get("reasons", {}), "supports_role_change": "This plan cannot change roles."}
    connection.capabilities = caps
    connection.save(update_fields=["capabilities"])
    plan = _plan(
        _upload(admin_client, HEADER + f"{JOSE},tj2,,role,builder,,,,\n{JOSE},tj1,,role,builder,,,,\n")
    )
    assert plan.source_report["errors"] == [
        [2, JOSE, "tj2", "role", "Not possible on TJ2: This plan cannot change roles."]
    ]
    assert {op.connection.slug for op in plan.operations.all()} == {"tj1"}
