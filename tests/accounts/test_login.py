from __future__ import annotations

import pytest
from django.core.management import call_command

from apps.accounts.models import User
from tests.conftest import PASSWORD


def test_it_serves_the_login_page_anonymously(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_it_logs_in_and_redirects_to_next(client, operator_viewer):
    response = client.post("/login/", {"username": "vera", "password": PASSWORD, "next": "/connections/"})
    assert response.status_code == 302
    assert response["Location"] == "/connections/"
    assert client.get("/connections/").status_code == 200


def test_it_rejects_a_wrong_password_with_a_clear_message(client, operator_viewer):
    response = client.post("/login/", {"username": "vera", "password": "nope"})
    assert response.status_code == 200
    assert b"do not match" in response.content


def test_it_locks_out_after_repeated_failures(client, operator_viewer):
    for _ in range(5):
        client.post("/login/", {"username": "vera", "password": "nope"}, REMOTE_ADDR="10.0.0.1")
    response = client.post("/login/", {"username": "vera", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content


def test_logout_needs_post(admin_client):
    assert admin_client.get("/logout/").status_code == 405
    response = admin_client.post("/logout/")
    assert response.status_code == 302
    assert "You are logged out." in admin_client.get(response["Location"]).content.decode()
    assert admin_client.get("/connections/").status_code == 302


def test_demo_operator_is_created_once_with_the_admin_role(db, capsys):
    call_command("demo_operator")
    out = capsys.readouterr().out
    assert "log in as  demo / " in out
    password = out.split("demo / ")[1].split()[0]
    user = User.objects.get(username="demo")
    assert user.check_password(password)
    assert user.role == "admin"
    call_command("demo_operator")
    assert password not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("persona", "role"),
    [
        ("operator_admin", "admin"),
        ("operator_helpdesk", "helpdesk"),
        ("operator_viewer", "viewer"),
        ("stranger", ""),
    ],
)
def test_roles_are_groups_from_the_data_migration(request, persona, role):
    user = request.getfixturevalue(persona)
    assert user.role == role
    assert user.has_perm("accounts.view_console") is bool(role)
    assert user.has_perm("accounts.change_people") is (role in ("admin", "helpdesk"))
    assert user.has_perm("accounts.grant_admin") is (role == "admin")


@pytest.mark.django_db(transaction=True)
def test_roles_survive_a_flush():
    from django.contrib.auth.models import Group

    call_command("flush", interactive=False, verbosity=0)
    assert Group.objects.get(name="helpdesk").permissions.filter(codename="change_people").exists()
