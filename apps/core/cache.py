"""The shared cache (Redis in production) is an optimisation, never a dependency: when it does not answer, reads
miss, writes are dropped, and one warning a minute says so (not one per call, not a 500 page).

`incr` still raises: its one caller, the shared rate limiter, falls back to the in-process bucket itself."""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger("adminui.cache")

WARN_EVERY = 60.0  # seconds
_lock = threading.Lock()
_last_warning = -WARN_EVERY


def warn_cache_down(what: str, exc: BaseException, *, clock=time.monotonic) -> bool:
    """Log that the shared cache failed, at most once a minute per process; True when a line was written."""
    global _last_warning
    now = clock()
    with _lock:
        if now - _last_warning < WARN_EVERY:
            return False
        _last_warning = now
    logger.warning("shared cache unavailable (%s): %s: %s", what, type(exc).__name__, exc)
    return True


class TolerantRedisCache(RedisCache):
    """Django's Redis backend with reads answering a miss and writes doing nothing while Redis is down."""

    def _tolerate(self, what, default, call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except RedisError as exc:
            warn_cache_down(what, exc)
            return default

    def get(self, key, default=None, version=None):
        return self._tolerate("get", default, super().get, key, default, version)

    def get_many(self, keys, version=None):
        return self._tolerate("get", {}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._tolerate("get", False, super().has_key, key, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._tolerate("add", False, super().add, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._tolerate("set", None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._tolerate("touch", False, super().touch, key, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._tolerate("set", list(data), super().set_many, data, timeout, version)

    def delete(self, key, version=None):
        return self._tolerate("delete", False, super().delete, key, version)

    def delete_many(self, keys, version=None):
        return self._tolerate("delete", None, super().delete_many, keys, version)
