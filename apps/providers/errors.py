"""One error hierarchy for every provider (STYLE.md §6).

```
ProviderError
├── ProviderUnavailable            could not talk to the upstream at all
│   ├── OutboundRefused            the outbound policy forbids the address
│   ├── ProviderTimeout
│   ├── ConnectionRefused
│   ├── DNSFailure
│   └── TLSFailure
├── ProviderStatusError            the upstream answered, but not with what we wanted
│   ├── AuthError                  401, ToolJet 403 "Unauthorized"
│   ├── ForbiddenError             403/451 with a ``reason``
│   ├── NotFoundError              404
│   ├── ConflictError              409, or our own read-modify-write conflict check
│   ├── RateLimitedError           429 (``retry_after``), or the client-side limiter
│   ├── RejectedError              400/413/422 (``messages``)
│   └── UpstreamBroken             5xx, HTML where JSON was expected, malformed JSON, redirects
└── Unsupported                    the vendor/version/plan cannot do this
```

``str(error)`` is always the plain-language operator message. Status → class mapping lives in
:func:`error_from_response` and nowhere else. Nothing here ever sees the API token; :func:`redact` is applied to
every upstream text anyway, so a server echoing our headers back cannot leak it.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import html
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus

from apps.providers import jsonguard

__all__ = [
    "AuthError",
    "ConflictError",
    "ConnectionRefused",
    "DNSFailure",
    "ForbiddenError",
    "NotFoundError",
    "OutboundRefused",
    "ProviderError",
    "ProviderStatusError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "RateLimitedError",
    "RejectedError",
    "ServerError",
    "TLSFailure",
    "Unsupported",
    "UpstreamBroken",
    "describe_answer",
    "error_from_response",
    "normalize_upstream_message",
    "excerpt",
    "reading_one",
    "redact",
    "redact_json",
    "secret_variants",
    "token_rejected_message",
]

_MAX_BODY = 2000
# What is kept of an upstream's own words: enough to explain, too little to carry much of anything else.
MAX_UPSTREAM_TEXT = 300
MAX_DETAILS = 10
REDACTED = "[redacted]"


def _b64_cores(data: bytes) -> set[str]:
    """The base64 characters that depend only on ``data``, at each of the three byte alignments it can have
    inside a longer encoded string (standard and URL-safe alphabets)."""
    cores: set[str] = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + data).decode()
        start = -(-8 * shift // 6)  # first character made only of data bits
        stop = (8 * (shift + len(data))) // 6
        core = encoded[start:stop]
        if len(core) >= 4:
            cores.update({core, core.replace("+", "-").replace("/", "_")})
    return cores


@functools.lru_cache(maxsize=256)
def secret_variants(secret: str) -> tuple[str, ...]:
    """Every form in which an upstream may send a secret back: as is, JSON-escaped (with and without ``\\/``,
    ASCII-only), percent-encoded (either hex case, ``+`` for spaces), base64 (any alignment, both alphabets) and
    those forms JSON-escaped again. Longest first, so a longer form is replaced before a shorter one inside it."""
    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    for quoted in (quote(secret, safe=""), quote(secret, safe="/"), quote_plus(secret)):
        forms.update({quoted, re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quoted)})
    forms |= _b64_cores(secret.encode())
    forms |= {f.replace("/", "\\/") for f in forms}
    forms |= {json.dumps(f)[1:-1] for f in forms}
    return tuple(sorted((f for f in forms if len(f) >= 4), key=len, reverse=True))


def redact(text: str | None, *secrets: str | None) -> str | None:
    """Replace every occurrence of a secret in ``text``, in any of its :func:`secret_variants`, with
    ``[redacted]``. Apply it to raw bodies and again to whatever was decoded from them."""
    if text is None:
        return None
    for secret in secrets:
        if secret and len(secret) >= 4:
            for form in secret_variants(secret):
                if form in text:
                    text = text.replace(form, REDACTED)
    return text


def excerpt(text: str | None, limit: int = MAX_UPSTREAM_TEXT) -> str | None:
    """A bounded excerpt of upstream text (what is stored and shown of it)."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def redact_json(value: Any, *secrets: str | None) -> Any:
    """:func:`redact` applied to every string (keys too) of a JSON-like value."""
    if isinstance(value, str):
        return redact(value, *secrets)
    if isinstance(value, dict):
        return {redact_json(k, *secrets): redact_json(v, *secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_json(v, *secrets) for v in value]
    return value


UNKNOWN_OUTCOME = (
    " The request had been sent, so the change may have been applied anyway: reload to see the current state "
    "before trying again."
)


class ProviderError(Exception):
    """Base class. ``message`` is for operators; the rest is for the alert's details and the audit row."""

    default_message = "The upstream system returned an error."

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        upstream_message: str | None = None,
        details: list[str] | tuple[str, ...] = (),
        request_id: str | None = None,
        upstream_request_id: str | None = None,
        body: str | None = None,
        method: str | None = None,
        path: str | None = None,
        may_have_applied: bool = False,
    ) -> None:
        self.message = message or self.default_message
        # A write was sent but its answer was lost (read timeout, dropped connection, a proxy's 502/504): the
        # change may have happened upstream. Audit rows say "unknown" rather than "failure".
        self.may_have_applied = may_have_applied and (method or "GET").upper() not in ("GET", "HEAD")
        if self.may_have_applied:
            self.message += UNKNOWN_OUTCOME
        self.status_code = status_code
        self.upstream_message = excerpt(upstream_message)
        self.details = [excerpt(d, 200) for d in list(details)[:MAX_DETAILS]]
        self.request_id = request_id
        self.upstream_request_id = upstream_request_id
        self.body = body[:_MAX_BODY] if body else body
        self.method = method
        self.path = path
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def scrub(self, *secrets: str | None) -> ProviderError:
        """Redact ``secrets`` (in every encoding) from everything this error carries; returns ``self``."""
        self.message = redact(self.message, *secrets) or ""
        self.upstream_message = redact(self.upstream_message, *secrets)
        self.details = [redact(d, *secrets) or "" for d in self.details]
        self.body = redact(self.body, *secrets)
        self.args = (self.message,)
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (for audit rows and stored probe results)."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            "status_code": self.status_code,
            "upstream_message": self.upstream_message,
            "details": self.details,
            "request_id": self.request_id,
            "upstream_request_id": self.upstream_request_id,
        }


