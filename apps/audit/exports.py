"""Streaming serializers for audit exports (web and `audit_export`): constant memory, one row at a time."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from apps.audit.chain import HASHED_FIELDS, iso
from apps.audit.models import AuditEvent

FORMATS = ("jsonl", "csv")
CONTENT_TYPES = {"jsonl": "application/x-ndjson; charset=utf-8", "csv": "text/csv; charset=utf-8"}
CHUNK_SIZE = 2000

# Every hashed field, plus the live links (ids) and the row's own hash, in the order people read them.
FIELDS = (
    *HASHED_FIELDS[:2],
    "actor_id",
    *HASHED_FIELDS[2:6],
    "connection_id",
    *HASHED_FIELDS[6:],
    "hash",
)
_JSON_FIELDS = ("before", "after", "extra")


def event_row(event: AuditEvent) -> dict[str, Any]:
    row = {name: getattr(event, name) for name in FIELDS}
    row["created_at"] = iso(event.created_at)
    return row


def _events(qs) -> Iterator[AuditEvent]:
    return qs.order_by("sequence").iterator(chunk_size=CHUNK_SIZE)


def stream_jsonl(qs) -> Iterator[str]:
    for event in _events(qs):
        yield json.dumps(event_row(event), ensure_ascii=False, sort_keys=False) + "\n"


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # keep spreadsheets from evaluating it (CSV injection)
    return value


def stream_csv(qs) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(FIELDS)
    for event in _events(qs):
        row = event_row(event)
        for name in _JSON_FIELDS:
            row[name] = "" if row[name] is None else json.dumps(row[name], ensure_ascii=False, sort_keys=True)
        yield writer.writerow([_cell("" if row[name] is None else row[name]) for name in FIELDS])


def stream(qs, export_format: str) -> Iterable[str]:
    return stream_jsonl(qs) if export_format == "jsonl" else stream_csv(qs)
