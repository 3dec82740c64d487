from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

REPO_DIR = Path(__file__).resolve().parents[2]
PRINT_APPS = (
    "import django; django.setup(); from django.conf import settings; print(*settings.INSTALLED_APPS)"
)


def _installed_apps(tmp_path, **env) -> list[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "ADMINUI_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "adminui.settings",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", PRINT_APPS], cwd=REPO_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_it_leaves_the_simulators_out_of_production(tmp_path):
    apps = _installed_apps(
        tmp_path,
        DEBUG="0",
        SECRET_KEY="x" * 60,
        ADMINUI_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="adminui.example.com",
    )
    assert "apps.directory" in apps
    assert "apps.simulators" not in apps


def test_it_installs_the_simulators_for_development(tmp_path):
    assert "apps.simulators" in _installed_apps(tmp_path, DEBUG="1")
