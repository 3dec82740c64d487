from __future__ import annotations

from apps.accounts.checks import check_sign_in_settings


def test_it_accepts_the_defaults(settings):
    assert check_sign_in_settings(None) == []


def test_it_rejects_an_unknown_role_in_the_map(settings):
    settings.ADMINUI_OIDC_ROLE_MAP = {"ops": "admins"}
    assert [e.id for e in check_sign_in_settings(None)] == ["accounts.E001"]


def test_it_rejects_single_sign_on_without_a_role_map(settings):
    settings.ADMINUI_OIDC_ISSUER = "https://idp.example"
    settings.ADMINUI_OIDC_CLIENT_ID = "adminui"
    settings.ADMINUI_OIDC_ROLE_MAP = {}
    assert [e.id for e in check_sign_in_settings(None)] == ["accounts.E002"]


def test_it_rejects_passwords_off_without_single_sign_on(settings):
    settings.ADMINUI_LOCAL_LOGIN = False
    settings.ADMINUI_OIDC_ISSUER = ""
    assert [e.id for e in check_sign_in_settings(None)] == ["accounts.E003"]
