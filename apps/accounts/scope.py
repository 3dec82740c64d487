"""The scope of an operator's role: which connections it applies to. Stored on the operator; the change policy
decides what a scope allows. `operator_scope(user).covers(connection)` is the one question it asks."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q


@dataclass(frozen=True)
class Scope:
    """`environments` (connection `environment` values) and `connection_ids`, each None when not given.
    A connection is covered when it is in a listed environment or is one of the listed connections; when neither
    is given, every connection is covered."""

    environments: frozenset[str] | None = None
    connection_ids: frozenset[int] | None = None

    @property
    def unrestricted(self) -> bool:
        return self.environments is None and self.connection_ids is None

    def covers(self, connection) -> bool:
        if self.unrestricted:
            return True
        if self.environments is not None and connection.environment in self.environments:
            return True
        return self.connection_ids is not None and connection.pk in self.connection_ids

    def q(self, prefix: str = "") -> Q:
        """A filter for the covered connections: ``Connection.objects.filter(scope.q())``, or for rows that point
        at a connection, ``scope.q("connection__")``. Unrestricted: no filter."""
        if self.unrestricted:
            return Q()
        covered = Q(**{f"{prefix}pk__in": sorted(self.connection_ids or ())})
        if self.environments is not None:
            covered |= Q(**{f"{prefix}environment__in": sorted(self.environments)})
        return covered

    def describe(self) -> str:
        """Short text for the operator list: "all connections" or "staging; 2 connections"."""
        if self.unrestricted:
            return "all connections"
        parts = []
        if self.environments is not None:
            parts.append(", ".join(sorted(self.environments)) or "no environment")
        if self.connection_ids:
            n = len(self.connection_ids)
            parts.append(f"{n} connection{'s' if n != 1 else ''}")
        return "; ".join(parts)


def operator_scope(user) -> Scope:
    """The scope of `user`'s role (one query for the connections; cached on the user object for the request)."""
    cached = getattr(user, "_adminui_scope", None)
    if cached is not None:
        return cached
    if user is None or not getattr(user, "is_authenticated", False):
        return Scope(environments=frozenset(), connection_ids=frozenset())
    environments = user.scope_environments
    ids = frozenset(c.pk for c in user.scope_connections.all())  # uses a prefetch when the caller made one
    scope = Scope(
        environments=frozenset(environments) if environments is not None else None,
        connection_ids=ids or None,
    )
    user._adminui_scope = scope
    return scope
