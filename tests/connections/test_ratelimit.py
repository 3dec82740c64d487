from __future__ import annotations

import pytest
from django.core.cache import cache

from apps.connections.ratelimit import CacheLimiter, limiter_for_settings
from apps.providers.errors import RateLimitedError


class FakeClock:
    def __init__(self, now: float):
        self.now = now
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


def test_it_allows_the_limit_per_window_then_waits_for_the_next():
    clock = FakeClock(6000.0 + 50)  # 10 s before the next window
    limiter = CacheLimiter(clock=clock.time, sleep=clock.sleep)
    for _ in range(3):
        limiter.acquire("conn:1", 3, max_wait=15)
    assert clock.slept == []
    limiter.acquire("conn:1", 3, max_wait=15)
    assert clock.slept == [10.0]


def test_it_refuses_without_sending_when_the_wait_is_too_long():
    clock = FakeClock(6000.0)
    limiter = CacheLimiter(clock=clock.time, sleep=clock.sleep)
    limiter.acquire("conn:2", 1, max_wait=5)
    with pytest.raises(RateLimitedError) as info:
        limiter.acquire("conn:2", 1, max_wait=5)
    assert "1 requests per minute" in info.value.message
    assert clock.slept == []


def test_it_keeps_connections_apart():
    clock = FakeClock(6000.0)
    limiter = CacheLimiter(clock=clock.time, sleep=clock.sleep)
    limiter.acquire("conn:a", 1, max_wait=0)
    limiter.acquire("conn:b", 1, max_wait=0)


def test_it_is_used_only_with_a_shared_cache(settings):
    assert limiter_for_settings() is None
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1",
        }
    }
    assert isinstance(limiter_for_settings(), CacheLimiter)
