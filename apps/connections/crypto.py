"""Connection tokens at rest: Fernet, with every configured key able to decrypt and the first one encrypting."""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class TokenUnreadable(Exception):
    """No configured key decrypts this token (a key was removed too early, or the value was damaged)."""


@cache
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def _current() -> MultiFernet:
    return _multifernet(tuple(settings.ADMINUI_ENCRYPTION_KEYS))


def encrypt_token(raw: str) -> str:
    return _current().encrypt(raw.encode()).decode()


def decrypt_token(ciphertext: str) -> str:
    try:
        return _current().decrypt(ciphertext.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise TokenUnreadable("no configured encryption key can read this token") from exc


def reencrypt_token(ciphertext: str) -> str:
    """Re-encrypt with the primary key (raises TokenUnreadable when no key reads it)."""
    try:
        return _current().rotate(ciphertext.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise TokenUnreadable("no configured encryption key can read this token") from exc
