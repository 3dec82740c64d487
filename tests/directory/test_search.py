from __future__ import annotations

import pytest
from django.urls import reverse

from apps.directory.models import DirectoryUser


def test_it_requires_login(client, db):
    response = client.get("/")
    assert response.status_code == 302


def test_it_requires_a_role(stranger_client, db):
    assert stranger_client.get("/").status_code == 403


def test_it_renders_full_page_with_search_box(viewer_client, synced):
    synced("tooljet", "latest")
    response = viewer_client.get("/?q=priya")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert "data-search-box" in html and "autofocus" in html
    assert 'hx-push-url="true"' in html and "delay:250ms" in html
    assert "priya.raman@example.com" in html


def test_it_renders_partial_for_htmx(viewer_client, synced, htmx_headers):
    synced("tooljet", "latest")
    response = viewer_client.get("/?q=PRIYA", headers=htmx_headers)
    html = response.content.decode()
    assert "<html" not in html
    assert "priya.raman@example.com" in html


def test_it_matches_accent_and_case_insensitive_substrings(viewer_client, synced, htmx_headers):
    _sim, connection = synced("tooljet", "latest")
    row = (
        DirectoryUser.objects.filter(connection=connection, name__contains="ë").first()
        or DirectoryUser.objects.filter(connection=connection, name__startswith="Zo").first()
    )
    assert row is not None
    response = viewer_client.get("/?q=ZOE", headers=htmx_headers)
    assert "zoe.obrien@example.com" in response.content.decode()


def test_it_shows_each_person_once_with_a_chip_per_instance(viewer_client, synced, htmx_headers):
    _s1, tj = synced("tooljet", "latest")
    _s2, rt = synced("retool", "enterprise")
    response = viewer_client.get("/?q=priya.raman", headers=htmx_headers)
    html = response.content.decode()
    assert html.count(reverse("directory:person", args=["priya.raman@example.com"])) == 1
    assert tj.name in html and rt.name in html


def test_it_filters_by_connection_kind_status_role_and_group(viewer_client, synced, htmx_headers):
    _s1, tj = synced("tooljet", "latest")
    synced("retool", "enterprise")
    html = viewer_client.get(f"/?q=priya&connection={tj.slug}", headers=htmx_headers).content.decode()
    assert tj.name in html and "retool" not in html.split("<tbody>")[1].lower()
    html = viewer_client.get("/?kind=retool&role=admin", headers=htmx_headers).content.decode()
    assert "priya.raman@example.com" in html
    html = viewer_client.get("/?status=archived", headers=htmx_headers).content.decode()
    assert "marten.angstrom@example.com" in html
    html = viewer_client.get("/?group=App+Builders", headers=htmx_headers).content.decode()
    assert "zoe.obrien@example.com" in html and "priya.raman@example.com" not in html


def test_it_shows_empty_state_and_never_synced(viewer_client, fleet_connection, htmx_headers):
    fleet_connection("tooljet", "latest")
    html = viewer_client.get("/?q=nobody-at-all").content.decode()
    assert "Nobody matches" in html
    assert "never indexed" in html


def test_it_flags_stale_index(viewer_client, synced, settings):
    synced("tooljet", "latest")
    settings.ADMINUI_DIRECTORY_STALE_AFTER = -1
    html = viewer_client.get("/?q=priya").content.decode()
    assert "stale" in html


def test_person_page_lists_every_instance(viewer_client, synced):
    _s1, tj = synced("tooljet", "latest")
    _s2, rt = synced("retool", "enterprise")
    html = viewer_client.get("/people/Priya.Raman@example.com/").content.decode()
    assert tj.name in html and rt.name in html
    assert f"/connections/{tj.slug}/users/" in html


def test_connection_user_list_and_refresh(admin_client, synced, htmx_headers):
    from django_tasks_db.models import DBTaskResult

    _sim, tj = synced("tooljet", "lts-3.16")
    html = admin_client.get(f"/connections/{tj.slug}/users/?q=zoe").content.decode()
    assert "zoe.obrien@example.com" in html and "users indexed" in html
    response = admin_client.post(f"/connections/{tj.slug}/users/refresh/", headers=htmx_headers)
    assert "Sync running" in response.content.decode()
    assert DBTaskResult.objects.filter(task_path__endswith="sync_connection").exists()