class ProviderUnavailable(ProviderError):
    default_message = "The instance could not be reached."


class ProviderTimeout(ProviderUnavailable):
    default_message = "The instance did not answer in time (timeout). It may be overloaded or down."


class ConnectionRefused(ProviderUnavailable):
    default_message = (
        "The connection was refused: nothing is listening at that address. Check the base URL and port, "
        "and that the instance is running."
    )


class DNSFailure(ProviderUnavailable):
    default_message = "The host name in the base URL could not be resolved (DNS failure). Check the spelling."


class TLSFailure(ProviderUnavailable):
    default_message = (
        "The secure (TLS) connection failed: the certificate is invalid, expired, self-signed or for another "
        "host name."
    )


class OutboundRefused(ProviderUnavailable):
    """The console's outbound policy forbids this address (metadata service, link-local, loopback, the console
    itself, plain http in production). Nothing was sent."""

    def __init__(self, reason: str, **kw: Any):
        super().__init__(
            f"The console will not connect to this instance: {reason}. An administrator of the console can allow "
            "it with the ADMINUI_OUTBOUND_ALLOW setting (or ADMINUI_ALLOW_HTTP=1 for plain http).",
            **kw,
        )


class ProviderStatusError(ProviderError):
    default_message = "The instance answered with an error."


class AuthError(ProviderStatusError):
    default_message = "The instance rejected the API token (wrong or revoked token). Paste a valid token."


FORBIDDEN_REASONS = ("api_disabled", "unlicensed", "plan", "missing_scope", "other")


class ForbiddenError(ProviderStatusError):
    default_message = "The instance refused this request (forbidden)."

    def __init__(
        self, message: str | None = None, *, reason: str = "other", scope: str | None = None, **kw: Any
    ):
        self.reason = reason if reason in FORBIDDEN_REASONS else "other"
        self.scope = scope
        super().__init__(message, **kw)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "reason": self.reason, "scope": self.scope}


