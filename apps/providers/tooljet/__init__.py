"""ToolJet External API provider."""

from __future__ import annotations

from apps.providers.tooljet.client import ToolJetProvider

__all__ = ["ToolJetProvider"]
