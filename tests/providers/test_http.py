from __future__ import annotations

import logging

import httpx
import pytest

from apps.providers.base import ConnectionConfig
from apps.providers.errors import (
    AuthError,
    ConnectionRefused,
    DNSFailure,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimitedError,
    TLSFailure,
    UpstreamBroken,
)
from apps.providers.http import (
    RetryPolicy,
    Session,
    TokenBucket,
    build_client,
    close_all_clients,
    fan_out,
    parse_retry_after,
    seg,
)

CANARY = "canary-tok-7f3a9b"


def config(**kw):
    base = {"kind": "retool", "base_url": "https://example.test", "token": CANARY, "key": "c1"}
    base.update(kw)
    return ConnectionConfig(**base)


class Recorder:
    def __init__(self, *responses):
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(item, Exception):
            raise item
        return item


def session(handler, **kw):
    sleeps: list[float] = []
    s = Session(
        kw.pop("cfg", config()),
        prefix="/api/v2",
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
        **kw,
    )
    return s, sleeps


def test_it_sends_auth_user_agent_and_request_id():
    rec = Recorder(httpx.Response(200, json={"ok": True}))
    s, _ = session(rec, cfg=config(request_id="req-1"))
    assert s.json("GET", "/users") == {"ok": True}
    req = rec.requests[0]
    assert req.headers["authorization"] == f"Bearer {CANARY}"
    assert req.headers["user-agent"].startswith("adminui/")
    assert req.headers["x-request-id"] == "req-1"
    assert str(req.url) == "https://example.test/api/v2/users"


def test_it_uses_raw_basic_token_for_tooljet():
    rec = Recorder(httpx.Response(200, json=[]))
    s, _ = session(rec, cfg=config(kind="tooljet"))
    s.json("GET", "/users")
    assert rec.requests[0].headers["authorization"] == f"Basic {CANARY}"


def test_it_pools_clients_per_connection():
    close_all_clients()
    a = build_client(config())
    assert build_client(config()) is a
    assert build_client(config(key="other")) is not a
    assert build_client(config(token="rotated-token")) is not a
    assert a.timeout.connect == 5.0 and a.timeout.read == 10.0
    assert build_client(config(timeout=90)).timeout.read == 25.0
    assert a.follow_redirects is False
    close_all_clients()


@pytest.mark.parametrize("bad", ["", "a/b", "..", "a..b", "x\n", "x\x00", " x", "a?b", "a#b", "a\\b", None])
def test_it_rejects_bad_path_parameters(bad):
    with pytest.raises(ValueError):
        seg(bad)


def test_it_encodes_emails_in_path_parameters():
    assert seg("jane+x@example.com") == "jane+x@example.com"
    assert seg("a b") == "a%20b"


def test_it_retries_idempotent_get_on_503_then_succeeds():
    rec = Recorder(httpx.Response(503, json={"message": "busy"}), httpx.Response(200, json={"ok": 1}))
    s, sleeps = session(rec)
    assert s.json("GET", "/x") == {"ok": 1}
    assert len(rec.requests) == 2
    assert len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5


def test_it_honours_retry_after_on_429():
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "3"}, json={}), httpx.Response(200, json={}))
    s, sleeps = session(rec)
    s.json("GET", "/x")
    assert sleeps == [3.0]


def test_it_gives_up_when_retry_after_is_too_long():
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "120"}, json={"message": "slow down"}))
    s, sleeps = session(rec)
    with pytest.raises(RateLimitedError) as exc:
        s.json("GET", "/x")
    assert exc.value.retry_after == 120
    assert sleeps == [] and len(rec.requests) == 1


def test_it_stops_after_two_retries():
    rec = Recorder(httpx.Response(502, text="bad gateway"))
    s, sleeps = session(rec)
    with pytest.raises(UpstreamBroken):
        s.json("GET", "/x")
    assert len(rec.requests) == 3 and len(sleeps) == 2


def test_it_caps_total_retry_time():
    rec = Recorder(httpx.Response(503, headers={"Retry-After": "15"}, json={}))
    s, sleeps = session(rec, policy=RetryPolicy(total_cap=20))
    with pytest.raises(UpstreamBroken):
        s.json("GET", "/x")
    assert sleeps == [15.0]


def test_it_never_retries_post():
    rec = Recorder(httpx.Response(503, json={}))
    s, sleeps = session(rec)
    with pytest.raises(UpstreamBroken):
        s.json("POST", "/users", json={})
    assert len(rec.requests) == 1 and sleeps == []


def test_it_retries_post_flagged_idempotent():
    rec = Recorder(httpx.Response(503, json={}), httpx.Response(200, json={}))
    s, _ = session(rec)
    s.json("POST", "/groups/1/members", json={}, idempotent=True)
    assert len(rec.requests) == 2


def test_it_does_not_retry_400_or_500():
    for status in (400, 500):
        rec = Recorder(httpx.Response(status, json={"message": "no"}))
        s, _ = session(rec)
        with pytest.raises(Exception):  # noqa: B017
            s.json("GET", "/x")
        assert len(rec.requests) == 1


