"""Every failure an operator can meet → the right error with a message that says what to
do, checked against the simulators' faults over real HTTP; retries only where safe (asserted on the request log);
no 200-with-HTML counted as success; the token never in exceptions or logs."""

from __future__ import annotations

import json
import logging

import pytest

from apps.providers.base import ConnectionConfig, WorkspaceAssignment
from apps.providers.errors import (
    AuthError,
    ForbiddenError,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimitedError,
    RejectedError,
    UpstreamBroken,
)
from apps.providers.http import RetryPolicy
from apps.providers.retool import RetoolProvider
from apps.providers.tooljet import ToolJetProvider

TJ = "tj-fault-token"
RT = "rt-fault-token"
CANARY = "canary-7f3e9b1d-token"


def tj(sim, *, token=TJ, timeout=10.0, base_url=None):
    config = ConnectionConfig(
        kind="tooljet",
        base_url=base_url or sim.url,
        token=token,
        timeout=timeout,
        key=f"tjf-{id(sim)}-{len(token)}",
    )
    return ToolJetProvider(config, sleep=lambda s: None)


def rt(sim, *, token=RT):
    config = ConnectionConfig(kind="retool", base_url=sim.url, token=token, key=f"rtf-{id(sim)}-{len(token)}")
    return RetoolProvider(config, sleep=lambda s: None)


@pytest.fixture
def tooljet(simulator):  # noqa: F811
    return simulator("tooljet", token=TJ, profile="latest", users=12, seed=3)


@pytest.fixture
def retool(simulator):  # noqa: F811
    return simulator("retool", token=RT, profile="enterprise", users=12, seed=3)


def _count(sim, method, path):
    return sum(1 for r in sim.requests if r == (method, path))


# -- one message per failure, each saying what to do ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "cls", "needles"),
    [
        ({"kind": "status", "status": 503}, UpstreamBroken, ["HTTP 503", "Try again in a minute"]),
        ({"kind": "status", "status": 500}, UpstreamBroken, ["HTTP 500", "Try again later"]),
        ({"kind": "html", "status": 502}, UpstreamBroken, ["HTTP 502", "HTML", "proxy"]),
        ({"kind": "html", "status": 200}, UpstreamBroken, ["HTML page where JSON was expected", "base URL"]),
        (
            {"kind": "truncated"},
            UpstreamBroken,
            ["truncated", "may have been applied"],
        ),  # a POST answered 2xx
        ({"kind": "drop"}, ProviderUnavailable, ["closed the connection", "may have been applied", "reload"]),
        ({"kind": "status", "status": 429, "retry_after": 30}, RateLimitedError, ["Try again in 30 s"]),
        ({"kind": "status", "status": 429}, RateLimitedError, ["Wait about a minute"]),
    ],
)
def test_it_explains_each_fault_on_a_non_retried_call(tooljet, fault, cls, needles):
    p = tj(tooljet)
    ws = p.list_workspaces()[0].id
    tooljet.faults.add(path="/api/ext/users", method="POST", times=5, **fault)
    with pytest.raises(cls) as err:
        p.create_user(
            email="x.y@example.com", first_name="X", last_name="Y", workspaces=[WorkspaceAssignment(ws)]
        )
    for needle in needles:
        assert needle in err.value.message, err.value.message
    assert tooljet.writes() == [("POST", "/api/ext/users")]  # never retried


def test_it_explains_a_timeout(tooljet):
    tooljet.faults.add(kind="latency", path="/api/ext/workspaces", ms=1200, times=1)
    with pytest.raises(ProviderTimeout) as err:
        tj(tooljet, timeout=0.25).list_workspaces()
    assert "did not answer in time" in err.value.message and "down, overloaded" in err.value.message


def test_it_names_the_missing_retool_scope(simulator):  # noqa: F811
    sim = simulator("retool", token=RT, profile="business", users=5)
    with pytest.raises(ForbiddenError) as err:
        rt(sim).get_group("1")
    assert err.value.reason == "missing_scope" and err.value.scope == "groups:read"
    assert '"groups:read"' in err.value.message and "Create a token" in err.value.message