def test_business_user_list_says_why(viewer_client, fleet_connection):
    _sim, rt = fleet_connection("retool", "business")
    html = viewer_client.get(f"/connections/{rt.slug}/users/").content.decode()
    assert "the Business plan has no users API" in html
    assert "so the index holds its" in html


@pytest.mark.parametrize("dense_at", [1, 10**9])
def test_it_pages_the_same_people_on_either_search_path(synced, monkeypatch, dense_at):
    """Rare needles go through the trigram index (PostgreSQL: 2-letter ones through the bigram index), common ones
    walk the e-mail index: same people, same order; the count exact or a true lower bound."""
    from apps.directory import selectors
    from apps.directory.models import normalize

    synced("tooljet", "latest")
    synced("retool", "enterprise")
    monkeypatch.setattr(selectors, "DENSE_AT", dense_at)
    rows = list(DirectoryUser.objects.values_list("email", "name"))
    monkeypatch.setattr(selectors, "COUNT_CAP", 10**6)
    queries = ("PRIYA", "example.com", "an", "zo", "lu", "o'", "Ë", "o'brien", "a%b", "_", "%_", "xyz-nobody")
    words = (
        "raman priya",
        "p raman",
        "a z",
        "an zo",
        "o’brien zo",
        "lu a",
        "priya xyz-nobody",
        "e an example",
    )
    for q in queries + words:
        needle = normalize(q).split()
        expected = sorted({e for e, n in rows if all(w in normalize(f"{e} {n}") for w in needle)})
        got, page = [], 1
        while True:
            result = selectors.user_search(q=q, page=page, per_page=7)
            # Exact, or (walking the e-mail index, before the last page) a lower bound.
            assert (
                result.total == len(expected) if not result.total_capped else result.total < len(expected)
            ), q
            got += [p.email for p in result.people]
            if not result.has_next:
                break
            page += 1
        assert got == expected, q
    kind_only = selectors.user_search(q="priya", kind="retool", per_page=7)
    assert kind_only.people and all(r.connection.kind == "retool" for p in kind_only.people for r in p.rows)
    assert selectors.user_search(q="priya", connection="no-such-connection").people == []


def test_it_counts_the_people_found_and_caps_the_count(viewer_client, synced, htmx_headers, monkeypatch):
    from apps.directory import selectors

    synced("tooljet", "latest")
    synced("retool", "enterprise")
    html = viewer_client.get("/?q=priya.raman", headers=htmx_headers).content.decode()
    assert '<p class="result-count muted small" id="result-count">1 person</p>' in html
    total = len(set(DirectoryUser.objects.values_list("email", flat=True)))
    assert (
        f">{total} people</p>" in viewer_client.get("/?q=example.com", headers=htmx_headers).content.decode()
    )
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    for page in (1, 2):
        html = viewer_client.get(f"/?q=example.com&page={page}", headers=htmx_headers).content.decode()
        assert ">3+ people</p>" in html
    monkeypatch.setattr(selectors, "COUNT_CAP", 10**6)
    monkeypatch.setattr(selectors, "DENSE_AT", 1)  # the e-mail walk: a lower bound past the page
    assert ">26+ people</p>" in viewer_client.get("/?q=a", headers=htmx_headers).content.decode()
    assert "result-count" not in viewer_client.get("/?q=xyz-nobody", headers=htmx_headers).content.decode()


def test_it_names_unindexed_and_stale_instances_with_a_link_and_skips_running_syncs(
    viewer_client, synced, settings
):
    from django.utils import timezone

    from apps.directory.models import DirectorySync

    _s1, tj = synced("tooljet", "latest")
    _s2, rt = synced("retool", "enterprise")
    DirectorySync.objects.filter(connection=rt).delete()  # never indexed
    html = viewer_client.get("/?q=priya").content.decode()
    assert f'never indexed: <a href="/connections/{rt.slug}/users/">{rt.name}</a>' in html
    assert "stale on" not in html and tj.name not in html.split("index-age", 1)[1].split("</p>", 1)[0]

    settings.ADMINUI_DIRECTORY_STALE_AFTER = -1
    DirectorySync.objects.create(connection=rt, status="running", started_at=timezone.now())
    html = viewer_client.get("/?q=priya").content.decode()
    age = html.split("index-age", 1)[1].split("</p>", 1)[0]
    assert f'stale on <a href="/connections/{tj.slug}/users/">{tj.name}</a>' in age
    assert "never indexed" not in age and f"Indexing now: {rt.name}." in age  # a running sync is not stale

    DirectorySync.objects.filter(connection=tj).update(status="running")
    age = viewer_client.get("/?q=priya").content.decode().split("index-age", 1)[1].split("</p>", 1)[0]
    assert "stale" not in age


