from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.forms import LoginForm

login_view = require_http_methods(["GET", "POST"])(
    auth_views.LoginView.as_view(
        template_name="accounts/login.html", authentication_form=LoginForm, redirect_authenticated_user=True
    )
)
logout_view = require_POST(auth_views.LogoutView.as_view())