class NotFoundError(ProviderStatusError):
    default_message = "The instance says this object does not exist (any more)."

    @property
    def object_missing(self) -> bool:
        """The object does not exist (the product said so, or the client looked and did not find it) — not an HTML
        page (a wrong base URL) nor "Cannot GET …" (a route an older version lacks)."""
        return self.message != HTML_MESSAGE and not (self.upstream_message or "").startswith("Cannot ")


class InvalidPathSegment(NotFoundError, ValueError):
    """An id taken from the browser that no object can have (``/``, ``\\``, ``..``, ``?``, ``#``, control or
    invisible characters, surrounding spaces): refused before anything is sent. It names nothing, so it is a
    not-found (the core answers 404); it is a ``ValueError`` too, for callers validating input."""

    default_message = "There is no such object: the address holds an id with characters no id can have."


class ConflictError(ProviderStatusError):
    default_message = "This was changed upstream in the meantime, or it already exists. Reload and try again."

    def __init__(self, message: str | None = None, *, current: Any = None, expected: Any = None, **kw: Any):
        self.current = current
        self.expected = expected
        super().__init__(message, **kw)


class RateLimitedError(ProviderStatusError):
    default_message = (
        "The instance is rate-limiting us (HTTP 429) and did not say for how long. Wait about a minute before "
        "trying again; bulk work runs slower in the background."
    )

    def __init__(self, message: str | None = None, *, retry_after: float | None = None, **kw: Any):
        self.retry_after = retry_after
        if message is None and retry_after is not None:
            message = (
                f"The instance is rate-limiting us (HTTP 429). Try again in {max(1, round(retry_after))} s."
            )
        super().__init__(message, **kw)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "retry_after": self.retry_after}


class RejectedError(ProviderStatusError):
    default_message = "The instance rejected the request as invalid."

    @property
    def messages(self) -> list[str]:
        return self.details or ([self.upstream_message] if self.upstream_message else [])


class UpstreamBroken(ProviderStatusError):
    default_message = (
        "The instance had an internal error. Try again later; if it persists, check the instance."
    )


ServerError = UpstreamBroken


class Unsupported(ProviderError):
    default_message = "This instance does not support that operation."

    def __init__(self, message: str | None = None, *, capability: str | None = None, **kw: Any):
        self.capability = capability
        super().__init__(message, **kw)


# --------------------------------------------------------------------------------------------------------------
# Upstream message normalisation and the one status → class mapping
# --------------------------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def normalize_upstream_message(value: Any) -> tuple[str | None, list[str]]:
    """Turn ToolJet's string/list/object ``message`` (or Retool's string) into ``(text, details)``."""
    if value is None:
        return None, []
    if isinstance(value, str):
        return value, []
    if isinstance(value, list):
        details = [_text(v) for v in value]
        return "; ".join(details), details
    if isinstance(value, dict):
        head = [_text(value[k]) for k in ("title", "error", "message") if value.get(k)]
        data = value.get("data")
        details = [_text(v) for v in data] if isinstance(data, list) else ([_text(data)] if data else [])
        rest = {k: v for k, v in value.items() if k not in ("title", "error", "message", "data")}
        text = ": ".join(head) if head else _text(rest or value)
        if details:
            text = f"{text} ({', '.join(details)})"
        return text, details
    return _text(value), []


def _looks_like_html(content_type: str, body: str) -> bool:
    head = body.lstrip()[:200].lower()
    return "html" in content_type.lower() or head.startswith(("<!doctype", "<html", "<head", "<body"))


