"""A production-mode console in subprocesses for the operations drills: its own database (a SQLite file, or a
fresh database on the PostgreSQL server the suite runs on), `manage.py worker` / `scheduler` processes, and a
read-only view of that database from the test process (the ``drill`` connection alias)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connections

ROOT = Path(settings.BASE_DIR)
ALIAS = "drill"
IS_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]


def wait_for(condition: Callable[[], Any], *, timeout: float = 60, what: str = "condition") -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)  # polling interval, not synchronisation


@dataclass
class Drill:
    base: Path
    env: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)

    def manage(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "--no-imports", "-c", code).strip()

    def start(self, *args: str, name: str | None = None) -> subprocess.Popen:
        log = open(self.base / f"{name or args[0]}-{len(self.processes)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        proc.log_path = log.name  # type: ignore[attr-defined]
        log.close()  # the child holds its own copy
        self.processes.append(proc)
        return proc

    def worker(self) -> subprocess.Popen:
        return self.start("worker", "--no-reload", "--no-startup-delay", "--interval", "0.2")

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.args[2:]}:\n" + Path(p.log_path).read_text(errors="replace")[-3000:]  # type: ignore[attr-defined]
            for p in self.processes
        )

    def stop_all(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _server() -> dict[str, Any]:
    db = settings.DATABASES["default"]
    return {
        "HOST": db["HOST"] or "127.0.0.1",
        "PORT": db["PORT"] or 5432,
        "USER": db["USER"],
        "PASSWORD": db.get("PASSWORD") or "",
    }


def _postgres_url(server: dict[str, Any], name: str) -> str:
    auth = server["USER"] + (f":{server['PASSWORD']}" if server["PASSWORD"] else "")
    return f"postgres://{auth}@{server['HOST']}:{server['PORT']}/{name}"


def _postgres_admin(server: dict[str, Any], sql: str) -> None:
    import psycopg

    with psycopg.connect(
        host=server["HOST"],
        port=server["PORT"],
        user=server["USER"],
        password=server["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql)


def drill_env(base: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "CACHE_URL",
            "TASKS_BACKEND",
            "DEBUG",
            "PYTEST_XDIST_WORKER",
            "ADMINUI_TESTING",
        }
    }
    env.update(
        DEBUG="0",  # production mode: explicit secrets, no generated ones
        SECRET_KEY=Fernet.generate_key().decode() * 2,
        ADMINUI_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        # the simulators answer plain http on loopback, which the outbound policy refuses in production
        ADMINUI_OUTBOUND_ALLOW="127.0.0.1",
        ADMINUI_ALLOW_HTTP="1",
        DATABASE_URL=database_url,
        ADMINUI_VAR_DIR=str(base / "var"),
        ADMINUI_EXPORTS_DIR=str(base / "exports"),
        ADMINUI_WORKER_HEARTBEAT="0.5",
        ADMINUI_WORKER_STALE_AFTER="3",
        ADMINUI_SCHEDULER_TICK="0.3",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def open_drill(base: Path, *, postgres: dict[str, Any] | None = None, **extra: str):
    """Create the drill's database (on ``postgres`` — HOST, PORT, USER, PASSWORD — or the suite's server when it
    runs on PostgreSQL, else a SQLite file), migrate it, register the ``drill`` alias; returns (Drill, cleanup)."""
    base.mkdir(parents=True, exist_ok=True)
    server = postgres or (_server() if IS_POSTGRES else None)
    if server is not None:
        name = f"adminui_drill_{uuid.uuid4().hex[:10]}"
        _postgres_admin(server, f'CREATE DATABASE "{name}"')
        url = _postgres_url(server, name)
    else:
        name = str(base / "drill.sqlite3")
        url = f"sqlite:///{name}"
    drill = Drill(base=base, env=drill_env(base, url, **extra))
    drill.manage("migrate", "--no-input", "-v", "0")
    alias = dict(connections.settings["default"])
    if server is not None:
        alias.update(
            ENGINE="django.db.backends.postgresql",
            HOST=server["HOST"],
            PORT=str(server["PORT"]),
            USER=server["USER"],
            PASSWORD=server["PASSWORD"],
            OPTIONS={},
        )
    alias.update(NAME=name, TEST={"NAME": name})
    connections.settings[ALIAS] = alias

    def cleanup() -> None:
        drill.stop_all()
        if hasattr(connections._connections, ALIAS):
            connections[ALIAS].close()
            del connections[ALIAS]
        connections.settings.pop(ALIAS, None)
        if server is not None:
            _postgres_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return drill, cleanup
