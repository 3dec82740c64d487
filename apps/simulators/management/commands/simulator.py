"""Run a ToolJet or Retool simulator in the foreground until Ctrl-C.

python manage.py simulator tooljet --port 8301 --token tj-demo --profile lts-3.16 --users 200
python manage.py simulator retool --port 8303 --fault status:503:/api/v2/users
"""

from __future__ import annotations

import threading

from django.core.management.base import BaseCommand, CommandError

from apps.simulators import DEFAULT_TOKENS, start_simulator
from apps.simulators.faults import parse_fault_spec


class Command(BaseCommand):
    help = "Run a contract-faithful ToolJet or Retool simulator on 127.0.0.1 until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=("tooljet", "retool"))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=0)
        parser.add_argument("--token", default=None, help="API token the simulator accepts")
        parser.add_argument("--profile", default=None)
        parser.add_argument("--users", type=int, default=40)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--latency-ms", type=int, default=0)
        parser.add_argument("--rate-limit-rpm", type=int, default=None, help="Retool only")
        parser.add_argument("--v2-api", action="store_true", help="ToolJet only: serve /api/v2/ext")
        parser.add_argument(
            "--fault",
            action="append",
            default=[],
            metavar="KIND:STATUS:PATH",
            help="e.g. status:503:/api/ext/users",
        )

    def handle(self, *args, **options):
        kind = options["kind"]
        extra = {}
        if kind == "retool" and options["rate_limit_rpm"]:
            extra["rate_limit_rpm"] = options["rate_limit_rpm"]
        if kind == "tooljet" and options["v2_api"]:
            extra["v2_api"] = True
        try:
            sim = start_simulator(
                kind,
                token=options["token"] or DEFAULT_TOKENS[kind],
                profile=options["profile"],
                users=options["users"],
                seed=options["seed"],
                latency_ms=options["latency_ms"],
                host=options["host"],
                port=options["port"],
                **extra,
            )
            for spec in options["fault"]:
                sim.faults.add(**parse_fault_spec(spec))
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        profile = getattr(sim.app.state.profile, "name", sim.app.state.profile)
        self.stdout.write(f"{kind} simulator ({profile}) listening on {sim.url}", ending="\n")
        self.stdout.flush()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            self.stdout.write("stopping")
        finally:
            sim.stop()