@contextlib.contextmanager
def reading_one(what: str) -> Iterator[None]:
    """Around a read of one object by id: an id the product refuses as malformed (400/422, e.g. Retool's "Invalid
    user id", ToolJet's "invalid input syntax for type uuid") names nothing, so it is a :class:`NotFoundError`."""
    try:
        yield
    except RejectedError as exc:
        raise NotFoundError(
            f"There is no such {what}: the instance does not accept that id.",
            status_code=exc.status_code,
            upstream_message=exc.upstream_message,
            request_id=exc.request_id,
            upstream_request_id=exc.upstream_request_id,
            method=exc.method,
            path=exc.path,
        ) from exc


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def describe_answer(body: Any, *, expected: str) -> tuple[str, str]:
    """What answered a probe, from a raw body (``str``/``bytes``) or parsed JSON: ``(kind, phrase)`` with kind in
    tooljet | retool | html | json | text | empty; the phrase completes "answered HTTP 404 with …". ``expected``
    names the product the connection claims ("ToolJet", "Retool") for JSON of neither shape."""
    if body is None:
        return "empty", "an empty answer"
    if isinstance(body, str | bytes):
        text = (body.decode("utf-8", "replace") if isinstance(body, bytes) else body).strip()
        if not text:
            return "empty", "an empty answer"
        if _looks_like_html("", text):
            match = _TITLE.search(text)
            title = " ".join(html.unescape(match.group(1)).split())[:80] if match else ""
            return "html", f"an HTML page titled “{title}”" if title else "an HTML page"
        try:
            body = jsonguard.loads(text)
        except ValueError:
            return "text", "plain text"
    if isinstance(body, dict) and "statusCode" in body and "message" in body:
        return "tooljet", "ToolJet's JSON"
    if isinstance(body, dict) and isinstance(body.get("success"), bool):
        return "retool", "Retool's JSON"
    return "json", f"JSON in a format that is not {expected}'s"


def token_rejected_message(status: int | None, what: str, kind: str, product: str) -> str:
    """A probe's headline for a 401/403 on its first authenticated call: the token was rejected; when the answer
    is not the product's own JSON, say so too (a gateway, or another server at that address)."""
    message = f"The token was rejected (HTTP {status})."
    if kind in ("json", "text", "html", "empty"):
        message += (
            f" The answer was {what}"
            + ("" if kind == "json" else f", not {product}'s JSON")
            + f": check the token, and that the base URL is the {product} instance's (no gateway or proxy "
            "login in the way)."
        )
    else:
        message += " Paste a valid token (it may be wrong, expired or revoked)."
    return message


HTML_MESSAGE = (
    "The instance answered with an HTML page where JSON was expected: the base URL is probably wrong "
    "(check the sub-path) or a proxy login page is in the way."
)