def test_it_says_how_to_fix_a_wrong_retool_token(retool):
    with pytest.raises(AuthError) as err:
        rt(retool, token="not-the-token").list_groups()
    assert "Paste a valid token" in err.value.message


# -- retries: idempotent reads retried and succeed; writes never ------------------------------------------------------


@pytest.mark.parametrize("status", [503, 429, 502, 504])
def test_it_retries_a_tooljet_read_after_a_transient_error(tooljet, status):
    tooljet.faults.add(kind="status", status=status, path="/api/ext/workspaces", times=1, retry_after=1)
    assert tj(tooljet).list_workspaces()
    assert _count(tooljet, "GET", "/api/ext/workspaces") == 2


def test_it_retries_retool_reads_after_a_dropped_connection_and_a_429(retool):
    retool.faults.add(kind="drop", path="/api/v2/groups", method="GET", times=1)
    retool.faults.add(kind="status", status=429, path="/api/v2/user_attributes", times=1, retry_after=1)
    p = rt(retool)
    assert p.list_groups() and p.list_user_attributes()
    assert _count(retool, "GET", "/api/v2/groups") == 2
    assert _count(retool, "GET", "/api/v2/user_attributes") == 2


def test_it_never_retries_tooljet_writes_that_create(tooljet):
    p = tj(tooljet)
    ws = p.list_workspaces()[0].id
    app = next(iter(p.iter_apps(ws)))
    calls = [
        (
            "/api/ext/users",
            lambda: p.create_user(
                email="a.b@example.com", first_name="A", last_name="B", workspaces=[WorkspaceAssignment(ws)]
            ),
        ),
        (
            f"/api/ext/import/workspace/{ws}/apps",
            lambda: p.import_app(
                ws, {"tooljet_version": "3.0.0", "app": [{"definition": {"appV2": {}}}]}, app_name="Once"
            ),
        ),
        (f"/api/ext/workspace/{ws}/groups", lambda: p.create_group("Once", workspace_id=ws)),
    ]
    for path, call in calls:
        for kind in ("status", "drop"):
            tooljet.faults.clear()
            before = len(tooljet.writes())
            tooljet.faults.add(
                kind=kind, status=503 if kind == "status" else None, path=path, method="POST", times=3
            )
            with pytest.raises(ProviderError):
                call()
            assert len(tooljet.writes()) == before + 1, (path, kind)
    assert app.id


def test_it_never_retries_retool_creates_and_clone_even_on_429(retool):
    p = rt(retool)
    app = next(iter(p.iter_apps()))
    for path, call in (
        ("/api/v2/users", lambda: p.create_user(email="a.b@example.com", first_name="A", last_name="B")),
        ("/api/v2/groups", lambda: p.create_group("Once")),
        ("/api/v2/apps/cloneApp", lambda: p.clone_app(app.id, "Once")),
    ):
        before = len(retool.writes())
        retool.faults.add(kind="status", status=429, retry_after=1, path=path, method="POST", times=3)
        with pytest.raises(RateLimitedError):
            call()
        assert len(retool.writes()) == before + 1, path


def test_a_proxys_413_page_says_the_request_was_too_large(retool):
    p = rt(retool)
    retool.faults.add(kind="html", status=413, path="/api/v2/groups", method="POST", times=1)
    with pytest.raises(RejectedError) as err:
        p.create_group("Too big")
    assert err.value.status_code == 413
    assert err.value.message.startswith(
        "Retool refused the request as too large (HTTP 413). A proxy in front"
    )
    assert not any(g.name == "Too big" for g in p.iter_groups())


