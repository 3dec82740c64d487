"""Redaction, applied once inside `audit_record` to everything that goes into a row.

* Credentials (passwords, Authorization/Cookie headers) are replaced by "[redacted]" wherever they appear.
* Other secret-looking keys (token, secret, api_key … and anything matching `settings.ADMINUI_SECRET_KEY_PATTERN`):
  in `before`/`after` the value becomes a keyed hash (HMAC-SHA256 with SECRET_KEY, truncated) so the diff can still
  show that it changed — "hmac:…" plus " (changed)" when before and after differ; in `extra` it is "[redacted]".
* Free text (error, reason, every string value) loses "Bearer …"/"Basic …" credentials and `password=…`-style pairs.
Booleans and None under secret keys are kept (`has_token: true` reveals nothing).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from functools import cache
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

REDACTED = "[redacted]"
_MISSING = object()

# Never stored in any form (not even hashed): low-entropy or replayable credentials.
_CREDENTIAL_KEY = re.compile(r"(?i)(passw|pwd|passphrase|authorization|cookie|set-cookie|bearer)")
# Always masked, whatever the configurable pattern says.
_SECRET_KEY = re.compile(
    r"(?i)(token|secret|api[_-]?key|apikey|private[_-]?key|credential|session[_-]?id|signature|x-api-key)"
)
_TEXT_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=:-]{4,}"),
    re.compile(
        r"(?i)([\"']?(?:passw\w*|pwd|token|access_token|refresh_token|secret|api[_-]?key|authorization)[\"']?\s*[:=]\s*)"
        r"(\"[^\"]*\"|'[^']*'|[^\s,;&}]+)"
    ),
)


@cache
def _configured_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _is_secret_key(key: str) -> bool:
    pattern = getattr(settings, "ADMINUI_SECRET_KEY_PATTERN", "") or r"(?!)"
    return bool(_SECRET_KEY.search(key) or _configured_pattern(pattern).search(key))


def _is_credential_key(key: str) -> bool:
    return bool(_CREDENTIAL_KEY.search(key))


def scrub_text(text: str) -> str:
    """Remove credentials that leaked into free text (upstream error messages, reasons)."""
    if not text:
        return text
    text = _TEXT_PATTERNS[0].sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _TEXT_PATTERNS[1].sub(lambda m: f"{m.group(1)}{REDACTED}", text)


def keyed_hash(value: Any) -> str:
    raw = json.dumps(value, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    digest = hmac.new(settings.SECRET_KEY.encode(), raw.encode(), hashlib.sha256).hexdigest()
    return f"hmac:{digest[:16]}"


def to_json(value: Any) -> Any:
    """Plain JSON types only (datetimes → ISO strings, tuples → lists, …): what the database will give back."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _kv_pair_key(item: dict) -> str | None:
    """`{"key": "api_key", "value": "…"}` style entries (metadata as a list of pairs)."""
    if "value" in item:
        for name in ("key", "name"):
            if isinstance(item.get(name), str):
                return item[name]
    return None


def _mask_secret(value: Any, other: Any, *, hashed: bool, changed_marker: bool) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if not hashed or isinstance(value, dict | list):
        return REDACTED  # containers under a secret key (credential bundles) are never hashed
    masked = keyed_hash(value)
    if changed_marker and other is not _MISSING and other != value:
        masked += " (changed)"
    return masked


def _walk(value: Any, other: Any, *, hashed: bool, changed_marker: bool) -> Any:
    """Redact `value`; `other` is the same place in the counterpart document (before for after), or _MISSING."""
    if isinstance(value, dict):
        pair_key = _kv_pair_key(value)
        out: dict[str, Any] = {}
        for key, item in value.items():
            key = str(key)
            counterpart = other.get(key, _MISSING) if isinstance(other, dict) else _MISSING
            if pair_key is not None and key in ("key", "name"):
                out[key] = _walk(item, counterpart, hashed=hashed, changed_marker=changed_marker)
                continue
            secret_name = pair_key if pair_key is not None and key == "value" else key
            if _is_credential_key(secret_name):
                out[key] = None if item is None else REDACTED
            elif _is_secret_key(secret_name):
                out[key] = _mask_secret(item, counterpart, hashed=hashed, changed_marker=changed_marker)
            else:
                out[key] = _walk(item, counterpart, hashed=hashed, changed_marker=changed_marker)
        return out
    if isinstance(value, list):
        # Pair list items by a stable identity when they look like key/value entries, else by position.
        index: dict[str, Any] = {}
        if isinstance(other, list):
            for entry in other:
                if isinstance(entry, dict) and _kv_pair_key(entry) is not None:
                    index[_kv_pair_key(entry)] = entry
        out_list = []
        for position, item in enumerate(value):
            if isinstance(item, dict) and _kv_pair_key(item) is not None:
                counterpart = index.get(_kv_pair_key(item), _MISSING)
            elif isinstance(other, list) and position < len(other):
                counterpart = other[position]
            else:
                counterpart = _MISSING
            out_list.append(_walk(item, counterpart, hashed=hashed, changed_marker=changed_marker))
        return out_list
    if isinstance(value, str):
        return scrub_text(value)
    return value


def redact_pair(before: Any, after: Any) -> tuple[Any, Any]:
    """Redact a before/after pair; secret values are keyed hashes, the after side marked "(changed)"."""
    before, after = to_json(before), to_json(after)
    red_before = None if before is None else _walk(before, _MISSING, hashed=True, changed_marker=False)
    red_after = (
        None
        if after is None
        else _walk(after, before if before is not None else _MISSING, hashed=True, changed_marker=True)
    )
    return red_before, red_after


def redact(value: Any) -> Any:
    """Redact a free-form document (`extra`): secrets become "[redacted]"."""
    value = to_json(value)
    return None if value is None else _walk(value, _MISSING, hashed=False, changed_marker=False)
