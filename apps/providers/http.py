"""The shared HTTP layer: pooled clients, error mapping, idempotent-only retries, rate limiting.

* :func:`build_client` returns one ``httpx.Client`` per (key, base URL, token hash, TLS setting) from a process-level
  pool, so keep-alive connections are reused across web requests. Explicit timeouts (connect 5 s, read =
  ``config.timeout``, both capped below gunicorn's 30 s worker timeout), no redirects, ``User-Agent: adminui/<v>``.
* :func:`send` performs one logical request: limiter → request → error mapping, retrying **only** idempotent calls
  and only on connection errors, 429, 502, 503, 504, with jittered exponential backoff and ``Retry-After``. The
  connection's timeout bounds each attempt as a whole, and a streamed body must keep a minimum rate
  (:mod:`apps.providers.netguard`, on every socket read); the outbound policy is asked before sending and at
  connect time; every error leaves scrubbed of the token (any encoding); JSON passes :mod:`jsonguard` first.
* :class:`Session` bundles a config, its client and limiter for a provider; :func:`seg` validates path parameters.
* :func:`fan_out` runs one function over many items with bounded concurrency.

The token only ever travels in the ``Authorization`` header; it is never logged or put in an exception text.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import hashlib
import logging
import random
import ssl
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpcore
import httpx

from apps.providers import jsonguard, netguard
from apps.providers.base import ConnectionConfig
from apps.providers.errors import (
    ConnectionRefused,
    DNSFailure,
    InvalidPathSegment,
    OutboundRefused,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimitedError,
    TLSFailure,
    UpstreamBroken,
    error_from_response,
    redact,
)

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "MAX_READ_TIMEOUT",
    "USER_AGENT",
    "FanOutResult",
    "Limiter",
    "RetryPolicy",
    "Session",
    "TokenBucket",
    "build_client",
    "close_all_clients",
    "fan_out",
    "parse_retry_after",
    "seg",
    "segment_problem",
    "send",
]

logger = logging.getLogger("adminui.providers")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("adminui")
    except Exception:  # noqa: BLE001 - not installed as a distribution: fall back to the pyproject version
        return "0.1.0"


USER_AGENT = f"adminui/{_version()}"
DEFAULT_CONNECT_TIMEOUT = 5.0
MAX_READ_TIMEOUT = 25.0  # gunicorn's worker timeout is 30 s
AUTH_SCHEMES = {"tooljet": "Basic", "retool": "Bearer"}  # ToolJet: raw token after "Basic " (tooljet.md §2)

# httpcore reads a response 64 KiB at a time, and every read passes through h11 (four copies and tens of µs of
# Python). Exports and user lists run to hundreds of megabytes, so reads of up to 1 MiB halve the console's CPU per
# byte streamed (docs/benchmarks.md, "Transfers"). A read returns what the socket holds: small answers are
# unaffected. httpcore offers no per-client setting; tests/providers/test_http.py pins that the constant is read.
READ_SIZE = 1024 * 1024
httpcore.HTTP11Connection.READ_NUM_BYTES = READ_SIZE


# --------------------------------------------------------------------------------------------------------------
# Path parameters
# --------------------------------------------------------------------------------------------------------------


# characters no id has: controls, invisible format characters (bidi overrides, zero-width), line separators
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
MAX_SEGMENT = 512


def segment_problem(value: Any) -> str | None:
    """Why ``value`` cannot be one path segment sent upstream, or None when it can. The URL converter for ids in
    our own URLs asks the same question, so a malformed id is refused by the router before any view runs."""
    text = str(value) if value is not None else ""
    if not text or text.strip() != text:
        return "path parameter must be a non-empty string without surrounding spaces"
    if len(text) > MAX_SEGMENT:
        return "path parameter is too long"
    if text in (".", "..") or "/" in text or "\\" in text or ".." in text or "?" in text or "#" in text:
        return "path parameter contains a forbidden character"
    if any(unicodedata.category(ch) in _BAD_CATEGORIES for ch in text):
        return "path parameter contains a control or invisible character"
    return None


def seg(value: Any) -> str:
    """Validate and percent-encode one path segment taken from the browser.

    Refuses empty values, ``/``, ``\\``, ``.``/``..``, ``?``, ``#``, control and invisible characters and
    surrounding spaces with :class:`InvalidPathSegment` (a not-found, also a ``ValueError``) before anything is
    sent. ``@`` and ``+`` stay readable (ToolJet takes e-mail addresses in paths).
    """
    problem = segment_problem(value)
    if problem:
        raise InvalidPathSegment(upstream_message=None, details=(problem,))
    return quote(str(value), safe="@+:")


# --------------------------------------------------------------------------------------------------------------
# Client pool
# --------------------------------------------------------------------------------------------------------------

_pool: dict[tuple[Any, ...], httpx.Client] = {}
_pool_lock = threading.Lock()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _timeouts(config: ConnectionConfig) -> httpx.Timeout:
    read = min(float(config.timeout or 10.0), MAX_READ_TIMEOUT)
    connect = min(float(config.connect_timeout or DEFAULT_CONNECT_TIMEOUT), MAX_READ_TIMEOUT)
    return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)


@functools.cache
def _ssl_context(verify: bool) -> ssl.SSLContext:
    """One TLS context per process and setting: loading the CA bundle costs tens of ms of CPU for every new client,
    and a context is safe to share between connections and threads."""
    return httpx.create_ssl_context(verify=verify, trust_env=False)


def _guarded_transport(config: ConnectionConfig, limits: httpx.Limits) -> httpx.HTTPTransport:
    """httpx's own transport on :class:`netguard.GuardedBackend` (httpx offers no argument for the backend)."""
    transport = httpx.HTTPTransport(
        verify=_ssl_context(bool(config.verify_tls)), limits=limits, trust_env=False
    )
    pool = transport._pool  # noqa: SLF001 - see the docstring; tests/security pins that it is honoured
    pool._network_backend = netguard.GuardedBackend(pool._network_backend)  # noqa: SLF001
    return transport


