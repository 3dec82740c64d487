"""`make run`: start the demo fleet (two ToolJet simulators — lts-3.16 and latest — and one Retool simulator),
register them as connections on first run, start a task worker and the scheduler (which runs the first directory
sync at once), and serve the console on 127.0.0.1:8000.
Ctrl-C stops everything."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from apps.connections.models import Connection
from apps.connections.services import connection_create, connection_test, connection_update
from apps.simulators import start_simulator

FLEET = [
    # slug, name, kind, profile, environment, seed, preferred port
    ("acme-tooljet", "Acme ToolJet (latest)", "tooljet", "latest", "production", 1, 8101),
    ("legacy-tooljet", "Legacy ToolJet (3.16 LTS)", "tooljet", "lts-3.16", "staging", 2, 8102),
    ("acme-retool", "Acme Retool", "retool", "enterprise", "production", 3, 8103),
]


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the console with a demo fleet of simulators (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--users", type=int, default=400, help="users per simulator")
        parser.add_argument(
            "--no-worker", action="store_true", help="do not start the task worker and the scheduler"
        )

    def handle(self, *args, addr: str, users: int, no_worker: bool, **options):
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)  # `kill` stops everything as Ctrl-C does
        tokens_path = settings.VAR_DIR / "demo_tokens.json"
        tokens = json.loads(tokens_path.read_text()) if tokens_path.exists() else {}
        sims = []
        try:
            for slug, name, kind, profile, environment, seed, port in FLEET:
                token = tokens.setdefault(slug, f"demo-{secrets.token_urlsafe(18)}")
                try:
                    sim = start_simulator(
                        kind, token=token, profile=profile, users=users, seed=seed, port=port
                    )
                except OSError:
                    sim = start_simulator(kind, token=token, profile=profile, users=users, seed=seed, port=0)
                sims.append(sim)
                self._register(slug, name, kind, environment, sim.url, token)
                self.stdout.write(f"  {name:<28} {profile:<10} {sim.url}")
            tokens_path.write_text(json.dumps(tokens))
            tokens_path.chmod(0o600)
            background = []
            if not no_worker:
                for command in (["worker", "--no-reload"], ["scheduler"]):
                    background.append(
                        subprocess.Popen(
                            [sys.executable, "manage.py", *command],
                            cwd=settings.BASE_DIR,
                            env=os.environ.copy(),
                        )
                    )
            self.stdout.write(
                self.style.SUCCESS(
                    f"adminui: http://{addr}/  (Ctrl-C stops the console, the worker, the scheduler and the simulators)"
                )
            )
            try:
                call_command("runserver", addr, use_reloader=False, use_threading=True)
            finally:
                for proc in background:
                    proc.send_signal(signal.SIGINT)
                for proc in background:
                    try:
                        proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        proc.kill()
        except KeyboardInterrupt:
            pass
        finally:
            for sim in sims:
                sim.stop()
            self.stdout.write("stopped.")

    def _register(self, slug, name, kind, environment, url, token):
        connection = Connection.objects.filter(slug=slug).first()
        if connection is None:
            connection = connection_create(
                actor=None,
                data={
                    "name": name,
                    "slug": slug,
                    "kind": kind,
                    "base_url": url,
                    "environment": environment,
                    "timeout": 10.0,
                    "requests_per_minute": Connection.DEFAULT_RPM[kind] * 100,
                    "verify_tls": True,
                    "notes": "Demo fleet: a simulator started by `make run`.",
                },
                token=token,
            )
        elif connection.base_url != url or not connection.token_readable or connection.get_token() != token:
            connection_update(actor=None, connection=connection, data={"base_url": url}, token=token)
        connection_test(actor=None, connection=connection)
