from __future__ import annotations

import logging

import pytest

from apps.connections.models import Connection

CANARY = "CANARY-tok-7f3a9b2c4d"


@pytest.fixture
def connection(db):
    c = Connection(
        name="Prod ToolJet",
        slug="prod-tj",
        kind="tooljet",
        base_url="http://127.0.0.1:9",
        environment="production",
    )
    c.set_token(CANARY)
    c.save()
    return c


def _form(**overrides):
    data = {
        "name": "Staging Retool",
        "slug": "staging-retool",
        "kind": "retool",
        "base_url": "https://acme.retool.com/api/v2/",
        "environment": "staging",
        "timeout": "10",
        "requests_per_minute": "45",
        "token": "retool-token-abc",
        "notes": "",
        "save_anyway": "1",  # no instance answers at this address
    }
    data.update(overrides)
    return data


READ_URLS = ["/connections/", "/connections/prod-tj/"]
ADMIN_GET_URLS = ["/connections/add/", "/connections/prod-tj/edit/"]
ADMIN_POST_URLS = [
    "/connections/add/",
    "/connections/prod-tj/edit/",
    "/connections/prod-tj/delete/",
    "/connections/prod-tj/test/",
]


@pytest.mark.parametrize("url", READ_URLS)
@pytest.mark.parametrize("persona", ["admin_client", "helpdesk_client", "viewer_client"])
def test_every_role_can_read(url, persona, connection, request):
    assert request.getfixturevalue(persona).get(url).status_code == 200


@pytest.mark.parametrize("url", READ_URLS + ADMIN_GET_URLS)
def test_it_forbids_operators_without_a_role(url, connection, stranger_client):
    assert stranger_client.get(url).status_code == 403


@pytest.mark.parametrize("url", ADMIN_GET_URLS)
@pytest.mark.parametrize("persona", ["helpdesk_client", "viewer_client"])
def test_it_forbids_non_admins_the_forms(url, persona, connection, request):
    assert request.getfixturevalue(persona).get(url).status_code == 403


@pytest.mark.parametrize("url", ADMIN_POST_URLS)
@pytest.mark.parametrize("persona", ["helpdesk_client", "viewer_client"])
def test_it_forbids_non_admin_writes_and_changes_nothing(url, persona, connection, request):
    before = list(Connection.objects.values())
    response = request.getfixturevalue(persona).post(url, _form(slug="prod-tj", name="hacked"))
    assert response.status_code == 403
    assert list(Connection.objects.values()) == before


@pytest.mark.parametrize("url", ["/connections/", "/connections/prod-tj/"])
def test_it_requires_login(url, client, connection):
    assert client.get(url).status_code == 302


def test_it_404s_unknown_connections(admin_client, db):
    assert admin_client.get("/connections/nope/").status_code == 404


def test_it_rejects_get_on_post_only_views(admin_client, connection):
    assert admin_client.get("/connections/prod-tj/delete/").status_code == 405
    assert admin_client.get("/connections/prod-tj/test/").status_code == 405


def test_it_adds_a_connection_with_a_normalised_url_and_encrypted_token(admin_client, operator_admin):
    response = admin_client.post("/connections/add/", _form())
    assert response.status_code == 302
    connection = Connection.objects.get(slug="staging-retool")
    assert connection.base_url == "https://acme.retool.com"
    assert connection.get_token() == "retool-token-abc"
    assert "retool-token-abc" not in connection.token_encrypted
    assert connection.created_by == operator_admin
    assert response["Location"] == "/connections/staging-retool/?test=1"


def test_it_defaults_the_retool_rate_limit_to_45(admin_client):
    data = _form()
    del data["requests_per_minute"]
    admin_client.post("/connections/add/", data)
    assert Connection.objects.get(slug="staging-retool").requests_per_minute == 45


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"base_url": "ftp://x.example.com"}, b"Only http"),
        ({"base_url": "not a url"}, b"Start the URL"),
        ({"kind": "jira"}, b"Select a valid choice"),
        ({"token": ""}, b"needs a token"),
        ({"slug": "prod-tj"}, b"Another connection already uses this short name"),
        ({"name": "x" * 101}, b"at most 100"),
        ({"timeout": "99"}, b"between 1 and 25"),
        ({"timeout": "abc"}, b"Enter a number"),
        ({"token": "two words"}, b"spaces"),
    ],
)
def test_it_rejects_bad_input_and_saves_nothing(admin_client, connection, overrides, message):
    count = Connection.objects.count()
    response = admin_client.post("/connections/add/", _form(**overrides))
    assert response.status_code == 200
    assert message in response.content
    assert Connection.objects.count() == count


def test_it_answers_an_oversized_post_with_a_clear_400(admin_client, settings, db):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = admin_client.post("/connections/add/", _form(notes="x" * 5000))
    assert response.status_code == 400
    assert b"too large or malformed" in response.content
    assert not Connection.objects.exists()


