from __future__ import annotations

from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from apps.accounts.two_factor import second_factor_required

_ALLOWED = ("/account/two-factor/", "/logout/", "/static/", "/healthz", "/readyz")


class TwoFactorRequiredMiddleware:
    """A local admin without a second factor (when ADMINUI_TOTP_REQUIRED) can only set one up or log out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(_ALLOWED) and second_factor_required(request.user):
            url = reverse("accounts:two_factor")
            return HttpResponseClientRedirect(url) if getattr(request, "htmx", None) else redirect(url)
        return self.get_response(request)
