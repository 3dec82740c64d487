from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.forms import LoginForm

login_view = require_http_methods(["GET", "POST"])(
    auth_views.LoginView.as_view(
        template_name="accounts/login.html", authentication_form=LoginForm, redirect_authenticated_user=True
    )
)


class LogoutView(auth_views.LogoutView):
    """Django's logout, then a word on the login page that it worked."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out.")
        return response


logout_view = require_POST(LogoutView.as_view())
