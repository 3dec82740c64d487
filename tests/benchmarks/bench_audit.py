"""Benchmark the audit trail at 1M events: the list page and its filters (htmx partial p50/p95; and the query
alone, by position against the page-number pagination it replaced — count + OFFSET — on the same rows in the same
run), then a streamed export of one connection's tenth of the trail (jsonl and csv; time and peak Python memory)
and, up to 200k events, a chain verification.

    .venv/bin/python tests/benchmarks/bench_audit.py [--rows 1000000]

Uses a throwaway SQLite database in a temp directory (never your var/ database). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import statistics
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
                created_at=start + timedelta(seconds=n * 30),
                actor_username=f"operator{n % 7}",
                remote_addr="10.0.0.1",
                request_id=f"req{n:08d}",
                connection_name=f"Prod {n % 10}",
                connection_slug=f"prod{n % 10}",
                provider="tooljet",
                action=ACTIONS[n % len(ACTIONS)],
                outcome="failure" if n % 100 == 0 else "success",
                target_type="user",
                target_id=str(n % 50_000),
                target_repr=f"user{n % 50_000}@example.com",
                before={"role": "viewer"},
                after={"role": "builder", "groups": ["a", "b"]},
                reason="benchmark",
                extra={},
                prev_hash=prev,
            )
            event.hash = prev = compute_hash(event)
            batch.append(event)
            if len(batch) == 5000:
                _insert(batch)
                batch = []
        if batch:
            _insert(batch)


def _insert(events) -> None:
    """Plain executemany: bulk_create's SQL compiler would take most of a 1M-row fill."""
    import json

    from django.db import connection
    from django.db.models import DateTimeField, JSONField

    from apps.audit.models import AuditEvent

    fields = AuditEvent._meta.concrete_fields
    q = connection.ops.quote_name
    sql = (
        f"INSERT INTO {q(AuditEvent._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )

    def value(field, v):
        if v is None:
            return None
        if isinstance(field, JSONField):
            return json.dumps(v)
        if isinstance(field, DateTimeField):
            return connection.ops.adapt_datetimefield_value(v)
        return v

    with connection.cursor() as cursor:
        cursor.executemany(sql, [[value(f, getattr(e, f.attname)) for f in fields] for e in events])


ACTIONS = ("user.role", "user.status", "user.update", "group.member_add", "directory.sync", "app.export")


def _list_queries(rows: int) -> list[dict]:
    """The filter mix: newest page, a deep position, each indexed filter, a rare target, a date range, text."""
    from datetime import UTC, datetime, timedelta

    day = (datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rows * 15)).date().isoformat()
    return [
        {},
        {"page": 2},
        {"page": rows // 100},  # deep in the trail
        {"connection": "prod3"},
        {"actor": "operator3"},
        {"action": "user.role"},
        {"action": "group."},
        {"outcome": "failure"},
        {"target": "user:4242"},
        {"since": day, "until": day},
        {"q": "user4242@"},
        {"connection": "prod0", "outcome": "failure"},
    ]


def _bench_list(rows: int) -> dict:
    """The list as an htmx partial through the view, and the page-number version on the same filters."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.paginator import Paginator
    from django.test import Client

    from apps.audit.forms import AuditFilterForm
    from apps.audit.selectors import event_page, event_search

    user, _ = get_user_model().objects.get_or_create(username="bench")
    user.groups.add(Group.objects.get(name="admin"))
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    headers = {"HX-Request": "true"}
    queries = _list_queries(rows)
    positions: dict[int, int] = {}
    for i, query in enumerate(queries):  # warm-up, and each page's position: walk there once by "Older →"
        page = query.get("page", 1)
        params = {k: v for k, v in query.items() if k != "page"}
        if page > 1:
            form = AuditFilterForm(params)
            assert form.is_valid(), form.errors
            # the position of page N: the sequence just above its first row
            qs = event_search(filters=form.filters())
            positions[i] = qs.values_list("sequence", flat=True)[(page - 1) * 50 - 1]
            assert event_page(filters=form.filters(), before=positions[i]).object_list
        client.get("/audit/", params, headers=headers)
    after, before, per_query = [], [], {}
    for _round in range(5):
        for i, query in enumerate(queries):
            params = {k: v for k, v in query.items() if k != "page"}
            if i in positions:
                params["before"] = positions[i]
            start = time.perf_counter()
            response = client.get("/audit/", params, headers=headers)
            took = (time.perf_counter() - start) * 1000
            assert response.status_code == 200 and b"<tr>" in response.content, query
            after.append(took)
            per_query.setdefault(i, []).append(took)
    keyset = []
    for _round in range(3):
        for i, query in enumerate(
            queries
        ):  # the queries alone: by position, and by page number (count + OFFSET)
            form = AuditFilterForm({k: v for k, v in query.items() if k != "page"})
            assert form.is_valid()
            start = time.perf_counter()
            list(event_page(filters=form.filters(), before=positions.get(i)).object_list)
            keyset.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            page = Paginator(event_search(filters=form.filters()), 50).get_page(query.get("page", 1))
            list(page.object_list)
            _ = page.paginator.num_pages
            before.append((time.perf_counter() - start) * 1000)
    labels = [" ".join(f"{k}={v}" for k, v in q.items()) or "newest" for q in queries]
    return {
        "p50": statistics.median(after),
        "p95": _pct(after, 95),
        "query_p50": statistics.median(keyset),
        "query_p95": _pct(keyset, 95),
        "before_p50": statistics.median(before),
        "before_p95": _pct(before, 95),
        "per_query": {labels[i]: statistics.median(v) for i, v in per_query.items()},
    }


def _pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


VERIFY_UP_TO = 200_000  # the chain walk is timed up to this many events (it reads every row)
EXPORTED = {"connection": "prod3"}  # a tenth of the trail: a filtered export, as operators download


def _measure(export_format: str) -> tuple[float, int, int]:
    from apps.audit.exports import stream
    from apps.audit.selectors import event_search

    # Two passes: time without tracemalloc (it slows Python down a lot), then peak memory with it.
    began = time.perf_counter()
    size = sum(len(chunk) for chunk in stream(event_search(filters=EXPORTED), export_format))
    elapsed = time.perf_counter() - began
    tracemalloc.start()
    for _chunk in stream(event_search(filters=EXPORTED), export_format):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="adminui-bench-") as tmp:
        _setup(Path(tmp))
        began = time.perf_counter()
        _fill(args.rows)
        print(f"audit benchmark: {args.rows} events (filled in {time.perf_counter() - began:.1f}s)")
        listed = _bench_list(args.rows)
        print(
            f"  list, htmx partial, {len(listed['per_query'])} filter sets × 5: p50 {listed['p50']:.1f} ms, "
            f"p95 {listed['p95']:.1f} ms (target ≤ 100 ms); the query alone by position p50 "
            f"{listed['query_p50']:.1f} ms, p95 {listed['query_p95']:.1f} ms, by page number (count + OFFSET) p50 "
            f"{listed['before_p50']:.1f} ms, p95 {listed['before_p95']:.1f} ms "
            f"({listed['before_p95'] / listed['query_p95']:.0f}× at p95)"
        )
        print("  per filter p50 (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in listed["per_query"].items()))
        exported = args.rows // 10
        print(f"  export of {EXPORTED} ({exported} events), streamed:")
        for export_format in ("jsonl", "csv"):
            elapsed, peak, size = _measure(export_format)
            print(
                f"  {export_format:5} {elapsed:6.2f}s  {exported / elapsed:9.0f} rows/s  "
                f"{size / 1e6:7.1f} MB out  peak {peak / 1e6:6.2f} MB"
            )
        if args.rows <= VERIFY_UP_TO:
            from apps.audit.chain import verify_chain

            began = time.perf_counter()
            result = verify_chain()
            print(f"  verify {time.perf_counter() - began:5.2f}s  {result.line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
