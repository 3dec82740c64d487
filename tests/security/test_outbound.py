"""The outbound policy: where an admin may point a connection, checked when it is saved and at every connect."""

from __future__ import annotations

import socket

import pytest

from apps.connections.models import Connection
from apps.connections.urlnorm import outbound_refusal, outbound_url_refusal
from apps.providers.errors import OutboundRefused

LOOPBACK_SPELLINGS = [
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0x7f.0.0.1",
    "0177.0.0.1",
    "017700000001",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[64:ff9b::7f00:1]",
    "[2002:7f00:1::]",
    "[0:0:0:0:0:0:0:1]",
    "0.0.0.0",
    "localhost",
]
ALWAYS_REFUSED = [
    "169.254.169.254",
    "[fe80::1]",
    "[::ffff:169.254.169.254]",
    "0xa9fea9fe",  # 169.254.169.254
    "metadata.google.internal",
    "METADATA.GOOGLE.INTERNAL.",
    "[fd00:ec2::254]",
    "100.100.100.200",
]


@pytest.fixture
def production(settings):
    settings.ADMINUI_OUTBOUND_ALLOW_LOOPBACK = False
    settings.ADMINUI_OUTBOUND_REFUSE_OWN_HOSTS = True
    settings.ADMINUI_ALLOW_HTTP = False
    settings.ADMINUI_OUTBOUND_ALLOW = []
    settings.ALLOWED_HOSTS = ["testserver", "adminui.example.com", ".console.example.org"]
    return settings


def _post(client, url: str, slug: str = "target"):
    return client.post(
        "/connections/add/",
        {
            "name": slug,
            "slug": slug,
            "kind": "tooljet",
            "base_url": url,
            "environment": "staging",
            "timeout": "5",
            "token": "some-token-value",
            "save_anyway": "1",  # the address policy is what is tested here, not the instance
        },
    )


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS + ALWAYS_REFUSED)
def test_it_refuses_internal_addresses_in_production(production, host):
    assert outbound_url_refusal(f"https://{host}:8443") is not None


@pytest.mark.parametrize("host", ["adminui.example.com", "a.console.example.org", "console.example.org"])
def test_it_refuses_the_consoles_own_hosts_in_production(production, host):
    assert "this console's own address" in outbound_url_refusal(f"https://{host}")


def test_it_refuses_plain_http_in_production_unless_allowed(production):
    assert "plain http://" in outbound_url_refusal("http://tooljet.example.net")
    production.ADMINUI_ALLOW_HTTP = True
    assert outbound_url_refusal("http://tooljet.example.net", resolve=False) is None


@pytest.mark.parametrize("host", ALWAYS_REFUSED)
def test_it_refuses_metadata_and_link_local_even_in_debug_and_tests(host):
    assert outbound_url_refusal(f"https://{host}") is not None


def test_it_allows_loopback_in_tests_for_the_simulators():
    assert outbound_url_refusal("http://127.0.0.1:8081") is None


def test_the_allow_list_overrides(production):
    production.ADMINUI_OUTBOUND_ALLOW = ["127.0.0.0/8", "metadata.google.internal", "::1"]
    assert outbound_url_refusal("https://0x7f000001") is None
    assert outbound_url_refusal("https://[::1]") is None
    assert outbound_url_refusal("https://metadata.google.internal", resolve=False) is None
    assert outbound_url_refusal("https://169.254.169.254") is not None


def test_it_refuses_a_name_that_resolves_to_a_blocked_address(production):
    assert socket.gethostbyname("localhost") == "127.0.0.1"
    assert "resolves to 127.0.0.1" in outbound_url_refusal("https://localhost")
    assert outbound_refusal("tooljet.example.net", "127.0.0.1") is not None


@pytest.mark.parametrize(
    "url", ["https://169.254.169.254/latest", "https://[::ffff:127.0.0.1]", "https://0x7f000001"]
)
def test_the_form_refuses_it_at_save(admin_client, production, url):
    response = _post(admin_client, url)
    assert response.status_code == 200
    assert "will not connect there" in response.content.decode()
    assert not Connection.objects.exists()


def test_the_form_still_takes_an_ordinary_https_host(admin_client, production, monkeypatch):
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, 1, 6, "", ("203.0.113.7", 443))]
    )
    response = _post(admin_client, "https://tooljet.example.net")
    assert response.status_code == 302
    assert Connection.objects.get().base_url == "https://tooljet.example.net"


def test_it_refuses_at_connect_time_by_resolved_address(admin_client, simulator, make_connection, production):
    """A connection saved before the policy (or a name whose DNS answer changed): the test is refused at
    connect time, and nothing reaches the address."""
    production.ADMINUI_ALLOW_HTTP = True
    sim = simulator("tooljet", users=3)
    connection = make_connection(sim, base_url=sim.url.replace("127.0.0.1", "localhost"))
    before = len(sim.requests)
    response = admin_client.post(f"/connections/{connection.slug}/test/")
    assert response.status_code == 200
    connection.refresh_from_db()
    assert connection.last_test_ok is False
    assert "will not connect to this instance" in connection.last_test["message"]
    assert "loopback" in connection.last_test["message"]
    assert len(sim.requests) == before


def test_it_refuses_plain_http_at_request_time(simulator, make_connection, production):
    from apps.connections.clients import get_provider

    production.ADMINUI_OUTBOUND_ALLOW = ["127.0.0.1"]
    sim = simulator("tooljet", users=3)
    provider = get_provider(make_connection(sim))
    with pytest.raises(OutboundRefused, match="plain http"):
        provider.list_workspaces()
    assert not sim.requests
    production.ADMINUI_ALLOW_HTTP = True
    assert provider.list_workspaces()


def test_viewers_see_a_plain_failure_without_upstream_excerpts(
    admin_client, viewer_client, simulator, make_connection
):
    sim = simulator("tooljet", users=3)
    sim.faults.add(kind="status", status=403, times=None)
    connection = make_connection(sim)
    admin_client.post(f"/connections/{connection.slug}/test/")
    connection.refresh_from_db()
    assert connection.last_test_ok is False
    admin_page = admin_client.get(f"/connections/{connection.slug}/").content.decode()
    viewer_page = viewer_client.get(f"/connections/{connection.slug}/").content.decode()
    assert connection.last_test["message"].split(".")[0] in admin_page
    assert connection.last_test["message"].split(".")[0] not in viewer_page
    assert "The last test failed" in viewer_page


def test_viewers_get_alerts_without_the_instances_own_words(
    admin_client, viewer_client, simulator, probed_connection
):
    sim = simulator("tooljet", users=3)
    connection = probed_connection(sim)
    sim.faults.add(kind="echo", status=400, times=None)
    path = f"/connections/{connection.slug}/groups/"
    admin_page = admin_client.get(path).content.decode()
    viewer_page = viewer_client.get(path).content.decode()
    assert "Bad header" in admin_page
    assert "Bad header" not in viewer_page
    assert "An administrator can see the details" in viewer_page
    assert "Bad header" in admin_client.get("/apps/").content.decode()
    fleet = viewer_client.get("/apps/").content.decode()
    assert "Bad header" not in fleet and "its apps could not be read right now" in fleet