def test_a_write_whose_answer_a_proxy_lost_may_have_been_applied_but_a_read_never(retool):
    p = rt(retool)
    retool.faults.add(kind="html", status=504, path="/api/v2/groups", method="POST", times=1)
    with pytest.raises(UpstreamBroken) as err:
        p.create_group("Maybe")
    assert err.value.may_have_applied and "may have been applied" in err.value.message
    retool.faults.add(kind="html", status=503, path="/api/v2/groups", method="POST", times=1)
    with pytest.raises(UpstreamBroken) as err:
        p.create_group("Refused up front")
    assert not err.value.may_have_applied  # 503: the proxy refused it before it reached Retool
    retool.faults.add(kind="html", status=504, path="/api/v2/groups", method="GET", times=3)
    with pytest.raises(UpstreamBroken) as err:
        list(p.iter_groups())
    assert not err.value.may_have_applied and "may have been applied" not in err.value.message


# -- 200 with HTML (or another JSON) is not success -------------------------------------------------------------------


def test_it_does_not_count_a_tooljet_route_answering_html_200_as_supported(tooljet):
    ws = tj(tooljet).list_workspaces()[0].id
    tooljet.faults.add(kind="html", status=200, path=f"/api/ext/workspace/{ws}/groups", times=1)
    tooljet.faults.add(kind="html", status=200, path="/api/ext/workspace/not-a-uuid/apps", times=1)
    tooljet.faults.add(kind="html", status=200, path="/api/v2/ext/users", times=1)
    tooljet.faults.add(kind="html", status=404, path=f"/api/ext/workspace/{ws}/user/", times=1)
    tooljet.faults.add(kind="html", status=200, path="/api/ext/users", method="GET", times=1)
    result = tj(tooljet).probe(thorough=True)
    caps = result.capabilities
    assert result.ok
    assert not caps.supports_groups and "HTML" in caps.reasons["supports_groups"]
    assert not caps.supports_app_export and not caps.supports_v2_users
    assert not caps.supports_metadata and not caps.supports_status_filter


def test_it_fails_the_tooljet_probe_when_workspaces_is_html_or_foreign_json(tooljet):
    tooljet.faults.add(kind="html", status=200, path="/api/ext/workspaces", times=1)
    result = tj(tooljet).probe()
    assert not result.ok and "HTML" in result.message
    tooljet.faults.add(kind="truncated", path="/api/ext/workspaces", times=1)
    result = tj(tooljet).probe()
    assert not result.ok and "truncated" in result.message


def test_it_does_not_count_a_retool_route_answering_html_or_foreign_json_as_supported(retool):
    retool.faults.add(kind="html", status=200, path="/api/v2/groups", times=1)
    retool.faults.add(kind="html", status=200, path="/api/v2/apps", times=1)
    result = rt(retool).probe()
    assert result.ok and result.capabilities.supports_users
    assert not result.capabilities.supports_groups and not result.capabilities.supports_app_list


def test_it_refuses_an_export_that_is_an_html_page(tooljet):
    p = tj(tooljet)
    ws = p.list_workspaces()[0].id
    app = next(iter(p.iter_apps(ws)))
    tooljet.faults.add(kind="html", status=200, path="/api/ext/export/", times=1)
    with pytest.raises(UpstreamBroken) as err, p.export_app(app.id, workspace_id=ws) as stream:
        list(stream)
    assert "HTML" in err.value.message


def test_it_refuses_a_truncated_export_after_the_last_chunk(tooljet):
    p = tj(tooljet)
    ws = p.list_workspaces()[0].id
    app = next(iter(p.iter_apps(ws)))
    with p.export_app(app.id, workspace_id=ws) as stream:
        whole = b"".join(stream)
    assert json.loads(whole)["app"]
    tooljet.faults.add(kind="truncated", path="/api/ext/export/", times=1)
    received = []
    with pytest.raises(UpstreamBroken) as err, p.export_app(app.id, workspace_id=ws) as stream:
        for chunk in stream:
            received.append(chunk)
    assert "truncated" in err.value.message and "Nothing was saved" in err.value.message
    assert len(b"".join(received)) < len(whole)


