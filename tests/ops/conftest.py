"""Fixtures for the operations tests: simulator-backed connections, exports in tmp_path."""

from __future__ import annotations

import pytest

from apps.simulators import DEFAULT_TOKENS


@pytest.fixture(autouse=True)
def exports_dir(settings, tmp_path):
    settings.ADMINUI_EXPORTS_DIR = tmp_path / "exports"
    settings.ADMINUI_REQUIRE_REASON = False
    return settings.ADMINUI_EXPORTS_DIR


@pytest.fixture
def tooljet_connection(simulator, probed_connection):
    """`tooljet_connection(slug)` → (simulator, probed Connection) on its own ToolJet simulator."""

    def make(slug: str, **kw):
        sim = simulator("tooljet", profile="latest", users=20)
        return sim, probed_connection(sim, token=DEFAULT_TOKENS["tooljet"], slug=slug, name=slug, **kw)

    return make
