"""What the console learns about an instance's health from every real call it makes, not only from "Test".

An observer of every upstream answer (``apps.providers.http.add_observer``) records, per connection, since when the
instance stopped answering: no answer at all (status 0: refused, timed out, reset) or a gateway's 502/503/504. The
first answer after that clears it. The record lives in the shared cache (every web process and the worker see it)
and is written only when a call changes it, so a call costs one cache read.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.cache import cache

NOT_ANSWERING = frozenset({0, 502, 503, 504})
PREFIX = "adminui:connection-health:"
TTL = 7 * 24 * 3600

_written: set[str] = set()  # the records this process wrote (tests forget them between tests)


def _key(connection_id) -> str:
    return f"{PREFIX}{connection_id}"


def record_call(key: str, method: str, status: int, seconds: float) -> None:
    """The observer: ``key`` is ``connection:<pk>`` for calls made for a saved connection."""
    connection_id = key.removeprefix("connection:")
    if (
        connection_id == key or not connection_id.isdigit()
    ):  # not a saved connection (e.g. tested before saving)
        return
    down = status in NOT_ANSWERING
    current = cache.get(_key(connection_id))
    if down and not current:
        _written.add(connection_id)
        cache.set(_key(connection_id), {"since": datetime.now(UTC).isoformat(), "status": status}, TTL)
    elif not down and current:
        cache.delete(_key(connection_id))


def not_answering_since(connection_id) -> datetime | None:
    """When the instance stopped answering the console's calls; None while it answers (or nobody knows)."""
    record = cache.get(_key(connection_id))
    if not record:
        return None
    try:
        return datetime.fromisoformat(record["since"])
    except (KeyError, TypeError, ValueError):
        return None


def forget(connection_id) -> None:
    """A deleted connection's record."""
    cache.delete(_key(connection_id))


def forget_written() -> None:
    """Every record this process wrote (tests: a connection id is reused by the next test's database)."""
    cache.delete_many([_key(i) for i in _written])
    _written.clear()


def install() -> None:
    from apps.providers.http import add_observer

    add_observer(record_call)