def _new_client(config: ConnectionConfig, transport: httpx.BaseTransport | None) -> httpx.Client:
    scheme = AUTH_SCHEMES.get(config.kind, "Bearer")
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=30.0)
    return httpx.Client(
        base_url=config.base_url,
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Authorization": f"{scheme} {config.token}",
        },
        timeout=_timeouts(config),
        follow_redirects=False,
        verify=config.verify_tls,
        transport=transport if transport is not None else _guarded_transport(config, limits),
        limits=limits,
        trust_env=False,
    )


def build_client(config: ConnectionConfig, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """One pooled client per connection. With an explicit ``transport`` (tests) the client is not pooled."""
    if transport is not None:
        return _new_client(config, transport)
    pool_key = (
        config.key,
        config.base_url,
        _token_hash(config.token),
        config.verify_tls,
        config.kind,
        config.timeout,
        config.connect_timeout,
    )
    with _pool_lock:
        client = _pool.get(pool_key)
        if client is None or client.is_closed:
            client = _new_client(config, None)
            _pool[pool_key] = client
        return client


def close_all_clients() -> None:
    """Close every pooled client (tests, key rotation, process shutdown)."""
    with _pool_lock:
        clients = list(_pool.values())
        _pool.clear()
    for client in clients:
        client.close()


# --------------------------------------------------------------------------------------------------------------
# Rate limiting
# --------------------------------------------------------------------------------------------------------------


class Limiter(Protocol):
    """Client-side limiter. The connections app can plug a cache-backed one shared across workers.

    ``acquire`` blocks until a request may go out, waiting at most ``max_wait`` seconds; if it would have to wait
    longer it raises :class:`RateLimitedError` (with ``retry_after``) without sending anything.
    """

    def acquire(self, key: str, per_minute: int, *, max_wait: float) -> None: ...


class TokenBucket:
    """In-process token bucket per key: burst = ``per_minute``, refill ``per_minute / 60`` tokens per second."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ):
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, last refill time)

    def acquire(self, key: str, per_minute: int, *, max_wait: float) -> None:
        if not per_minute or per_minute <= 0:
            return
        rate = per_minute / 60.0
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(key, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - last) * rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
            if wait > max_wait:
                self._buckets[key] = (tokens, now)
                raise RateLimitedError(
                    f"This console's own limit of {per_minute} requests per minute for this connection is "
                    f"reached. Try again in {max(1, round(wait))} s.",
                    retry_after=wait,
                )
            # reserve the token now (may go negative while we sleep outside the lock)
            self._buckets[key] = (tokens - 1, now)
        if wait > 0:
            self._sleep(wait)


_default_limiter = TokenBucket()


# --------------------------------------------------------------------------------------------------------------
# Retries
# --------------------------------------------------------------------------------------------------------------

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    retry_after_cap: float = 60.0  # a longer Retry-After is not waited for inside a request
    total_cap: float = 20.0  # total wall time budget, below gunicorn's 30 s
    limiter_max_wait: float = 5.0

    def backoff(self, attempt: int) -> float:
        delay = min(self.backoff_cap, self.backoff_base * (2**attempt))
        return delay / 2 + random.uniform(0, delay / 2)  # "equal jitter"


NO_RETRY = RetryPolicy(max_retries=0)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date); None when absent or unparsable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


# --------------------------------------------------------------------------------------------------------------
# send()
# --------------------------------------------------------------------------------------------------------------

_DNS_HINTS = (
    "name or service not known",
    "nodename nor servname",
    "getaddrinfo",
    "name resolution",
    "no address",
)
_TLS_HINTS = ("ssl", "certificate", "tls", "handshake")


def _map_transport_error(
    exc: httpx.TransportError, *, config: ConnectionConfig, method: str, path: str
) -> ProviderError:
    text = redact(str(exc), config.token) or ""
    low = text.lower()
    kw: dict[str, Any] = {"request_id": config.request_id, "method": method, "path": path}
    if _refused_by_policy(exc):
        return OutboundRefused(text, **kw)
    if isinstance(exc, httpx.TimeoutException):
        phase = "connect" if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout) else "read"
        err: ProviderError = ProviderTimeout(
            "The instance did not answer in time "
            + ("(could not connect within the connect timeout)." if phase == "connect" else "(read timeout).")
            + " It may be down, overloaded or behind a firewall.",
            may_have_applied=phase == "read",
            **kw,
        )
    elif any(h in low for h in _TLS_HINTS):
        err = TLSFailure(None, upstream_message=text, **kw)
    elif any(h in low for h in _DNS_HINTS):
        err = DNSFailure(None, upstream_message=text, **kw)
    elif isinstance(exc, httpx.ConnectError):
        err = ConnectionRefused(None, upstream_message=text, **kw)
    elif isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        err = ProviderUnavailable(
            "The instance closed the connection before the answer was complete (dropped or truncated "
            "response).",
            upstream_message=text,
            may_have_applied=not isinstance(exc, httpx.WriteError),
            **kw,
        )
    else:
        err = ProviderUnavailable(None, upstream_message=text, **kw)
    return err


def _refused_by_policy(exc: httpx.TransportError) -> bool:
    return isinstance(exc.__cause__, netguard.AddressRefused)


def _retryable_transport_error(exc: httpx.TransportError) -> bool:
    # Connection-level failures only; a read timeout is not retried (it would double the wait).
    if _refused_by_policy(exc):
        return False
    return isinstance(
        exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.RemoteProtocolError | httpx.ReadError
    )


def _error_for(
    response: httpx.Response, *, config: ConnectionConfig, method: str, path: str
) -> ProviderError:
    try:
        body = response.text
    except Exception:  # noqa: BLE001 - undecodable body
        body = ""
    return error_from_response(
        kind=config.kind,
        status=response.status_code,
        body=redact(body, config.token) or "",
        content_type=response.headers.get("content-type", ""),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
        request_id=config.request_id,
        upstream_request_id=response.headers.get("x-request-id"),
        method=method,
        path=path,
    )


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    config: ConnectionConfig,
    params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
    json: Any = None,
    content: bytes | Iterable[bytes] | None = None,
    headers: Mapping[str, str] | None = None,
    idempotent: bool | None = None,
    policy: RetryPolicy | None = None,
    limiter: Limiter | None = None,
    stream: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    """Send one logical request and return a 2xx response (body read unless ``stream``), or raise ProviderError.

    Retries happen only when the call is idempotent (GET/PUT/DELETE, or ``idempotent=True``) and only on connection
    errors, 429, 502, 503 and 504. With ``stream=True`` the caller must close the returned response.
    """
    try:
        return _send(
            client,
            method,
            url,
            config=config,
            params=params,
            json=json,
            content=content,
            headers=headers,
            idempotent=idempotent,
            policy=policy,
            limiter=limiter,
            stream=stream,
            sleep=sleep,
        )
    except ProviderError as exc:
        # an upstream may echo the Authorization header in its error, in any encoding
        raise exc.scrub(config.token) from exc.__cause__


def _send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    config: ConnectionConfig,
    params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
    json: Any = None,
    content: bytes | Iterable[bytes] | None = None,
    headers: Mapping[str, str] | None = None,
    idempotent: bool | None = None,
    policy: RetryPolicy | None = None,
    limiter: Limiter | None = None,
    stream: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    if netguard.url_policy is not None and (reason := netguard.url_policy(config.base_url)):
        raise OutboundRefused(reason, request_id=config.request_id, method=method.upper(), path=url)
    method = method.upper()
    policy = policy or RetryPolicy()
    if idempotent is None:
        idempotent = method in IDEMPOTENT_METHODS
    if content is not None and not isinstance(content, bytes | bytearray):
        idempotent = False  # a consumed iterator cannot be sent twice
    limiter = limiter if limiter is not None else _default_limiter
    req_headers = dict(headers or {})
    if config.request_id:
        req_headers["X-Request-ID"] = config.request_id
    path = url
    started = time.monotonic()
    slept = 0.0  # counted separately so an injected sleep still respects the budget
    attempt = 0
    while True:
        if config.requests_per_minute:
            limiter.acquire(config.key, config.requests_per_minute, max_wait=policy.limiter_max_wait)
        t0 = time.monotonic()
        error: ProviderError
        delay: float | None = None
        # The connection's timeout bounds the whole attempt, not each read: a server dripping bytes cannot hold
        # the worker. A streamed answer gets the same budget for its headers, then a minimum rate.
        deadline = netguard.Deadline(_timeouts(config).read)
        try:
            request = client.build_request(
                method, url, params=params, json=json, content=content, headers=req_headers
            )
            with netguard.guarded(deadline):
                response = client.send(request, stream=True)
        except httpx.TransportError as exc:
            _observe(config, method, 0, t0)
            error = _map_transport_error(exc, config=config, method=method, path=path)
            retryable = _retryable_transport_error(exc)
        else:
            status = response.status_code
            if 200 <= status < 300:
                if stream:
                    _log(config, method, path, status, t0, attempt)
                    response.stream = _ProgressStream(response.stream, _timeouts(config).read)
                    return response
                try:
                    with netguard.guarded(deadline):
                        response.read()
                except httpx.TransportError as exc:
                    response.close()
                    error = _map_transport_error(exc, config=config, method=method, path=path)
                    retryable = _retryable_transport_error(exc)
                else:
                    _log(config, method, path, status, t0, attempt)
                    return response
            else:
                try:
                    with netguard.guarded(deadline):
                        response.read()
                except httpx.TransportError:
                    pass
                finally:
                    response.close()
                _log(config, method, path, status, t0, attempt)
                error = _error_for(response, config=config, method=method, path=path)
                retryable = status in RETRY_STATUSES
                if isinstance(error, RateLimitedError) and error.retry_after is not None:
                    delay = error.retry_after
                elif status in (502, 503, 504):
                    delay = parse_retry_after(response.headers.get("retry-after"))
        if not (idempotent and retryable) or attempt >= policy.max_retries:
            raise error
        if delay is None:
            delay = policy.backoff(attempt)
        elif delay > policy.retry_after_cap:
            raise error
        elapsed = max(time.monotonic() - started, slept)
        if elapsed + delay > policy.total_cap:
            raise error
        logger.info(
            "provider retry %s %s after %s (attempt %d, waiting %.2fs) request_id=%s",
            method,
            path,
            type(error).__name__,
            attempt + 1,
            delay,
            config.request_id,
        )
        sleep(delay)
        slept += delay
        attempt += 1


# Observers of every upstream answer: ``fn(key, method, status, seconds)``, status 0 when no answer came (a transport
# error). Whoever measures calls registers one at startup; nothing here knows who listens.
_observers: list[Callable[[str, str, int, float], None]] = []


def add_observer(fn: Callable[[str, str, int, float], None]) -> None:
    if fn not in _observers:
        _observers.append(fn)


def _observe(config: ConnectionConfig, method: str, status: int, t0: float) -> None:
    for fn in _observers:
        try:
            fn(config.key, method, status, time.monotonic() - t0)
        except Exception:  # noqa: BLE001 - measuring must never break a call
            logger.exception("upstream observer failed")


MIN_PROGRESS_BYTES = 1024


class _ProgressStream(httpx.SyncByteStream):
    """A streamed answer's body: every ``window`` seconds (the connection's timeout) must bring at least
    :data:`MIN_PROGRESS_BYTES`, whoever reads it and whenever."""

    def __init__(self, inner: Any, window: float):
        self._inner = inner
        self._policy = netguard.MinimumProgress(window=window, min_bytes=MIN_PROGRESS_BYTES)

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._inner)
        while True:
            with netguard.guarded(self._policy):
                chunk = next(chunks, None)
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        self._inner.close()


def _log(config: ConnectionConfig, method: str, path: str, status: int, t0: float, attempt: int) -> None:
    _observe(config, method, status, t0)
    logger.debug(
        "provider %s %s %s → %d in %.0f ms (attempt %d) request_id=%s",
        config.key,
        method,
        path,
        status,
        (time.monotonic() - t0) * 1000,
        attempt + 1,
        config.request_id,
    )


# --------------------------------------------------------------------------------------------------------------
# Session: what a provider holds
# --------------------------------------------------------------------------------------------------------------


class Session:
    """A config + pooled client + limiter, with JSON helpers. ``prefix`` is the API root (``/api/ext``, ``/api/v2``)."""

    def __init__(
        self,
        config: ConnectionConfig,
        *,
        prefix: str,
        transport: httpx.BaseTransport | None = None,
        limiter: Limiter | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.config = config
        self.prefix = prefix
        self.client = build_client(config, transport)
        self._owns_client = transport is not None
        self.limiter = limiter
        self.policy = policy or RetryPolicy()
        self.sleep = sleep

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def url(self, path: str, *, prefix: str | None = None) -> str:
        return f"{self.prefix if prefix is None else prefix}{path}"

    def request(
        self,
        method: str,
        path: str,
        *,
        prefix: str | None = None,
        idempotent: bool | None = None,
        retry: bool = True,
        **kw: Any,
    ) -> httpx.Response:
        return send(
            self.client,
            method,
            self.url(path, prefix=prefix),
            config=self.config,
            idempotent=idempotent,
            policy=self.policy if retry else NO_RETRY,
            limiter=self.limiter,
            sleep=self.sleep,
            **kw,
        )

    def json(self, method: str, path: str, **kw: Any) -> Any:
        """Request and parse JSON; an empty body gives None; HTML or malformed JSON → UpstreamBroken."""
        response = self.request(method, path, **kw)
        return self.parse(response, method=method, path=path)

    def parse(self, response: httpx.Response, *, method: str, path: str) -> Any:
        try:
            return self._parse(response, method=method, path=path)
        except ProviderError as exc:
            raise exc.scrub(self.config.token) from None

    def _parse(self, response: httpx.Response, *, method: str, path: str) -> Any:
        if not response.content.strip():
            return None
        try:
            return jsonguard.loads(response.content)
        except jsonguard.JSONTooDeep as exc:
            raise UpstreamBroken(
                f"The instance's answer was refused: {exc.message[0].lower()}{exc.message[1:]}",
                status_code=response.status_code,
                request_id=self.config.request_id,
                upstream_request_id=response.headers.get("x-request-id"),
                method=method,
                path=path,
                may_have_applied=response.is_success and method not in ("GET", "HEAD"),
            ) from None
        except ValueError:
            body = redact(response.text, self.config.token) or ""
            ctype = response.headers.get("content-type", "")
            if "html" in ctype.lower() or body.lstrip()[:1] == "<":
                from apps.providers.errors import HTML_MESSAGE

                message = HTML_MESSAGE
            else:
                # a write answered 2xx was carried out: no "try again" (the error adds "may have been applied")
                written = response.is_success and method not in ("GET", "HEAD")
                message = (
                    "The instance sent a malformed or truncated JSON answer. "
                    + ("If it persists" if written else "Try again; if it persists")
                    + ", a proxy in front of the instance may be cutting responses short."
                )
            raise UpstreamBroken(
                message,
                status_code=response.status_code,
                body=body,
                request_id=self.config.request_id,
                upstream_request_id=response.headers.get("x-request-id"),
                method=method,
                path=path,
                may_have_applied=response.is_success,  # a write answered 2xx reached the instance
            ) from None

    @contextlib.contextmanager
    def stream(self, method: str, path: str, **kw: Any) -> Iterator[httpx.Response]:
        response = self.request(method, path, stream=True, **kw)
        try:
            yield response
        except ProviderError as exc:  # raised while the caller read the body (malformed, cut off, too deep)
            raise exc.scrub(self.config.token) from exc.__cause__
        finally:
            response.close()

    def stream_error(self, exc: httpx.TransportError, *, method: str, path: str) -> ProviderError:
        return _map_transport_error(exc, config=self.config, method=method, path=path).scrub(
            self.config.token
        )


# --------------------------------------------------------------------------------------------------------------
# Fan-out
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FanOutResult:
    item: Any
    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def fan_out(func: Callable[[Any], Any], items: Iterable[Any], *, max_workers: int = 8) -> list[FanOutResult]:
    """Run ``func(item)`` for every item on a bounded thread pool; results in input order.

    A :class:`ProviderError` (that instance failed) is captured per item. Anything else (a bug, the console's own
    database or cache failing) is raised to the caller: it is not "the instance did not answer"."""
    items = list(items)
    if not items:
        return []

    def run(item: Any) -> FanOutResult:
        try:
            return FanOutResult(item, func(item))
        except ProviderError as exc:
            return FanOutResult(item, error=exc)

    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(items)))) as pool:
        return list(pool.map(run, items))
