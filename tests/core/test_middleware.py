from __future__ import annotations

import re

import pytest


def test_it_sets_request_id_and_vary(client):
    response = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert "HX-Request" in response["Vary"]


def test_it_reuses_a_well_formed_incoming_request_id(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123-def-456"})
    assert response["X-Request-ID"] == "abc-123-def-456"


def test_it_replaces_a_malformed_incoming_request_id(client):
    response = client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert response["X-Request-ID"] != "bad id\nwith newline"


@pytest.mark.django_db
def test_it_redirects_anonymous_full_requests_to_login(client):
    response = client.get("/connections/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/connections/")


@pytest.mark.django_db
def test_it_sends_expired_htmx_sessions_to_the_login_page(client):
    response = client.get(
        "/connections/", headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/connections/x/"}
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/?next=%2Fconnections%2Fx%2F"
    assert b"<form" not in response.content


@pytest.mark.django_db
def test_it_turns_htmx_errors_into_an_alert_fragment(viewer_client, htmx_headers):
    response = viewer_client.get("/connections/add/", headers=htmx_headers)
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#alerts"
    assert b"<html" not in response.content
    assert b"read-only" in response.content  # the refusal's reason


@pytest.mark.django_db
def test_it_renders_a_403_page_for_full_requests(viewer_client):
    response = viewer_client.get("/connections/add/")
    assert response.status_code == 403
    assert b"<html" in response.content
    assert b"Not allowed" in response.content


@pytest.mark.django_db
def test_it_sets_a_content_security_policy_without_inline(client):
    response = client.get("/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp


def test_log_lines_carry_the_request_id(rf):
    import logging

    from django.http import HttpResponse

    from apps.core.logging import RequestIDFilter
    from apps.core.middleware import RequestIDMiddleware

    records: list[logging.LogRecord] = []

    class Capture(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Capture()
    handler.addFilter(RequestIDFilter())
    logger = logging.getLogger("adminui.test")
    logger.addHandler(handler)

    def view(request):
        logger.warning("inside the request")
        return HttpResponse("ok")

    try:
        RequestIDMiddleware(view)(rf.get("/", headers={"X-Request-ID": "req-id-12345678"}))
        logger.warning("outside any request")
    finally:
        logger.removeHandler(handler)
    assert [r.request_id for r in records] == ["req-id-12345678", "-"]


@pytest.mark.parametrize("htmx", [True, False])
def test_an_unhandled_upstream_failure_becomes_an_alert_not_a_500(rf, db, htmx):
    from django_htmx.middleware import HtmxDetails

    from apps.core.middleware import HtmxErrorMiddleware
    from apps.providers.errors import ProviderTimeout

    request = rf.get("/", headers={"HX-Request": "true"} if htmx else {})
    request.htmx = HtmxDetails(request)
    request.request_id = "req-id-12345678"
    response = HtmxErrorMiddleware(lambda r: None).process_exception(
        request, ProviderTimeout("The instance did not answer within 5 s.")
    )
    assert response.status_code == 502
    assert b"did not answer within 5 s" in response.content
    assert b"req-id-12345678" in response.content
    assert (response.get("HX-Retarget") == "#alerts") is htmx
    assert (b"<html" in response.content) is not htmx


def test_other_exceptions_are_left_to_django(rf):
    from apps.core.middleware import HtmxErrorMiddleware

    assert HtmxErrorMiddleware(lambda r: None).process_exception(rf.get("/"), ValueError("x")) is None


def test_pages_are_never_kept_by_the_browser(admin_client):
    """Back after a change must ask again, not show the page as it was before the change."""
    for url in ("/", "/connections/", "/audit/"):
        cache_control = admin_client.get(url)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, url
