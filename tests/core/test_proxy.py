"""The client's address behind the reverse proxy: believed from a trusted proxy, ignored from anyone else."""

from __future__ import annotations

from apps.audit.models import AuditEvent
from tests.conftest import PASSWORD

PROXY = "127.0.0.1"  # the default ADMINUI_TRUSTED_PROXIES


def _export(client, **kw):
    response = client.get("/audit/export/", {"format": "csv"}, **kw)
    assert response.status_code == 200
    b"".join(response.streaming_content)
    return AuditEvent.objects.latest("pk")


def test_it_records_the_forwarded_client_address_from_a_trusted_proxy(admin_client):
    event = _export(admin_client, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert event.remote_addr == "203.0.113.7"


def test_it_ignores_x_forwarded_for_from_an_untrusted_peer(admin_client):
    event = _export(admin_client, REMOTE_ADDR="198.51.100.20", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert event.remote_addr == "198.51.100.20"


def test_it_ignores_a_forwarded_chain_longer_than_the_configured_proxies(admin_client):
    # a client that sent its own X-Forwarded-For through a proxy that appends: not believed, the proxy is recorded
    event = _export(admin_client, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.7")
    assert event.remote_addr == PROXY


def test_it_reads_the_client_behind_a_configured_chain_of_proxies(admin_client, settings):
    settings.ADMINUI_PROXY_COUNT = 1
    settings.ADMINUI_TRUSTED_PROXIES = ["10.0.0.0/8"]
    event = _export(admin_client, REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="203.0.113.7, 10.4.5.6")
    assert event.remote_addr == "203.0.113.7"


def test_it_locks_out_only_the_failing_client_behind_the_proxy(client, operator_viewer):
    for _ in range(5):
        client.post(
            "/login/",
            {"username": "vera", "password": "nope"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR="203.0.113.66",
        )
    locked = client.post(
        "/login/",
        {"username": "vera", "password": PASSWORD},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="203.0.113.66",
    )
    assert locked.status_code == 429
    response = client.post(
        "/login/",
        {"username": "vera", "password": PASSWORD},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="203.0.113.8",
    )
    assert response.status_code == 302


def test_it_does_not_let_an_untrusted_peer_dodge_the_lockout_with_a_forged_header(client, operator_viewer):
    for n in range(5):
        client.post(
            "/login/",
            {"username": "vera", "password": "nope"},
            REMOTE_ADDR="198.51.100.20",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
    response = client.post(
        "/login/",
        {"username": "vera", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.20",
        HTTP_X_FORWARDED_FOR="203.0.113.200",
    )
    assert response.status_code == 429
