from __future__ import annotations

import hashlib
import os

import pytest

from apps.transfers.digest import OverlappedSha256, write_hashed


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


def test_write_hashed_writes_the_file_and_returns_its_size_and_digest(tmp_path):
    pieces = [os.urandom(70_000), b"", os.urandom(5)]
    dest = tmp_path / "app.json"
    assert write_hashed(iter(pieces), dest) == (70_005, hashlib.sha256(b"".join(pieces)).hexdigest())
    assert dest.read_bytes() == b"".join(pieces)
    assert [p.name for p in tmp_path.iterdir()] == ["app.json"]


def test_write_hashed_leaves_nothing_behind_when_the_stream_fails(tmp_path):
    def broken():
        yield b"half an export"
        raise ConnectionError("upstream went away")

    dest = tmp_path / "app.json"
    with pytest.raises(ConnectionError):
        write_hashed(broken(), dest)
    assert list(tmp_path.iterdir()) == []
