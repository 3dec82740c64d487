from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts import services
from apps.accounts.forms import CodeForm, InviteForm, LoginForm, ReasonForm, ReauthForm, RoleForm, ScopeForm
from apps.accounts.models import User
from apps.accounts.oidc import (
    OIDCError,
    local_login_allowed,
    oidc_begin,
    oidc_complete,
    oidc_enabled,
    oidc_logout_url,
)
from apps.accounts.reauth import mark_authenticated, recent_auth_required, safe_next
from apps.accounts.roles import Perm, require
from apps.accounts.scope import operator_scope
from apps.accounts.two_factor import (
    base32_key,
    has_second_factor,
    pending_device,
    second_factor_required,
    two_factor_confirm,
    verify_second_factor,
)
from apps.core.http import HtmxHttpRequest

logger = logging.getLogger(__name__)

_SESSION_ID_TOKEN = "adminui_oidc_id_token"
_SESSION_END_SESSION = "adminui_oidc_end_session"


def _sign_in_context() -> dict:
    return {
        "oidc_enabled": oidc_enabled(),
        "oidc_name": settings.ADMINUI_OIDC_NAME,
        "local_login": local_login_allowed() or bool(settings.ADMINUI_BREAK_GLASS_USERS),
        "local_login_restricted": not local_login_allowed(),
    }


_SESSION_PENDING_2FA = "adminui_pending_second_factor"
_PENDING_2FA_TTL = 300  # seconds between the password and the code


class LoginView(auth_views.LoginView):
    """Password sign-in; an operator with a second factor is asked for a code before they are signed in."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **_sign_in_context()}

    def form_valid(self, form):
        user = form.get_user()
        if has_second_factor(user):
            self.request.session[_SESSION_PENDING_2FA] = {
                "user": user.pk,
                "backend": user.backend,
                "at": time.time(),
                "next": self.get_success_url(),
            }
            return redirect("accounts:login_code")
        return super().form_valid(form)


login_view = require_http_methods(["GET", "POST"])(LoginView.as_view())


class LogoutView(auth_views.LogoutView):
    """Django's logout; for a single sign-on session, then the IdP's end-session page (which comes back to the
    login page)."""

    def post(self, request, *args, **kwargs):
        id_token = request.session.get(_SESSION_ID_TOKEN, "")
        end_session = request.session.get(_SESSION_END_SESSION, "")
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out.")
        if end_session:
            url = oidc_logout_url(
                id_token=id_token,
                end_session_endpoint=end_session,
                post_logout_redirect_uri=request.build_absolute_uri(reverse("accounts:login")),
            )
            return redirect(url)
        return response


logout_view = require_POST(LogoutView.as_view())


def _redirect_uri(request) -> str:
    return request.build_absolute_uri(reverse("accounts:oidc_callback"))


def _sign_in_error(request, message: str, status: int = 403) -> HttpResponse:
    return render(
        request, "accounts/sign_in_error.html", {"message": message, **_sign_in_context()}, status=status
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def login_code(request: HtmxHttpRequest) -> HttpResponse:
    """The second step of a password sign-in: the code from the operator's authenticator app."""
    pending = request.session.get(_SESSION_PENDING_2FA)
    if not pending or pending["at"] < time.time() - _PENDING_2FA_TTL:
        request.session.pop(_SESSION_PENDING_2FA, None)
        messages.info(request, "Sign in again: the code was not entered in time.")
        return redirect("accounts:login")
    user = get_object_or_404(User, pk=pending["user"], is_active=True)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ok, message = verify_second_factor(user, form.cleaned_data["code"])
        if ok:
            del request.session[_SESSION_PENDING_2FA]
            login(request, user, backend=pending["backend"])
            return redirect(safe_next(request, pending["next"]))
        form.add_error("code", message)
    return render(request, "accounts/login_code.html", {"form": form})


@require_http_methods(["GET", "POST"])
def two_factor(request: HtmxHttpRequest) -> HttpResponse:
    """Set up the second factor (local operators): scan or type the key, confirm with a code."""
    user = request.user
    if user.sign_in != User.SignIn.LOCAL:
        return _sign_in_error(request, "Your second factor is managed by your identity provider.", status=404)
    if has_second_factor(user):
        return render(request, "accounts/two_factor.html", {"done": True})
    device = pending_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ok, message = two_factor_confirm(actor=user, device=device, token=form.cleaned_data["code"])
        if ok:
            messages.success(
                request, "Two-factor sign-in is on: from now on adminui asks for a code after your password."
            )
            return redirect("/")
        form.add_error("code", message)
    return render(
        request,
        "accounts/two_factor.html",
        {
            "form": form,
            "key": base32_key(device),
            "config_url": device.config_url,
            "required": second_factor_required(user),
        },
    )


