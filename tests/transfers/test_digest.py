from __future__ import annotations

import hashlib
import os

import pytest

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
