"""Directory reads: the global search over the local index, the person view."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection as db_connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.accounts.scope import Scope
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
    "invite",
    "user_type",
    "last_active",
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


def _connection_ids(
    *, connection: str = "", kind: str = "", environment: str = "", scope: Scope | None = None
) -> list[int] | None:
    """The connection filters resolved up front, so the search query stays on one table (None: no filter). An
    operator's scope (``apps.accounts.scope``) limits them to the connections it covers."""
    restricted = scope is not None and not scope.unrestricted
    if not (connection or kind or environment or restricted):
        return None
    qs = Connection.objects.all()
    if restricted:
        qs = qs.filter(scope.q())
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


def _words(needle: str) -> list[str]:
    """The query's words, each a substring every matching row must contain (in any order). A word inside another
    one adds nothing (``an anna``), so it is dropped."""
    words = list(dict.fromkeys(needle.split()))
    return [w for w in words if not any(w != other and w in other for other in words)]


def _fts_query(words: list[str]) -> str:
    """The FTS5 trigram query for the words it can serve (3+ characters); empty when there is none."""
    return " AND ".join(_fts_phrase(w) for w in words if len(w) >= 3)


def _is_dense(fts: str) -> bool:
    """SQLite: True when the FTS5 query matches at least DENSE_AT rows (always when there is no query, i.e. only
    words shorter than the trigram index serves); counting FTS5 hits stops there."""
    if not fts:
        return True
    with db_connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM directory_user_fts WHERE directory_user_fts MATCH %s LIMIT %s)",
            [fts, DENSE_AT],
        )
        return cursor.fetchone()[0] >= DENSE_AT


def _strpos(word: str) -> RawSQL:
    # strpos, not LIKE: the planner then walks the e-mail index in order instead of the trigram index.
    return RawSQL("strpos(search, %s) > 0", [word], output_field=BooleanField())


def _postgres_dense_at(words: list[str]) -> int:
    return DENSE_AT if any(len(w) >= 3 for w in words) else BIGRAM_DENSE_AT


def _email_page(
    words: list[str], offset: int, limit: int, row_filters: dict[str, Any]
) -> tuple[list[str], int | None]:
    """The e-mails of one page (distinct, in e-mail order) and how many people match, capped at COUNT_CAP + 1
    (None: not known from this query). A row matches when it contains every word."""
    qs = _row_filtered(DirectoryUser.objects.all(), **row_filters)
    if words and db_connection.vendor == "postgresql":
        if any(len(w) >= 2 for w in words):
            # Words of 3+ letters through pg_trgm; 2-letter ones through the expression GIN index over each row's
            # bigrams (migration 0004; ``lu`` walked half the e-mail index), pg_trgm needs 3; single letters are
            # checked on the hits. Same rows as the substring tests.
            hits = qs
            for word in words:
                if len(word) >= 3:
                    hits = hits.filter(search__contains=word)
                elif len(word) == 1:
                    hits = hits.filter(_strpos(word))
            bigrams = [w for w in words if len(w) == 2]
            if bigrams:
                hits = hits.filter(
                    RawSQL("directory_bigrams(search) @> %s::text[]", [bigrams], output_field=BooleanField())
                )
            sparse = _postgres_sparse_page(hits, offset, limit, _postgres_dense_at(words))
            if sparse is not None:
                return sparse
        for word in words:
            qs = qs.filter(_strpos(word))
    elif words:
        for word in words:
            qs = qs.filter(search__contains=word)
        fts = _fts_query(words)
        if db_connection.vendor == "sqlite" and not _is_dense(fts):
            if not any(row_filters.get(k) for k in ("status", "role", "group")):
                # The hits' e-mails come from a narrow (id, email, connection_id) index instead of the wide rows.
                short = [w for w in words if len(w) < 3]
                return _sqlite_sparse_page(fts, short, offset, limit, row_filters.get("connection_ids"))
            qs = qs.filter(
                id__in=RawSQL("SELECT rowid FROM directory_user_fts WHERE directory_user_fts MATCH %s", [fts])
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
    fts: str, short: list[str], offset: int, limit: int, connection_ids: list[int] | None
) -> tuple[list[str], int | None]:
    """The page from the FTS5 hits; ``short`` words (1–2 letters, which the trigram index cannot serve) are checked
    on the hits' rows."""
    sql = (
        "SELECT email, count(*) OVER () FROM directory_directoryuser INDEXED BY directory_user_id_email "
        "WHERE id IN (SELECT rowid FROM directory_user_fts WHERE directory_user_fts MATCH %s)"
    )
    params: list[Any] = [fts]
    for word in short:
        sql += " AND instr(search, %s) > 0"
        params.append(word)
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


def user_search(
    *, page: int = 1, per_page: int = PER_PAGE, scope: Scope | None = None, **filters: Any
) -> SearchResult:
    """Each person once (by e-mail), with their rows on every matching instance. A row matches when its e-mail and
    name contain every word of the query, in any order (``raman priya``, ``p raman``), case-, accent- and
    punctuation-insensitive (``o’brien`` finds O'Brien). Two queries (plus a bounded trigram count): a page of
    distinct e-mails with the number of people (exact up to COUNT_CAP, else "more than"), then their rows."""
    page = max(1, page)
    words = _words(normalize(filters.get("q", "")))
    row_filters: dict[str, Any] = {
        "connection_ids": _connection_ids(
            connection=filters.get("connection", ""),
            kind=filters.get("kind", ""),
            environment=filters.get("environment", ""),
            scope=scope,
        ),
        "status": filters.get("status", ""),
        "role": filters.get("role", ""),
        "group": filters.get("group", ""),
    }
    if row_filters["connection_ids"] == []:
        return SearchResult(people=[], page=page, has_next=False)
    emails, total = _email_page(words, (page - 1) * per_page, per_page + 1, row_filters)
    has_next = len(emails) > per_page
    emails = emails[:per_page]
    capped = False
    if total is None:  # the e-mail walk: exact on the last page, else a lower bound ("26+ people")
        total = (page - 1) * per_page + len(emails) + (1 if has_next else 0)
        capped = has_next
    postgres = db_connection.vendor == "postgresql"
    if capped and (
        # PostgreSQL: the walk served words whose indexed hits (filters and single letters included) were more
        # than the dense limit; SQLite: the FTS5 count said so, which counts every word only when all have 3+
        # letters, and no filter.
        postgres
        and any(len(w) >= 2 for w in words)
        or not postgres
        and words
        and all(len(w) >= 3 for w in words)
        and not any(row_filters.values())
    ):
        # So at least that many rows / instances people.
        dense_rows = _postgres_dense_at(words) if postgres else DENSE_AT
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


def person_rows(*, email: str, scope: Scope | None = None) -> list[DirectoryUser]:
    """The person's rows on every instance (only those ``scope`` covers, when given)."""
    rows = DirectoryUser.objects.filter(email=email.strip().lower())
    if scope is not None:
        rows = rows.filter(scope.q("connection__"))
    return list(rows.select_related("connection").order_by("connection__name"))


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


def group_choices(scope: Scope | None = None) -> list[str]:
    """Group names for the filter (custom groups and Retool groups seen in the index, on the connections ``scope``
    covers when given)."""
    names: set[str] = set()
    rows = DirectoryUser.objects.exclude(group_names="")
    if scope is not None:
        rows = rows.filter(scope.q("connection__"))
    for value in rows.values_list("group_names", flat=True).distinct()[:5000]:
        names.update(n for n in value.split("|") if n)
    return sorted(names)[:500]
