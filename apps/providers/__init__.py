"""Provider clients for ToolJet and Retool: a plain package, not a Django app (STYLE.md §5).

``get_provider_class(kind)`` resolves the kind registry lazily and caches the class.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

__all__ = ["PROVIDERS", "get_provider_class", "kinds"]

PROVIDERS: dict[str, str] = {
    "tooljet": "apps.providers.tooljet.ToolJetProvider",
    "retool": "apps.providers.retool.RetoolProvider",
}


def kinds() -> list[str]:
    return list(PROVIDERS)


@functools.cache
def get_provider_class(kind: str) -> Any:
    """Return the provider class for ``kind`` (``KeyError`` → ``ValueError`` for an unknown kind)."""
    try:
        dotted = PROVIDERS[kind]
    except KeyError:
        raise ValueError(f"Unknown provider kind {kind!r}; expected one of {', '.join(PROVIDERS)}") from None
    module_name, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)
