from __future__ import annotations

import logging

from apps.core.context import current_request_meta


class RequestIDFilter(logging.Filter):
    """Adds `request_id` to every log record (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_meta().request_id
        return True
