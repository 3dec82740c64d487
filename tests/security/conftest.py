from __future__ import annotations

from tests.transfers.conftest import _clear_cache, exports_dir, retool, tooljet

__all__ = ["_clear_cache", "exports_dir", "retool", "tooljet"]
