"""class-validator style checks: each returns messages worded like NestJS's ValidationPipe."""

from __future__ import annotations

import re
import uuid

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


class Checker:
    def __init__(self, body: dict, prefix: str = "") -> None:
        self.body = body
        self.prefix = prefix
        self.errors: list[str] = []

    def _name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def string(
        self,
        key: str,
        *,
        required: bool = False,
        not_empty: bool = False,
        min_len: int = 0,
        max_len: int | None = None,
    ) -> None:
        if key not in self.body or self.body[key] is None:
            if required:
                self.errors.append(f"{self._name(key)} should not be empty")
                self.errors.append(f"{self._name(key)} must be a string")
            return
        value = self.body[key]
        if not isinstance(value, str):
            self.errors.append(f"{self._name(key)} must be a string")
            return
        if not_empty and not value.strip():
            self.errors.append(f"{self._name(key)} should not be empty")
        if min_len and len(value) < min_len:
            self.errors.append(f"{self._name(key)} must be longer than or equal to {min_len} characters")
        if max_len is not None and len(value) > max_len:
            self.errors.append(f"{self._name(key)} must be shorter than or equal to {max_len} characters")

    def email(self, key: str, *, required: bool = False) -> None:
        value = self.body.get(key)
        if value is None:
            if required:
                self.errors.append(f"{self._name(key)} must be an email")
            return
        if not isinstance(value, str) or not EMAIL_RE.match(value):
            self.errors.append(f"{self._name(key)} must be an email")

    def enum(self, key: str, values: tuple[str, ...], *, required: bool = False) -> None:
        if key not in self.body or self.body[key] is None:
            if required:
                self.errors.append(
                    f"{self._name(key)} must be one of the following values: {', '.join(values)}"
                )
            return
        if self.body[key] not in values:
            self.errors.append(f"{self._name(key)} must be one of the following values: {', '.join(values)}")

    def uuid(self, key: str) -> None:
        if self.body.get(key) is not None and not is_uuid(self.body[key]):
            self.errors.append(f"{self._name(key)} must be a UUID")

    def array(self, key: str, *, required: bool = False) -> bool:
        if key not in self.body or self.body[key] is None:
            if required:
                self.errors.append(f"{self._name(key)} must be an array")
            return False
        if not isinstance(self.body[key], list):
            self.errors.append(f"{self._name(key)} must be an array")
            return False
        return True

    def boolean(self, key: str) -> None:
        if key in self.body and not isinstance(self.body[key], bool):
            self.errors.append(f"{self._name(key)} must be a boolean value")

    def obj(self, key: str, *, required: bool = False) -> bool:
        if key not in self.body or self.body[key] is None:
            if required:
                self.errors.append(f"{self._name(key)} must be an object")
            return False
        if not isinstance(self.body[key], dict):
            self.errors.append(f"{self._name(key)} must be an object")
            return False
        return True
