"""Sessions end after ADMINUI_SESSION_IDLE_TIMEOUT without a request, and SESSION_COOKIE_AGE after login."""

from __future__ import annotations

import time
from unittest import mock

import pytest

from apps.core.middleware import SessionTimeoutMiddleware


@pytest.fixture
def later():
    """`later(seconds)` → a context in which the clock reads that much later than now."""
    start = time.time()

    def at(seconds: float):
        return mock.patch("apps.core.middleware.time.time", return_value=start + seconds)

    with mock.patch("apps.core.middleware.time.time", return_value=start):
        yield at


def test_it_keeps_a_session_used_within_the_idle_timeout(admin_client, later, settings):
    settings.ADMINUI_SESSION_IDLE_TIMEOUT = 1800
    with later(0):
        assert admin_client.get("/connections/").status_code == 200
    for minutes in (20, 40, 60, 80):  # never 30 minutes apart: still logged in after 80
        with later(minutes * 60):
            assert admin_client.get("/connections/").status_code == 200


def test_it_ends_a_session_idle_for_longer_than_the_timeout(admin_client, later, settings):
    settings.ADMINUI_SESSION_IDLE_TIMEOUT = 1800
    with later(0):
        assert admin_client.get("/connections/").status_code == 200
    with later(1801):
        response = admin_client.get("/connections/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    with later(1802):  # and it stays ended
        assert admin_client.get("/connections/").status_code == 302


def test_it_ends_a_busy_session_at_the_absolute_limit(admin_client, later, settings):
    settings.ADMINUI_SESSION_IDLE_TIMEOUT = 1800
    settings.SESSION_COOKIE_AGE = 3600
    with later(0):
        assert admin_client.get("/connections/").status_code == 200
    for minutes in (20, 40):
        with later(minutes * 60):
            assert admin_client.get("/connections/").status_code == 200
    with later(3600):
        assert admin_client.get("/connections/").status_code == 302


def test_it_sends_an_idle_htmx_request_to_the_login_page(admin_client, later, settings, htmx_headers):
    settings.ADMINUI_SESSION_IDLE_TIMEOUT = 60
    with later(0):
        admin_client.get("/connections/")
    with later(61):
        response = admin_client.get("/connections/", headers=htmx_headers)
    assert response["HX-Redirect"].startswith("/login/")


def test_it_writes_the_last_seen_time_at_most_once_a_minute(admin_client, later):
    with later(0):
        admin_client.get("/connections/")
    seen = admin_client.session[SessionTimeoutMiddleware.SEEN]
    with later(30):
        admin_client.get("/connections/")
    assert admin_client.session[SessionTimeoutMiddleware.SEEN] == seen
    with later(90):
        admin_client.get("/connections/")
    assert admin_client.session[SessionTimeoutMiddleware.SEEN] == seen + 90
