"""The probe reports ToolJet's optional v2 users API (tooljet.md §8) on the health page, against the simulator's
``v2_api=True``."""

from __future__ import annotations

import pytest

from apps.providers.base import ConnectionConfig
from apps.providers.tooljet import ToolJetProvider

TOKEN = "tj-v2-token"


def make(sim):
    config = ConnectionConfig(kind="tooljet", base_url=sim.url, token=TOKEN, key=f"tjv2-{id(sim)}")
    return ToolJetProvider(config, sleep=lambda s: None)


@pytest.fixture
def v2(simulator):  # noqa: F811
    return simulator("tooljet", token=TOKEN, profile="latest", users=45, seed=5, v2_api=True)


def test_it_probes_the_v2_users_api(v2, simulator):  # noqa: F811
    assert make(v2).probe().capabilities.supports_v2_users
    off = simulator("tooljet", token=TOKEN, profile="latest", users=5)
    caps = make(off).probe().capabilities
    assert not caps.supports_v2_users and caps.reasons["supports_v2_users"]
