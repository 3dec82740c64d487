"""Writes on connections. Each service records one audit event (never the token)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.connections.clients import TokenUnusable, get_provider
from apps.connections.crypto import TokenUnreadable, reencrypt_token
from apps.connections.models import Connection
from apps.providers.errors import redact_json

# Fields an audit row may show (the token never: only whether it changed).
AUDITED_FIELDS = (
    "name",
    "slug",
    "kind",
    "base_url",
    "environment",
    "timeout",
    "requests_per_minute",
    "verify_tls",
    "notes",
)


def _snapshot(connection: Connection) -> dict:
    return {field: getattr(connection, field) for field in AUDITED_FIELDS}


def _audit(action: str, connection: Connection, *, actor, **fields) -> None:
    audit_record(
        action=action,
        actor=actor,
        connection=connection,
        target_type="connection",
        target_id=connection.slug,
        target_repr=connection.name,
        **fields,
    )


def connection_create(*, actor, data: dict, token: str, failed_test: str = "") -> Connection:
    """Save a new connection. ``failed_test``: the message of the test it failed before the operator chose to
    save it anyway (kept in the audit row)."""
    connection = Connection(**{k: v for k, v in data.items() if k in AUDITED_FIELDS})
    connection.set_token(token)
    connection.created_by = connection.updated_by = actor
    after = {**_snapshot(connection), "token_set": True}
    if failed_test:
        after["saved_despite_failed_test"] = failed_test
    with transaction.atomic():
        connection.save()
        _audit("connection.create", connection, actor=actor, after=after)
    return connection


def connection_update(*, actor, connection: Connection, data: dict, token: str = "") -> Connection:
    before = _snapshot(Connection.objects.get(pk=connection.pk))
    for field in AUDITED_FIELDS:
        if field in data:
            setattr(connection, field, data[field])
    after = _snapshot(connection)
    if token:
        connection.set_token(token)
        after["token_replaced"] = True
    connection.updated_by = actor
    with transaction.atomic():
        connection.save()
        _audit("connection.update", connection, actor=actor, before=before, after=after)
    return connection


def connection_delete(*, actor, connection: Connection, reason: str = "", ticket: str = "") -> None:
    with transaction.atomic():
        _audit(
            "connection.delete",
            connection,
            actor=actor,
            before=_snapshot(connection),
            reason=reason,
            ticket=ticket,
        )
        connection.delete()


def connections_rotate_keys() -> tuple[int, int, int]:
    """Re-encrypt every token with the primary key. Returns (rotated, unreadable, empty). Idempotent."""
    rotated = unreadable = empty = 0
    for connection in Connection.objects.only("pk", "token_encrypted").iterator():
        if not connection.token_encrypted:
            empty += 1
            continue
        try:
            fresh = reencrypt_token(connection.token_encrypted)
        except TokenUnreadable:
            unreadable += 1
            continue
        Connection.objects.filter(pk=connection.pk).update(token_encrypted=fresh)
        rotated += 1
    if rotated or unreadable:
        audit_record(
            action="connection.rotate_keys",
            actor=None,
            target_type="connection",
            target_repr="all connections",
            after={"rotated": rotated, "unreadable": unreadable},
        )
    return rotated, unreadable, empty


def connection_probe_unsaved(*, data: dict, token: str) -> dict:
    """Probe an instance described by the add form before anything is saved (no audit row: nothing changed,
    here or upstream). Returns the probe's ``ok``, ``message`` and ``checks``, never with the token in them."""
    connection = Connection(**{k: v for k, v in data.items() if k in AUDITED_FIELDS})
    connection.set_token(token)
    try:
        provider = get_provider(connection)
        result = redact_json(provider.probe(thorough=True).to_dict(), provider.config.token)
    except TokenUnusable as exc:
        result = {"ok": False, "message": exc.message, "checks": []}
    return {k: result.get(k) for k in ("ok", "message", "checks")}


def connection_test(*, actor, connection: Connection) -> Connection:
    """Probe the instance (reachability, TLS, auth, capabilities, latency) without side effects upstream;
    store the result and the capabilities on the connection."""
    now = timezone.now()
    try:
        provider = get_provider(connection)
        # whatever the instance said (versions, names, messages) is stored and shown: never with the token in it
        result = redact_json(provider.probe(thorough=True).to_dict(), provider.config.token)
    except TokenUnusable as exc:
        result = {"ok": False, "message": exc.message, "checks": [], "capabilities": None}
    connection.last_test = {
        k: result.get(k) for k in ("ok", "message", "checks", "version", "latency_ms", "error")
    }
    connection.last_test_at = now
    connection.last_test_ok = bool(result.get("ok"))
    fields = ["last_test", "last_test_at", "last_test_ok"]
    if result.get("capabilities") and (result.get("ok") or not connection.capabilities):
        connection.capabilities = result["capabilities"]  # carries its own probed_at
        fields.append("capabilities")
    connection.save(update_fields=fields)
    _audit(
        "connection.test",
        connection,
        actor=actor,
        after={"ok": connection.last_test_ok, "message": result.get("message", "")},
        outcome="success" if connection.last_test_ok else "failure",
        error="" if connection.last_test_ok else result.get("message", ""),
    )
    return connection
