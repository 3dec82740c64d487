"""Benchmark the JSON depth guard: depth-bomb uploads refused by the console as run in production.

    .venv/bin/python tests/benchmarks/bench_json_guard.py [--rounds 3]

Processes: the console as in production (gunicorn with ``adminui/gunicorn.conf.py``: one gthread worker) on a
throwaway SQLite database, with a ToolJet and a Retool simulator behind two connections. Each round posts, through
the real views, a file of 100,000 nested ``[`` (and one of 40,000 nested ``{"a":``) to the ToolJet import page and
a file of 32,000 nested ``[`` to Retool's "store as bundle" upload, and one ordinary export for comparison. For each
request it measures the wall time and the worker's peak RSS growth (sampled from /proc). Targets: every bomb
refused in < 1 s with < 50 MB growth. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_transfers import (  # noqa: E402 - the path above first
    _children,
    _env,
    _rss_mb,
    _Sampler,
    _spawn_console,
)

MAX_SECONDS = 1.0
MAX_GROWTH_MB = 50
TOKENS = {"tooljet": "tj-bench-token", "retool": "retool-bench-token"}
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _child_simulators() -> None:
    from apps.simulators import start_simulator

    sims = {kind: start_simulator(kind, token=token) for kind, token in TOKENS.items()}
    print(json.dumps({kind: sim.url for kind, sim in sims.items()}), flush=True)
    threading.Event().wait()


def _child_setup(urls: str) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    from apps.connections.models import Connection
    from apps.connections.services import connection_test

    workspaces = {}
    for kind, url in json.loads(urls).items():
        connection = Connection(name=kind, slug=kind, kind=kind, base_url=url, environment="staging")
        connection.set_token(TOKENS[kind])
        connection.save()
        connection_test(actor=None, connection=connection)
        if kind == "tooljet":
            from apps.connections.clients import get_provider

            workspaces[kind] = get_provider(connection).list_workspaces()[0].id
    user, _ = get_user_model().objects.get_or_create(username="bench")
    user.groups.add(Group.objects.get(name="admin"))
    client = Client()
    client.force_login(user)
    print(json.dumps({"session": client.cookies["sessionid"].value, "workspace": workspaces["tooljet"]}))


def _spawn_simulators(env) -> tuple[subprocess.Popen, dict[str, str]]:
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, __file__, "--simulators"], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    line = proc.stdout.readline().strip() if proc.stdout else ""
    if not line:
        proc.kill()
        raise RuntimeError("the simulators did not start")
    return proc, json.loads(line)


def _csrf(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.text)
    if page.status_code != 200 or not match:
        raise RuntimeError(f"GET {path} → {page.status_code}: no form")
    return match.group(1)


def run(rounds: int = 3) -> dict:
    export = json.dumps(
        {
            "tooljet_version": "3.16.0-ee-lts",
            "app": [{"definition": {"appV2": {"name": "Bench", "appVersions": [{"id": "x", "name": "v1"}]}}}],
            "tooljet_database": [],
        }
    ).encode()
    cases = {
        "import, 100,000 × [": ("tooljet", b"[" * 100_000),
        'import, 40,000 × {"a":': ("tooljet", b'{"a":' * 40_000),
        "bundle upload, 32,000 × [": ("retool", b"[" * 32_000),
        "import, an ordinary export": ("tooljet", export),
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    with tempfile.TemporaryDirectory(prefix="adminui-bench-json-") as tmpdir:
        tmp = Path(tmpdir)
        env = _env(tmp)
        sims, urls = _spawn_simulators(env)
        console = None
        try:
            setup = subprocess.run(  # noqa: S603
                [sys.executable, __file__, "--setup", json.dumps(urls)],
                capture_output=True,
                text=True,
                env=env,
                cwd=ROOT,
                check=True,
            )
            info = json.loads(setup.stdout.strip().splitlines()[-1])
            console, port = _spawn_console(env)
            client = httpx.Client(
                base_url=f"http://127.0.0.1:{port}", cookies={"sessionid": info["session"]}, timeout=120
            )
            _csrf(client, "/connections/tooljet/apps/")  # warm the worker (imports, templates, DB)
            (worker,) = _children(console.pid)
            for _ in range(rounds):
                for name, (kind, body) in cases.items():
                    if kind == "tooljet":
                        path = "/connections/tooljet/apps/import/"
                        token = _csrf(client, "/connections/tooljet/apps/")
                        data = {
                            "workspace": info["workspace"],
                            "reason": "bench",
                            "csrfmiddlewaretoken": token,
                        }
                        files = {"file": ("export.json", body, "application/json")}
                    else:
                        path = "/connections/retool/bundles/upload/"
                        token = _csrf(client, "/connections/retool/apps/")
                        data = {"reason": "bench", "csrfmiddlewaretoken": token}
                        files = {"files": ("bomb.json", body, "application/json")}
                    baseline = _rss_mb(worker)
                    sampler = _Sampler(worker)
                    sampler.start()
                    started = time.perf_counter()
                    response = client.post(path, data=data, files=files)
                    seconds = time.perf_counter() - started
                    growth = sampler.stop() - baseline
                    if response.status_code not in (200, 302):
                        raise RuntimeError(f"{name}: HTTP {response.status_code}")
                    page = (
                        client.get(response.headers["location"]) if response.status_code == 302 else response
                    )
                    if ("nested more than" in page.text) != ("ordinary" not in name):
                        raise RuntimeError(f"{name}: not refused as nested too deep, or refused wrongly")
                    results[name].append((seconds, growth))
        finally:
            for proc in (console, sims):
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=10)
    return {
        name: {"seconds": max(s for s, _ in runs), "growth_mb": max(g for _, g in runs)}
        for name, runs in results.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv if argv is not None else [])
    result = run(args.rounds)
    ok = True
    for name, r in result.items():
        bomb = "ordinary" not in name
        passed = not bomb or (r["seconds"] < MAX_SECONDS and r["growth_mb"] < MAX_GROWTH_MB)
        ok = ok and passed
        print(
            f"json guard: {name}: worst of {args.rounds} {r['seconds'] * 1000:.0f} ms, worker RSS growth "
            f"{r['growth_mb']:.1f} MB"
            + (f" (target < {MAX_SECONDS:.0f} s, < {MAX_GROWTH_MB} MB)" if bomb else "")
        )
    print(f"json guard → {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--simulators":
        _child_simulators()
    elif len(sys.argv) > 2 and sys.argv[1] == "--setup":
        _child_setup(sys.argv[2])
    else:
        raise SystemExit(main(sys.argv[1:]))
