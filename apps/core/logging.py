"""Log records as one line each: JSON in production (LOG_FORMAT=json), plain text for development.

Every line carries the request id (and the task id in a worker, see `apps.core.context.task_id_var`). gunicorn's
access and error logs go through the same formatter (adminui/gunicorn.conf.py). This module imports nothing from
Django at import time: gunicorn loads it before Django is set up."""

from __future__ import annotations

import logging

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from apps.core.context import current_request_meta, task_id_var

JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(task_id)s"
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


class RequestIDFilter(logging.Filter):
    """Adds `request_id` and `task_id` to every log record (`-` outside a request or a task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            # Django logs a 4xx/5xx after the middleware that set the context has returned: read it off the request.
            from_request = getattr(getattr(record, "request", None), "request_id", None)
            record.request_id = from_request or current_request_meta().request_id
        record.task_id = task_id_var.get()
        return True


def database_down(exc: BaseException | None) -> bool:
    from django.db.utils import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError)


class DatabaseDownFilter(logging.Filter):
    """With the database down every request fails the same way: log one line per failed request (the error's first
    line), not a traceback each. Other errors keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if database_down(exc):
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            record.msg = f"{record.getMessage()}: database unavailable ({first})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id, task_id (+ the access fields for
    gunicorn's access log, whose request id comes from the response's X-Request-ID header)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request"])  # Django's request object: its repr
        super().__init__(JSON_FIELDS, *args, **kwargs)

    def add_fields(self, log_data, record, message_dict) -> None:
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            atoms = record.args
            record.request_id = atoms.get("{x-request-id}o") or "-"
            message_dict = {
                **message_dict,
                "remote_addr": atoms.get("h"),
                "method": atoms.get("m"),
                "path": atoms.get("U"),
                "status": int(atoms["s"]) if str(atoms.get("s", "")).isdigit() else atoms.get("s"),
                "bytes": atoms.get("B"),
                "duration_ms": atoms.get("M"),
            }
        for name in ("request_id", "task_id"):
            if not hasattr(record, name):
                setattr(record, name, "-")
        super().add_fields(log_data, record, message_dict)


def logging_config(*, fmt: str, level: str) -> dict:
    """The dictConfig shared by Django's LOGGING and gunicorn's logconfig_dict."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "apps.core.logging.RequestIDFilter"},
            "database_down": {"()": "apps.core.logging.DatabaseDownFilter"},
        },
        "formatters": {
            "json": {"()": "apps.core.logging.JsonFormatter"},
            "text": {"format": TEXT_FORMAT},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if fmt == "json" else "text",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own console and mail handlers go: its records reach the root handler once, in our format.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
            "django.request": {"filters": ["database_down"]},
            "django.server": {"filters": ["database_down"]},
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
