"""Retool API v2 provider."""

from __future__ import annotations

from apps.providers.retool.client import RetoolProvider

__all__ = ["RetoolProvider"]
