from __future__ import annotations

from django.urls import path

from apps.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("export/", views.event_export, name="event_export"),
    path("verify/", views.verify_start, name="verify_start"),
    path("verify/status/", views.verification_status, name="verification_status"),
    path("<int:pk>/", views.event_detail, name="event_detail"),
]
