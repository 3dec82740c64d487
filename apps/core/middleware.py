from __future__ import annotations

import re
import time
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponseNotAllowed
from django.shortcuts import resolve_url
from django.urls import resolve
from django.utils.cache import add_never_cache_headers
from django_htmx.http import HttpResponseClientRedirect

from apps.core.alerts import alert_response, is_upstream_error, provider_error_response
from apps.core.clientip import client_ip
from apps.core.context import RequestMeta, request_meta_var

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,128}$")


class RequestIDMiddleware:
    """Give every request an id (reusing a well-formed incoming X-Request-ID) and every response
    `X-Request-ID` and `Vary: HX-Request`. The id is also put in a ContextVar for log lines and services."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        meta = RequestMeta(
            request_id=request.request_id,
            remote_addr=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:300],
        )
        token = request_meta_var.set(meta)
        try:
            response = self.get_response(request)
        finally:
            request_meta_var.reset(token)
        response["X-Request-ID"] = request.request_id
        vary = response.get("Vary")
        if not vary:
            response["Vary"] = "HX-Request"
        elif "hx-request" not in vary.lower():
            response["Vary"] = f"{vary}, HX-Request"
        return response


class HealthProbeMiddleware:
    """`/healthz` and `/readyz` answer load balancers and kubelets as they probe: over plain HTTP (no SSL redirect),
    under any Host header (no ALLOWED_HOSTS check: probes use the pod or node address), to GET and HEAD. Placed
    before SecurityMiddleware and CommonMiddleware, which would redirect or reject them."""

    PROBES = frozenset({"/healthz", "/readyz", "/metrics"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info not in self.PROBES:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        # the view the URLconf routes the path to (a layer above may serve it), called without the middleware
        # that would redirect or refuse the probe
        match = resolve(request.path_info)
        return match.func(request, *match.args, **match.kwargs)


class SessionTimeoutMiddleware:
    """Ends a session idle for ADMINUI_SESSION_IDLE_TIMEOUT seconds, or older than SESSION_COOKIE_AGE seconds
    since login whatever the activity. The last-seen time is written at most once a minute, so an active operator
    costs one session write a minute, not one per request. Runs after AuthenticationMiddleware; a logged-out request
    then meets LoginRequiredMiddleware (and HX-Redirect for htmx) like any other."""

    TOUCH_EVERY = 60  # seconds
    STARTED, SEEN = "adminui_started", "adminui_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            started, seen = session.get(self.STARTED), session.get(self.SEEN)
            if started is None:
                session[self.STARTED] = session[self.SEEN] = now
            elif (
                now - seen >= settings.ADMINUI_SESSION_IDLE_TIMEOUT
                or now - started >= settings.SESSION_COOKIE_AGE
            ):
                logout(request)
            elif now - seen >= self.TOUCH_EVERY:
                session[self.SEEN] = now
        return self.get_response(request)


class HtmxLoginRedirectMiddleware:
    """An htmx request from an expired session must send the whole browser to the login page
    (HX-Redirect), not swap a login form into a fragment. Runs before LoginRequiredMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not getattr(request, "htmx", False) or request.user.is_authenticated:
            return None
        if not getattr(view_func, "login_required", True):
            return None
        current = request.htmx.current_url_abs_path or request.get_full_path()
        login = resolve_url(settings.LOGIN_URL)
        return HttpResponseClientRedirect(f"{login}?{urlencode({'next': current})}")


class HtmxErrorMiddleware:
    """htmx swaps error responses (see static/js/app.js responseHandling) into their target; make sure any
    4xx/5xx answer to an htmx request is an alert fragment aimed at #alerts, never a whole error page
    in the middle of a form. It is also the one net for upstream failures no view handled (process_exception):
    it runs inside the htmx and auth middleware, so the alert knows the request is htmx and who asked, and inside
    RequestIDMiddleware, so the alert carries the request id. One copy: an outer one would never run."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            getattr(request, "htmx", False)
            and response.status_code >= 400
            and "HX-Retarget" not in response
            and not getattr(response, "streaming", False)
        ):
            message = {
                403: "You do not have permission to do that.",
                404: "That page or object does not exist (or you cannot see it).",
                405: "That action is not allowed here.",
                413: "That upload is too large.",
            }.get(
                response.status_code,
                "Something went wrong on our side. Try again; if it persists, tell an admin.",
            )
            return alert_response(request, message, status=response.status_code)
        return response

    def process_exception(self, request, exception):
        """The one net for upstream failures a view did not handle itself: a plain-language alert (502),
        never a 500 page. Views that must keep a form's input catch ProviderError themselves."""
        if is_upstream_error(exception):
            return provider_error_response(request, exception)
        return None


class NoStoreMiddleware:
    """Every page is live data about people and permissions: browsers must not keep it, so Back after a change
    asks again instead of showing the old state, and nothing stays in a shared machine's cache. Static files
    are served (and cached for long) by whitenoise before this runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response
