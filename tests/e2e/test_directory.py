"""Directory flows in the browser: search as you type with history, a person across instances, a role change
with a reason (success message + audit event), metadata edits. Each test changes a different person."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def _results(page: Page):
    return page.locator("#results")


def _workspace(page: Page, name: str):
    return page.locator("article.workspace").filter(
        has=page.get_by_role("heading", name=re.compile(f"^{name}"))
    )


def test_it_searches_as_you_type_and_the_back_button_restores_results(page, shot):
    page.goto("/")
    box = page.get_by_role("searchbox", name="Name or e-mail")
    box.press_sequentially("priya", delay=20)
    page.wait_for_url(re.compile(r"/\?q=priya"))
    expect(_results(page).get_by_role("link", name="Priya Raman")).to_be_visible()
    expect(_results(page).get_by_role("link", name=re.compile("TJ Production"))).not_to_have_count(0)
    shot(page, "search")

    box.fill("obrien")  # replaces the text: one input event
    page.wait_for_url(re.compile(r"/\?q=obrien"))
    expect(_results(page).get_by_role("link", name="Zoë O'Brien")).to_be_visible()
    expect(_results(page).get_by_role("link", name="Priya Raman")).to_have_count(0)

    page.go_back()
    page.wait_for_url(re.compile(r"/\?q=priya"))
    expect(_results(page).get_by_role("link", name="Priya Raman")).to_be_visible()
    expect(box).to_have_value("priya")  # the box agrees with the results it shows
    expect(_results(page).get_by_role("link", name="Zoë O'Brien")).to_have_count(0)
    page.go_forward()
    page.wait_for_url(re.compile(r"/\?q=obrien"))
    expect(_results(page).get_by_role("link", name="Zoë O'Brien")).to_be_visible()

    # A pushed URL is a full page on its own (reload, bookmark, new tab).
    page.reload()
    expect(page.get_by_role("heading", name="Search people")).to_be_visible()
    expect(_results(page).get_by_role("link", name="Zoë O'Brien")).to_be_visible()
    expect(box).to_have_value("obrien")

    box.fill("no-such-person-anywhere")
    expect(_results(page)).to_contain_text("Nobody matches")


def test_it_opens_a_person_on_every_instance(page, shot):
    page.goto("/?q=priya.raman")
    _results(page).get_by_role("link", name="Priya Raman").click()
    page.wait_for_url(re.compile(r"/people/priya\.raman@example\.com/$"))
    expect(page.get_by_role("heading", name="Priya Raman")).to_be_visible()
    table = page.locator("table")
    for instance in ("TJ Production", "TJ Staging", "Retool Cloud"):
        expect(table.get_by_role("link", name=instance)).to_be_visible()
    shot(page, "person")
    table.get_by_role("link", name="TJ Staging").click()
    page.wait_for_url(re.compile(r"/connections/tj-stage/users/[^/]+/$"))
    expect(page.get_by_role("heading", name="Priya Raman")).to_be_visible()
    expect(page.locator(".prod-banner")).to_have_count(0)  # staging: no production banner


def test_it_changes_a_role_with_a_reason_and_records_the_audit_event(page, shot):
    page.goto("/people/jose.alvarez@example.com/")
    page.locator("table").get_by_role("link", name="TJ Production").click()
    page.wait_for_url(re.compile(r"/connections/tj-prod/users/[^/]+/$"))
    expect(page.locator(".prod-banner")).to_contain_text("Production")
    workspace = _workspace(page, "Acme Production")
    expect(workspace.get_by_role("heading").first).to_contain_text("end-user")
    form = workspace.locator("form").filter(has=page.get_by_role("button", name="Change role"))
    form.get_by_label("Role in Acme Production").select_option("builder")
    form.get_by_label("Reason").fill("Promoted to app builder (e2e)")
    form.get_by_label("Ticket").fill("OPS-1234")
    form.get_by_role("button", name="Change role").click()  # hx-confirm accepted by the fixture

    expect(page.locator("#messages .alert-success")).to_be_visible()
    expect(_workspace(page, "Acme Production").get_by_role("heading").first).to_contain_text("builder")
    shot(page, "user-role-changed")

    page.get_by_role("link", name="History of this user").click()
    page.wait_for_url(re.compile(r"/audit/\?"))
    row = page.locator("#results tbody tr").filter(has_text="Promoted to app builder (e2e)")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("User role changed")
    expect(row).to_contain_text("OPS-1234")
    expect(row).to_contain_text("e2e-admin")
    row.get_by_role("link", name="User role changed").click()
    page.wait_for_url(re.compile(r"/audit/\d+/$"))
    expect(page.locator("main")).to_contain_text("builder")
    shot(page, "audit-event")


def test_it_refuses_a_role_change_without_a_reason(page):
    page.goto("/people/jose.dlamini.12@example.com/")
    page.locator("table").get_by_role("link", name="TJ Production").click()
    form = (
        _workspace(page, "Acme Production")
        .locator("form")
        .filter(has=page.get_by_role("button", name="Change role"))
    )
    form.get_by_label("Role in Acme Production").select_option("builder")
    form.get_by_role("button", name="Change role").click()
    # Either the browser's own `required` check or the server's answer keeps the role as it was.
    expect(_workspace(page, "Acme Production").get_by_role("heading").first).to_contain_text("end-user")
    expect(page.locator("#messages .alert-success")).to_have_count(0)


def test_it_edits_metadata(page):
    page.goto("/people/nadia.asante.11@example.com/")
    page.locator("table").get_by_role("link", name="TJ Production").click()
    page.wait_for_url(re.compile(r"/connections/tj-prod/users/[^/]+/$"))
    workspace = _workspace(page, "Acme Production")
    form = workspace.locator("form").filter(has=page.get_by_role("button", name="Save metadata"))
    form.get_by_label("New key").fill("cost_center")
    form.get_by_label("New value").fill("CC-42")
    form.get_by_label("Reason").fill("Finance re-org (e2e)")
    form.get_by_role("button", name="Save metadata").click()

    expect(page.locator("#messages .alert-success")).to_be_visible()
    form = (
        _workspace(page, "Acme Production")
        .locator("form")
        .filter(has=page.get_by_role("button", name="Save metadata"))
    )
    expect(form.locator("input[name=key][value=cost_center]")).to_have_count(1)
    expect(form.locator("input[name=value][value=CC-42]")).to_have_count(1)
    # Fresh from upstream after a reload, not only in the swapped fragment.
    page.reload()
    expect(_workspace(page, "Acme Production").locator("input[name=value][value=CC-42]")).to_have_count(1)


def test_a_change_in_a_later_workspace_is_confirmed_from_to_and_announced_where_it_happened(page):
    page.goto("/people/jose.alvarez@example.com/")
    page.locator("table").get_by_role("link", name="TJ Staging").click()
    page.wait_for_url(re.compile(r"/connections/tj-stage/users/[^/]+/$"))
    page.set_viewport_size({"width": 1280, "height": 700})
    workspace = _workspace(page, "Acme Staging")
    form = workspace.locator("form").filter(has=page.get_by_role("button", name="Change role"))
    select = form.get_by_label("Role in Acme Staging")
    current = select.input_value()
    target = "builder" if current != "builder" else "end-user"
    select.select_option(target)
    form.get_by_label("Reason").fill("Moves to staging duty (e2e)")
    questions: list[str] = []
    page.on("dialog", lambda dialog: questions.append(dialog.message))
    form.get_by_role("button", name="Change role").click()

    notice = _workspace(page, "Acme Staging").get_by_test_id("workspace-notice")
    expect(notice).to_have_text(f"Role changed to {target} in Acme Staging.")
    expect(notice).to_be_in_viewport()
    assert questions and f"in Acme Staging from {current} to " in questions[0]
    assert questions[0].rstrip("?").endswith(target) or target.replace("-", " ") in questions[0].lower()
