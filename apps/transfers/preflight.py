"""Reading ToolJet export files without loading them: one streaming pass (ijson) that validates the JSON, checks
the export shape, computes the SHA-256 and collects what the preflight report shows. Nothing here talks upstream.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import asdict, dataclass, field
from typing import Any, BinaryIO

import ijson

from apps.providers.jsonguard import GuardedReader, JSONTooDeep

READ_SIZE = 256 * 1024
# tooljet.md §1: JSON bodies up to 50 MB by default (the instance's MAX_JSON_SIZE raises it); an import body is the file
TOOLJET_BODY_LIMIT = 50 * 1024 * 1024
# The longest app name the console sends as ``appName``. tooljet.md gives no limit for app names (only for group
# names, 50), so this is the console's own: the confirm form's limit, checked already in the preflight.
APP_NAME_MAX_LENGTH = 200
# a ZIP starts with a local file header, or (empty archive) with the end-of-central-directory record
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


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


def _json_problem(exc: ijson.JSONError, reader: _HashingReader, *, started: bool, hint: str) -> str:
    """A plain-words reason for an ijson error: empty, truncated, not JSON at all (``hint`` says what to upload
    instead) or invalid further in."""
    text = str(exc)
    if "premature EOF" in text and (reader.size == 0 or not started):
        return "The file is empty." if reader.size == 0 else "The file holds no JSON (only blank space)."
    if "premature EOF" in text or "Incomplete JSON content" in text:
        return (
            "The file ends in the middle of the JSON document — it is truncated (an interrupted download?)."
        )
    if not started:
        return f"This file is not JSON. {hint}"
    if text[:2] in ("b'", 'b"'):  # the C backend gives the repr of bytes when the input is not UTF-8
        text = text[2:].split("\\n", 1)[0]
    first_line = text.splitlines()[0] if text else "unreadable content"
    return f"This file is not valid JSON: {first_line[:120]}"


def _drain(reader: _HashingReader) -> None:
    """Read to the end (ijson may stop early): the hash, the size and the copy need every byte."""
    while reader.read(READ_SIZE):
        pass


def header_tooljet_version(fileobj) -> str:
    """The ``tooljet_version`` of an export (its first key in practice, so this reads very little); ``""`` when
    the header has none. Raises ijson.JSONError for a body that is not JSON."""
    for prefix, event, value in ijson.parse(GuardedReader(fileobj)):
        if prefix == "tooljet_version" and event in ("string", "number"):
            return str(value)
        if prefix == "app":  # past the header: stop reading
            break
    return ""


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
        for prefix, event, value in ijson.parse(GuardedReader(reader)):
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
        _drain(reader)
    except JSONTooDeep as exc:
        raise ExportRejected(exc.message) from None
    except ijson.JSONError as exc:
        raise ExportRejected(
            _json_problem(
                exc, reader, started=not first, hint="Upload the .json file a ToolJet export produced."
            )
        ) from None
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


def inspect_json_object(fileobj: BinaryIO, *, sink: BinaryIO | None = None, hint: str) -> ExportSummary:
    """Check, in one streaming pass, that a file is one well-formed JSON object (what a vendor's “Export to JSON”
    writes) without loading it; ``sink`` receives a copy of every byte. Returns its size, SHA-256 and top-level
    keys; raises :class:`ExportRejected` (with the size and hash of the whole file) otherwise. ``hint`` says what
    to upload instead of something that is not JSON."""
    fileobj.seek(0)
    reader = _HashingReader(fileobj, sink)
    s = ExportSummary()
    first_event = None
    problem = ""
    try:
        for prefix, event, value in ijson.parse(GuardedReader(reader)):
            if first_event is None:
                first_event = event
                if event != "start_map":
                    kind = "a list" if event == "start_array" else "a single value"
                    problem = f"This file is JSON but not an export: it holds {kind}, not a JSON object."
                    break
            elif prefix == "" and event == "map_key":
                s.top_keys.append(value)
    except JSONTooDeep as exc:
        problem = exc.message
    except ijson.JSONError as exc:
        problem = _json_problem(exc, reader, started=first_event is not None, hint=hint)
    # every byte, for the hash and the copy; not in a `finally`, where a read error would hide the first one
    _drain(reader)
    s.size = reader.size
    s.sha256 = reader.digest.hexdigest()
    fileobj.seek(0)
    if problem:
        raise ExportRejected(problem, summary=s)
    return s


def inspect_zip(fileobj: BinaryIO) -> None:
    """Check that a file is a readable ZIP archive with at least one file in it (a Toolscript export). Reads only
    the archive's directory; the members are not unpacked. Raises :class:`ExportRejected`."""
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            names = [i.filename for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        names = None
    finally:
        fileobj.seek(0)
    if names is None:
        raise ExportRejected(
            "This file is not a ZIP archive (or it is damaged or truncated). Upload the ZIP the export produced."
        )
    if not names:
        raise ExportRejected("This ZIP archive is empty.")


def looks_like_zip(fileobj: BinaryIO) -> bool:
    fileobj.seek(0)
    head = fileobj.read(4)
    fileobj.seek(0)
    return head in ZIP_MAGIC
