"""The rate limit field: left empty in the browser (which posts it as ""), the product's default applies."""

from __future__ import annotations

import pytest

from apps.connections.models import Connection


def _form(**overrides):
    data = {
        "name": "Staging Retool",
        "slug": "staging-retool",
        "kind": "retool",
        "base_url": "https://acme.retool.com",
        "environment": "staging",
        "timeout": "10",
        "requests_per_minute": "",
        "token": "retool-token-abc",
        "notes": "",
        "save_anyway": "1",  # no instance answers at this address
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(("kind", "expected"), [("retool", 45), ("tooljet", 600)])
def test_it_applies_the_default_when_the_browser_posts_an_empty_field(admin_client, kind, expected):
    response = admin_client.post("/connections/add/", _form(kind=kind))
    assert response.status_code == 302
    assert Connection.objects.get(slug="staging-retool").requests_per_minute == expected


def test_it_applies_the_default_when_an_edit_empties_the_field(admin_client):
    admin_client.post("/connections/add/", _form(requests_per_minute="120"))
    assert Connection.objects.get(slug="staging-retool").requests_per_minute == 120
    response = admin_client.post("/connections/staging-retool/edit/", _form(token=""))
    assert response.status_code == 302
    assert Connection.objects.get(slug="staging-retool").requests_per_minute == 45


def test_it_keeps_a_limit_that_was_typed(admin_client):
    admin_client.post("/connections/add/", _form(requests_per_minute="30"))
    assert Connection.objects.get(slug="staging-retool").requests_per_minute == 30


def test_it_shows_the_defaults_on_the_form(admin_client):
    page = admin_client.get("/connections/add/").content.decode()
    assert "Leave empty for the product&#x27;s default (ToolJet 600, Retool 45 per minute)." in page
    assert 'placeholder="product default"' in page
