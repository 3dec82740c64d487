"""The operator experience, checked in the browser on every main page: htmx links are real links, controls have
labels, live regions exist, the layout fits a tablet, dark mode follows the system, and requests in flight show."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

PAGES = [
    "/",
    "/?q=priya",
    "/people/priya.raman@example.com/",
    "/connections/",
    "/connections/tj-prod/",
    "/connections/tj-prod/users/",
    "/connections/retool/users/",
    "/connections/tj-prod/groups/",
    "/connections/retool/groups/",
    "/groups/drift/?left=tj-prod&right=tj-stage",
    "/apps/",
    "/connections/tj-prod/apps/",
    "/connections/tj-stage/apps/import/",
    "/audit/",
]

PROBLEMS_JS = """
() => {
  const out = [];
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  for (const a of document.querySelectorAll("a[hx-get], a[hx-post]")) {
    const target = a.getAttribute("hx-get") || a.getAttribute("hx-post");
    const href = a.getAttribute("href");
    if (!href || href === "#" ) out.push(`htmx link without a real href: ${a.outerHTML.slice(0, 120)}`);
    else if (a.hasAttribute("hx-get") && new URL(href, location.href).href !== new URL(target, location.href).href)
      out.push(`href and hx-get differ: ${a.outerHTML.slice(0, 160)}`);
  }
  for (const el of document.querySelectorAll("input, select, textarea")) {
    const type = (el.getAttribute("type") || "").toLowerCase();
    if (["hidden", "submit", "button"].includes(type) || !visible(el)) continue;
    const named = (el.labels && el.labels.length) || el.getAttribute("aria-label")
      || el.getAttribute("aria-labelledby") || el.getAttribute("title");
    if (!named) out.push(`control without a label: ${el.outerHTML.slice(0, 140)}`);
  }
  for (const id of ["alerts", "messages", "status", "main"]) {
    if (!document.getElementById(id)) out.push(`#${id} missing`);
  }
  for (const id of ["alerts", "messages", "status"]) {
    const el = document.getElementById(id);
    if (el && !el.getAttribute("aria-live")) out.push(`#${id} is not aria-live`);
  }
  if (!document.body.getAttribute("hx-headers") || !document.body.getAttribute("hx-headers").includes("x-csrftoken"))
    out.push("body lost its CSRF hx-headers");
  return out;
}
"""


NAMES = {"tj-prod": "TJ Production", "retool": "Retool Cloud", "tj-stage": "TJ Staging"}


def _user_detail_url(page: Page, slug: str, email: str) -> str:
    page.goto(f"/people/{email}/")
    return page.locator("table").get_by_role("link", name=NAMES[slug]).get_attribute("href")


def _first_link(page: Page, url: str, selector: str) -> str:
    page.goto(url)
    return page.locator(selector).first.get_attribute("href")


@pytest.fixture
def all_pages(page) -> list[str]:
    return [
        *PAGES,
        _user_detail_url(page, "tj-prod", "zoe.obrien@example.com"),
        _user_detail_url(page, "retool", "zoe.obrien@example.com"),
        _first_link(page, "/connections/tj-prod/groups/", "#results a[href*='/groups/']"),
        _first_link(page, "/audit/", "a[href^='/audit/'][href$='/']:not([href='/audit/'])"),
    ]


def test_it_keeps_the_layout_conventions_on_every_page(page, all_pages):
    problems = {}
    for url in all_pages:
        response = page.goto(url)
        assert response.status == 200, (url, response.status)
        expect(page.locator("header.topbar")).to_be_visible()
        found = page.evaluate(PROBLEMS_JS)
        if found:
            problems[url] = found
    assert not problems, "\n".join(f"{u}:\n  " + "\n  ".join(p) for u, p in problems.items())


@pytest.mark.parametrize("width", [768, 400], ids=["tablet", "phone"])
def test_it_fits_without_sideways_scrolling(page, all_pages, shot, width):
    """On a phone wide tables scroll inside themselves; no page ever scrolls sideways."""
    page.set_viewport_size({"width": width, "height": 1024})
    too_wide = {}
    for url in all_pages:
        page.goto(url)
        scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
        if scroll_width > width:
            too_wide[url] = scroll_width
    assert not too_wide, too_wide
    if width == 768:
        page.goto("/?q=zo")
        shot(page, "search-tablet")


def test_on_a_phone_the_apps_and_audit_tables_read_as_cards(page):
    """At 400 px app names keep a readable width, every action is on screen, and the audit list does not scroll
    sideways inside itself."""
    page.set_viewport_size({"width": 400, "height": 900})
    page.goto("/connections/tj-prod/apps/")
    name = page.locator("table.stack tbody td.long-text a").first
    assert name.bounding_box()["width"] > 100  # not two or three characters a line
    actions = page.locator("table.stack tbody td.nowrap").first
    box = actions.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 400
    page.goto("/audit/")
    table = page.locator("table.stack").first
    assert table.evaluate("t => t.scrollWidth <= t.clientWidth + 1")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 400


def test_it_follows_the_system_dark_mode(page, shot):
    page.emulate_media(color_scheme="light")
    page.goto("/?q=priya")
    light = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    page.emulate_media(color_scheme="dark")
    dark = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert light != dark
    luminance = [int(x) for x in re.findall(r"\d+", dark)[:3]]
    assert sum(luminance) < 3 * 80, dark
    shot(page, "search-dark")


def test_it_shows_requests_in_flight_and_disables_the_button(page, console):
    sim = console.fleet["tj-prod"]
    sim.faults.add(
        kind="latency", path="/api/ext/", ms=1500, times=4
    )  # slow probe: the request stays in flight
    try:
        page.goto("/connections/tj-prod/")
        button = page.get_by_role("button", name="Test connection")
        button.click()
        expect(button).to_be_disabled()
        expect(page.locator("#test-indicator")).to_have_css("opacity", "1")
        expect(page.locator("#global-indicator")).to_have_css("opacity", "1")
        expect(button).to_be_enabled()
        expect(page.locator("#global-indicator")).to_have_css("opacity", "0")
    finally:
        sim.faults.clear()


def test_it_navigates_without_javascript(page, browser, console):
    context = browser.new_context(
        base_url=console.base_url, java_script_enabled=False, storage_state=console.storage_state
    )
    try:
        plain = context.new_page()
        plain.goto("/")
        box = plain.get_by_role("searchbox", name="Name or e-mail")
        box.fill("obrien")
        box.press("Enter")  # a plain GET form: the same URL htmx would push
        plain.wait_for_url(re.compile(r"/\?q=obrien"))
        plain.locator("#results").get_by_role("link", name="Zoë O'Brien").click()
        plain.wait_for_url(re.compile(r"/people/zoe\.obrien@example\.com/$"))
        plain.locator("table").get_by_role("link", name="TJ Production").click()
        plain.wait_for_url(re.compile(r"/connections/tj-prod/users/[^/]+/$"))
        plain.locator("nav.subnav").get_by_role("link", name="Groups").click()
        plain.wait_for_url(re.compile(r"/connections/tj-prod/groups/$"))
        plain.get_by_role("link", name="Audit").click()
        plain.wait_for_url(re.compile(r"/audit/$"))
        expect(plain.get_by_role("heading", name="Audit trail")).to_be_visible()
    finally:
        context.close()
