"""Fault injection shared by both simulators.

A fault matches a request by path prefix (and optionally method) and is consumed in the order it was added.
Kinds: ``latency`` (``ms``), ``status`` (vendor JSON error body, ``retry_after`` for 429), ``html`` (nginx-like
error page, or HTML with status 200), ``truncated`` (the start of the real JSON body, cut off), ``drop`` (the
connection is closed without a response), ``lost`` (the request is carried out, then the connection is closed
without a response: a write whose answer never arrives), ``drip`` (the real answer's status and headers at once,
then its body one byte every ``ms`` milliseconds, 4000 unless given: a server slower than any read timeout
notices, yet never silent for long), ``echo`` (an error, ``status`` 400 unless given, in the vendor's JSON whose
message quotes the request's Authorization header as is, percent-encoded and base64-encoded, with every ``/`` of
the body written ``\\/``: a server that leaks what it was sent).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

KINDS = ("latency", "status", "html", "truncated", "drop", "lost", "drip", "echo")
DRIP_MS = 4000


@dataclass
class Fault:
    kind: str
    status: int | None = None
    path: str = "/"
    method: str | None = None
    times: int | None = 1
    retry_after: int | str | None = None
    ms: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return path.startswith(self.path)


class FaultSet:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        kind: str,
        status: int | None = None,
        path: str = "/",
        method: str | None = None,
        times: int | None = 1,
        retry_after: int | str | None = None,
        ms: int = 0,
    ) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 or None")
        if kind == "status" and status is None:
            status = 500
        if kind == "html" and status is None:
            status = 502
        if kind == "echo" and status is None:
            status = 400
        if kind == "drip" and not ms:
            ms = DRIP_MS
        fault = Fault(kind, status, path or "/", method, times, retry_after, int(ms or 0))
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """Return the first matching fault and consume one use of it."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)

    def as_list(self) -> list[dict]:
        with self._lock:
            return [dict(vars(f)) for f in self._faults]


def parse_fault_spec(spec: str) -> dict:
    """Parse the CLI form ``KIND[:STATUS[:PATH]]`` (e.g. ``status:503:/api/ext/users``, ``drop::/api/v2/users``)."""
    parts = spec.split(":", 2)
    kind = parts[0]
    out: dict = {"kind": kind, "times": None}
    if len(parts) > 1 and parts[1]:
        if kind == "latency":
            out["ms"] = int(parts[1])
        else:
            out["status"] = int(parts[1])
    if len(parts) > 2 and parts[2]:
        out["path"] = parts[2]
    return out
