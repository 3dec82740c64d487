"""pytest plugin: the ``simulator`` factory fixture.

    def test_it_lists_users(simulator):
        sim = simulator("retool", profile="business")
        ...

Every call returns a simulator in its freshly seeded state, with no faults and an empty request log, serving on
127.0.0.1. The servers (a socket and a thread) are kept for the whole run of a test process and reused: when a
test asks for a simulator, an idle server started with the same arguments gets a brand-new app built from those
arguments — state, profile, switches, faults and request log are all new objects, so nothing a previous test did
to ``sim.app`` or ``sim.state`` survives — and only the URL is the same. Two simulators asked for by one test are
always two servers.

A test that needs a server of its own (say, it holds connections open past its end, or asks for a fixed
``port``) passes ``fresh=True``; one that calls ``sim.stop()`` gets a stopped server that is not reused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from apps.simulators import RunningSimulator, create_app, start_simulator

# arguments that decide which server is started rather than what it serves: never pooled unless left default
_SERVER_ARGS = ("host", "port")


class SimulatorPool:
    """Idle servers of one test process, by (kind, constructor arguments)."""

    def __init__(self) -> None:
        self._idle: dict[str, list[RunningSimulator]] = {}
        self._all: list[RunningSimulator] = []

    @staticmethod
    def _key(kind: str, options: dict[str, Any]) -> str:
        return repr((kind, sorted(options.items())))

    def lease(self, kind: str, options: dict[str, Any]) -> tuple[str, RunningSimulator]:
        key = self._key(kind, options)
        idle = self._idle.get(key)
        while idle:
            running = idle.pop()
            if running.thread.is_alive():
                app = create_app(kind, **options)
                running.server.app = app
                return key, RunningSimulator(kind, app, running.server, running.thread)
        running = start_simulator(kind, **options)
        self._all.append(running)
        return key, running

    def release(self, key: str, sim: RunningSimulator) -> None:
        if sim.thread.is_alive():
            self._idle.setdefault(key, []).append(sim)

    def close(self) -> None:
        for running in reversed(self._all):
            running.stop()
        self._all.clear()
        self._idle.clear()


@pytest.fixture(scope="session")
def simulator_pool() -> Iterator[SimulatorPool]:
    pool = SimulatorPool()
    yield pool
    pool.close()


@pytest.fixture
def simulator(simulator_pool: SimulatorPool) -> Iterator[Callable[..., RunningSimulator]]:
    leased: list[tuple[str, RunningSimulator]] = []
    started: list[RunningSimulator] = []

    def factory(kind: str, *, fresh: bool = False, **options: Any) -> RunningSimulator:
        if fresh or any(options.get(name) not in (None, 0, "127.0.0.1") for name in _SERVER_ARGS):
            sim = start_simulator(kind, **options)
            started.append(sim)
            return sim
        options = {name: value for name, value in options.items() if name not in _SERVER_ARGS}
        key, sim = simulator_pool.lease(kind, options)
        leased.append((key, sim))
        return sim

    yield factory
    for sim in reversed(started):
        sim.stop()
    for key, sim in leased:
        simulator_pool.release(key, sim)
    if leased:
        _forget_cached_answers()


def _forget_cached_answers() -> None:
    """Empty the process-local caches after a test that used a reused server.

    The console caches what it learnt from an instance under the connection's id and URL (a ToolJet version, say).
    Test rows roll back, so ids come round again on SQLite, and a reused server keeps its URL: without this, the
    next test could be served an answer cached by the previous one. A shared cache (Redis) is left alone: emptying
    it would pull entries from under other processes' tests.
    """
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    for cache in caches.all():
        if isinstance(cache, LocMemCache):
            cache.clear()
