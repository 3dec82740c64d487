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
