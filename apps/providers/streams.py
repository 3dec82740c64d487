"""Streaming helpers shared by the clients: JSON arrays item by item (ijson), bodies spliced without buffering."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, BinaryIO

import httpx
import ijson

from apps.providers.errors import HTML_MESSAGE, ProviderError, UpstreamBroken
from apps.providers.jsonguard import GuardedReader, JSONTooDeep

CHUNK = 64 * 1024


class IterReader(io.RawIOBase):
    """A read()-able file over an iterator of byte chunks (what ijson consumes)."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf:
            try:
                self._buf = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def iter_json_items(
    response: httpx.Response,
    prefix: str,
    *,
    on_transport_error: Callable[[httpx.TransportError], ProviderError],
    request_id: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield the objects at ``prefix`` (``"item"`` for a bare array) without materialising the whole document."""
    ctype = response.headers.get("content-type", "")
    if ctype and "json" not in ctype.lower():
        raise UpstreamBroken(
            HTML_MESSAGE
            if "html" in ctype.lower()
            else f"The instance answered with {ctype}, not JSON: check the base URL.",
            status_code=response.status_code,
            request_id=request_id,
        )
    reader = GuardedReader(IterReader(response.iter_bytes(CHUNK)))
    try:
        yield from ijson.items(reader, prefix, use_float=True)
    except httpx.TransportError as exc:
        raise on_transport_error(exc) from None
    except JSONTooDeep as exc:
        raise UpstreamBroken(
            f"The instance's answer was refused: {exc.message[0].lower()}{exc.message[1:]}",
            status_code=response.status_code,
            request_id=request_id,
        ) from None
    except ijson.JSONError as exc:
        raise UpstreamBroken(
            "The instance sent a malformed or truncated JSON answer. Try again; if it persists, a proxy in front "
            "of the instance may be cutting responses short.",
            status_code=response.status_code,
            # not the parser's text: it quotes the body, and a body may echo our Authorization header
            upstream_message=type(exc).__name__,
            request_id=request_id,
        ) from None


def guarded_chunks(
    response: httpx.Response, on_transport_error: Callable[[httpx.TransportError], ProviderError]
) -> Iterator[bytes]:
    # iter_bytes() without a chunk size hands over what the socket read gave (≤ 64 KiB) without re-chunking,
    # which copies every byte once more: measurable on a 200 MB export.
    try:
        yield from response.iter_bytes()
    except httpx.TransportError as exc:
        raise on_transport_error(exc) from None


def _source_chunks(bundle: bytes | BinaryIO | Iterable[bytes]) -> Iterator[bytes]:
    if isinstance(bundle, bytes | bytearray):
        for i in range(0, len(bundle), CHUNK):
            yield bytes(bundle[i : i + CHUNK])
    elif hasattr(bundle, "read"):
        while chunk := bundle.read(CHUNK):  # type: ignore[union-attr]
            yield chunk
    else:
        yield from bundle  # type: ignore[misc]


def top_level_keys(bundle: bytes | BinaryIO) -> set[str]:
    """Top-level keys of a JSON object, parsed as a stream (the file position is restored)."""
    if isinstance(bundle, bytes | bytearray):
        source: Any = io.BytesIO(bundle)
    else:
        source = bundle
        start = source.tell()
    keys: set[str] = set()
    try:
        for prefix, event, value in ijson.parse(GuardedReader(source)):
            if prefix == "" and event == "map_key":
                keys.add(value)
    except JSONTooDeep as exc:
        raise ValueError(exc.message) from None
    except ijson.JSONError as exc:
        raise ValueError(f"the bundle is not valid JSON: {str(exc)[:120]}") from None
    finally:
        if not isinstance(bundle, bytes | bytearray):
            source.seek(start)
    return keys


def splice_json_object(
    bundle: bytes | BinaryIO | Iterable[bytes], extra: Mapping[str, Any]
) -> Iterator[bytes]:
    """Stream a JSON object with ``extra`` keys appended before its closing brace (later keys win in JSON.parse).

    Only a small tail is held back, so a 50 MB bundle is never in memory at once.
    """
    tail = b""
    started = False
    for chunk in _source_chunks(bundle):
        if not chunk:
            continue
        data = tail + chunk
        if not started:
            stripped = data.lstrip()
            if not stripped:
                tail = b""
                continue
            if stripped[:1] != b"{":
                raise ValueError("the bundle must be a JSON object")
            started = True
            data = stripped
        keep = 1024
        if len(data) > keep:
            yield data[:-keep]
            tail = data[-keep:]
        else:
            tail = data
    body = tail.rstrip()
    if not started or not body.endswith(b"}"):
        raise ValueError("the bundle must be a JSON object")
    body = body[:-1].rstrip()
    extra_json = json.dumps(dict(extra), ensure_ascii=False)[1:-1].encode()
    separator = b"" if body.endswith(b"{") else b","
    yield body + (separator + extra_json if extra_json else b"") + b"}"


TRUNCATED_MESSAGE = (
    "The instance's answer was cut off or is not valid JSON (truncated download). Nothing was saved; try again. "
    "If it keeps happening, a proxy in front of the instance may limit response size or time."
)


def validated_json_chunks(
    chunks: Iterable[bytes], *, status_code: int | None = None, request_id: str | None = None
) -> Iterator[bytes]:
    """Pass bytes through unchanged while checking, in constant time per chunk, that they look like one complete
    JSON document: the first significant byte opens an object or array (an HTML page fails before its first byte
    reaches the caller) and the last one closes it (a body cut off mid-document raises :class:`UpstreamBroken`
    after its last chunk). The transport already catches bodies shorter than their Content-Length or missing
    their final chunk; fully parsing a 200 MB export here would cost more than the download itself. A caller
    that stops reading early (it only wanted the header) gets no error.
    """
    opener = b""
    last = b""
    for chunk in chunks:
        stripped = chunk.strip()
        if not stripped:
            continue
        if not opener:
            opener = stripped[:1]
            if opener not in (b"{", b"["):
                raise UpstreamBroken(
                    HTML_MESSAGE if opener == b"<" else TRUNCATED_MESSAGE,
                    status_code=status_code,
                    upstream_message=f"the answer starts with {opener.decode('latin-1')!r}",
                    request_id=request_id,
                )
        last = stripped[-1:]
        yield chunk
    if not opener or last != (b"}" if opener == b"{" else b"]"):
        raise UpstreamBroken(
            TRUNCATED_MESSAGE,
            status_code=status_code,
            upstream_message="empty body" if not opener else "the document does not end where it should",
            request_id=request_id,
        )
