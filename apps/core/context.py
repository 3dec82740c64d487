"""Per-request facts that services, audit rows and log lines need without threading them through every call.
Set once by RequestIDMiddleware; ContextVars, never thread-locals."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestMeta:
    request_id: str = "-"
    remote_addr: str | None = None
    user_agent: str = ""


request_meta_var: contextvars.ContextVar[RequestMeta] = contextvars.ContextVar(
    "request_meta",
    default=RequestMeta(),  # noqa: B039 - a frozen dataclass
)


def current_request_meta() -> RequestMeta:
    return request_meta_var.get()
