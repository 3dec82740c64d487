"""The directory listens to connections (connections imports nothing from the directory)."""

from __future__ import annotations

from apps.directory.services import directory_index_start


def index_after_test(sender, *, connection, **kwargs) -> dict:
    """A new connection's people are indexed once its first test passes; the test result says so."""
    return {"index_state": directory_index_start(connection=connection)}