@login_not_required
@require_GET
def oidc_login(request: HtmxHttpRequest) -> HttpResponse:
    if not oidc_enabled():
        return _sign_in_error(request, "Single sign-on is not configured here.", status=404)
    next_url = safe_next(request, request.GET.get("next"), settings.LOGIN_REDIRECT_URL)
    try:
        return redirect(oidc_begin(request, redirect_uri=_redirect_uri(request), next_url=next_url))
    except OIDCError as exc:
        logger.warning("single sign-on could not start: %s", exc.detail)
        return _sign_in_error(request, exc.message, status=502)


@login_not_required
@require_GET
def oidc_callback(request: HtmxHttpRequest) -> HttpResponse:
    if not oidc_enabled():
        return _sign_in_error(request, "Single sign-on is not configured here.", status=404)
    try:
        result = oidc_complete(request, request.GET)
        if result.reauth:
            subject = f"{settings.ADMINUI_OIDC_ISSUER} {result.claims['sub']}"
            if not request.user.is_authenticated:
                raise OIDCError(
                    "Your session ended meanwhile. Sign in again.", detail="reauth without session"
                )
            if request.user.oidc_subject != subject:
                raise OIDCError(
                    "You confirmed as someone else. Sign in again as yourself.", detail="reauth subject"
                )
            mark_authenticated(request)
            request.session[_SESSION_ID_TOKEN] = result.id_token
            return redirect(safe_next(request, result.next_url))
        user = services.operator_sign_in_oidc(claims=result.claims)
    except OIDCError as exc:
        logger.warning("single sign-on refused: %s", exc.detail)
        services.operator_sign_in_refused(error=exc)
        return _sign_in_error(request, exc.message)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[_SESSION_ID_TOKEN] = result.id_token
    request.session[_SESSION_END_SESSION] = result.end_session_endpoint
    return redirect(safe_next(request, result.next_url))


@require_http_methods(["GET", "POST"])
def reauth(request: HtmxHttpRequest) -> HttpResponse:
    """Confirm who you are before a sensitive action, then go back to it."""
    next_url = safe_next(request, request.GET.get("next") or request.POST.get("next"))
    user = request.user
    if user.sign_in == User.SignIn.OIDC:
        if not oidc_enabled():
            return _sign_in_error(request, "Single sign-on is not configured here.", status=404)
        try:
            return redirect(
                oidc_begin(request, redirect_uri=_redirect_uri(request), next_url=next_url, reauth=True)
            )
        except OIDCError as exc:
            return _sign_in_error(request, exc.message, status=502)
    form = ReauthForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if (
            authenticate(request, username=user.get_username(), password=form.cleaned_data["password"])
            == user
        ):
            mark_authenticated(request)
            return redirect(next_url)
        form.add_error("password", "That password is not right.")
    return render(request, "accounts/reauth.html", {"form": form, "next": next_url})


@login_not_required
@require_http_methods(["GET", "POST"])
def password_set(request, uidb64: str, token: str) -> HttpResponse:
    return auth_views.PasswordResetConfirmView.as_view(
        template_name="accounts/password_set.html",
        success_url=reverse_lazy("accounts:login"),
        post_reset_login=False,
    )(request, uidb64=uidb64, token=token)


# --- operator management (admins) -----------------------------------------------------------------------------


def _admin_only(request) -> None:
    require(request.user, Perm.MANAGE_CONNECTIONS)


def _operator(pk: int) -> User:
    return get_object_or_404(User, pk=pk)


