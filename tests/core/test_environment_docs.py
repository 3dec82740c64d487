"""Every environment variable the console reads is documented in the README table and in .env.example."""

from __future__ import annotations

import re
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
READ = re.compile(r"""(?:env(?:\.\w+)?|os\.environ\.get)\(\s*["']([A-Z][A-Z0-9_]+)["']""")
NOT_FOR_OPERATORS = {"ADMINUI_TESTING"}  # set by the test tooling only


def _read_names() -> set[str]:
    names = set()
    for path in ("adminui/settings.py", "adminui/gunicorn.conf.py"):
        names |= set(READ.findall((ROOT / path).read_text()))
    return names - NOT_FOR_OPERATORS


def test_it_documents_every_environment_variable_in_the_readme():
    # the production table, or the table of the README section the variable belongs to ("Signing in")
    table = {
        name
        for row in (ROOT / "README.md").read_text().splitlines()
        if row.startswith("| `")
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])
    }
    missing = _read_names() - table
    assert not missing, f"not in the README's variable table: {sorted(missing)}"
    assert "ADMINUI_SESSION_IDLE_TIMEOUT" in table


def test_it_lists_every_environment_variable_in_the_env_example():
    example = set(re.findall(r"^#?\s?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    missing = _read_names() - example
    assert not missing, f"not in .env.example: {sorted(missing)}"


def test_it_imports_settings_from_a_read_only_code_directory(tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    code = tmp_path / "code"
    shutil.copytree(ROOT / "adminui", code / "adminui")
    shutil.copytree(ROOT / "apps", code / "apps", ignore=shutil.ignore_patterns("__pycache__"))
    # read-only even for root: var/ cannot be created where a file of that name stands
    (code / "var").write_text("")
    for path in [code, *code.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ADMINUI_", "PYTEST"))}
    env.update(
        DEBUG="0",
        SECRET_KEY="x" * 60,
        ADMINUI_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        PYTHONDONTWRITEBYTECODE="1",
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", "import adminui.settings as s; print(s.VAR_DIR)"],
            cwd=code, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        for path in [code, *code.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(code / "var")
