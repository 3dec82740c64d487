"""SHA-256 of a stream, computed beside it: hashlib releases the GIL on large updates, so hashing piece N on a helper
thread overlaps with sending (or writing) piece N and receiving piece N+1 (docs/benchmarks.md, "Transfers": ~820 →
~1,100 MB/s through the console). One update is in flight per digest, so pieces are hashed in order."""

from __future__ import annotations

import hashlib
from concurrent.futures import Future, ThreadPoolExecutor

_HASHERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sha256")


class OverlappedSha256:
    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._pending: Future | None = None

    def _settle(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def update(self, data: bytes) -> None:
        """Queue ``data`` after the previous piece. A mutable buffer is copied first: its owner may refill it
        before the helper thread has read it."""
        if isinstance(data, bytearray | memoryview):
            data = bytes(data)
        self._settle()
        self._pending = _HASHERS.submit(self._digest.update, data)

    def hexdigest(self) -> str:
        self._settle()
        return self._digest.hexdigest()
