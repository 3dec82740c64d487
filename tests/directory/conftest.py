from __future__ import annotations

import pytest

from apps.simulators import DEFAULT_TOKENS

PROFILES = [("tooljet", "latest"), ("tooljet", "lts-3.16"), ("retool", "enterprise"), ("retool", "business")]


@pytest.fixture
def fleet_connection(simulator, probed_connection):
    """`fleet_connection(kind, profile, users=40)` → (simulator, probed Connection)."""

    def make(kind: str, profile: str, users: int = 40, **kw):
        sim = simulator(kind, profile=profile, users=users)
        connection = probed_connection(
            sim, token=DEFAULT_TOKENS[kind], slug=f"{kind}-{profile.replace('.', '')}", **kw
        )
        return sim, connection

    return make


@pytest.fixture
def synced(fleet_connection):
    """A probed and indexed connection."""
    from apps.directory.services import directory_sync

    def make(kind: str, profile: str, **kw):
        sim, connection = fleet_connection(kind, profile, **kw)
        directory_sync(connection=connection)
        return sim, connection

    return make


def tj_user(sim, email: str) -> dict:
    uid = sim.state.emails[email.lower()]
    return sim.state.users[uid]
