"""Contract-faithful fake ToolJet and Retool servers over real HTTP.

    from apps.simulators import start_simulator
    with start_simulator("tooljet", profile="latest", users=40, seed=1) as sim:
        sim.url            # http://127.0.0.1:PORT (the client appends /api/ext or /api/v2)
        sim.app.state      # in-memory state, readable and writable by tests
        sim.faults.add(kind="status", status=503, path="/api/ext/users")

The fake servers import nothing from Django or other ``apps.*`` packages; only the management command and the
pytest plugin touch Django.
"""

from __future__ import annotations

from typing import Any

from .server import RunningSimulator, serve

DEFAULT_TOKENS = {"tooljet": "tj-test-token", "retool": "retool-test-token"}
DEFAULT_PROFILES = {"tooljet": "latest", "retool": "enterprise"}

__all__ = ["DEFAULT_TOKENS", "RunningSimulator", "create_app", "start_simulator"]


def create_app(
    kind: str,
    *,
    token: str | None = None,
    profile: str | None = None,
    users: int = 40,
    seed: int = 1,
    latency_ms: int = 0,
    **options: Any,
):
    """Build the WSGI app of a simulator without serving it."""
    if kind == "tooljet":
        from .tooljet.app import create_app as factory
    elif kind == "retool":
        from .retool.app import create_app as factory
    else:
        raise ValueError(f"unknown simulator kind {kind!r}; expected 'tooljet' or 'retool'")
    return factory(
        token=token or DEFAULT_TOKENS[kind],
        profile=profile or DEFAULT_PROFILES[kind],
        users=users,
        seed=seed,
        latency_ms=latency_ms,
        **options,
    )


def start_simulator(
    kind: str,
    *,
    token: str | None = None,
    profile: str | None = None,
    users: int = 40,
    seed: int = 1,
    latency_ms: int = 0,
    host: str = "127.0.0.1",
    port: int = 0,
    **options: Any,
) -> RunningSimulator:
    """Start a simulator on a daemon thread; ``port=0`` picks a free port. Stop it with ``.stop()``."""
    app = create_app(
        kind, token=token, profile=profile, users=users, seed=seed, latency_ms=latency_ms, **options
    )
    return serve(kind, app, host=host, port=port)
