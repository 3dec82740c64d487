"""The one gate every JSON the console reads goes through: nesting depth capped before any parser sees it.

Parsers pay for depth far beyond its size: ijson's C backend builds a prefix string per level ("item.item.…") and
collects a whole buffer's events before yielding the first one, so 62 KiB of ``[`` costs gigabytes (depth²), and
``json.loads`` recurses once per level. The guard scans the bytes first, cheaply and outside strings (escapes
understood), and refuses a document nested deeper than the limit before a parser is handed the piece that would go
too deep. It holds no more than one piece at a time, whatever the document's size.

* :class:`DepthScanner` — the incremental scan (feed pieces in order).
* :func:`guard_chunks` — pass an iterator of byte pieces through the scan.
* :class:`GuardedReader` — a ``read()``-able file that scans what it hands over (what ijson consumes).
* :func:`loads` — ``json.loads`` behind the scan.

The limit is :data:`DEFAULT_MAX_DEPTH` unless the site sets another with :func:`set_max_depth`.
Imports nothing from Django.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import accumulate
from typing import Any, BinaryIO

import ijson

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DepthScanner",
    "GuardedReader",
    "JSONTooDeep",
    "check_depth",
    "guard_chunks",
    "loads",
    "max_depth",
    "set_max_depth",
]

# Real app exports nest a few dozen levels (a ToolJet app: export → app → definition → appV2 → versions →
# components → properties → …, JSON-in-JSON aside). 512 leaves a wide margin and keeps ijson's worst case small.
DEFAULT_MAX_DEPTH = 512
_max_depth = DEFAULT_MAX_DEPTH


def set_max_depth(value: int) -> None:
    """Set the process-wide limit (the site's ``ADMINUI_JSON_MAX_DEPTH``)."""
    global _max_depth
    if int(value) < 1:
        raise ValueError("the JSON depth limit must be at least 1")
    _max_depth = int(value)


def max_depth() -> int:
    return _max_depth


class JSONTooDeep(ijson.JSONError, ValueError):
    """The document nests deeper than the limit. An ``ijson.JSONError`` and a ``ValueError``, so code that already
    refuses malformed JSON refuses this too."""

    def __init__(self, limit: int):
        self.limit = limit
        self.message = (
            f"The JSON is nested more than {limit} levels deep, more than any real export: it was refused "
            "without being parsed."
        )
        super().__init__(self.message)


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DELTA = [0] * 256
for _b in b"[{":
    _DELTA[_b] = 1
for _b in b"]}":
    _DELTA[_b] = -1


class DepthScanner:
    """Tracks nesting depth over a JSON text fed in pieces (any split: inside strings, between ``\\`` and the
    character it escapes). Raises :class:`JSONTooDeep` from :meth:`feed` as soon as a piece goes too deep. Does not
    validate anything else: the parser that follows does."""

    __slots__ = ("depth", "limit", "_in_string", "_escape")

    def __init__(self, limit: int | None = None):
        self.limit = _max_depth if limit is None else limit
        self.depth = 0
        self._in_string = False
        self._escape = False

    def feed(self, piece: bytes | bytearray | memoryview) -> None:
        data = bytes(piece)
        if self._escape:  # the previous piece ended with the "\" that escapes this piece's first byte
            data = b"\\" + data
            self._escape = False
        if b"\\" in data:
            run = len(data) - len(data.rstrip(b"\\"))
            if run % 2:  # a lone final "\": keep it for the next piece
                data = data[:-1]
                self._escape = True
            # Escapes pair from the left: drop escaped backslashes first, then escaped quotes. Outside strings a
            # backslash is not JSON at all, and the parser stops there.
            data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
        if b'"' in data:
            parts = data.split(b'"')
            outside = b"".join(parts[1::2] if self._in_string else parts[0::2])
            if len(parts) % 2 == 0:
                self._in_string = not self._in_string
        elif self._in_string:
            return
        else:
            outside = data
        brackets = outside.translate(None, _NOT_BRACKETS)
        if not brackets:
            return
        opens = brackets.count(b"[") + brackets.count(b"{")
        if self.depth + opens > self.limit:
            peak = max(accumulate(map(_DELTA.__getitem__, brackets), initial=self.depth))
            if peak > self.limit:
                raise JSONTooDeep(self.limit)
        self.depth = max(0, self.depth + 2 * opens - len(brackets))


def check_depth(data: bytes | str, *, limit: int | None = None) -> None:
    """Raise :class:`JSONTooDeep` when a whole document in memory nests deeper than the limit."""
    DepthScanner(limit).feed(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)


def loads(data: bytes | bytearray | str, *, limit: int | None = None) -> Any:
    """``json.loads`` after the depth scan. Raises ``ValueError`` (``JSONTooDeep`` or ``JSONDecodeError``)."""
    check_depth(bytes(data) if isinstance(data, bytearray) else data, limit=limit)
    return json.loads(data)


def guard_chunks(chunks: Iterable[bytes], *, limit: int | None = None) -> Iterator[bytes]:
    """Yield ``chunks`` unchanged, each scanned before it is handed on."""
    scanner = DepthScanner(limit)
    for chunk in chunks:
        scanner.feed(chunk)
        yield chunk


# ijson's C backend collects the events of a whole read before yielding the first, each holding its prefix string
# (up to ~5 bytes per level): at the depth limit a 64 KiB read of "[[[…]]]" holds ~50 MB, a 16 KiB read a quarter.
MAX_READ = 16 * 1024


class GuardedReader:
    """A binary file whose ``read()`` hands over only scanned bytes, at most :data:`MAX_READ` at a time: give it to
    ``ijson.parse``/``items`` in place of the file."""

    def __init__(self, raw: BinaryIO | Any, *, limit: int | None = None):
        self.raw = raw
        self.scanner = DepthScanner(limit)

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(MAX_READ if n is None or n < 0 or n > MAX_READ else n)
        if data:
            self.scanner.feed(data)
        return data
