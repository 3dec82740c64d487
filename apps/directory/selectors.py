"""Directory reads: the global search over the local index, the person view."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection as db_connection
from django.db.models import BooleanField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import StrIndex
from django.utils import timezone

from apps.connections.models import Connection
from apps.directory.models import DirectorySync, DirectoryUser, normalize
from apps.providers.retool import vocabulary as retool
from apps.providers.tooljet import vocabulary as tooljet

PER_PAGE = 25  # people per page: a page, not a dump (search cost and rendering grow with it)
# the roles of both products, for searching the index (one connection's users page offers only its own)
ROLE_CHOICES = tuple(dict.fromkeys((*tooljet.ROLES, *retool.ROLES)))
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
    total: int = 0  # people matching; a lower bound when ``total_capped``
    total_capped: bool = False

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def total_label(self) -> str:
        if self.total_capped:
            return f"{self.total:,}+ people"
        return "1 person" if self.total == 1 else f"{self.total:,} people"


# Search plan. A page of people is the first ``per_page`` distinct e-mails in e-mail order, so a needle that matches
# many rows (``example.com``, 2-letter needles) is served by walking the (email, search) index in order and stopping
# at the page end; a rarer needle (3+ characters) goes through the trigram index (FTS5 / pg_trgm) and sorts the few
# matches. ``DENSE_AT`` is where the switch happens: counting trigram hits stops there.
DENSE_AT = 10_000
# The people count stops here ("1,000+ people"): counting every match of a common needle would cost a whole walk.
COUNT_CAP = 1_000
# PostgreSQL, 2-letter needles: the bigram GIN hits are sorted up to here (``lu``: ~14k of 200k rows), else the walk.
BIGRAM_DENSE_AT = 20_000


def _connection_ids(*, connection: str = "", kind: str = "", environment: str = "") -> list[int] | None:
    """The connection filters resolved up front, so the search query stays on one table (None: no filter)."""
    if not (connection or kind or environment):
        return None
    qs = Connection.objects.all()
    if connection:
        qs = qs.filter(slug=connection)
    if kind:
        qs = qs.filter(kind=kind)
    if environment:
        qs = qs.filter(environment=environment)
    return list(qs.values_list("id", flat=True))


def _row_filtered(qs, *, connection_ids=None, status: str = "", role: str = "", group: str = ""):
    if connection_ids is not None:
        qs = qs.filter(connection_id__in=connection_ids)
    if status:
        qs = qs.filter(status=status)
    if role:
        qs = qs.filter(roles__contains=f"|{role}|")
    if group:
        qs = qs.filter(group_names__contains=f"|{group}|")
    return qs


def _fts_phrase(needle: str) -> str:
    return '"' + needle.replace('"', '""') + '"'


def _is_dense(needle: str) -> bool:
    """SQLite: True when the needle matches at least DENSE_AT rows (always for needles the trigram index cannot
    serve); counting FTS5 hits stops there."""
    if len(needle) < 3:
        return True
    with db_connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM directory_user_fts WHERE directory_user_fts MATCH %s LIMIT %s)",
            [_fts_phrase(needle), DENSE_AT],
        )
        return cursor.fetchone()[0] >= DENSE_AT


def _email_page(
    needle: str, offset: int, limit: int, row_filters: dict[str, Any]
) -> tuple[list[str], int | None]:
    """The e-mails of one page (distinct, in e-mail order) and how many people match, capped at COUNT_CAP + 1
    (None: not known from this query)."""
    qs = _row_filtered(DirectoryUser.objects.all(), **row_filters)
    if needle and db_connection.vendor == "postgresql":
        if len(needle) >= 2:
            # 2 letters: the expression GIN index over each row's bigrams (migration 0004) finds the hits without
            # walking the e-mail index (``lu`` scanned half of it); pg_trgm needs 3. Same rows as the substring.
            hits = (
                qs.filter(search__contains=needle)
                if len(needle) >= 3
                else qs.filter(
                    RawSQL(
                        "directory_bigrams(search) @> ARRAY[%s]::text[]",
                        [needle],
                        output_field=BooleanField(),
                    )
                )
            )
            sparse = _postgres_sparse_page(
                hits, offset, limit, BIGRAM_DENSE_AT if len(needle) == 2 else DENSE_AT
            )
            if sparse is not None:
                return sparse
        # strpos, not LIKE: the planner then walks the e-mail index in order instead of the trigram index.
        qs = qs.annotate(_at=StrIndex("search", Value(needle))).filter(_at__gt=0)
    elif needle:
        qs = qs.filter(search__contains=needle)
        if db_connection.vendor == "sqlite" and not _is_dense(needle):
            if not any(row_filters.get(k) for k in ("status", "role", "group")):
                # The hits' e-mails come from a narrow (id, email, connection_id) index instead of the wide rows.
                return _sqlite_sparse_page(needle, offset, limit, row_filters.get("connection_ids"))
            qs = qs.filter(
                id__in=RawSQL(
                    "SELECT rowid FROM directory_user_fts WHERE directory_user_fts MATCH %s",
                    [_fts_phrase(needle)],
                )
            )
    # The walk stops at the page end: counting on would cost as much as the walk itself (user_search bounds it).
    return list(
        qs.order_by("email").values_list("email", flat=True).distinct()[offset : offset + limit]
    ), None


def _postgres_sparse_page(
    hits, offset: int, limit: int, dense_at: int = DENSE_AT
) -> tuple[list[str], int | None] | None:
    """The page from at most DENSE_AT hits (pg_trgm or bigram GIN), sorted, and how many people they are; None
    when there are more hits (dense)."""
    sql, params = hits.values("email")[: dense_at + 1].query.sql_with_params()
    with db_connection.cursor() as cursor:
        cursor.execute(
            f"WITH hits AS MATERIALIZED ({sql}) "  # noqa: S608
            "SELECT email, (SELECT count(*) FROM hits), count(*) OVER () FROM hits "
            "GROUP BY email ORDER BY email LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        rows = cursor.fetchall()
    if not rows:
        return ([], 0) if offset == 0 else None
    return None if rows[0][1] > dense_at else ([row[0] for row in rows], rows[0][2])


def _sqlite_sparse_page(
    needle: str, offset: int, limit: int, connection_ids: list[int] | None
) -> tuple[list[str], int | None]:
    sql = (
        "SELECT email, count(*) OVER () FROM directory_directoryuser INDEXED BY directory_user_id_email "
        "WHERE id IN (SELECT rowid FROM directory_user_fts WHERE directory_user_fts MATCH %s)"
    )
    params: list[Any] = [_fts_phrase(needle)]
    if connection_ids is not None:
        if not connection_ids:
            return [], 0
        sql += f" AND connection_id IN ({', '.join(['%s'] * len(connection_ids))})"
        params += connection_ids
    sql += " GROUP BY email ORDER BY email LIMIT %s OFFSET %s"
    with db_connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit, offset])
        rows = cursor.fetchall()
    if not rows:
        return [], (0 if offset == 0 else None)
    return [row[0] for row in rows], rows[0][1]


def user_search(*, page: int = 1, per_page: int = PER_PAGE, **filters: Any) -> SearchResult:
    """Each person once (by e-mail), with their rows on every matching instance; substring match on e-mail and
    name, case- and accent-insensitive. Two queries (plus a bounded trigram count): a page of distinct e-mails
    with the number of people (exact up to COUNT_CAP, else "more than"), then their rows."""
    page = max(1, page)
    needle = normalize(filters.get("q", ""))
    row_filters: dict[str, Any] = {
        "connection_ids": _connection_ids(
            connection=filters.get("connection", ""),
            kind=filters.get("kind", ""),
            environment=filters.get("environment", ""),
        ),
        "status": filters.get("status", ""),
        "role": filters.get("role", ""),
        "group": filters.get("group", ""),
    }
    if row_filters["connection_ids"] == []:
        return SearchResult(people=[], page=page, has_next=False)
    emails, total = _email_page(needle, (page - 1) * per_page, per_page + 1, row_filters)
    has_next = len(emails) > per_page
    emails = emails[:per_page]
    capped = False
    if total is None:  # the e-mail walk: exact on the last page, else a lower bound ("26+ people")
        total = (page - 1) * per_page + len(emails) + (1 if has_next else 0)
        capped = has_next
    postgres = db_connection.vendor == "postgresql"
    if (
        capped
        and (len(needle) >= 3 or postgres and len(needle) == 2)
        and (postgres or not any(row_filters.values()))
    ):
        # The walk served a needle with more than DENSE_AT rows (PostgreSQL: filters included; SQLite: FTS5 count,
        # so only unfiltered), so at least DENSE_AT / instances people.
        dense_rows = DENSE_AT if len(needle) >= 3 else BIGRAM_DENSE_AT
        instances = len(row_filters["connection_ids"] or ()) or Connection.objects.count()
        total = max(total, -(-dense_rows // max(1, instances)))
    # The person's rows on every instance (other filters kept): the search filter is not re-run here.
    rows = (
        _row_filtered(DirectoryUser.objects.filter(email__in=emails), **row_filters)
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
    return SearchResult(
        people=[people[e] for e in emails if e in people],
        page=page,
        has_next=has_next,
        total=min(total, COUNT_CAP),
        total_capped=capped or total > COUNT_CAP,
    )


def person_rows(*, email: str) -> list[DirectoryUser]:
    return list(
        DirectoryUser.objects.filter(email=email.strip().lower())
        .select_related("connection")
        .order_by("connection__name")
    )


@dataclass
class IndexAge:
    oldest: Any = None  # datetime | None
    never: bool = False  # some instance has no index yet (running or not)
    failed: list[DirectorySync] = field(default_factory=list)  # the last sync failed or stalled
    unindexed: list[Connection] = field(default_factory=list)  # never synced, no sync running
    outdated: list[Connection] = field(
        default_factory=list
    )  # last sync older than the stale limit, none running
    indexing: list[Connection] = field(default_factory=list)  # a sync is running now

    @property
    def stale(self) -> bool:
        """Some instance is unindexed or outdated (a running sync is neither)."""
        return bool(self.unindexed or self.outdated)


def index_age(*, connection: Connection | None = None, connection_ids: list[int] | None = None) -> IndexAge:
    """How old the index is, per instance: which were never indexed or are stale (named, to refresh each on its
    users page); an instance whose sync is running is not flagged."""
    connections = Connection.objects.select_related("directory_sync").order_by("name")
    if connection is not None:
        connections = connections.filter(pk=connection.pk)
    if connection_ids is not None:
        connections = connections.filter(pk__in=connection_ids)
    limit = timezone.now() - timedelta(seconds=settings.ADMINUI_DIRECTORY_STALE_AFTER)
    age = IndexAge()
    synced_at = []
    for conn in connections:
        sync = getattr(conn, "directory_sync", None)
        if sync is not None and sync.synced_at is not None:
            synced_at.append(sync.synced_at)
        else:
            age.never = True
        if sync is not None and sync.in_progress:
            age.indexing.append(conn)
            continue
        if sync is not None and (sync.status == DirectorySync.Status.FAILED or sync.stalled):
            age.failed.append(sync)
        if sync is None or sync.synced_at is None:
            age.unindexed.append(conn)
        elif sync.synced_at < limit:
            age.outdated.append(conn)
    age.oldest = min(synced_at, default=None)
    return age


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
