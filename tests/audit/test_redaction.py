"""The canary: a token and a password sent through every path that records never reach a row or an export."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection as db

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record, audited

pytestmark = pytest.mark.django_db

CANARY_TOKEN = "canary-tok-7f3a9c0e5b21"
CANARY_PASSWORD = "canary-pw-Zq81xLmN"


class LeakyUpstreamError(Exception):
    def __init__(self):
        super().__init__(f"401 for Authorization: Bearer {CANARY_TOKEN}")
        self.message = f"rejected token={CANARY_TOKEN} password={CANARY_PASSWORD}"
        self.status_code = 401
        self.upstream_request_id = "req-1"


def all_stored_text() -> str:
    """Every column of every audit row, as the database holds it."""
    with db.cursor() as cursor:
        cursor.execute("SELECT * FROM audit_auditevent")
        return "\n".join(repr(row) for row in cursor.fetchall())


def record_through_every_path(actor, connection, client):
    audit_record(
        action="connection.update",
        actor=actor,
        connection=connection,
        before={"token": "old", "base_url": "https://x"},
        after={"token": CANARY_TOKEN, "password": CANARY_PASSWORD, "base_url": "https://y"},
        extra={"headers": {"Authorization": f"Bearer {CANARY_TOKEN}", "X-Api-Key": CANARY_TOKEN}},
        reason=f"rotating, old was Bearer {CANARY_TOKEN}",
        error=f"api_key={CANARY_TOKEN}",
    )
    audit_record(
        action="user.metadata",
        actor=actor,
        before={
            "metadata": {"slack_api_key": "s1", "team": "red"},
            "pairs": [{"key": "db_secret", "value": "a"}],
        },
        after={
            "metadata": {
                "slack_api_key": CANARY_TOKEN,
                "team": "blue",
                "nested": [{"access_token": CANARY_TOKEN}],
            },
            "pairs": [{"key": "db_secret", "value": CANARY_TOKEN}],
            "credentials": {"username": "u", "password": CANARY_PASSWORD},
        },
    )
    with (
        pytest.raises(LeakyUpstreamError),
        audited(action="user.create", actor=actor, before={"pwd": CANARY_PASSWORD}),
    ):
        raise LeakyUpstreamError
    with pytest.raises(RuntimeError), audited(action="user.update", actor=actor) as event:
        event.after = {"Authorization": f"Basic {CANARY_TOKEN}"}
        event.extra["cookie"] = CANARY_TOKEN
        raise RuntimeError(f"Bearer {CANARY_TOKEN}")
    # Sign-in paths: a failed login carries the password in the credentials; a real login and logout.
    client.post("/login/", {"username": actor.username, "password": CANARY_PASSWORD})
    client.post("/login/", {"username": actor.username, "password": "correct horse battery staple"})
    client.post("/logout/")
    # Connection services (they receive the token itself).
    from apps.connections.services import connection_create, connection_update

    created = connection_create(
        actor=actor,
        data={"name": "Canary", "slug": "canary", "kind": "tooljet", "base_url": "https://c.example.com"},
        token=CANARY_TOKEN,
    )
    connection_update(actor=actor, connection=created, data={"notes": "n"}, token=CANARY_TOKEN + "2")


def test_it_never_stores_or_exports_the_canaries(operator_admin, make_connection, admin_client, client):
    record_through_every_path(operator_admin, make_connection(slug="prod"), client)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "auth.login",
        "auth.login_failed",
        "auth.logout",
        "connection.create",
        "connection.update",
    } <= actions

    stored = all_stored_text()
    exports = []
    for fmt in ("jsonl", "csv"):
        response = admin_client.get(f"/audit/export/?format={fmt}")
        exports.append(b"".join(response.streaming_content).decode())
        out = io.StringIO()
        call_command("audit_export", "--format", fmt, stdout=out)
        exports.append(out.getvalue())
    for text in (stored, *exports):
        assert CANARY_TOKEN not in text
        assert CANARY_PASSWORD not in text
    assert "[redacted]" in stored


def test_it_stores_secret_metadata_as_a_keyed_hash_marked_changed():
    event = audit_record(
        action="user.metadata",
        actor=None,
        before={"metadata": {"api_key": "one", "same_secret": "x", "team": "a"}},
        after={"metadata": {"api_key": "two", "same_secret": "x", "team": "b"}},
    )
    before, after = event.before["metadata"], event.after["metadata"]
    assert before["api_key"].startswith("hmac:") and "(changed)" not in before["api_key"]
    assert after["api_key"].startswith("hmac:") and after["api_key"].endswith(" (changed)")
    assert before["api_key"] != after["api_key"].removesuffix(" (changed)")
    assert before["same_secret"] == after["same_secret"]  # unchanged: same hash, no marker
    assert (before["team"], after["team"]) == ("a", "b")


def test_it_follows_the_configured_secret_pattern(settings):
    settings.ADMINUI_SECRET_KEY_PATTERN = r"(?i)pin"
    event = audit_record(action="user.metadata", actor=None, after={"door_pin": "1234", "colour": "red"})
    assert event.after["door_pin"].startswith("hmac:") and event.after["colour"] == "red"


def test_it_keeps_flags_under_secret_keys():
    event = audit_record(
        action="connection.update", actor=None, after={"has_token": True, "token_rotated": None}
    )
    assert event.after == {"has_token": True, "token_rotated": None}


def test_it_never_stores_the_failed_login_password(client, operator_viewer):
    client.post("/login/", {"username": "vera", "password": CANARY_PASSWORD})
    event = AuditEvent.objects.filter(action="auth.login_failed").get()
    assert event.actor_username == "vera" and event.outcome == "failure"
    assert CANARY_PASSWORD not in all_stored_text()


def test_it_records_login_and_logout(client, operator_viewer):
    assert (
        client.post("/login/", {"username": "vera", "password": "correct horse battery staple"}).status_code
        == 302
    )
    client.post("/logout/")
    rows = list(
        AuditEvent.objects.filter(actor=operator_viewer).order_by("sequence").values_list("action", flat=True)
    )
    assert rows == ["auth.login", "auth.logout"]
