"""Re-authentication for sensitive actions: the sign-in must be at most ADMINUI_REAUTH_MINUTES old.

    response = require_recent_auth(request)
    if response is not None:
        return response

or decorate the view with `@recent_auth_required()`. A stale sign-in is sent to /reauth/ (password for local
operators; a fresh IdP login with prompt=login for single sign-on) and comes back to the action: a GET returns to
the same URL, a POST to the page its form was on (the form is not re-submitted).
"""

from __future__ import annotations

import time
from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

SESSION_AUTH_AT = "adminui_auth_at"


def mark_authenticated(request) -> None:
    """Record that the operator proved who they are just now (sign-in or re-authentication)."""
    request.session[SESSION_AUTH_AT] = int(time.time())


def record_sign_in_time(sender, request, user, **kwargs) -> None:
    """user_logged_in receiver: every sign-in, local or single sign-on, starts the clock."""
    if request is not None and hasattr(request, "session"):
        mark_authenticated(request)


def auth_age_seconds(request) -> float | None:
    at = request.session.get(SESSION_AUTH_AT)
    return time.time() - at if isinstance(at, int | float) else None


def safe_next(request, candidate: str | None, default: str = "/") -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _return_to(request) -> str:
    if request.method in ("GET", "HEAD"):
        if getattr(request, "htmx", None) and request.htmx.current_url:
            return safe_next(request, request.htmx.current_url_abs_path)
        return request.get_full_path()
    if getattr(request, "htmx", None) and request.htmx.current_url:
        return safe_next(request, request.htmx.current_url_abs_path)
    referer = safe_next(request, request.headers.get("Referer"))
    parts = urlsplit(referer)
    return f"{parts.path or '/'}{'?' + parts.query if parts.query else ''}"


def require_recent_auth(request, minutes: int | None = None) -> HttpResponse | None:
    """None when the operator signed in (or re-authenticated) within `minutes` (default ADMINUI_REAUTH_MINUTES);
    otherwise the response that sends them to re-authenticate and back."""
    limit = (settings.ADMINUI_REAUTH_MINUTES if minutes is None else minutes) * 60
    age = auth_age_seconds(request)
    if age is not None and 0 <= age <= limit:
        return None
    url = f"{reverse('accounts:reauth')}?{urlencode({'next': _return_to(request)})}"
    if getattr(request, "htmx", None):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def recent_auth_required(minutes: int | None = None):
    """View decorator form of `require_recent_auth`."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            response = require_recent_auth(request, minutes)
            return response if response is not None else view(request, *args, **kwargs)

        return wrapper

    return decorator
