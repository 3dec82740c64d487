"""A client-side rate limiter shared by every worker and host through the configured cache (Redis in production).

Fixed one-minute windows counted with the cache's atomic `incr`: simple, shared, and good enough for a limit whose
purpose is to stay under an upstream's own rolling limit. With the default per-process cache the providers' own
in-process token bucket is used instead (see `limiter_for`)."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

from apps.providers.errors import RateLimitedError
from apps.providers.http import TokenBucket

logger = logging.getLogger(__name__)
_local_fallback = TokenBucket()


class CacheLimiter:
    def __init__(self, *, clock=time.time, sleep=time.sleep):
        self._clock = clock
        self._sleep = sleep

    def acquire(self, key: str, per_minute: int, *, max_wait: float) -> None:
        if not per_minute or per_minute <= 0:
            return
        while True:
            now = self._clock()
            window = int(now // 60)
            cache_key = f"adminui:rl:{key}:{window}"
            try:
                cache.add(cache_key, 0, timeout=120)
                try:
                    count = cache.incr(cache_key)
                except ValueError:  # evicted between add and incr
                    cache.set(cache_key, 1, timeout=120)
                    count = 1
            except Exception as exc:  # noqa: BLE001 - any cache client error: the shared cache (Redis) is away
                # keep working on this process's own bucket rather than failing every call until it is back
                logger.warning(
                    "rate limit: shared cache unavailable (%s); limiting in this process", type(exc).__name__
                )
                _local_fallback.acquire(key, per_minute, max_wait=max_wait)
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


def limiter_for_settings():
    """The shared limiter when the cache is shared between processes; None (the providers' in-process bucket)
    for the per-process local-memory cache."""
    backend = settings.CACHES["default"]["BACKEND"]
    return None if backend.endswith("LocMemCache") or backend.endswith("DummyCache") else CacheLimiter()
