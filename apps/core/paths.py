from __future__ import annotations

import os
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    """The read-only `shared/` folder beside the repo (contracts, seeds). Only tests/contract may use it."""
    return Path(os.environ.get("ADMINUI_SHARED_DIR", REPO_DIR.parent / "shared"))
