"""8 threads × 200 events: the chain-head row lock keeps the chain linear (no gaps, no fork)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from apps.audit.chain import verify_chain
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record

THREADS = 8
EVENTS_PER_THREAD = 200


@pytest.mark.django_db(transaction=True)
def test_it_keeps_one_chain_under_concurrent_writers():
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(EVENTS_PER_THREAD):
                audit_record(
                    action="directory.sync", actor=f"thread-{n}", target_type="thread", target_id=f"{n}-{i}"
                )
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    total = THREADS * EVENTS_PER_THREAD
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, total + 1))  # no gaps, no duplicates
    prev_hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(set(prev_hashes)) == total  # no fork: every row has its own predecessor
    result = verify_chain()
    assert result.ok and result.count == total, result.line