def test_it_retries_connection_errors_for_get_only():
    rec = Recorder(httpx.ConnectError("[Errno 111] Connection refused"), httpx.Response(200, json={}))
    s, _ = session(rec)
    s.json("GET", "/x")
    assert len(rec.requests) == 2
    rec = Recorder(httpx.ConnectError("[Errno 111] Connection refused"))
    s, _ = session(rec)
    with pytest.raises(ConnectionRefused):
        s.json("POST", "/x", json={})
    assert len(rec.requests) == 1


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (httpx.ConnectError("[Errno -2] Name or service not known"), DNSFailure),
        (httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), TLSFailure),
        (httpx.ConnectError("[Errno 111] Connection refused"), ConnectionRefused),
        (httpx.ReadTimeout("timed out"), ProviderTimeout),
        (httpx.ConnectTimeout("timed out"), ProviderTimeout),
        (httpx.RemoteProtocolError("peer closed connection"), ProviderUnavailable),
    ],
)
def test_it_maps_transport_errors(exc, cls):
    s, _ = session(Recorder(exc), policy=RetryPolicy(max_retries=0))
    with pytest.raises(cls) as err:
        s.json("GET", "/x")
    assert err.value.message


def test_it_reports_html_where_json_was_expected():
    rec = Recorder(
        httpx.Response(200, text="<!doctype html><title>Login</title>", headers={"content-type": "text/html"})
    )
    s, _ = session(rec)
    with pytest.raises(UpstreamBroken) as err:
        s.json("GET", "/x")
    assert "wrong" in str(err.value) and "proxy login page" in str(err.value)


def test_it_reports_malformed_json():
    s, _ = session(
        Recorder(httpx.Response(200, text='{"data": [', headers={"content-type": "application/json"}))
    )
    with pytest.raises(UpstreamBroken) as err:
        s.json("GET", "/x")
    assert "malformed" in str(err.value)


def test_it_does_not_follow_redirects():
    rec = Recorder(httpx.Response(302, headers={"location": "https://sso.example.test/login"}))
    s, _ = session(rec)
    with pytest.raises(UpstreamBroken) as err:
        s.json("GET", "/x")
    assert "redirect" in str(err.value)
    assert len(rec.requests) == 1


def test_it_never_leaks_the_token(caplog):
    caplog.set_level(logging.DEBUG, logger="adminui.providers")
    echo = httpx.Response(401, json={"success": False, "message": f"bad token {CANARY}"})
    failures = [
        echo,
        httpx.ConnectError(f"refused for {CANARY}"),
        httpx.Response(500, text=f"<html>{CANARY}</html>"),
        httpx.Response(200, text=f"not json {CANARY}"),
    ]
    for failure in failures:
        s, _ = session(Recorder(failure), policy=RetryPolicy(max_retries=1))
        with pytest.raises(Exception) as err:  # noqa: B017
            s.json("GET", "/x")
        e = err.value
        for text in (str(e), repr(e), repr(e.__dict__), str(e.to_dict())):
            assert CANARY not in text
    assert CANARY not in caplog.text
    assert CANARY not in repr(config())
    assert CANARY not in str(config().to_dict())


def test_it_maps_401_to_auth_error():
    s, _ = session(
        Recorder(httpx.Response(401, json={"success": False, "message": "Authentication failure"}))
    )
    with pytest.raises(AuthError) as err:
        s.json("GET", "/x")
    assert "token" in str(err.value)
    assert err.value.status_code == 401


def test_it_parses_retry_after_dates():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_it_limits_with_a_token_bucket():
    now = [0.0]
    slept: list[float] = []

    def sleep(d):
        slept.append(d)
        now[0] += d

    bucket = TokenBucket(clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        bucket.acquire("k", 3, max_wait=5)
    assert slept == []
    with pytest.raises(RateLimitedError):
        bucket.acquire("k", 3, max_wait=5)  # needs 20 s for one token at 3/min
    bucket.acquire("k2", 60, max_wait=5)
    for _ in range(59):
        bucket.acquire("k2", 60, max_wait=5)
    bucket.acquire("k2", 60, max_wait=5)
    assert slept and slept[-1] == pytest.approx(1.0)


def test_it_uses_the_plugged_limiter():
    calls = []

    class Fake:
        def acquire(self, key, per_minute, *, max_wait):
            calls.append((key, per_minute))

    s, _ = session(Recorder(httpx.Response(200, json={})), cfg=config(requests_per_minute=45), limiter=Fake())
    s.json("GET", "/x")
    assert calls == [("c1", 45)]


def test_it_fans_out_in_order_with_errors_captured():
    def work(n):
        if n == 3:
            raise ProviderUnavailable("three")
        return n * 2

    results = fan_out(work, range(6), max_workers=3)
    assert [r.value for r in results if r.ok] == [0, 2, 4, 8, 10]
    assert isinstance(results[3].error, ProviderUnavailable)
    assert fan_out(work, []) == []


def test_it_raises_from_fan_out_what_is_not_an_instance_failure():
    """A bug or the console's own cache or database failing is not "the instance did not answer"."""

    def work(n):
        if n == 1:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        return n

    with pytest.raises(ConnectionError):
        fan_out(work, range(3), max_workers=2)


def test_responses_are_read_in_large_pieces():
    """httpcore reads the class constant we raise (an upgrade that renames it must fail here, not slow exports)."""
    import inspect

    import httpcore

    from apps.providers.http import READ_SIZE

    assert httpcore.HTTP11Connection.READ_NUM_BYTES == READ_SIZE
    assert "self.READ_NUM_BYTES" in inspect.getsource(httpcore.HTTP11Connection._receive_event)
