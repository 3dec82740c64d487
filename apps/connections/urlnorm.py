"""Normalise what operators paste as an instance URL into the stored base URL (origin plus sub-path)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ValidationError

_HOST = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$", re.IGNORECASE)
_API_SUFFIX = re.compile(r"(/api(/v2)?(/ext)?)+$", re.IGNORECASE)


def normalize_base_url(value: str) -> str:
    """`https://Host/tooljet/api/ext/` → `https://host/tooljet`. Only http and https; no query, no fragment,
    no credentials. Raises ValidationError with an operator-facing message."""
    text = (value or "").strip()
    if not text:
        raise ValidationError("Enter the instance URL, e.g. https://tooljet.example.com")
    if "://" not in text:
        raise ValidationError("Start the URL with https:// (or http:// for a local instance).")
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValidationError("Only http:// and https:// URLs are supported.")
    if not parts.hostname:
        raise ValidationError("That URL has no host name.")
    if parts.username or parts.password:
        raise ValidationError("Do not put credentials in the URL; use the token field.")
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/")
    path = _API_SUFFIX.sub("", path).rstrip("/")
    netloc = parts.hostname.lower() + (f":{parts.port}" if parts.port else "")
    if ":" in parts.hostname:  # IPv6 literal
        netloc = f"[{parts.hostname}]" + (f":{parts.port}" if parts.port else "")
    if ":" not in parts.hostname and not _HOST.match(parts.hostname):
        raise ValidationError("That host name is not valid.")
    return urlunsplit((parts.scheme.lower(), netloc, path, "", ""))
