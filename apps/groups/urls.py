from __future__ import annotations

from django.urls import path

import apps.connections.converters  # noqa: F401 - registers <remote_id:…>
from apps.groups import views as views

app_name = "groups"
urlpatterns = [
    path("connections/<slug:slug>/groups/", views.group_list, name="group_list"),
    path("connections/<slug:slug>/groups/new/", views.group_create, name="group_create"),
    path("connections/<slug:slug>/groups/people/", views.group_user_picker, name="group_user_picker"),
    path("connections/<slug:slug>/groups/<remote_id:group_id>/", views.group_detail, name="group_detail"),
    path("connections/<slug:slug>/groups/<remote_id:group_id>/edit/", views.group_edit, name="group_edit"),
    path(
        "connections/<slug:slug>/groups/<remote_id:group_id>/delete/", views.group_delete, name="group_delete"
    ),
    path(
        "connections/<slug:slug>/groups/<remote_id:group_id>/members/",
        views.group_member_add,
        name="group_member_add",
    ),
    path(
        "connections/<slug:slug>/groups/<remote_id:group_id>/members/remove/",
        views.group_member_remove,
        name="group_member_remove",
    ),
    path(
        "connections/<slug:slug>/groups/<remote_id:group_id>/members/admin/",
        views.group_member_admin,
        name="group_member_admin",
    ),
    path(
        "connections/<slug:slug>/groups/<remote_id:group_id>/access/grant/",
        views.group_access_grant,
        name="group_access_grant",
    ),
    path(
        "connections/<slug:slug>/groups/<remote_id:group_id>/access/revoke/",
        views.group_access_revoke,
        name="group_access_revoke",
    ),
    path("groups/drift/", views.group_drift, name="group_drift"),
    path("groups/drift.csv", views.group_drift_csv, name="group_drift_csv"),
]
