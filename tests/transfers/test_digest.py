from __future__ import annotations

import hashlib
import os

import pytest

from apps.transfers import storage
from apps.transfers.digest import OverlappedSha256


def test_it_hashes_the_pieces_in_order():
    pieces = [os.urandom(size) for size in (1, 70_000, 1024 * 1024, 5, 300_000)] * 3
    digest = OverlappedSha256()
    for piece in pieces:
        digest.update(piece)
    assert digest.hexdigest() == hashlib.sha256(b"".join(pieces)).hexdigest()
    assert digest.hexdigest() == hashlib.sha256(b"".join(pieces)).hexdigest()  # asking twice changes nothing


def test_an_empty_stream_has_the_empty_digest():
    assert OverlappedSha256().hexdigest() == hashlib.sha256(b"").hexdigest()


def test_a_failed_update_is_raised_not_swallowed():
    digest = OverlappedSha256()
    digest.update("not bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        digest.hexdigest()


def test_a_reused_buffer_is_hashed_as_it_was_when_passed():
    buffer = bytearray(b"a" * 100_000)
    digest = OverlappedSha256()
    digest.update(buffer)
    buffer[:] = b"b" * 100_000  # the owner refills it before the helper thread may have read it
    digest.update(memoryview(buffer))
    assert digest.hexdigest() == hashlib.sha256(b"a" * 100_000 + b"b" * 100_000).hexdigest()


def test_write_stream_writes_the_file_and_returns_its_size_and_digest(exports_dir):
    pieces = [os.urandom(70_000), b"", os.urandom(5)]
    assert storage.write_stream("app.json", iter(pieces)) == (
        70_005,
        hashlib.sha256(b"".join(pieces)).hexdigest(),
    )
    assert (exports_dir / "app.json").read_bytes() == b"".join(pieces)
    assert [p.name for p in exports_dir.iterdir()] == ["app.json"]


def test_write_stream_leaves_nothing_behind_when_the_stream_fails(exports_dir):
    def broken():
        yield b"half an export"
        raise ConnectionError("upstream went away")

    with pytest.raises(ConnectionError):
        storage.write_stream("app.json", broken())
    assert list(exports_dir.iterdir()) == []
