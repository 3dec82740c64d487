"""The WSGI base shared by the fake vendor servers, and the thread that serves one over real HTTP.

Imports nothing from Django or other ``apps.*`` packages.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from .faults import FaultSet

JSON = "application/json; charset=utf-8"
STREAM_CHUNK_ITEMS = 500

NGINX_502 = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n"
)
REASONS = {
    200: "OK",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
    429: "Too Many Requests",
    404: "Not Found",
    401: "Unauthorized",
}


class ApiError(Exception):
    """Raised by handlers; turned into the vendor's error body by the app."""

    def __init__(self, status: int, message: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def iso_ms(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


class Clock:
    """Wall clock for timestamps that never repeats a millisecond, so updated_at is always later."""

    def __init__(self) -> None:
        self._last = 0.0
        self._lock = threading.Lock()

    def stamp(self) -> str:
        with self._lock:
            now = max(time.time(), self._last + 0.001)
            self._last = now
            return iso_ms(now)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, headers=headers, content_type=JSON)


def empty_response(status: int = 204) -> Response:
    """An empty success body with no Content-Type (the recorded Retool 204s carry none; NestJS sends none)."""
    response = Response(b"", status=status)
    response.headers.remove("Content-Type")
    return response


def stream_json_array(
    items: Callable[[int, int], list[Any]], total: int, prefix: str = "[", suffix: str = "]"
):
    """Yield a JSON array in chunks: ``items(start, stop)`` returns the already-serialisable slice."""

    def generate() -> Iterator[bytes]:
        yield prefix.encode()
        first = True
        for start in range(0, total, STREAM_CHUNK_ITEMS):
            chunk = items(start, min(total, start + STREAM_CHUNK_ITEMS))
            if not chunk:
                continue
            text = ",".join(json.dumps(x, ensure_ascii=False, separators=(",", ":")) for x in chunk)
            yield (text if first else "," + text).encode()
            first = False
        yield suffix.encode()

    return generate()


class SimulatorApp:
    """Routing, fault injection, the ``/__sim__/`` control surface and the never-a-stack-trace guard."""

    kind = "base"
    url_map: Map

    def __init__(self, *, latency_ms: int = 0) -> None:
        self.faults = FaultSet()
        self.latency_ms = latency_ms
        self.lock = threading.RLock()
        # every API request seen, as (METHOD, path) — lets tests assert what was (not) sent upstream
        self.requests: deque[tuple[str, str]] = deque(maxlen=10_000)

    # -- hooks for subclasses -------------------------------------------------------------------------
    def error_response(
        self, request: Request, status: int, message: Any, headers: dict | None = None
    ) -> Response:
        raise NotImplementedError

    def not_found(self, request: Request) -> Response:
        raise NotImplementedError

    def before(self, request: Request, endpoint: str) -> Response | None:
        return None

    def control_accept_invites(self, payload: dict) -> Response:
        return json_response({"message": "not supported"}, 404)

    def state_counts(self) -> dict:
        return {}

    # -- WSGI -----------------------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith("/__sim__/"):
            response = self._guarded(request, self._control)
            return response(environ, start_response)
        self.requests.append((request.method, request.path))
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        fault = self.faults.take(request.method, request.path)
        if fault is not None:
            if fault.kind == "latency":
                time.sleep(fault.ms / 1000)
            elif fault.kind == "drop":
                self._drop(environ)
            elif fault.kind == "status":
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
                message = (
                    REASONS.get(fault.status, "Error") if fault.status != 500 else "Internal server error"
                )
                response = self.error_response(request, fault.status, message, headers)
                return response(environ, start_response)
            elif fault.kind == "echo":
                return self._echo(request, fault.status or 400)(environ, start_response)
            elif fault.kind == "html":
                status = fault.status or 502
                html = NGINX_502.format(status=status, reason=REASONS.get(status, "Error"))
                response = Response(html, status=status, content_type="text/html")
                return response(environ, start_response)
        response = self._guarded(request, self._dispatch)
        if fault is not None and fault.kind == "lost":
            self._drop(environ)
        if fault is not None and fault.kind == "truncated":
            response = self._truncate(response)
        if fault is not None and fault.kind == "drip":
            response = self._drip(response, fault.ms)
        return response(environ, start_response)

    def _guarded(self, request: Request, handler: Callable[[Request], Response]) -> Response:
        try:
            return handler(request)
        except ApiError as exc:
            return self.error_response(request, exc.status, exc.message, exc.headers)
        except Exception:  # noqa: BLE001 - a simulator never serves a stack trace
            return self.error_response(request, 500, "Internal server error")

    def _dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except (NotFound, MethodNotAllowed):
            return self.not_found(request)
        early = self.before(request, endpoint)
        if early is not None:
            return early
        return getattr(self, f"on_{endpoint}")(request, **args)

    @staticmethod
    def _drop(environ: dict) -> None:
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError("simulated dropped connection")

    @staticmethod
    def _truncate(response: Response) -> Response:
        collected = b""
        iterator = iter(response.iter_encoded())
        for piece in iterator:
            collected += piece
            if len(collected) >= 16384:
                break
        if hasattr(response.response, "close"):
            response.response.close()
        cut = collected[: max(1, len(collected) // 2)] if len(collected) < 16384 else collected[:8192]
        return Response(cut, status=response.status_code, content_type=response.content_type)

    def _echo(self, request: Request, status: int) -> Response:
        auth = request.headers.get("Authorization", "")
        raw = auth.encode()
        message = (
            f"Bad header {auth} | percent {quote(auth, safe='')} | base64 {base64.b64encode(raw).decode()} | "
            f"url-safe {base64.urlsafe_b64encode(raw).decode()}"
        )
        response = self.error_response(request, status, message)
        response.set_data(response.get_data().replace(b"/", b"\\/"))  # valid JSON: "\/" is an escaped "/"
        return response

    @staticmethod
    def _drip(response: Response, ms: int) -> Response:
        body = b"".join(response.iter_encoded())
        if hasattr(response.response, "close"):
            response.response.close()

        def generate() -> Iterator[bytes]:
            for i in range(len(body)):
                if i:
                    time.sleep(ms / 1000)
                yield body[i : i + 1]

        dripped = Response(generate(), status=response.status_code, headers=response.headers)
        dripped.headers["Content-Length"] = str(len(body))
        return dripped

    # -- control surface -------------------------------------------------------------------------------
    def _control(self, request: Request) -> Response:
        path = request.path
        if path == "/__sim__/faults" and request.method == "POST":
            payload = request.get_json(silent=True)
            if not isinstance(payload, dict):
                return json_response({"message": "expected a JSON object"}, 400)
            try:
                self.faults.add(**payload)
            except (TypeError, ValueError) as exc:
                return json_response({"message": str(exc)}, 400)
            return json_response({"faults": self.faults.as_list()}, 201)
        if path == "/__sim__/faults" and request.method == "DELETE":
            self.faults.clear()
            return empty_response(204)
        if path == "/__sim__/faults" and request.method == "GET":
            return json_response({"faults": self.faults.as_list()})
        if path == "/__sim__/invites/accept" and request.method == "POST":
            payload = request.get_json(silent=True)
            return self.control_accept_invites(payload if isinstance(payload, dict) else {})
        if path == "/__sim__/state" and request.method == "GET":
            with self.lock:
                return json_response({"kind": self.kind, **self.state_counts()})
        return json_response({"message": "unknown simulator control route"}, 404)


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - werkzeug's signature
        return


class RunningSimulator:
    """A simulator served on a real socket by a daemon thread."""

    def __init__(
        self, kind: str, app: SimulatorApp, server: BaseWSGIServer, thread: threading.Thread
    ) -> None:
        self.kind = kind
        self.app = app
        self.server = server
        self.thread = thread
        self.host = server.server_address[0]
        self.port = server.server_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def faults(self) -> FaultSet:
        return self.app.faults

    @property
    def requests(self) -> deque[tuple[str, str]]:
        """(METHOD, path) of every API request the simulator received, oldest first."""
        return self.app.requests

    def writes(self) -> list[tuple[str, str]]:
        """The non-GET requests received — for asserting that nothing was sent upstream."""
        return [r for r in self.app.requests if r[0] not in ("GET", "HEAD")]

    @property
    def state(self) -> Any:
        return self.app.state

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join(timeout=5)
        self.server.server_close()

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<RunningSimulator {self.kind} {self.url}>"


def serve(kind: str, app: SimulatorApp, host: str = "127.0.0.1", port: int = 0) -> RunningSimulator:
    server = make_server(host, port, app, threaded=True, request_handler=_Handler)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.02},
        name=f"simulator-{kind}-{server.server_port}",
        daemon=True,
    )
    thread.start()
    return RunningSimulator(kind, app, server, thread)
