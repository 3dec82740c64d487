"""pytest plugin: the ``simulator`` factory fixture.

    def test_it_lists_users(simulator):
        sim = simulator("retool", profile="business")
        ...

Every simulator started through the factory is stopped at teardown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from apps.simulators import RunningSimulator, start_simulator


@pytest.fixture
def simulator() -> Iterator[Callable[..., RunningSimulator]]:
    started: list[RunningSimulator] = []

    def factory(kind: str, **options: Any) -> RunningSimulator:
        sim = start_simulator(kind, **options)
        started.append(sim)
        return sim

    yield factory
    for sim in reversed(started):
        sim.stop()
