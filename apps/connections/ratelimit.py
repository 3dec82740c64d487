"""A client-side rate limiter shared by every worker and host through the configured cache (Redis in production).

Fixed one-minute windows counted with the cache's atomic `incr`: simple, shared, and good enough for a limit whose
purpose is to stay under an upstream's own rolling limit. With the default per-process cache the providers' own
in-process token bucket is used instead (see `limiter_for_settings`), and so it is while the shared cache does not
answer: each process then keeps its own count (the limit holds per process) and one warning a minute says so."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from apps.core.cache import warn_cache_down
from apps.providers.errors import RateLimitedError
from apps.providers.http import TokenBucket


class CacheLimiter:
    def __init__(self, *, clock=time.time, sleep=time.sleep, fallback=None):
        self._clock = clock
        self._sleep = sleep
        self._fallback = fallback or _fallback_bucket

    def acquire(self, key: str, per_minute: int, *, max_wait: float) -> None:
        if not per_minute or per_minute <= 0:
            return
        while True:
            now = self._clock()
            window = int(now // 60)
            try:
                count = self._count(f"adminui:rl:{key}:{window}")
            except Exception as exc:  # noqa: BLE001 - any cache failure (Redis down, timeout): count in-process
                warn_cache_down("rate limiter", exc)
                self._fallback.acquire(key, per_minute, max_wait=max_wait)
                return
            if count <= per_minute:
                return
            wait = (window + 1) * 60 - now
            if wait > max_wait:
                raise RateLimitedError(
                    f"This console's own limit of {per_minute} requests per minute for this connection is reached. "
                    f"Try again in {max(1, round(wait))} s.",
                    retry_after=wait,
                )
            self._sleep(wait)

    @staticmethod
    def _count(cache_key: str) -> int:
        cache.add(cache_key, 0, timeout=120)
        try:
            return cache.incr(cache_key)
        except ValueError:  # evicted between add and incr (or add was dropped)
            cache.set(cache_key, 1, timeout=120)
            return 1


# The in-process bucket a shared limiter counts in while the cache does not answer; one per process, so a connection
# keeps its count across requests during the outage.
_fallback_bucket = TokenBucket()


def limiter_for_settings():
    """The shared limiter when the cache is shared between processes; None (the providers' in-process bucket)
    for the per-process local-memory cache."""
    backend = settings.CACHES["default"]["BACKEND"]
    return None if backend.endswith("LocMemCache") or backend.endswith("DummyCache") else CacheLimiter()
