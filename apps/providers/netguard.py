"""Below httpx: deadlines that a slow upstream cannot stretch, and the address check made at connect time.

httpx's read timeout applies to each read, so a server sending one byte every few seconds never trips it and can
hold a worker for as long as it likes. :class:`GuardedBackend` wraps httpcore's network backend so that every read
on an upstream socket is also bounded by the policy of the call in progress (a ``ContextVar``):

* :class:`Deadline` — a total deadline (a non-streamed call, or the wait for a streamed answer's headers);
* :class:`MinimumProgress` — a streamed body must deliver at least ``min_bytes`` in every ``window`` seconds.

A read that runs out of time raises ``httpcore.ReadTimeout``, which httpx turns into ``httpx.ReadTimeout``.

The same backend resolves the host itself and asks :data:`address_policy` (set by the site) about every address
before connecting to one that is allowed, by its IP: a name that resolves to a forbidden address is refused, and
the check cannot be raced by a second DNS answer. Imports nothing from Django.
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpcore

__all__ = [
    "AddressRefused",
    "Deadline",
    "GuardedBackend",
    "MinimumProgress",
    "guarded",
    "set_address_policy",
]


class Deadline:
    """Every read must finish by ``at`` (a ``time.monotonic()`` value), ``seconds`` after the last byte of the
    request was written: uploading a large body is progress of ours, not the upstream stalling."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.at = clock() + seconds
        self.seconds = seconds

    def budget(self) -> float:
        return self.at - self.clock()

    def received(self, n: int, seconds: float) -> None:
        return None

    def sent(self) -> None:
        self.at = self.clock() + self.seconds


@dataclass
class MinimumProgress:
    """At least ``min_bytes`` per ``window`` seconds spent waiting on the upstream; a window that delivers them
    starts the next one. Time the reader spends elsewhere (a slow browser taking the download) does not count."""

    window: float
    min_bytes: int = 1024
    _waited: float = field(default=0.0, init=False)
    _got: int = field(default=0, init=False)

    def budget(self) -> float:
        return self.window - self._waited

    def received(self, n: int, seconds: float) -> None:
        self._waited += seconds
        self._got += n
        if self._got >= self.min_bytes:
            self._waited, self._got = 0.0, 0

    def sent(self) -> None:
        return None


_policy: contextvars.ContextVar[Deadline | MinimumProgress | None] = contextvars.ContextVar(
    "adminui_upstream_policy", default=None
)


@contextlib.contextmanager
def guarded(policy: Deadline | MinimumProgress | None) -> Iterator[None]:
    """Reads on upstream sockets inside this block obey ``policy``."""
    token = _policy.set(policy)
    try:
        yield
    finally:
        _policy.reset(token)


class _GuardedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        policy = _policy.get()
        if policy is None:
            return self._inner.read(max_bytes, timeout)
        budget = policy.budget()
        if budget <= 0:
            raise httpcore.ReadTimeout("the upstream made too little progress in the time allowed")
        started = time.monotonic()
        try:
            data = self._inner.read(max_bytes, budget if timeout is None else min(timeout, budget))
        finally:
            policy.received(0, time.monotonic() - started)
        policy.received(len(data), 0.0)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)
        policy = _policy.get()
        if policy is not None:
            policy.sent()

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _GuardedStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class AddressRefused(httpcore.ConnectError):
    """The host resolved only to addresses the outbound policy refuses. ``str()`` says why in plain words."""


# (host as written, resolved IP) → None when allowed, or the reason it is not
AddressPolicy = Callable[[str, str], str | None]
address_policy: AddressPolicy | None = None
# base URL → None when allowed, or the reason it is not (e.g. plain http in production)
UrlPolicy = Callable[[str], str | None]
url_policy: UrlPolicy | None = None


def set_address_policy(policy: AddressPolicy | None, url: UrlPolicy | None = None) -> None:
    """Install the site's outbound policy: ``policy`` for every address before connecting, ``url`` for every base
    URL before a request is sent."""
    global address_policy, url_policy
    address_policy, url_policy = policy, url


class GuardedBackend(httpcore.NetworkBackend):
    """Wraps httpcore's sync backend: policed reads, and connections only to addresses the policy allows."""

    def __init__(self, inner: httpcore.NetworkBackend | None = None):
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        policy = address_policy
        if policy is None:
            stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
            return _GuardedStream(stream)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"getaddrinfo failed: {exc}") from exc
        refusal = ""
        last: Exception | None = None
        for _family, _type, _proto, _name, sockaddr in infos:
            ip = str(sockaddr[0])
            reason = policy(host, ip)
            if reason:
                refusal = reason
                continue
            try:
                stream = self._inner.connect_tcp(ip, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
                continue
            return _GuardedStream(stream)
        if last is not None:
            raise last
        raise AddressRefused(refusal or "no address to connect to")

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("connections to unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