def error_from_response(
    *,
    kind: str,
    status: int,
    body: str,
    content_type: str = "",
    retry_after: float | None = None,
    request_id: str | None = None,
    upstream_request_id: str | None = None,
    method: str | None = None,
    path: str | None = None,
) -> ProviderError:
    """Map one upstream response to the right exception. The only status → class table in the project."""
    upstream: str | None = None
    details: list[str] = []
    parsed: Any = None
    is_json = False
    if body:
        try:
            parsed = jsonguard.loads(body)
            is_json = True
        except ValueError:
            parsed = None
    if isinstance(parsed, dict):
        upstream, details = normalize_upstream_message(parsed.get("message"))
    elif not is_json and body and not _looks_like_html(content_type, body):
        upstream = body.strip()[:500]
    kw: dict[str, Any] = {
        "status_code": status,
        "upstream_message": upstream,
        "details": details,
        "request_id": request_id,
        "upstream_request_id": upstream_request_id,
        "body": body,
        "method": method,
        "path": path,
    }
    html = bool(body) and not is_json and _looks_like_html(content_type, body)
    low = (upstream or "").lower()
    product = "ToolJet" if kind == "tooljet" else "Retool" if kind == "retool" else "The instance"

    if 300 <= status < 400:
        return UpstreamBroken(
            f"The instance redirected the request (HTTP {status}). The base URL is probably wrong "
            "(http vs https, missing sub-path) or a login proxy is in the way.",
            **kw,
        )
    if status == 401:
        if html:
            return AuthError(
                "A login page (HTTP 401, HTML) answered instead of the API: a proxy in front of the instance "
                "wants its own login, or the base URL is wrong.",
                **kw,
            )
        return AuthError(
            f"{product} answered HTTP 401: the token was rejected (wrong, expired or revoked). Paste a valid "
            "token.",
            **kw,
        )
    if status in (403, 451):
        if status == 451:
            return ForbiddenError(
                f"{product}'s plan does not include the API (HTTP 451). Upgrade the plan or licence.",
                reason="plan",
                **kw,
            )
        if kind == "tooljet":
            if low == "unauthorized":
                return AuthError(
                    "ToolJet answered HTTP 403 “Unauthorized”: the token was rejected. It must equal the "
                    "instance's EXTERNAL_API_ACCESS_TOKEN.",
                    **kw,
                )
            if "external api is disabled" in low:
                return ForbiddenError(
                    "ToolJet's external API is disabled on this instance: ask its admin to set "
                    "ENABLE_EXTERNAL_API=true and restart ToolJet.",
                    reason="api_disabled",
                    **kw,
                )
            if "do not have access to this resource" in low:
                return ForbiddenError(
                    "This ToolJet instance's licence does not include the External API feature.",
                    reason="unlicensed",
                    **kw,
                )
            if "forbidden resource" in low:
                return ForbiddenError(
                    "ToolJet refused every external API call: this looks like the Community Edition (the API needs "
                    "Enterprise) or the wrong base URL.",
                    reason="unlicensed",
                    **kw,
                )
        if kind == "retool" and "missing one of" in low:
            match = re.search(r'missing one of "([^"]+)"', upstream or "")
            scope = match.group(1) if match else None
            named = f'the scope "{scope}"' if scope else "a scope this request needs"
            return ForbiddenError(
                f"The Retool API token lacks {named}. Create a token with that scope in Retool's Settings → "
                "Retool API (on the Business plan the users, groups and spaces scopes are not available at all).",
                reason="missing_scope",
                scope=scope,
                **kw,
            )
        if html:
            return ForbiddenError(HTML_MESSAGE, reason="other", **kw)
        return ForbiddenError(
            f"{product} refused this request (HTTP 403"
            + (f": {upstream}" if upstream else "")
            + "). Check that the token's owner or scopes allow it.",
            reason="other",
            **kw,
        )
    if status == 404:
        if html:
            return NotFoundError(HTML_MESSAGE, **kw)
        if upstream and upstream.startswith("Cannot "):
            return NotFoundError(
                f"This {product} version does not have that API route ({upstream}).",
                **kw,
            )
        return NotFoundError(f"{product} says this object does not exist (any more).", **kw)
    if status == 409:
        return ConflictError(
            f"{product} reports a conflict: {upstream or 'the object already exists'}.", **kw
        )
    if status == 429:
        return RateLimitedError(None, retry_after=retry_after, **kw)
    if status == 413:
        limit = (
            "ToolJet accepts JSON bodies up to 50 MB unless its MAX_JSON_SIZE setting was raised, and a proxy"
            if kind == "tooljet"
            else "A proxy"
        )
        return RejectedError(
            f"{product} refused the request as too large (HTTP 413). {limit} in front of the instance may allow "
            "less (nginx's client_max_body_size is 1 MB unless configured). Ask the instance's admin to raise the "
            "limit.",
            **kw,
        )
    if status in (400, 422):
        if html:
            return UpstreamBroken(HTML_MESSAGE, **kw)
        text = upstream or "no reason given"
        return RejectedError(f"{product} rejected the request: {text}", **kw)
    if status >= 500:
        if status in (502, 503, 504):
            kw["may_have_applied"] = status in (502, 504)  # a proxy lost the answer; 503 refused it up front
            return UpstreamBroken(
                f"{product} is unavailable right now (HTTP {status}"
                + (", an HTML page from a proxy" if html else "")
                + "): it may be restarting or overloaded. Try again in a minute; if it persists, check the "
                "instance and any proxy in front of it.",
                **kw,
            )
        if html:
            return UpstreamBroken(
                f"{product} (or a proxy in front of it) answered HTTP {status} with an HTML error page. Try again "
                "later; if it persists, check the instance's logs.",
                **kw,
            )
        return UpstreamBroken(
            f"{product} had an internal error (HTTP {status}). Try again later; if it persists, check the instance.",
            **kw,
        )
    if html:
        return UpstreamBroken(HTML_MESSAGE, **kw)
    return ProviderStatusError(f"{product} answered with unexpected HTTP {status}.", **kw)
