from __future__ import annotations

from django.urls import path

from apps.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("login/code/", views.login_code, name="login_code"),
    path("account/two-factor/", views.two_factor, name="two_factor"),
    path("login/oidc/", views.oidc_login, name="oidc_login"),
    path("login/oidc/callback/", views.oidc_callback, name="oidc_callback"),
    path("reauth/", views.reauth, name="reauth"),
    path("password/<str:uidb64>/<str:token>/", views.password_set, name="password_set"),
    path("operators/", views.operator_list, name="operator_list"),
    path("operators/invite/", views.operator_invite, name="operator_invite"),
    path("operators/<int:pk>/", views.operator_detail, name="operator_detail"),
    path("operators/<int:pk>/role/", views.operator_role, name="operator_role"),
    path("operators/<int:pk>/scope/", views.operator_scope_change, name="operator_scope"),
    path("operators/<int:pk>/disable/", views.operator_disable, name="operator_disable"),
    path("operators/<int:pk>/password-reset/", views.operator_password_reset, name="operator_password_reset"),
]
