"""A change plan in the browser: a person who is on one staging instance is offboarded from the person page with
one reason, and the plan runs to done on the task worker — in at most five clicks after the search."""

from __future__ import annotations

import re
import subprocess
import sys

from playwright.sync_api import Page, expect

from apps.providers import get_provider_class
from apps.providers.base import ConnectionConfig, WorkspaceAssignment
from apps.simulators import DEFAULT_TOKENS

from .conftest import BASE_DIR


def _new_person_on_staging(console) -> tuple[str, str]:
    """Create someone only on TJ Staging (through its API) and index that instance."""
    sim = console.fleet["tj-stage"]
    local = console.unique("leaver").replace("_", "-")
    email = f"{local}@example.com"
    provider = get_provider_class("tooljet")(
        ConnectionConfig(kind="tooljet", base_url=sim.url, token=DEFAULT_TOKENS["tooljet"])
    )
    with provider:
        workspace = next(w for w in provider.list_workspaces() if w.status in (None, "active"))
        created = provider.create_user(
            email=email,
            first_name="Lee",
            last_name="Vance",
            workspaces=[WorkspaceAssignment(workspace_id=workspace.id, role="end-user", status="active")],
        )
    done = subprocess.run(
        [sys.executable, "manage.py", "sync_directory", "--connection", "tj-stage"],
        cwd=BASE_DIR,
        env=console.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return email, created.id


def test_it_offboards_a_person_everywhere_in_five_clicks(page: Page, console, shot):
    email, uid = _new_person_on_staging(console)
    page.goto("/")
    page.get_by_role("searchbox", name="Name or e-mail").fill(email)
    page.wait_for_url(re.compile(r"/\?q="))
    clicks = 0

    page.locator("#results").get_by_role("link", name="Lee Vance").first.click()
    clicks += 1
    page.wait_for_url(re.compile(r"/people/"))
    page.get_by_role("button", name="Offboard everywhere").click()
    clicks += 1
    page.wait_for_url(re.compile(r"/plans/\d+/$"))
    expect(page.get_by_role("heading", name="Review")).to_be_visible()
    expect(page.locator("table.plan-operations")).to_contain_text("TJ Staging")
    expect(page.locator("table.plan-operations")).to_contain_text("will apply")
    shot(page, "plan-review")

    page.get_by_label("Reason").fill("Left the company")
    page.get_by_role("button", name=re.compile(r"^Apply \d+ change")).click()
    clicks += 1
    status = page.locator("#plan-status")
    expect(status.get_by_role("heading", name="Done")).to_be_visible()
    expect(status).to_contain_text("Left the company")
    expect(status.locator("table.plan-operations")).to_contain_text("Done")
    assert clicks <= 5

    sim = console.fleet["tj-stage"]
    assert sim.state.users[uid]["status"] == "archived"
