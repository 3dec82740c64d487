"""End-to-end tests in real headless Chromium (Debian's package, driven by Playwright; no browser downloads).

The console runs as it does in production: gunicorn (gthread) plus the django-tasks-db worker, in subprocesses
with their own SQLite file under a temporary directory, DEBUG off. gunicorn listens on a socket this process
bound first (``fd://``), so requests sent while it boots wait in the backlog — no readiness polling.

Per pytest(-xdist) worker, once: the server, the task worker and a small fleet of simulators on 127.0.0.1
(``console.fleet``), registered, probed and indexed through the console's own services (``tests/e2e/seed.py``).
Tests share that fleet, so each one changes different people, groups and apps.

Playwright's sync API keeps an event loop running in this thread, which Django's ORM refuses to share: the
browser is module-scoped (torn down before a test of another module runs) and these tests never touch the
ORM — they read the database only through the browser.

``ADMINUI_SCREENSHOTS=1`` also saves the main pages into ``docs/screenshots/`` (for the README).
A failing test leaves a screenshot and the page's HTML in ``test-artifacts/``.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import Browser, Page, expect, sync_playwright

from apps.simulators import DEFAULT_TOKENS, RunningSimulator, start_simulator

BASE_DIR = Path(__file__).resolve().parents[2]
ARTIFACTS = BASE_DIR / "test-artifacts"
SCREENSHOT_DIR = BASE_DIR / "docs" / "screenshots"
CHROMIUM = os.environ.get("ADMINUI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Generous but bounded: the suite shares two cores with the rest of `make test -n auto`.
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)

ADMIN = {"username": "e2e-admin", "password": "e2e-admin-password-1", "role": "admin"}

# The shared fleet: name → (kind, profile, environment).
FLEET = {
    "tj-prod": ("TJ Production", "tooljet", "latest", "production"),
    "tj-stage": ("TJ Staging", "tooljet", "latest", "staging"),
    "retool": ("Retool Cloud", "retool", "enterprise", "production"),
}


@dataclass
class Console:
    """The running console: its URL, environment (for `manage.py`-style subprocesses) and the fleet."""

    base_url: str
    env: dict[str, str]
    var_dir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)
    fleet: dict[str, RunningSimulator] = field(default_factory=dict)
    spare: RunningSimulator | None = None
    storage_state: dict | None = None
    _n: itertools.count = field(default_factory=itertools.count)

    def seed(self, spec: dict) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "tests.e2e.seed", json.dumps(spec)],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{os.getpid()}-{next(self._n)}"

    def log_tail(self, lines: int = 60) -> str:
        parts = []
        for name in ("gunicorn.log", "worker.log"):
            path = self.var_dir / name
            if path.exists():
                parts.append(
                    f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
                )
        return "\n".join(parts)


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _server_env(var_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CACHE_URL", "TASKS_BACKEND", "DEBUG", "PYTEST_XDIST_WORKER"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="adminui.settings",
        DEBUG="0",
        ADMINUI_TESTING="1",  # loopback hosts, no HTTPS redirect, static files from the finders
        ADMINUI_VAR_DIR=str(var_dir),
        SECRET_KEY=Fernet.generate_key().decode() * 2,
        ADMINUI_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        CACHE_URL=f"filecache://{var_dir / 'cache'}",  # shared by the web process and the task worker
        ADMINUI_DIRECTORY_SYNC_INTERVAL="0",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="session")
def console(tmp_path_factory) -> Iterator[Console]:
    var_dir = tmp_path_factory.mktemp("e2e-console")
    env = _server_env(var_dir)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        timeout=120,
    )
    sock = _listening_socket()
    port = sock.getsockname()[1]
    console = Console(base_url=f"http://127.0.0.1:{port}", env=env, var_dir=var_dir)
    gunicorn_env = dict(
        env, GUNICORN_BIND=f"fd://{sock.fileno()}", GUNICORN_WORKERS="1", GUNICORN_THREADS="8"
    )
    with open(var_dir / "gunicorn.log", "wb") as log:
        console.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "adminui/gunicorn.conf.py", "adminui.wsgi"],
                cwd=BASE_DIR,
                env=gunicorn_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(sock.fileno(),),
            )
        )
    with open(var_dir / "worker.log", "wb") as log:
        console.processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "db_worker",
                    "--no-reload",
                    "--no-startup-delay",
                    "--interval",
                    "0.2",
                ],
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    sock.close()  # gunicorn has its own copy
    try:
        connections = []
        for slug, (name, kind, profile, environment) in FLEET.items():
            sim = start_simulator(kind, profile=profile)
            console.fleet[slug] = sim
            connections.append(
                {
                    "name": name,
                    "slug": slug,
                    "kind": kind,
                    "base_url": sim.url,
                    "token": DEFAULT_TOKENS[kind],
                    "environment": environment,
                    "sync": True,
                }
            )
        console.spare = start_simulator("tooljet", profile="latest", users=12, seed=7)
        result = console.seed({"operators": [ADMIN], "connections": connections})
        assert all(c["ok"] for c in result["connections"]), result
        yield console
    finally:
        for proc in console.processes:
            proc.terminate()
        for proc in console.processes:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        for sim in [*console.fleet.values(), console.spare]:
            if sim is not None:
                sim.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def login(page: Page, username: str = ADMIN["username"], password: str = ADMIN["password"]) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def _new_page(browser: Browser, console: Console, *, logged_in: bool) -> Page:
    context = browser.new_context(
        base_url=console.base_url,
        viewport={"width": 1280, "height": 860},
        color_scheme="light",
        accept_downloads=True,
        storage_state=console.storage_state if logged_in else None,
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    page.console_problems = problems  # type: ignore[attr-defined]
    return page


# What a browser logs as an error for an answer the test asked for (a 403, 404 or 409 is a status, not a fault
# of the page). Everything else — a CSP violation, an uncaught exception, htmx saying a selector matched
# nothing — fails the test.
EXPECTED_CONSOLE = (
    re.compile(r"^Failed to load resource: the server responded with a status of 4\d\d"),
    re.compile(r"^Response Status Error Code 4\d\d"),
    re.compile(r"^htmx:responseError$"),
)


def _console_problems(request, page: Page) -> list[str]:
    allowed = [re.compile(p) for m in request.node.iter_markers("console_errors") for p in m.args]
    return [
        text
        for text in getattr(page, "console_problems", [])
        if not any(p.search(text) for p in (*EXPECTED_CONSOLE, *allowed))
    ]


def _check_console(request, page: Page) -> None:
    """Fail a test whose pages logged an error to the console (``@pytest.mark.console_errors(regex, …)`` allows
    the ones a test provokes on purpose)."""
    call = getattr(request.node, "rep_call", None)
    if call is None or not call.passed:
        return
    problems = _console_problems(request, page)
    if problems:
        pytest.fail("the browser console logged errors:\n" + "\n".join(problems[:10]), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _save_failure(request, page: Page, console: Console) -> None:
    failed = any(
        getattr(request.node, f"rep_{when}", None) and getattr(request.node, f"rep_{when}").failed
        for when in ("setup", "call")
    )
    if not failed:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
    try:
        page.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=True)
        (ARTIFACTS / f"{stem}.html").write_text(page.content())
    except Exception as exc:  # the page may be gone; the log tail is still useful
        print(f"screenshot failed: {exc}")
    (ARTIFACTS / f"{stem}.log").write_text(f"url: {page.url}\n{console.log_tail()}")


@pytest.fixture
def anon_page(request, browser, console) -> Iterator[Page]:
    """A fresh browser context with no session."""
    page = _new_page(browser, console, logged_in=False)
    yield page
    _save_failure(request, page, console)
    page.context.close()
    _check_console(request, page)


@pytest.fixture
def page(request, browser, console) -> Iterator[Page]:
    """A page logged in as the admin operator (one login per worker, reused as storage state)."""
    if console.storage_state is None:
        first = _new_page(browser, console, logged_in=False)
        first.goto("/login/")
        login(first)
        first.wait_for_url(re.compile(r"/$"))
        console.storage_state = first.context.storage_state()
        first.context.close()
    page = _new_page(browser, console, logged_in=True)
    yield page
    _save_failure(request, page, console)
    page.context.close()
    _check_console(request, page)


@pytest.fixture
def shot():
    """`shot(page, "search")` saves docs/screenshots/search.png when ADMINUI_SCREENSHOTS=1."""

    def take(page: Page, name: str, *, full_page: bool = False) -> None:
        if os.environ.get("ADMINUI_SCREENSHOTS") != "1":
            return
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=full_page, animations="disabled")

    return take


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "console_errors(*patterns): browser console errors this test provokes on purpose (regexes)"
    )
