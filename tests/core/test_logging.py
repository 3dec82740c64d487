"""Log lines: one JSON object per event with the request id (task id in workers); gunicorn's lines alike."""

from __future__ import annotations

import json
import logging

import pytest

from apps.core.context import RequestMeta, request_meta_var, task_id_var
from apps.core.logging import JsonFormatter, RequestIDFilter
from apps.core.sentry import FILTERED, before_send


def _line(record: logging.LogRecord) -> str:
    RequestIDFilter().filter(record)
    return JsonFormatter().format(record)


def _record(name="adminui.test", msg="hello %s", args=("world",), exc_info=None):
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, exc_info)


def test_it_writes_one_json_line_with_the_request_id():
    token = request_meta_var.set(RequestMeta(request_id="rid-123456"))
    try:
        line = _line(_record())
    finally:
        request_meta_var.reset(token)
    data = json.loads(line)
    assert data["message"] == "hello world"
    assert data["request_id"] == "rid-123456"
    assert data["level"] == "ERROR"
    assert data["logger"] == "adminui.test"


def test_it_keeps_a_traceback_on_the_same_line():
    try:
        raise ValueError("first\nsecond")
    except ValueError:
        import sys

        line = _line(_record(exc_info=sys.exc_info()))
    assert "\n" not in line
    assert "ValueError" in json.loads(line)["exc_info"]


def test_it_carries_the_task_id_a_worker_sets():
    token = task_id_var.set("task-42")
    try:
        data = json.loads(_line(_record()))
    finally:
        task_id_var.reset(token)
    assert data["task_id"] == "task-42"
    assert data["request_id"] == "-"


def test_it_formats_gunicorn_access_lines_with_the_responses_request_id():
    atoms = {"h": "127.0.0.1", "m": "GET", "U": "/connections/", "s": "200", "B": 512, "M": 7}
    atoms["{x-request-id}o"] = "rid-from-response"
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(m)s %(U)s", (atoms,), None)
    data = json.loads(_line(record))
    assert data["request_id"] == "rid-from-response"
    assert (data["method"], data["path"], data["status"], data["duration_ms"]) == (
        "GET",
        "/connections/",
        200,
        7,
    )


@pytest.mark.django_db
def test_it_logs_requests_with_their_id(client, caplog):
    caplog.set_level(logging.WARNING, logger="django.request")
    client.get("/no-such-page/", headers={"X-Request-ID": "rid-not-found-1"})
    assert [r.request_id for r in caplog.records if r.name == "django.request"] == ["rid-not-found-1"]


def test_it_scrubs_tokens_and_authorization_before_sending_errors():
    event = {
        "request": {
            "headers": {"Authorization": "Bearer s3cret", "Cookie": "sessionid=abc", "Accept": "text/html"},
            "data": {"token": "tok-1", "name": "ok"},
            "query_string": "token=tok-2",
        },
        "exception": {"values": [{"stacktrace": {"frames": [{"vars": {"api_key": "k", "n": "1"}}]}}]},
        "extra": {"nested": {"password": "p"}},
    }
    sent = json.dumps(before_send(event))
    for secret in ("s3cret", "sessionid=abc", "tok-1", "tok-2", '"k"', '"p"'):
        assert secret not in sent
    assert FILTERED in sent and "text/html" in sent and '"ok"' in sent


def test_it_writes_djangos_own_records_once_in_our_format(capfd, settings):
    import logging.config

    from django.utils.log import DEFAULT_LOGGING

    from apps.core.logging import logging_config

    settings.DEBUG = True  # Django's own console handler writes only in DEBUG
    logging.config.dictConfig(DEFAULT_LOGGING)  # as django.setup() does, before ours
    logging.config.dictConfig(logging_config(fmt="json", level="INFO"))
    try:
        logging.getLogger("django.request").error("just once")
        lines = [line for line in capfd.readouterr().err.splitlines() if "just once" in line]
    finally:
        logging.config.dictConfig(settings.LOGGING)
    assert len(lines) == 1
    assert json.loads(lines[0])["logger"] == "django.request"
