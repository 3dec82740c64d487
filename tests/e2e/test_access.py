"""Access in the browser: grant a Retool group use on a folder, see an app in it list the group as inherited,
revoke the grant."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect


def _seed(console) -> tuple[dict, dict, dict]:
    """A group with no universal app access, a folder under the app root and an app inside it, of this test only."""
    state = console.fleet["retool"].state
    group = state.add_group(console.unique("Access review"))
    root = next(
        f for f in state.folders.values() if f["folder_type"] == "app" and f["parent_folder_id"] is None
    )
    folder = state.add_folder(console.unique("Audited tools"), "app", root["id"])
    template = next(iter(state.apps.values()))
    app = {
        **template,
        "id": str(uuid.uuid4()),
        "name": console.unique("Ledger viewer"),
        "folder_id": folder["id"],
    }
    state.apps[app["id"]] = app
    return group, folder, app


def test_it_grants_a_folder_sees_it_inherited_and_revokes_it(page, console, shot):
    group, folder, app = _seed(console)
    page.goto("/connections/retool/groups/")
    page.get_by_role("link", name=group["name"], exact=True).click()
    page.wait_for_url(re.compile(rf"/connections/retool/groups/{group['id']}/"))
    panel = page.locator("#access-panel")
    expect(panel.locator(f'tr[data-object="app:{app["id"]}"]')).to_contain_text("none")

    form = page.locator("#access-grant-form")
    form.get_by_label("Folder or app").select_option(f"folder:{folder['id']}")
    form.get_by_label("Level").select_option("use")
    form.get_by_label("Reason").fill("Quarterly access review (e2e)")
    form.get_by_role("button", name="Grant").click()
    expect(page.locator("#messages .alert-success")).to_contain_text(f"now has use on {folder['name']}")
    folder_row = page.locator(f'#access-panel tr[data-object="folder:{folder["id"]}"]')
    expect(folder_row).to_contain_text("direct")
    expect(page.locator(f'#access-panel tr[data-object="app:{app["id"]}"]')).to_contain_text(
        "inherited from folder"
    )
    shot(page, "group-access")

    page.goto(f"/connections/retool/apps/{app['id']}/")
    who = page.locator(f'#who-can-use tr[data-subject="group:{group["id"]}"]')
    expect(who).to_contain_text(group["name"])
    expect(who).to_contain_text(f"inherited from folder {folder['name']}")
    who.get_by_role("link", name=group["name"]).click()
    page.wait_for_url(re.compile(rf"/connections/retool/groups/{group['id']}/"))

    folder_row = page.locator(f'#access-panel tr[data-object="folder:{folder["id"]}"]')
    folder_row.get_by_text("Revoke…").click()
    folder_row.get_by_label("Reason").fill("No longer needed (e2e)")
    page.once("dialog", lambda dialog: dialog.accept())
    folder_row.get_by_role("button", name="Revoke use").click()
    expect(page.locator("#messages .alert-success")).to_contain_text("revoked")
    expect(page.locator(f'#access-panel tr[data-object="folder:{folder["id"]}"]')).not_to_contain_text(
        "direct"
    )
    expect(page.locator(f'#access-panel tr[data-object="app:{app["id"]}"]')).to_contain_text("none")

    page.goto(f"/connections/retool/apps/{app['id']}/")
    expect(page.locator("#who-can-use")).to_be_visible()
    expect(page.locator(f'#who-can-use tr[data-subject="group:{group["id"]}"]')).to_have_count(0)
