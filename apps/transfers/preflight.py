"""Reading ToolJet export files without loading them: one streaming pass (ijson) that validates the JSON, checks
the export shape, computes the SHA-256 and collects what the preflight report shows. Nothing here talks upstream.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, BinaryIO

import ijson

READ_SIZE = 256 * 1024
# tooljet.md §1: JSON bodies up to 50 MB by default (the instance's MAX_JSON_SIZE raises it); an import body is the file
TOOLJET_BODY_LIMIT = 50 * 1024 * 1024


class ExportRejected(Exception):
    """The file cannot be imported; ``message`` says why in plain words."""

    def __init__(self, message: str, *, summary: ExportSummary | None = None):
        super().__init__(message)
        self.message = message
        self.summary = summary


@dataclass
class ExportSummary:
    size: int = 0
    sha256: str = ""
    tooljet_version: str = ""
    app_name: str = ""
    app_count: int = 0
    definitions: int = 0
    versions: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    data_sources: list[str] = field(default_factory=list)
    has_tjdb_key: bool = False
    top_keys: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _HashingReader:
    def __init__(self, raw: BinaryIO, sink: BinaryIO | None = None):
        self.raw = raw
        self.sink = sink
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(READ_SIZE if n is None or n < 0 else n)
        self.digest.update(data)
        self.size += len(data)
        if self.sink is not None and data:
            self.sink.write(data)
        return data


def version_tuple(text: str) -> tuple[int, ...]:
    """``3.20.40-ee`` → (3, 20, 40); suffixes after ``-`` are ignored."""
    parts = []
    for piece in (text or "").split("-", 1)[0].strip().lstrip("vV").split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    while len(parts) < 3:
        parts.append(0)
    return tuple(parts)


def version_newer(candidate: str, target: str) -> bool:
    return version_tuple(candidate) > version_tuple(target)


_APP = "app.item.definition.appV2"


def inspect_export(fileobj: BinaryIO, *, sink: BinaryIO | None = None) -> ExportSummary:
    """Stream through a ToolJet export; raise :class:`ExportRejected` for anything ToolJet would refuse or 500 on.

    ``sink`` receives a copy of every byte read (to stage the upload in the same pass). The file position is
    rewound to the start afterwards so the same file can be sent upstream.
    """
    fileobj.seek(0)
    reader = _HashingReader(fileobj, sink)
    s = ExportSummary()
    first = True
    app_is_array = None
    try:
        for prefix, event, value in ijson.parse(reader):
            if first:
                first = False
                if event != "start_map":
                    raise ExportRejected(
                        "This file is JSON but not a ToolJet export (it is not a JSON object)."
                    )
                continue
            if prefix == "" and event == "map_key":
                s.top_keys.append(value)
                if value == "tooljet_database":
                    s.has_tjdb_key = True
            elif prefix == "tooljet_version":
                s.tooljet_version = str(value) if event in ("string", "number") else ""
            elif prefix == "app":
                if event in ("start_array",):
                    app_is_array = True
                elif event in ("start_map", "string", "number", "boolean", "null"):
                    app_is_array = False
            elif prefix == "app.item" and event == "start_map":
                s.app_count += 1
            elif prefix == "app.item.definition" and event == "start_map":
                s.definitions += 1
            elif prefix == f"{_APP}.name" and event == "string" and not s.app_name:
                s.app_name = value
            elif prefix == f"{_APP}.appVersions.item.name" and event == "string":
                s.versions.append(value)
            elif prefix == f"{_APP}.dataSources.item.name" and event == "string":
                s.data_sources.append(value)
            elif prefix == "tooljet_database.item.table_name" and event == "string":
                s.tables.append(value)
        while reader.read(READ_SIZE):  # ijson may stop before EOF; the hash and the copy need every byte
            pass
    except ijson.JSONError as exc:
        text = str(exc)
        if "premature EOF" in text and reader.size == 0:
            raise ExportRejected("The file is empty.") from None
        if "premature EOF" in text or "Incomplete JSON content" in text:
            raise ExportRejected(
                "The file ends in the middle of the JSON document — it is truncated (an interrupted download?)."
            ) from None
        if first:
            raise ExportRejected(
                "This file is not JSON. Upload the .json file a ToolJet export produced."
            ) from None
        raise ExportRejected(f"This file is not valid JSON: {text.splitlines()[0][:120]}") from None
    finally:
        s.size = reader.size
        s.sha256 = reader.digest.hexdigest()
        fileobj.seek(0)
    if first:
        raise ExportRejected("The file is empty.", summary=s)
    if not s.tooljet_version:
        raise ExportRejected(
            "This JSON has no “tooljet_version”, so it is not a ToolJet app export.", summary=s
        )
    if app_is_array is not True or s.app_count == 0:
        raise ExportRejected(
            "This export has no “app” list with an app definition; ToolJet would fail on it (HTTP 500), so "
            "nothing was sent.",
            summary=s,
        )
    if s.definitions != s.app_count:
        raise ExportRejected(
            "Every entry of “app” needs a “definition” object; this file lacks one.", summary=s
        )
    return s
