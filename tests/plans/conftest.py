from __future__ import annotations

import pytest

from apps.simulators import DEFAULT_TOKENS

JOSE = "jose.alvarez@example.com"


@pytest.fixture
def fleet(simulator, probed_connection):
    """`fleet(environment=...)` → {"tj1", "tj2", "retool"}: (simulator, probed and indexed connection) — two
    ToolJet instances and one Retool org, each with José on it."""
    from apps.directory.services import directory_sync

    def make(environment: str = "staging") -> dict:
        out = {}
        for key, kind, profile, seed in (
            ("tj1", "tooljet", "latest", 1),
            ("tj2", "tooljet", "latest", 2),
            ("retool", "retool", "enterprise", 1),
        ):
            sim = simulator(kind, profile=profile, users=12, seed=seed)
            connection = probed_connection(
                sim, token=DEFAULT_TOKENS[kind], name=key.upper(), slug=key, environment=environment
            )
            directory_sync(connection=connection)
            out[key] = (sim, connection)
        return out

    return make


def tj_user(sim, email: str = JOSE) -> dict:
    return sim.state.users[sim.state.emails[email]]


def rt_user(sim, email: str = JOSE) -> dict:
    return next(u for u in sim.state.users.values() if u["email"] == email)
