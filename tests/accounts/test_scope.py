from __future__ import annotations

import pytest

from apps.accounts.scope import Scope, operator_scope
from apps.connections.models import Connection

pytestmark = pytest.mark.django_db


def _conn(pk: int, environment: str) -> Connection:
    return Connection(pk=pk, environment=environment)


def test_it_covers_everything_without_limits():
    assert Scope().covers(_conn(1, "production"))
    assert Scope().describe() == "all connections"


def test_it_covers_listed_environments_only():
    scope = Scope(environments=frozenset({"staging"}))
    assert scope.covers(_conn(1, "staging"))
    assert not scope.covers(_conn(2, "production"))


def test_it_covers_listed_connections_too():
    scope = Scope(environments=frozenset({"staging"}), connection_ids=frozenset({7}))
    assert scope.covers(_conn(7, "production"))
    assert not scope.covers(_conn(8, "production"))
    assert scope.describe() == "staging; 1 connection"


def test_an_empty_environment_list_covers_nothing():
    assert not Scope(environments=frozenset()).covers(_conn(1, "staging"))


def test_it_reads_the_operator(operator_helpdesk, make_connection):
    prod = make_connection(environment="production")
    other = make_connection(environment="production")
    assert operator_scope(operator_helpdesk).unrestricted
    operator_helpdesk.scope_environments = ["staging"]
    operator_helpdesk.save()
    operator_helpdesk.scope_connections.add(prod)
    scope = operator_scope(type(operator_helpdesk).objects.get(pk=operator_helpdesk.pk))
    assert scope == Scope(environments=frozenset({"staging"}), connection_ids=frozenset({prod.pk}))
    assert scope.covers(prod) and not scope.covers(other)


def test_anonymous_is_covered_nowhere(make_connection):
    from django.contrib.auth.models import AnonymousUser

    assert not operator_scope(AnonymousUser()).covers(make_connection())
