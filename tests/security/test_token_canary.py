"""A canary token that the upstream echoes back in every encoding appears nowhere: not on any page, not in the
stored probe result, not in a log record, not in an audit row, not on the DEBUG error page."""

from __future__ import annotations

import base64
import html
import json
import logging
import sys

import pytest
from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from apps.audit.models import AuditEvent
from apps.connections.models import Connection
from apps.providers.base import ConnectionConfig
from apps.providers.errors import redact, secret_variants

CORE = "CANARY7f3"
# a slash (JSON writes it "\/"), a quote and a backslash (JSON-escaped), "+" and "%" (percent-encoding)
CANARY = CORE + '/"q\\z+w%e=k'


def _b64_cores(secret: str) -> set[str]:
    """Independent of the redactor: the base64 of the token at each alignment, minus the edge characters."""
    cores = set()
    for prefix in ("", "B", "Ba", "Basic ", "Bearer "):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            whole = encode((prefix + secret).encode()).decode()
            cores.add(whole[len(prefix) * 4 // 3 + 2 : len(whole) - 4])
    return {c for c in cores if len(c) >= 8}


B64 = _b64_cores(CANARY)


def leaks(text: str) -> list[str]:
    found = []
    for candidate in (text, html.unescape(text)):
        if CORE in candidate:
            found.append(CORE)
        found += [c for c in B64 if c in candidate]
    return found


@pytest.fixture
def checked(caplog):
    caplog.set_level(logging.DEBUG)
    seen = {"requests": 0}

    def check(response_or_text, what: str) -> None:
        text = response_or_text if isinstance(response_or_text, str) else _text(response_or_text)
        seen["requests"] += 1
        assert not leaks(text), f"{what} shows the token: {leaks(text)}"

    yield check
    records = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert not leaks(records), "a log record holds the token"
    rows = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert not leaks(rows), "an audit row holds the token"


def _text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def test_the_redactor_knows_every_form():
    body = json.dumps({"message": f"Basic {CANARY}"}).replace("/", "\\/")
    assert CORE not in redact(body, CANARY)
    assert CORE not in redact(json.loads(body)["message"], CANARY)
    for form in secret_variants(CANARY):
        assert not leaks(redact(f"x{form}y", CANARY))


@pytest.mark.parametrize("kind", ["tooljet", "retool"])
@pytest.mark.parametrize("status", [400, 403, 500])
def test_an_upstream_echoing_the_token_leaks_it_nowhere(
    admin_client, viewer_client, simulator, probed_connection, checked, kind, status
):
    sim = simulator(kind, token=CANARY, users=5)
    connection = probed_connection(sim, token=CANARY)
    assert connection.last_test_ok, connection.last_test
    sim.faults.add(kind="echo", status=status, times=None)
    slug = connection.slug
    before = len(sim.requests)
    admin_client.post(f"/connections/{slug}/test/")
    assert len(sim.requests) > before  # the probe met the echo
    connection.refresh_from_db()
    checked(json.dumps(connection.last_test), "the stored last_test")
    checked(json.dumps(connection.capabilities), "the stored capabilities")
    pages = [
        f"/connections/{slug}/",
        f"/connections/{slug}/users/",
        f"/connections/{slug}/users/?q=priya",
        f"/connections/{slug}/groups/",
        f"/connections/{slug}/apps/",
        "/apps/",
        "/connections/",
        f"/audit/?connection={slug}",
    ]
    for client in (admin_client, viewer_client):
        for page in pages:
            checked(client.get(page), page)
            checked(client.get(page, headers={"HX-Request": "true"}), f"{page} (htmx)")
        checked(client.post(f"/connections/{slug}/test/", headers={"HX-Request": "true"}), "the test button")
    row = Connection.objects.filter(pk=connection.pk).values().get()
    checked(json.dumps(row, default=str), "the connection row")


def test_the_debug_page_hides_the_token(settings):
    settings.DEBUG = True
    config = ConnectionConfig(kind="tooljet", base_url="http://127.0.0.1:9", token=CANARY)
    echoed = json.dumps({"message": f"Basic {CANARY}"}).replace("/", "\\/")
    decoded = json.loads(echoed)["message"]
    header = f"Basic {CANARY}"

    def failing(config, echoed, decoded, header):
        raise RuntimeError("upstream went wrong")

    request = RequestFactory().post("/connections/x/", {"token": CANARY}, HTTP_AUTHORIZATION=header)
    try:
        failing(config, echoed, decoded, header)
    except RuntimeError:
        reporter = ExceptionReporter(request, *sys.exc_info())
    page = reporter.get_traceback_html()
    assert "upstream went wrong" in page
    assert not leaks(page)
    assert not leaks(reporter.get_traceback_text())
