"""The console's own database not answering: a 503 page with the request id, one log line per failed request."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test import Client


@pytest.fixture
def database_gone(transactional_db, operator_admin):
    """A logged-in client, then the database made unreachable: SQLite pointed at a directory that does not exist."""
    client = Client(raise_request_exception=False)
    client.force_login(operator_admin)
    name, kept = (
        connection.settings_dict["NAME"],
        connection.connection,
    )  # the test database may live in memory
    connection.connection = None
    connection.settings_dict["NAME"] = "/nonexistent-adminui-dir/adminui.sqlite3"
    try:
        yield client
    finally:
        connection.settings_dict["NAME"] = name
        connection.connection = kept


def test_it_answers_503_with_the_request_id_when_the_database_is_down(database_gone):
    response = database_gone.get("/connections/", headers={"X-Request-ID": "req-db-down-0001"})
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert "database is not answering" in body
    assert "req-db-down-0001" in body
    assert "Traceback" not in body


def test_it_logs_one_line_per_request_without_a_traceback(database_gone, caplog):
    caplog.set_level(logging.INFO)
    for n in range(3):
        assert (
            database_gone.get("/connections/", headers={"X-Request-ID": f"req-db-down-000{n}"}).status_code
            == 503
        )
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 3
    for n, record in enumerate(errors):
        assert record.exc_info is None
        assert "database unavailable" in record.getMessage()
        assert "\n" not in record.getMessage()
        assert record.request_id == f"req-db-down-000{n}"


def test_it_answers_503_on_readyz_and_200_on_healthz(database_gone):
    assert database_gone.get("/readyz").status_code == 503
    assert database_gone.get("/healthz").status_code == 200


def test_it_answers_an_htmx_request_with_the_503_and_one_log_line(database_gone, caplog, htmx_headers):
    caplog.set_level(logging.INFO)
    response = database_gone.get(
        "/connections/", headers={**htmx_headers, "X-Request-ID": "req-db-down-htmx"}
    )
    assert response.status_code == 503
    assert "req-db-down-htmx" in response.content.decode()
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1
