"""TOTP second factor for local-password operators (django-otp's TOTP devices)."""

from __future__ import annotations

import base64

from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record


def has_second_factor(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_required(user) -> bool:
    """A local admin must set up a second factor (ADMINUI_TOTP_REQUIRED) before using the console."""
    return (
        settings.ADMINUI_TOTP_REQUIRED
        and getattr(user, "is_authenticated", False)
        and user.sign_in == user.SignIn.LOCAL
        and user.role == "admin"
        and not has_second_factor(user)
    )


def pending_device(user) -> TOTPDevice:
    """The unconfirmed device being set up (one per operator; a new key each time setup starts over)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=False)


def base32_key(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


def two_factor_confirm(*, actor, device: TOTPDevice, token: str) -> tuple[bool, str]:
    """Confirm a device being set up with a code from the app: (ok, message); audited when it succeeds."""
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        return False, "Too many wrong codes. Wait a minute, then try the code the app shows then."
    if not device.verify_token(token.replace(" ", "")):
        return False, "That code is not right. Check the phone's clock and try the next one."
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    audit_record(
        action=AuditEvent.Action.OPERATOR_TWO_FACTOR,
        actor=actor,
        target_type="operator",
        target_id=str(device.user.pk),
        target_repr=device.user.get_username(),
        after={"two_factor": "totp"},
    )
    return True, ""


def verify_second_factor(user, token: str) -> tuple[bool, str]:
    """(ok, message) for a code typed at sign-in; django-otp throttles repeated failures and refuses reuse."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return False, "No second factor is set up."
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        return False, "Too many wrong codes. Wait a minute, then try again."
    if device.verify_token(token.replace(" ", "")):
        return True, ""
    return False, "That code is not right (or was already used). Try the next one."
