"""Directory reads: the global search over the local index, the person view, the live user detail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection as db_connection
from django.db.models import Max, Min
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.connections.models import Connection
from apps.connections.provider import connection_capabilities, get_provider
from apps.directory.models import DirectorySync, DirectoryUser, normalize
from apps.providers.base import Capabilities, RemoteAttribute, RemoteUser, RemoteWorkspace

PER_PAGE = 50
ROLE_CHOICES = ("admin", "builder", "end-user", "member")
STATUS_CHOICES = ("active", "invited", "verified", "archived", "disabled")
ROW_FIELDS = (
    "id",
    "remote_id",
    "email",
    "name",
    "status",
    "active",
    "is_admin",
    "roles",
    "memberships",
    "groups",
    "connection_id",
)


@dataclass
class Person:
    email: str
    name: str
    rows: list[DirectoryUser] = field(default_factory=list)


@dataclass
class SearchResult:
    people: list[Person]
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _filtered(
    *,
    q: str = "",
    connection: str = "",
    kind: str = "",
    environment: str = "",
    status: str = "",
    role: str = "",
    group: str = "",
):
    qs = DirectoryUser.objects.all()
    needle = normalize(q)
    if needle:
        qs = qs.filter(search__contains=needle)
        if len(needle) >= 3 and db_connection.vendor == "sqlite":
            # The FTS5 trigram index narrows the rows; LIKE above keeps the exact substring semantics.
            phrase = '"' + needle.replace('"', '""') + '"'
            qs = qs.filter(
                id__in=RawSQL(
                    "SELECT rowid FROM directory_user_fts WHERE directory_user_fts MATCH %s", [phrase]
                )
            )
    if connection:
        qs = qs.filter(connection__slug=connection)
    if kind:
        qs = qs.filter(connection__kind=kind)
    if environment:
        qs = qs.filter(connection__environment=environment)
    if status:
        qs = qs.filter(status=status)
    if role:
        qs = qs.filter(roles__contains=f"|{role}|")
    if group:
        qs = qs.filter(group_names__contains=f"|{group}|")
    return qs


def user_search(*, page: int = 1, per_page: int = PER_PAGE, **filters: Any) -> SearchResult:
    """Each person once (by e-mail), with their rows on every matching instance; substring match on e-mail and
    name, case- and accent-insensitive. Two queries: a page of distinct e-mails, then their rows."""
    page = max(1, page)
    qs = _filtered(**filters)
    offset = (page - 1) * per_page
    emails = list(
        qs.order_by("email").values_list("email", flat=True).distinct()[offset : offset + per_page + 1]
    )
    has_next = len(emails) > per_page
    emails = emails[:per_page]
    # The person's rows on every instance (other filters kept): the search filter is not re-run here.
    rows = (
        _filtered(**{k: v for k, v in filters.items() if k != "q"})
        .filter(email__in=emails)
        .select_related("connection")
        .only(
            *ROW_FIELDS, "connection__name", "connection__slug", "connection__kind", "connection__environment"
        )
        .order_by("email", "connection__name")
        if emails
        else []
    )
    people: dict[str, Person] = {}
    for row in rows:
        person = people.setdefault(row.email, Person(email=row.email, name=row.name))
        person.name = person.name or row.name
        person.rows.append(row)
    return SearchResult(people=[people[e] for e in emails if e in people], page=page, has_next=has_next)


def person_rows(*, email: str) -> list[DirectoryUser]:
    return list(
        DirectoryUser.objects.filter(email=email.strip().lower())
        .select_related("connection")
        .order_by("connection__name")
    )


@dataclass
class IndexAge:
    oldest: Any  # datetime | None
    newest: Any
    stale: bool
    never: bool
    failed: list[DirectorySync]
    running: int


def index_age(*, connection: Connection | None = None) -> IndexAge:
    syncs = DirectorySync.objects.select_related("connection")
    if connection is not None:
        syncs = syncs.filter(connection=connection)
    agg = syncs.aggregate(oldest=Min("synced_at"), newest=Max("synced_at"))
    total = Connection.objects.filter(pk=connection.pk).count() if connection else Connection.objects.count()
    synced = syncs.filter(synced_at__isnull=False).count()
    limit = timezone.now() - timedelta(seconds=settings.ADMINUI_DIRECTORY_STALE_AFTER)
    never = synced < total
    return IndexAge(
        oldest=agg["oldest"],
        newest=agg["newest"],
        stale=never or (agg["oldest"] is not None and agg["oldest"] < limit),
        never=never,
        failed=[s for s in syncs if s.status == DirectorySync.Status.FAILED],
        running=sum(1 for s in syncs if s.status == DirectorySync.Status.RUNNING),
    )


def sync_state(*, connection: Connection) -> DirectorySync | None:
    return DirectorySync.objects.filter(connection=connection).first()


def group_choices() -> list[str]:
    """Group names for the filter (custom groups and Retool groups seen in the index)."""
    names: set[str] = set()
    for value in (
        DirectoryUser.objects.exclude(group_names="").values_list("group_names", flat=True).distinct()[:5000]
    ):
        names.update(n for n in value.split("|") if n)
    return sorted(names)[:500]


@dataclass
class UserDetail:
    user: RemoteUser
    caps: Capabilities
    workspaces: list[RemoteWorkspace] = field(default_factory=list)  # ToolJet: every workspace (for "add")
    attributes: list[RemoteAttribute] = field(default_factory=list)  # Retool: declared attributes


def user_detail_get(*, connection: Connection, user_id: str) -> UserDetail:
    """The user read fresh from upstream, plus what the change forms need (ToolJet workspaces, Retool declared
    attributes). Raises ProviderError."""
    caps = connection_capabilities(connection)
    with get_provider(connection) as provider:
        user = provider.get_user(user_id)
        detail = UserDetail(user=user, caps=caps)
        if caps.supports_workspaces:
            detail.workspaces = provider.list_workspaces()
        if caps.supports_user_attributes:
            detail.attributes = provider.list_user_attributes()
    return detail
