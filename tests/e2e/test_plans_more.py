"""More change plans in the browser: a CSV plan whose bad row is reported and which changes nothing until confirmed;
a time-boxed admin grant that the scheduler reverts by itself; the revert of an offboarding."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import Page, expect

from apps.providers import get_provider_class
from apps.providers.base import ConnectionConfig
from apps.simulators import DEFAULT_TOKENS

from .conftest import BASE_DIR, TIMEOUT_MS, _new_page, login
from .test_plans import _new_person_on_staging

SECOND_ADMIN = {"username": "e2e-approver", "password": "e2e-approver-password-1", "role": "admin"}


def _role(console, uid: str) -> set[str]:
    sim = console.fleet["tj-stage"]
    return {m["role"] for m in sim.state.memberships[uid].values()}


def _plan_id(page: Page) -> int:
    return int(re.search(r"/plans/(\d+)/", page.url).group(1))


def test_it_reports_a_bad_csv_row_and_applies_nothing_until_confirmed(page: Page, console):
    email, uid = _new_person_on_staging(console)
    body = (
        "email,instance,workspace,action,role,status,group,key,value\n"
        f"{email},tj-stage,,role,builder,,,,\n"
        f"{email},tj-nowhere,,offboard,,,,,\n"
    )
    page.goto("/plans/csv/")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "changes.csv", "mimeType": "text/csv", "buffer": body.encode()}]
    )
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_url(re.compile(r"/plans/\d+/$"))
    summary = page.locator(".csv-summary")
    expect(summary).to_contain_text("2 rows")
    expect(summary).to_contain_text("1 to change, 0 already so, 1 with errors")
    with page.expect_download() as download:
        summary.get_by_role("link", name="Download the error report").click()
    report = Path(download.value.path()).read_text(encoding="utf-8")
    assert "3," in report and "No connection 'tj-nowhere'" in report
    assert _role(console, uid) == {"end-user"}  # reviewed, not applied

    page.get_by_label("Reason").fill("Promote to builder")
    page.get_by_role("button", name=re.compile(r"^Apply 1 change")).click()
    expect(page.locator("#plan-status").get_by_role("heading", name="Done")).to_be_visible()
    assert _role(console, uid) == {"builder"}


def _manage(console, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=console.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_it_reverts_a_time_boxed_admin_grant_by_itself(page: Page, browser, console):
    email, uid = _new_person_on_staging(console)
    console.seed({"operators": [SECOND_ADMIN]})
    page.goto(f"/people/{email}/")
    page.get_by_label("Role").select_option("admin")
    page.get_by_role("button", name="Change role everywhere").click()
    page.wait_for_url(re.compile(r"/plans/\d+/$"))
    plan_id = _plan_id(page)
    page.get_by_label("Reason").fill("On call this week")
    page.get_by_label(re.compile("Time-boxed")).fill("1")
    page.get_by_role("button", name=re.compile(r"^Request approval")).click()
    expect(page.locator("#plan-status")).to_contain_text("Granting admin needs a second approver")

    approver = _new_page(browser, console, logged_in=False)
    try:
        approver.goto(f"/login/?next=/plans/{plan_id}/")
        login(approver, SECOND_ADMIN["username"], SECOND_ADMIN["password"])
        approver.wait_for_url(re.compile(rf"/plans/{plan_id}/$"))
        approver.get_by_role("button", name="Approve and apply").click()
        expect(approver.locator("#plan-status").get_by_role("heading", name="Done")).to_be_visible()
    finally:
        approver.context.close()
    assert _role(console, uid) == {"admin"}
    page.goto(f"/people/{email}/")
    expect(page.get_by_role("heading", name="Temporary access")).to_be_visible()

    # the hour passes (moved on in the database), then the real scheduler and worker end the access
    _manage(
        console,
        "shell",
        "-c",
        "from django.utils import timezone; from apps.plans.models import Plan; "
        f"Plan.objects.filter(pk={plan_id}).update(expires_at=timezone.now())",
    )
    scheduler = subprocess.Popen(
        [sys.executable, "manage.py", "scheduler", "--tick", "0.2"],
        cwd=BASE_DIR,
        env=console.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 3 * TIMEOUT_MS / 1000
        reverted = page.get_by_text(re.compile(r"Reverted by plan #\d+ \(done\)"))
        while True:  # poll the plan page until the revert is done, within the deadline
            page.goto(f"/plans/{plan_id}/")
            if reverted.count():
                break
            assert time.monotonic() < deadline, (
                "the time-boxed grant was not reverted in time\n" + console.log_tail()
            )
            page.wait_for_timeout(250)
    finally:
        scheduler.terminate()
        scheduler.wait(timeout=15)
    assert _role(console, uid) == {"end-user"}
    reverted.get_by_role("link").click()
    expect(page.locator("#plan-status")).to_contain_text("time-boxed access ended")
    expect(page.locator("p.muted").first).to_contain_text("system (for e2e-admin)")
    page.goto(f"/people/{email}/")
    expect(page.get_by_role("heading", name="Temporary access")).to_have_count(0)


def _activate(console, uid: str) -> None:
    """The new person signs up (their account becomes active), as a reverted offboarding needs."""
    sim = console.fleet["tj-stage"]
    config = ConnectionConfig(kind="tooljet", base_url=sim.url, token=DEFAULT_TOKENS["tooljet"])
    with get_provider_class("tooljet")(config) as provider:
        provider.set_user_status(uid, "active")
    _manage(console, "sync_directory", "--connection", "tj-stage")


def test_it_reverts_an_offboarding(page: Page, console):
    email, uid = _new_person_on_staging(console)
    _activate(console, uid)
    page.goto(f"/people/{email}/")
    page.get_by_role("button", name="Offboard everywhere").click()
    page.wait_for_url(re.compile(r"/plans/\d+/$"))
    page.get_by_label("Reason").fill("Left the company")
    page.get_by_role("button", name=re.compile(r"^Apply \d+ change")).click()
    expect(page.locator("#plan-status").get_by_role("heading", name="Done")).to_be_visible()
    sim = console.fleet["tj-stage"]
    assert sim.state.users[uid]["status"] == "archived"

    page.get_by_role("button", name="Revert").click()
    page.wait_for_url(re.compile(r"/plans/\d+/$"))
    expect(page.get_by_role("heading", name="Review")).to_be_visible()
    expect(page.locator("table.plan-operations")).to_contain_text("will apply")
    page.get_by_label("Reason").fill("Came back: wrong person offboarded")
    page.get_by_role("button", name=re.compile(r"^Apply \d+ change")).click()
    expect(page.locator("#plan-status").get_by_role("heading", name="Done")).to_be_visible()
    assert sim.state.users[uid]["status"] == "active"
    assert {m["status"] for m in sim.state.memberships[uid].values()} == {"active"}


def test_it_plans_a_change_for_people_selected_in_the_search_results(page: Page, console):
    first, _ = _new_person_on_staging(console)
    second, _ = _new_person_on_staging(console)
    prefix = first.rsplit("-", 1)[0]  # leaver-<pid>: both, and earlier leavers of this worker
    page.goto("/")
    page.get_by_role("searchbox", name="Name or e-mail").fill(prefix)
    page.wait_for_url(re.compile(r"/\?q="))
    results = page.locator("#results")
    expect(results).to_contain_text(first)
    expect(results).to_contain_text(second)
    page.get_by_label(f"Select {first}").check()
    page.get_by_label(f"Select {second}").check()
    # the selection's own fields do not re-run the search (the ticked boxes stay)
    page.locator("#selection-form").locator("select[name=action]").select_option("role")
    page.locator("#selection-form").locator("select[name=role]").select_option("builder")
    expect(page.get_by_label(f"Select {first}")).to_be_checked()
    page.get_by_role("button", name="Plan a change for the selected").click()
    page.wait_for_url(re.compile(r"/plans/\d+/$"))
    expect(page.get_by_role("heading", name="Role builder for 2 selected people")).to_be_visible()
    operations = page.locator("table.plan-operations")
    expect(operations).to_contain_text(first)
    expect(operations).to_contain_text(second)
    expect(operations).to_contain_text(re.compile(r"end-user in .+ → builder in "))
    # the search still answers as you type
    page.goto("/")
    page.get_by_role("searchbox", name="Name or e-mail").fill(second)
    expect(results.get_by_role("checkbox")).to_have_count(1)