def test_it_lets_a_caller_stop_reading_an_export_early(tooljet):
    p = tj(tooljet)
    ws = p.list_workspaces()[0].id
    app = next(iter(p.iter_apps(ws)))
    tooljet.faults.add(kind="truncated", path="/api/ext/export/", times=1)
    with p.export_app(app.id, workspace_id=ws) as stream:
        first = next(iter(stream))
    assert first.lstrip().startswith(b"{")


# -- the token never shows -------------------------------------------------------------------------------------------


def test_it_never_shows_the_token_in_errors_or_logs_at_debug(simulator, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "adminui.providers", "adminui"):
        caplog.set_level(logging.DEBUG, logger=name)
    tsim = simulator("tooljet", token=CANARY, profile="latest", users=5)
    rsim = simulator("retool", token=CANARY, profile="enterprise", users=5)
    errors: list[BaseException] = []
    tp, rp = tj(tsim, token=CANARY), rt(rsim, token=CANARY)
    ws = tp.list_workspaces()[0].id
    assert tp.probe(thorough=True).ok and rp.probe().ok
    for kind, status in (
        ("status", 503),
        ("status", 429),
        ("html", 502),
        ("truncated", None),
        ("drop", None),
    ):
        tsim.faults.add(kind=kind, status=status, path="/api/ext/", times=3)
        rsim.faults.add(kind=kind, status=status, path="/api/v2/", times=3)
        for call in (
            tp.list_workspaces,
            lambda: list(tp.iter_users()),
            lambda: tp.create_user(
                email="c.d@example.com", first_name="C", last_name="D", workspaces=[WorkspaceAssignment(ws)]
            ),
            rp.list_groups,
            lambda: list(rp.iter_users()),
        ):
            try:
                call()
            except ProviderError as exc:
                errors.append(exc)
        tsim.faults.clear()
        rsim.faults.clear()
    for bad in (tj(tsim, token="x" + CANARY), rt(rsim, token="x" + CANARY)):
        try:
            bad.list_workspaces() if isinstance(bad, ToolJetProvider) else bad.list_groups()
        except ProviderError as exc:
            errors.append(exc)
    assert len(errors) >= 15
    for exc in errors:
        for text in (str(exc), repr(exc), json.dumps(exc.to_dict()), repr(vars(exc))):
            assert CANARY not in text
    for obj in (tp, rp, tp.config, rp.config, tp.session, rp.session):
        assert CANARY not in repr(obj)
    assert caplog.records and CANARY not in caplog.text
    assert any(r.name.startswith(("httpx", "httpcore")) for r in caplog.records)
    assert RetryPolicy().max_retries == 2


def test_it_treats_only_a_json_404_on_retool_delete_as_already_gone(retool):
    p = rt(retool)
    p.delete_group("999999")  # Retool's own 404: already gone
    group = p.create_group("Kept")
    retool.faults.add(kind="html", status=404, path="/api/v2/groups/", method="DELETE", times=1)
    with pytest.raises(ProviderError) as err:
        p.delete_group(group.id)
    assert "HTML" in err.value.message
    assert p.get_group(group.id).name == "Kept"


def test_a_large_export_streams_without_parsing_the_whole_document(simulator):
    """Regression: validating an export by fully parsing it held the whole 50 MB string in memory."""
    import tracemalloc

    sim = simulator("tooljet", users=3, export_pad_bytes=50 * 1024 * 1024)
    app = sim.app.state.apps[sim.app.state.padded_app_id]
    provider = ToolJetProvider(ConnectionConfig(kind="tooljet", base_url=sim.url, token="tj-test-token"))
    tracemalloc.start()
    try:
        with provider.export_app(app["id"], workspace_id=app["organizationId"]) as stream:
            total = sum(len(chunk) for chunk in stream)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total > 50 * 1024 * 1024
    assert peak < 16 * 1024 * 1024
