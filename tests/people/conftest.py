"""The people tests use the same probed and indexed fleet connections as the directory tests."""

from __future__ import annotations

from tests.directory.conftest import PROFILES, fleet_connection, synced, tj_user

__all__ = ["PROFILES", "fleet_connection", "synced", "tj_user"]
