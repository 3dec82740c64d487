"""Serialise check-then-write on one upstream object.

A change that reads an object upstream, compares it with what the operator's form was rendered from, then writes,
loses updates when two operators do it at once: both read the old state, both write. ``upstream_object_lock``
makes the read-compare-write of one (connection, object) take turns: a row lock on PostgreSQL (``select_for_update``
on a small ``UpstreamLock`` row), an IMMEDIATE transaction on SQLite (settings: ``transaction_mode``), which holds
the database's write lock. The second writer then reads what the first wrote, and gets a conflict.

Keep the block to the read, the comparison and the write; write audit rows after it (a row written inside would
vanish if the block rolled back). On SQLite every other writer waits while the block runs: it is bounded by the
connection's timeout (at most 25 s) and the database's busy timeout is 20 s."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction

from apps.connections.models import Connection, UpstreamLock


@contextmanager
def upstream_object_lock(connection: Connection, key: str) -> Iterator[None]:
    key = key[:200]
    with transaction.atomic():
        try:
            with transaction.atomic():
                UpstreamLock.objects.get_or_create(connection=connection, key=key)
        except IntegrityError:  # created by a concurrent writer between the look-up and the insert
            pass
        UpstreamLock.objects.select_for_update().filter(connection=connection, key=key).exists()
        yield