def test_the_token_is_write_only_and_never_rendered(admin_client, connection, caplog):
    caplog.set_level(logging.DEBUG)
    pages = [
        admin_client.get(url)
        for url in ("/connections/", "/connections/prod-tj/", "/connections/prod-tj/edit/")
    ]
    # an invalid edit re-renders the form with what was typed — except the token
    pages.append(
        admin_client.post(
            "/connections/prod-tj/edit/", _form(slug="prod-tj", base_url="ftp://bad", token=CANARY + "x")
        )
    )
    pages.append(admin_client.post("/connections/prod-tj/test/"))
    for response in pages:
        assert CANARY.encode() not in response.content
    assert b"Set \xc2\xb7 last changed" in pages[2].content
    assert CANARY not in caplog.text


def test_editing_with_a_blank_token_keeps_it(admin_client, connection):
    response = admin_client.post(
        "/connections/prod-tj/edit/", _form(slug="prod-tj", kind="tooljet", token="")
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.get_token() == CANARY
    assert connection.name == "Staging Retool"


def test_editing_with_a_new_token_replaces_it(admin_client, connection):
    admin_client.post(
        "/connections/prod-tj/edit/", _form(slug="prod-tj", kind="tooljet", token="new-token-value")
    )
    connection.refresh_from_db()
    assert connection.get_token() == "new-token-value"


def test_it_deletes_a_connection(admin_client, connection):
    response = admin_client.post("/connections/prod-tj/delete/", {"reason": "instance retired"})
    assert response.status_code == 302
    assert not Connection.objects.exists()


def test_deleting_a_connection_asks_a_reason_and_audits_it(admin_client, connection, settings):
    from apps.audit.models import AuditEvent

    settings.ADMINUI_REQUIRE_REASON = True
    refused = admin_client.post("/connections/prod-tj/delete/", follow=True)
    assert Connection.objects.exists()
    assert "Say why" in refused.content.decode()
    assert 'name="reason"' in admin_client.get("/connections/prod-tj/").content.decode()
    admin_client.post("/connections/prod-tj/delete/", {"reason": "instance retired", "ticket": "OPS-9"})
    assert not Connection.objects.exists()
    event = AuditEvent.objects.get(action="connection.delete")
    assert (event.reason, event.ticket) == ("instance retired", "OPS-9")


def test_it_shows_the_production_banner(admin_client, connection):
    assert b"prod-banner" in admin_client.get("/connections/prod-tj/").content
    connection.environment = "staging"
    connection.save()
    assert b"prod-banner" not in admin_client.get("/connections/prod-tj/").content


def test_it_shows_an_empty_state(admin_client):
    assert b"No connections yet" in admin_client.get("/connections/").content


def test_saving_triggers_a_connection_test_on_the_next_page(admin_client, connection):
    page = admin_client.get("/connections/prod-tj/?test=1").content
    assert b'hx-trigger="click, load"' in page
    assert b'hx-trigger="click, load"' not in admin_client.get("/connections/prod-tj/").content


def test_the_token_never_reaches_an_audit_row(admin_client, connection):
    from apps.audit.models import AuditEvent

    admin_client.post("/connections/add/", _form(token=CANARY + "-new"))
    admin_client.post(
        "/connections/prod-tj/edit/", _form(slug="prod-tj", kind="tooljet", token=CANARY + "-edit")
    )
    rows = list(AuditEvent.objects.filter(action__startswith="connection.").values())
    assert {r["action"] for r in rows} >= {"connection.create", "connection.update"}
    assert CANARY not in repr(rows)
    update = next(r for r in rows if r["action"] == "connection.update")
    assert update["after"]["token_replaced"] is True


def test_adding_a_connection_queues_no_directory_sync_before_its_test(
    admin_client, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/connections/add/", _form())
    assert Connection.objects.filter(slug="staging-retool").exists()
    # the first passing test queues it (tests/connections/test_connection_add.py)
    assert not DBTaskResult.objects.filter(task_path="apps.directory.tasks.sync_connection").exists()


def test_connection_list_filters_by_product_and_environment(connection):
    from apps.connections.selectors import connection_list

    other = Connection(
        name="Stage Retool",
        slug="stage-rt",
        kind="retool",
        base_url="http://127.0.0.1:9",
        environment="staging",
    )
    other.set_token("x-token-value")
    other.save()
    assert [c.slug for c in connection_list()] == ["prod-tj", "stage-rt"]
    assert [c.slug for c in connection_list(kind="retool")] == ["stage-rt"]
    assert [c.slug for c in connection_list(environment="production")] == ["prod-tj"]
    assert list(connection_list(kind="tooljet", environment="staging")) == []