def test_a_row_shows_each_workspace_role_once_and_never_runs_roles_together(
    viewer_client, synced, htmx_headers
):
    synced("tooljet", "latest")
    row = next(r for r in DirectoryUser.objects.all() if len(r.role_list) >= 2)
    html = viewer_client.get("/", {"q": row.email}, headers=htmx_headers).content.decode()
    assert "".join(row.role_list) not in html
    for m in row.memberships:
        assert f"{m['workspace_name']}: {m['role']}" in html


def test_a_bad_filter_is_named_in_plain_words(viewer_client, synced, htmx_headers):
    synced("tooljet", "latest")
    html = viewer_client.get("/", {"q": "priya", "page": "two"}, headers=htmx_headers).content.decode()
    assert "Check the filters: Page — Enter a whole number." in html
    assert "* page" not in html


def test_the_person_page_judges_the_index_by_this_persons_instances(viewer_client, synced, fleet_connection):
    _sim, tj = synced("tooljet", "latest")
    fleet_connection("retool", "enterprise")  # registered, never indexed
    html = viewer_client.get("/people/priya.raman@example.com/").content.decode()
    assert tj.name in html and '<span class="badge">stale</span>' not in html
    html = viewer_client.get("/people/nobody.at.all@example.com/").content.decode()
    assert '<span class="badge">stale</span>' in html  # on no instance: the whole index is judged


def test_a_connections_user_list_offers_only_its_products_roles(viewer_client, synced):
    _sim, tj = synced("tooljet", "latest")
    html = viewer_client.get(f"/connections/{tj.slug}/users/").content.decode()
    assert '<option value="builder">' in html and '<option value="member">' not in html
    html = viewer_client.get("/").content.decode()
    assert '<option value="member">' in html  # the fleet-wide search keeps every product's roles


@pytest.mark.parametrize(
    ("q", "email"),
    [
        ("raman priya", "priya.raman@example.com"),
        ("Raman, Priya", "priya.raman@example.com"),
        ("p raman", "priya.raman@example.com"),
        ("zoe obrien", "zoe.obrien@example.com"),
        ("o’brien", "zoe.obrien@example.com"),
        ("mateo okafor 173", "mateo.okafor.173@example.com"),
    ],
)
def test_it_matches_every_word_in_any_order_ignoring_punctuation(
    viewer_client, synced, htmx_headers, q, email
):
    synced("tooljet", "latest", users=200)
    html = viewer_client.get("/", {"q": q}, headers=htmx_headers).content.decode()
    assert email in html


def test_it_finds_nobody_when_one_word_matches_nobody(viewer_client, synced, htmx_headers):
    synced("tooljet", "latest", users=200)
    for q in ("priya raman", "O'Brien", "mateo okafor"):
        assert "Nobody matches" not in viewer_client.get("/", {"q": q}, headers=htmx_headers).content.decode()
    for q in ("priya nobody-at-all", "okafor 173 z", "raman, q"):
        html = viewer_client.get("/", {"q": q}, headers=htmx_headers).content.decode()
        assert "Nobody matches" in html, q


def test_it_folds_apostrophes_accents_and_punctuation_the_same_way_in_the_index_and_the_query():
    from apps.directory.models import normalize

    assert normalize("Zoë O'Brien") == normalize("zoe o’brien") == "zoe obrien"
    assert normalize("Raman, Priya;") == "raman priya"
    assert normalize("Søren Ångström") == "soren angstrom"
    assert normalize("mateo.k@example.com") == "mateo.k@example.com"
    assert normalize("  “Łukasz”  D'Angelo ") == "lukasz dangelo"


def test_an_overlong_query_names_the_box_not_the_field(admin_client, make_connection):
    make_connection(kind="tooljet")
    html = admin_client.get("/", {"q": "x" * 10_000}).content.decode()
    assert "Name or e-mail — " in html and "Q — " not in html
