"""Benchmark: stream an export of 100k audit rows (jsonl and csv); report time and peak Python memory.

    .venv/bin/python tests/benchmarks/bench_audit.py [--rows 100000]

Uses a throwaway SQLite database in a temp directory (never your var/ database). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path


def _setup(tmp: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ.setdefault("ADMINUI_TESTING", "1")
    os.environ["ADMINUI_VAR_DIR"] = str(tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adminui.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _fill(rows: int) -> None:
    """Append `rows` chained events quickly (bulk insert, same hashing as audit_record)."""
    from datetime import UTC, datetime, timedelta

    from django.db import transaction

    from apps.audit.chain import compute_hash
    from apps.audit.models import GENESIS_HASH, AuditEvent, allow_append

    start = datetime(2024, 1, 1, tzinfo=UTC)
    prev = GENESIS_HASH
    batch: list[AuditEvent] = []
    with transaction.atomic(), allow_append():
        for n in range(1, rows + 1):
            event = AuditEvent(
                sequence=n,
                created_at=start + timedelta(seconds=n),
                actor_username=f"operator{n % 7}",
                remote_addr="10.0.0.1",
                request_id=f"req{n:08d}",
                connection_name="Prod",
                connection_slug="prod",
                provider="tooljet",
                action="user.role",
                target_type="user",
                target_id=str(n),
                target_repr=f"user{n}@example.com",
                before={"role": "viewer"},
                after={"role": "builder", "groups": ["a", "b"]},
                reason="benchmark",
                extra={},
                prev_hash=prev,
            )
            event.hash = prev = compute_hash(event)
            batch.append(event)
            if len(batch) == 5000:
                AuditEvent.objects.bulk_create(batch)
                batch = []
        if batch:
            AuditEvent.objects.bulk_create(batch)


def _measure(export_format: str) -> tuple[float, int, int]:
    from apps.audit.exports import stream
    from apps.audit.models import AuditEvent

    # Two passes: time without tracemalloc (it slows Python down a lot), then peak memory with it.
    began = time.perf_counter()
    size = sum(len(chunk) for chunk in stream(AuditEvent.objects.all(), export_format))
    elapsed = time.perf_counter() - began
    tracemalloc.start()
    for _chunk in stream(AuditEvent.objects.all(), export_format):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="adminui-bench-") as tmp:
        _setup(Path(tmp))
        began = time.perf_counter()
        _fill(args.rows)
        print(f"audit export benchmark: {args.rows} rows (filled in {time.perf_counter() - began:.1f}s)")
        for export_format in ("jsonl", "csv"):
            elapsed, peak, size = _measure(export_format)
            print(
                f"  {export_format:5} {elapsed:6.2f}s  {args.rows / elapsed:9.0f} rows/s  "
                f"{size / 1e6:7.1f} MB out  peak {peak / 1e6:6.2f} MB"
            )
        from apps.audit.chain import verify_chain

        began = time.perf_counter()
        result = verify_chain()
        print(f"  verify {time.perf_counter() - began:5.2f}s  {result.line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
