from __future__ import annotations

import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from apps.connections.crypto import TokenUnreadable
from apps.connections.models import Connection
from apps.core.paths import REPO_DIR

K1, K2, K3 = (Fernet.generate_key().decode() for _ in range(3))


def _connection(token="tok-secret-value") -> Connection:
    connection = Connection(name="TJ", slug="tj", kind="tooljet", base_url="http://127.0.0.1:9")
    connection.set_token(token)
    connection.save()
    return connection


@pytest.mark.django_db
def test_it_stores_the_token_encrypted(settings):
    settings.ADMINUI_ENCRYPTION_KEYS = [K1]
    connection = _connection("tok-secret-value")
    stored = Connection.objects.values_list("token_encrypted", flat=True).get(pk=connection.pk)
    assert "tok-secret-value" not in stored
    assert Connection.objects.get(pk=connection.pk).get_token() == "tok-secret-value"


@pytest.mark.django_db
def test_it_rotates_to_the_primary_key_and_the_old_key_can_go(settings, capsys):
    settings.ADMINUI_ENCRYPTION_KEYS = [K1]
    connection = _connection("tok-rotate")
    settings.ADMINUI_ENCRYPTION_KEYS = [K2, K1]
    call_command("rotate_encryption_keys")
    assert "re-encrypted 1 token(s); 0 unreadable" in capsys.readouterr().out
    call_command("rotate_encryption_keys")  # idempotent
    assert "re-encrypted 1 token(s); 0 unreadable" in capsys.readouterr().out
    settings.ADMINUI_ENCRYPTION_KEYS = [K2]
    assert Connection.objects.get(pk=connection.pk).get_token() == "tok-rotate"


@pytest.mark.django_db
def test_it_marks_an_undecryptable_token_instead_of_failing(settings, admin_client):
    settings.ADMINUI_ENCRYPTION_KEYS = [K1]
    connection = _connection()
    settings.ADMINUI_ENCRYPTION_KEYS = [K3]
    fresh = Connection.objects.get(pk=connection.pk)
    with pytest.raises(TokenUnreadable):
        fresh.get_token()
    assert fresh.token_readable is False
    for url in ("/connections/", "/connections/tj/", "/connections/tj/edit/"):
        response = admin_client.get(url)
        assert response.status_code == 200, url
    assert b"token unreadable" in admin_client.get("/connections/").content
    response = admin_client.post("/connections/tj/test/")
    assert response.status_code == 200
    assert b"re-enter it" in response.content


@pytest.mark.django_db
def test_rotation_counts_unreadable_tokens(settings, capsys):
    settings.ADMINUI_ENCRYPTION_KEYS = [K1]
    _connection()
    settings.ADMINUI_ENCRYPTION_KEYS = [K3]
    call_command("rotate_encryption_keys")
    assert "re-encrypted 0 token(s); 1 unreadable" in capsys.readouterr().out


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ADMINUI_ENCRYPTION_KEYS"])
def test_it_refuses_to_start_in_production_without_keys(missing, tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "ADMINUI_VAR_DIR": str(tmp_path),
        "SECRET_KEY": "x" * 60,
        "ADMINUI_ENCRYPTION_KEYS": K1,
        "ALLOWED_HOSTS": "adminui.example.com",
    }
    del env[missing]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "refuses to start" in result.stderr
    assert missing in result.stderr
