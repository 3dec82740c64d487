from __future__ import annotations

import re

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.audit.models import AuditEvent
from tests.conftest import PASSWORD


def _code(device: TOTPDevice, *, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset * device.step
    return f"{totp.token():0{device.digits}d}"


def _confirmed(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def test_it_sets_up_a_second_factor(admin_client, operator_admin):
    page = admin_client.get("/account/two-factor/").content.decode()
    key = re.search(r'<code id="totp-key">([A-Z2-7]+)</code>', page).group(1)
    device = TOTPDevice.objects.get(user=operator_admin, confirmed=False)
    assert len(key) >= 32
    assert "otpauth://totp/" in page
    done = admin_client.post("/account/two-factor/", {"code": _code(device)})
    assert done.status_code == 302
    assert TOTPDevice.objects.get(user=operator_admin).confirmed
    assert AuditEvent.objects.filter(action="operator.two_factor", target_id=str(operator_admin.pk)).exists()


def test_a_wrong_code_does_not_turn_it_on(admin_client, operator_admin):
    admin_client.get("/account/two-factor/")
    device = TOTPDevice.objects.get(user=operator_admin)
    wrong = admin_client.post(
        "/account/two-factor/", {"code": "000000" if _code(device) != "000000" else "111111"}
    )
    assert "That code is not right" in wrong.content.decode()
    assert not TOTPDevice.objects.get(user=operator_admin).confirmed
    assert not AuditEvent.objects.filter(action="operator.two_factor").exists()


def test_sign_in_asks_for_the_code_after_the_password(client, operator_viewer):
    device = _confirmed(operator_viewer)
    response = client.post("/login/", {"username": "vera", "password": PASSWORD, "next": "/connections/"})
    assert response["Location"] == "/login/code/"
    assert client.get("/connections/").status_code == 302  # not signed in yet
    bad = client.post("/login/code/", {"code": "12345"})
    assert "Enter the 6 digits" in bad.content.decode()
    ok = client.post("/login/code/", {"code": _code(device)})
    assert ok["Location"] == "/connections/"
    assert client.get("/connections/").status_code == 200


def test_a_code_cannot_be_used_twice(operator_viewer):
    device = _confirmed(operator_viewer)
    code = _code(device)
    first = Client()
    first.post("/login/", {"username": "vera", "password": PASSWORD})
    assert first.post("/login/code/", {"code": code}).status_code == 302
    second = Client()
    second.post("/login/", {"username": "vera", "password": PASSWORD})
    again = second.post("/login/code/", {"code": code})
    assert "already used" in again.content.decode()


def test_the_code_step_needs_the_password_step_first(client, operator_viewer):
    response = client.get("/login/code/")
    assert response["Location"] == "/login/"


@pytest.mark.parametrize(("required", "blocked"), [(True, True), (False, False)])
def test_local_admins_must_set_one_up_when_required(settings, admin_client, required, blocked):
    settings.ADMINUI_TOTP_REQUIRED = required
    response = admin_client.get("/connections/")
    if blocked:
        assert response["Location"] == "/account/two-factor/"
        assert "must set up a second factor" in admin_client.get("/account/two-factor/").content.decode()
        assert admin_client.post("/logout/").status_code == 302
    else:
        assert response.status_code == 200


def test_the_requirement_spares_viewers_and_admins_with_a_device(
    settings, viewer_client, admin_client, operator_admin
):
    settings.ADMINUI_TOTP_REQUIRED = True
    assert viewer_client.get("/connections/").status_code == 200
    _confirmed(operator_admin)
    assert admin_client.get("/connections/").status_code == 200


def test_an_admin_password_reset_removes_the_second_factor(admin_client, operator_viewer):
    _confirmed(operator_viewer)
    admin_client.post(f"/operators/{operator_viewer.pk}/password-reset/", {"reason": "lost phone"})
    assert not TOTPDevice.objects.filter(user=operator_viewer).exists()
    row = AuditEvent.objects.get(action="operator.password_reset")
    assert row.after == {"second_factor_removed": True}