@require_GET
def operator_list(request: HtmxHttpRequest) -> HttpResponse:
    _admin_only(request)
    operators = list(
        User.objects.order_by("username").prefetch_related("groups", Prefetch("scope_connections"))
    )
    rows = []
    for op in operators:
        names = {g.name for g in op.groups.all()}
        role = next((r for r in ("admin", "helpdesk", "viewer") if r in names), "")
        rows.append({"op": op, "role": role, "scope": operator_scope(op).describe()})
    return render(request, "accounts/operator_list.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@recent_auth_required()
def operator_invite(request: HtmxHttpRequest) -> HttpResponse:
    _admin_only(request)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user, path = services.operator_create(
            actor=request.user,
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            reason=form.cleaned_data["reason"],
            ticket=form.cleaned_data["ticket"],
        )
        return render(
            request,
            "accounts/operator_invited.html",
            {"op": user, "link": request.build_absolute_uri(path), "what": "invited"},
        )
    return render(request, "accounts/operator_invite.html", {"form": form}, status=200)


@require_GET
def operator_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    op = _operator(pk)
    return render(request, "accounts/operator_detail.html", _detail_context(op))


def _detail_context(op: User, **forms) -> dict:
    scope = operator_scope(op)
    role_initial = services.role_of(op)
    scope_form = forms.get("scope_form")
    if scope_form is not None:
        checked = {str(v) for v in scope_form.data.getlist("connections")}
    else:
        checked = {str(v) for v in scope.connection_ids or ()}
    return {
        "checked_connections": checked,
        "op": op,
        "role": role_initial,
        "scope": scope,
        "role_form": forms.get("role_form") or RoleForm(initial={"role": role_initial}, auto_id="role_%s"),
        "scope_form": scope_form
        or ScopeForm(
            auto_id="scope_%s",
            initial={
                "limit_environments": scope.environments is not None,
                "environments": sorted(scope.environments or ()),
                "connections": sorted(scope.connection_ids or ()),
            },
        ),
        "disable_form": forms.get("disable_form") or ReasonForm(auto_id="disable_%s"),
        "reset_form": forms.get("reset_form") or ReasonForm(auto_id="reset_%s"),
    }


@require_POST
@recent_auth_required()
def operator_role(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    op = _operator(pk)
    form = RoleForm(request.POST, auto_id="role_%s")
    if not form.is_valid():
        return render(request, "accounts/operator_detail.html", _detail_context(op, role_form=form))
    if op == request.user and form.cleaned_data["role"] != "admin":
        form.add_error("role", "You cannot take away your own admin role.")
        return render(request, "accounts/operator_detail.html", _detail_context(op, role_form=form))
    services.operator_set_role(
        actor=request.user,
        user=op,
        role=form.cleaned_data["role"],
        reason=form.cleaned_data["reason"],
        ticket=form.cleaned_data["ticket"],
    )
    messages.success(request, f"{op.username}'s role is now {form.cleaned_data['role'] or 'none'}.")
    return redirect("accounts:operator_detail", pk=op.pk)


@require_POST
@recent_auth_required()
def operator_scope_change(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    op = _operator(pk)
    form = ScopeForm(request.POST, auto_id="scope_%s")
    if not form.is_valid():
        return render(request, "accounts/operator_detail.html", _detail_context(op, scope_form=form))
    data = form.cleaned_data
    services.operator_set_scope(
        actor=request.user,
        user=op,
        environments=data["environments"] if data["limit_environments"] else None,
        connection_ids=[c.pk for c in data["connections"]],
        reason=data["reason"],
        ticket=data["ticket"],
    )
    messages.success(request, f"{op.username}'s scope is now: {operator_scope(op).describe()}.")
    return redirect("accounts:operator_detail", pk=op.pk)


@require_POST
@recent_auth_required()
def operator_disable(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    op = _operator(pk)
    form = ReasonForm(request.POST, auto_id="disable_%s")
    if not form.is_valid() or op == request.user:
        if op == request.user:
            form.add_error(None, "You cannot disable yourself.")
        return render(request, "accounts/operator_detail.html", _detail_context(op, disable_form=form))
    services.operator_disable(
        actor=request.user, user=op, reason=form.cleaned_data["reason"], ticket=form.cleaned_data["ticket"]
    )
    messages.success(request, f"{op.username} is disabled.")
    return redirect("accounts:operator_detail", pk=op.pk)


@require_POST
@recent_auth_required()
def operator_password_reset(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    op = _operator(pk)
    form = ReasonForm(request.POST, auto_id="reset_%s")
    if not form.is_valid() or op.sign_in != User.SignIn.LOCAL:
        if op.sign_in != User.SignIn.LOCAL:
            form.add_error(None, "This operator signs in with single sign-on and has no password here.")
        return render(request, "accounts/operator_detail.html", _detail_context(op, reset_form=form))
    path = services.operator_password_reset(
        actor=request.user, user=op, reason=form.cleaned_data["reason"], ticket=form.cleaned_data["ticket"]
    )
    return render(
        request,
        "accounts/operator_invited.html",
        {"op": op, "link": request.build_absolute_uri(path), "what": "reset"},
    )
