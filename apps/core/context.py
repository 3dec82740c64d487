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


# The background task being run, for log lines outside any request. A task worker sets it around each task
# (`token = task_id_var.set(id)` … `task_id_var.reset(token)`); every log line then carries it.
task_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("task_id", default="-")
