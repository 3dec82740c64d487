from __future__ import annotations

from tests.core.conftest import redis_server  # noqa: F401 - a real Redis for the deployed console's cache
