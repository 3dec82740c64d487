"""Personas (STYLE §8): an admin, a helpdesk operator, a viewer and a stranger without a role, each with a
logged-in client; connection factories that point at simulators started on 127.0.0.1."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

PASSWORD = "correct horse battery staple"


def _operator(django_user_model, username: str, role: str | None):
    user = django_user_model.objects.create_user(username=username, password=PASSWORD)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture(autouse=True)
def _fresh_connection_health():
    """What one test's calls learnt about an instance's health does not outlive it (ids are reused)."""
    yield
    from apps.connections.health import forget_written

    forget_written()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: throttles (denied audit rows, rate limits) do not leak between
    tests whose database ids repeat."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def operator_admin(db, django_user_model):
    return _operator(django_user_model, "alice", "admin")


@pytest.fixture
def operator_helpdesk(db, django_user_model):
    return _operator(django_user_model, "hank", "helpdesk")


@pytest.fixture
def operator_viewer(db, django_user_model):
    return _operator(django_user_model, "vera", "viewer")


@pytest.fixture
def operator_scoped(db, django_user_model):
    """A helpdesk operator whose scope covers the staging environment only."""
    user = _operator(django_user_model, "stella", "helpdesk")
    user.scope_environments = ["staging"]
    user.save(update_fields=["scope_environments"])
    return user


@pytest.fixture
def stranger(db, django_user_model):
    return _operator(django_user_model, "sam", None)


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(operator_admin):
    return _client_for(operator_admin)


@pytest.fixture
def helpdesk_client(operator_helpdesk):
    return _client_for(operator_helpdesk)


@pytest.fixture
def viewer_client(operator_viewer):
    return _client_for(operator_viewer)


@pytest.fixture
def scoped_client(operator_scoped):
    return _client_for(operator_scoped)


@pytest.fixture
def stranger_client(stranger):
    return _client_for(stranger)


@pytest.fixture
def htmx_headers():
    return {"HX-Request": "true", "HX-Current-URL": "http://testserver/"}


@pytest.fixture
def make_connection(db):
    """`make_connection(sim, name=..., **fields)` → a saved Connection pointing at a running simulator."""
    from apps.connections.models import Connection
    from apps.simulators import DEFAULT_TOKENS

    counter = {"n": 0}

    def make(sim=None, *, kind=None, token=None, name=None, **fields):
        counter["n"] += 1
        kind = kind or getattr(sim, "kind", "tooljet")
        name = name or f"{kind} {counter['n']}"
        connection = Connection(
            name=name,
            slug=fields.pop("slug", f"{kind}-{counter['n']}"),
            kind=kind,
            base_url=fields.pop("base_url", sim.url if sim else "http://127.0.0.1:9"),
            environment=fields.pop("environment", "staging"),
            timeout=fields.pop("timeout", 5.0),
            requests_per_minute=fields.pop("requests_per_minute", None),
            **fields,
        )
        connection.set_token(
            token or getattr(sim, "token", None) or DEFAULT_TOKENS.get(kind, "test-token-value")
        )
        connection.save()
        return connection

    return make


@pytest.fixture
def probed_connection(make_connection):
    """`probed_connection(sim, ...)` → a connection whose capabilities were probed from the simulator."""
    from apps.connections.services import connection_test

    def make(sim, **kw):
        return connection_test(actor=None, connection=make_connection(sim, **kw))

    return make
