"""A probe must prove it talks to the product it was told about (real HTTP: simulators and the console itself)."""

from __future__ import annotations

import json

import pytest

from apps.providers.base import CAPABILITY_FLAGS, ConnectionConfig
from apps.providers.http import RetryPolicy
from apps.providers.retool import RetoolProvider
from apps.providers.tooljet import ToolJetProvider


def retool_at(url, token="retool-test-token"):
    config = ConnectionConfig(kind="retool", base_url=url, token=token, key=f"rt-identity-{url}")
    return RetoolProvider(config, policy=RetryPolicy(max_retries=0), sleep=lambda s: None)


def tooljet_at(url, token="tj-test-token"):
    config = ConnectionConfig(kind="tooljet", base_url=url, token=token, key=f"tj-identity-{url}")
    return ToolJetProvider(config, policy=RetryPolicy(max_retries=0), sleep=lambda s: None)


def assert_nothing_granted(result):
    assert not any(getattr(result.capabilities, flag) for flag in CAPABILITY_FLAGS)
    assert all(result.capabilities.reasons[flag] == result.message for flag in CAPABILITY_FLAGS)


# -- Retool ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["tj-test-token", "retool-test-token"])
def test_it_refuses_a_tooljet_as_a_retool(simulator, token):
    tooljet = simulator("tooljet", users=3)
    result = retool_at(tooljet.url, token).probe(thorough=True)
    assert not result.ok
    assert "does not look like a Retool API" in result.message
    assert "ToolJet" in result.message and "change the connection's product to ToolJet" in result.message
    assert "too old" not in json.dumps(result.to_dict())
    assert_nothing_granted(result)
    assert [c.name for c in result.checks if not c.ok][-1] == "reachable_and_authenticated"


def test_it_refuses_the_console_itself_as_a_retool(live_server):
    result = retool_at(live_server.url).probe(thorough=True)
    assert not result.ok
    assert "does not look like a Retool API" in result.message
    assert "HTTP 404 with an HTML page titled “Not found · adminui”" in result.message
    assert "too old" not in json.dumps(result.to_dict())
    assert_nothing_granted(result)


def test_it_still_accepts_a_retool_with_a_narrow_token(simulator):
    business = simulator("retool", profile="business", users=3)
    result = retool_at(business.url).probe()
    assert result.ok and "Connected to Retool" in result.message
    assert (
        "Not available for this token or plan: users, groups, folders, access permissions." in result.message
    )
    assert "user_attributes" not in result.message


def test_it_says_too_old_only_for_retools_own_404(simulator):
    retool = simulator("retool", users=3)
    retool.faults.add(kind="status", status=404, path="/api/v2/user_attributes", times=1)
    result = retool_at(retool.url).probe()
    assert result.ok
    assert (
        result.capabilities.reasons["supports_user_attributes"]
        == "This Retool version has no user attributes API (too old for it)."
    )

    retool.faults.add(kind="html", status=404, path="/api/v2/user_attributes", times=1)
    result = retool_at(retool.url).probe()
    assert result.ok and not result.capabilities.supports_user_attributes
    reason = result.capabilities.reasons["supports_user_attributes"]
    assert "too old" not in reason and "HTML page" in reason and "proxy" in reason


def test_it_refuses_a_404_on_the_first_authenticated_route_even_in_retools_json(simulator):
    retool = simulator("retool", users=3)
    retool.faults.add(kind="status", status=404, path="/api/v2/users", times=1)
    result = retool_at(retool.url).probe()
    assert not result.ok and "does not look like a Retool API" in result.message
    assert "GET /api/v2/users answered HTTP 404" in result.message


# -- ToolJet ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["tj-test-token", "retool-test-token"])
def test_it_refuses_a_retool_as_a_tooljet(simulator, token):
    retool = simulator("retool", users=3)
    result = tooljet_at(retool.url, token).probe(thorough=True)
    assert not result.ok
    assert "does not look like a ToolJet API" in result.message
    assert "change the connection's product to Retool" in result.message
    assert "Community Edition" not in result.message
    assert_nothing_granted(result)


def test_it_refuses_the_console_itself_as_a_tooljet(live_server):
    result = tooljet_at(live_server.url).probe(thorough=True)
    assert not result.ok
    assert "does not look like a ToolJet API" in result.message
    assert "HTTP 404 with an HTML page titled “Not found · adminui”" in result.message
    assert "Community Edition" not in result.message
    assert_nothing_granted(result)


def test_it_still_explains_a_tooljet_without_the_external_api(simulator):
    tooljet = simulator("tooljet", users=3)
    result = tooljet_at(tooljet.url + "/tooljet").probe()
    assert not result.ok and "SUB_PATH" in result.message and "Community Edition" in result.message
    assert "does not look like" not in result.message


def test_it_explains_its_deliberately_invalid_requests_in_words(simulator):
    tooljet = simulator("tooljet", users=3)
    result = tooljet_at(tooljet.url).probe(thorough=True)
    checks = {c.name: c for c in result.checks}
    assert result.ok
    assert checks["apps"].ok and "refused as invalid (HTTP 400), as expected" in checks["apps"].detail
    assert checks["metadata"].ok and "made-up user" in checks["metadata"].detail
    assert checks["status_filter"].ok and "as expected" in checks["status_filter"].detail
    assert not checks["v2_users"].ok and checks["v2_users"].detail == "No v2 users API on this version."
    assert (
        result.message
        == "Connected to ToolJet; token accepted. Not available on this instance: v2 users API."
    )
