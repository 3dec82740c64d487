from __future__ import annotations

from unittest import mock

import pytest
from django.db.utils import OperationalError


def test_it_answers_healthz_without_login_or_database(client):
    # no `db` fixture: any database access here would raise
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.django_db
def test_it_answers_readyz_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200


@pytest.mark.django_db
def test_it_answers_503_on_readyz_when_the_database_is_down(client):
    with mock.patch("apps.core.views.connection.cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/readyz")
    assert response.status_code == 503


def test_it_rejects_post_on_healthz(client):
    assert client.post("/healthz").status_code == 405


@pytest.fixture
def production_http(settings):
    """Production's HTTPS redirect and host check, as a load balancer or kubelet meets them over plain HTTP."""
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["adminui.example.com"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_it_answers_probes_over_plain_http_under_any_host(production_http, client, path):
    response = client.get(path, HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert response.content == b"ok"
    head = client.head(path, HTTP_HOST="10.1.2.3:8000")
    assert head.status_code == 200
    assert head.content == b""


@pytest.mark.django_db
def test_it_still_redirects_and_checks_the_host_for_everything_else(production_http, client):
    assert client.get("/login/", HTTP_HOST="adminui.example.com").status_code == 301
    assert client.get("/login/", HTTP_HOST="10.1.2.3:8000", secure=True).status_code == 400


def test_it_rejects_post_on_probes_under_any_host(production_http, client):
    response = client.post("/readyz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
