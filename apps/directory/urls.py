from __future__ import annotations

from django.urls import path

import apps.connections.converters  # noqa: F401 - registers <remote_id:…>
from apps.directory import views

app_name = "directory"
urlpatterns = [
    path("", views.search, name="search"),
    path("people/<remote_id:email>/", views.person, name="person"),
    path("connections/<slug:slug>/users/", views.user_list, name="user_list"),
    path("connections/<slug:slug>/users/refresh/", views.directory_refresh, name="directory_refresh"),
    path("connections/<slug:slug>/users/sync-status/", views.sync_status, name="sync_status"),
]
