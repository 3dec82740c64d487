"""Redis as the shared cache, stopped while the console runs: pages still answer, the rate limiter counts in-process,
and one warning a minute says so. A real redis-server on loopback (Debian's package; `.ci/run` installs it)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from apps.connections.ratelimit import CacheLimiter
from apps.core import cache as core_cache


@pytest.fixture
def redis_cache(redis_server, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "apps.core.cache.TolerantRedisCache",
            "LOCATION": redis_server.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    core_cache._last_warning = -core_cache.WARN_EVERY  # a fresh process as far as the warning goes
    return redis_server


def test_it_keeps_pages_working_and_limits_in_process_when_redis_stops(
    redis_cache, viewer_client, simulator, probed_connection, caplog
):
    from django.core.cache import cache

    sim = simulator("tooljet", profile="latest")
    connection = probed_connection(sim, slug="tj-rl", name="TJ RL", requests_per_minute=600)
    cache.set("adminui:probe", 1)
    assert cache.get("adminui:probe") == 1  # Redis answers
    assert viewer_client.get(f"/connections/{connection.slug}/apps/").status_code == 200

    redis_cache()  # stop Redis
    caplog.set_level(logging.WARNING, logger="adminui.cache")
    for _ in range(3):
        response = viewer_client.get(f"/connections/{connection.slug}/apps/")
        assert response.status_code == 200
        assert "Sales Dashboard" in response.content.decode()
    fleet = viewer_client.get("/apps/").content.decode()
    assert "Sales Dashboard" in fleet
    assert "did not answer" not in fleet
    warnings = [r for r in caplog.records if r.name == "adminui.cache"]
    assert len(warnings) == 1
    assert "shared cache unavailable" in warnings[0].getMessage()
    assert cache.get("adminui:probe") is None  # a miss, not an error


def test_it_enforces_the_limit_in_process_while_redis_is_down(redis_cache):
    from apps.providers.errors import RateLimitedError
    from apps.providers.http import TokenBucket

    redis_cache()
    now = [1000.0]
    limiter = CacheLimiter(fallback=TokenBucket(clock=lambda: now[0], sleep=lambda s: None))
    for _ in range(3):
        limiter.acquire("conn:rl", 3, max_wait=1)
    with pytest.raises(RateLimitedError):
        limiter.acquire("conn:rl", 3, max_wait=1)


def test_it_warns_at_most_once_a_minute(caplog):
    caplog.set_level(logging.WARNING, logger="adminui.cache")
    core_cache._last_warning = -core_cache.WARN_EVERY
    now = [5000.0]
    written = [core_cache.warn_cache_down("get", OSError("down"), clock=lambda: now[0]) for _ in range(5)]
    now[0] += 61
    written.append(core_cache.warn_cache_down("get", OSError("down"), clock=lambda: now[0]))
    assert written == [True, False, False, False, False, True]
    assert len(caplog.records) == 2


def test_it_configures_the_tolerant_backend_for_a_redis_cache_url(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "CACHE_URL"))}
    env.update(CACHE_URL="redis://127.0.0.1:6379/1", ADMINUI_TESTING="1", ADMINUI_VAR_DIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", "from adminui import settings as s; print(s.CACHES['default']['BACKEND'])"],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "apps.core.cache.TolerantRedisCache"
