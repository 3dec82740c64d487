"""Benchmark transfers: a 200 MB ToolJet export downloaded through the console vs directly from the simulator.

    .venv/bin/python tests/benchmarks/bench_transfers.py [--mb 200] [--rounds 2]

Three processes: the ToolJet simulator (one app padded to ``--mb``), the console served by a real WSGI server
(Werkzeug, threaded) on a throwaway SQLite database, and this process as the browser. The console's peak RSS growth
is sampled from /proc while it streams. Targets: growth ≤ 64 MB, throughput ≥ 70 % of the direct download.
Results are appended to docs/benchmarks.md under "Transfers". Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tj-bench-token"
MAX_GROWTH_MB = 64
MIN_RATIO = 0.70


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "ADMINUI_TESTING": "1",
            "ADMINUI_VAR_DIR": str(tmp),
            "DJANGO_SETTINGS_MODULE": "adminui.settings",
            "LOG_LEVEL": "ERROR",
            "AXES_ENABLED": "0",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


# -- child roles -------------------------------------------------------------------------------------------------


def _child_simulator(pad_mb: int) -> None:
    from apps.simulators import start_simulator

    sim = start_simulator("tooljet", token=TOKEN, export_pad_bytes=pad_mb * 1024 * 1024)
    print(sim.url, flush=True)
    threading.Event().wait()


def _child_setup(sim_url: str) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    from apps.connections.models import Connection
    from apps.connections.services import connection_test

    connection = Connection(
        name="bench", slug="bench", kind="tooljet", base_url=sim_url, environment="staging", timeout=60
    )
    connection.set_token(TOKEN)
    connection.save()
    connection_test(actor=None, connection=connection)
    user, _ = get_user_model().objects.get_or_create(username="bench")
    user.groups.add(Group.objects.get(name="admin"))
    client = Client()
    client.force_login(user)
    from apps.connections.provider import get_provider

    provider = get_provider(connection)
    app = next(a for a in provider.iter_apps() if a.name == "Archive Browser")
    print(
        json.dumps(
            {"session": client.cookies["sessionid"].value, "workspace": app.workspace_id, "app": app.id}
        )
    )


def _child_serve(port: int) -> None:
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, get_wsgi_application(), threaded=True)
    print("ready", flush=True)
    server.serve_forever()


# -- measurement -------------------------------------------------------------------------------------------------


def _download(method: str, url: str, *, headers=None, cookies=None, params=None) -> tuple[int, float]:
    import httpx

    size = 0
    start = time.perf_counter()
    with (
        httpx.Client(timeout=httpx.Timeout(120.0, connect=5.0), cookies=cookies) as client,
        client.stream(method, url, headers=headers, params=params) as response,
    ):
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{method} {url} → {response.status_code}: {response.read()[:300]!r}")
        for chunk in response.iter_raw(256 * 1024):
            size += len(chunk)
    return size, time.perf_counter() - start


class _Sampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, _rss_mb(self.pid))
            time.sleep(0.01)

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return max(self.peak, _rss_mb(self.pid))


def _spawn(args: list[str], env) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    line = proc.stdout.readline().strip() if proc.stdout else ""
    if not line:
        proc.kill()
        raise RuntimeError(f"child {args[0]} did not start")
    return proc, line


def run(pad_mb: int = 200, rounds: int = 2) -> dict:
    with tempfile.TemporaryDirectory(prefix="adminui-bench-transfers-") as tmpdir:
        tmp = Path(tmpdir)
        env = _env(tmp)
        sim, sim_url = _spawn(["--simulator", str(pad_mb)], env)
        console = None
        try:
            setup = subprocess.run(  # noqa: S603
                [sys.executable, __file__, "--setup", sim_url],
                capture_output=True,
                text=True,
                env=env,
                cwd=ROOT,
                check=True,
            )
            info = json.loads(setup.stdout.strip().splitlines()[-1])
            port = _free_port()
            console, _ = _spawn(["--serve", str(port)], env)
            direct_url = f"{sim_url}/api/ext/export/workspace/{info['workspace']}/apps/{info['app']}"
            console_url = f"http://127.0.0.1:{port}/connections/bench/apps/{info['app']}/export/"
            params = {"workspace": info["workspace"]}
            direct, through, growth = [], [], []
            # warm the console (imports, templates, DB) on a small export before measuring
            _download(
                "GET", console_url, cookies={"sessionid": info["session"]}, params=params | {"tjdb": "0"}
            )
            for _ in range(rounds):
                size, seconds = _download(
                    "POST",
                    direct_url,
                    headers={"Authorization": f"Basic {TOKEN}"},
                    params={"exportTJDB": "true"},
                )
                direct.append((size, seconds))
                baseline = _rss_mb(console.pid)
                sampler = _Sampler(console.pid)
                sampler.start()
                size_c, seconds_c = _download(
                    "GET", console_url, cookies={"sessionid": info["session"]}, params=params
                )
                peak = sampler.stop()
                through.append((size_c, seconds_c))
                growth.append(peak - baseline)
        finally:
            for proc in (console, sim):
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=10)
    best_direct = max(s / t for s, t in direct) / 2**20
    best_console = max(s / t for s, t in through) / 2**20
    return {
        "size_mb": through[0][0] / 2**20,
        "direct_mb_s": best_direct,
        "console_mb_s": best_console,
        "ratio": best_console / best_direct,
        "growth_mb": max(growth),
        "rounds": rounds,
    }


def _write_docs(result: dict, ok: bool) -> None:
    import platform

    docs = ROOT / "docs" / "benchmarks.md"
    section = (
        "## Transfers\n\n"
        f"`tests/benchmarks/bench_transfers.py`, {time.strftime('%Y-%m-%d')}, {platform.platform()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}.\n\n"
        f"A {result['size_mb']:.0f} MB ToolJet export (simulator app padded, streamed) downloaded through the console "
        "(Werkzeug threaded WSGI server in its own process, SQLite) versus straight from the same simulator, "
        f"best of {result['rounds']} rounds each, in the same run.\n\n"
        "| measure | result | target |\n|---|---|---|\n"
        f"| direct download | {result['direct_mb_s']:.0f} MB/s | — |\n"
        f"| through the console | {result['console_mb_s']:.0f} MB/s | — |\n"
        f"| throughput ratio | {result['ratio'] * 100:.0f} % | ≥ {MIN_RATIO * 100:.0f} % |\n"
        f"| console peak RSS growth | {result['growth_mb']:.1f} MB | ≤ {MAX_GROWTH_MB} MB |\n\n"
        f"Verdict: {'pass' if ok else 'FAIL'}. The console passes upstream reads (≤ 64 KiB) through a SHA-256 "
        "(audited) to the WSGI server in ~1 MiB pieces; nothing else is buffered, so memory stays flat. The direct "
        "download is two busy processes (simulator, client); through the console it is three (simulator, console, "
        "client), each copying every byte through the kernel, and the console also hashes it. With "
        f"{os.cpu_count()} cores shared three ways the ceiling is about {min(1.0, (os.cpu_count() or 1) / 3) * 100:.0f} % "
        "of the direct rate before the console does any work of its own (a core per process lifts it; re-measure "
        "there). History: an earlier full-document JSON validation held the padding in memory and ran at 1 MB/s; "
        "it is now a constant-time framing check, pinned by a flat-memory test in tests/providers.\n"
    )
    text = docs.read_text() if docs.exists() else "# Benchmarks\n"
    pattern = re.compile(r"## Transfers\n.*?(?=\n## |\Z)", re.S)
    text = (
        pattern.sub(section.rstrip("\n") + "\n", text)
        if pattern.search(text)
        else text.rstrip("\n") + "\n\n" + section
    )
    docs.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args(argv if argv is not None else [])
    result = run(args.mb, args.rounds)
    ok = result["growth_mb"] <= MAX_GROWTH_MB and result["ratio"] >= MIN_RATIO
    print(
        f"transfers: {result['size_mb']:.0f} MB export — direct {result['direct_mb_s']:.0f} MB/s, console "
        f"{result['console_mb_s']:.0f} MB/s ({result['ratio'] * 100:.0f} %, target ≥ {MIN_RATIO * 100:.0f} %); "
        f"console peak RSS growth {result['growth_mb']:.1f} MB (target ≤ {MAX_GROWTH_MB} MB) → "
        f"{'PASS' if ok else 'FAIL'}"
    )
    if not args.no_docs:
        _write_docs(result, ok)
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--simulator":
        sys.path.insert(0, str(ROOT))
        _child_simulator(int(sys.argv[2]))
    elif len(sys.argv) > 2 and sys.argv[1] == "--setup":
        sys.path.insert(0, str(ROOT))
        _child_setup(sys.argv[2])
    elif len(sys.argv) > 2 and sys.argv[1] == "--serve":
        sys.path.insert(0, str(ROOT))
        _child_serve(int(sys.argv[2]))
    else:
        raise SystemExit(main(sys.argv[1:]))
