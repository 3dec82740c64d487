from __future__ import annotations

from django.urls import path

import apps.connections.converters  # noqa: F401 - registers <remote_id:…>
from apps.people import invite_views, views

app_name = "people"
urlpatterns = [
    path("connections/<slug:slug>/users/new/", views.user_create, name="user_create"),
    path("connections/<slug:slug>/users/<remote_id:user_id>/", views.user_detail, name="user_detail"),
    path("connections/<slug:slug>/users/<remote_id:user_id>/apps/", views.user_apps, name="user_apps"),
    path(
        "connections/<slug:slug>/users/<remote_id:user_id>/apps/revoke/",
        views.user_access_revoke,
        name="user_access_revoke",
    ),
    path(
        "connections/<slug:slug>/users/<remote_id:user_id>/role/",
        views.user_role_change,
        name="user_role_change",
    ),
    path(
        "connections/<slug:slug>/users/<remote_id:user_id>/status/",
        views.user_status_change,
        name="user_status_change",
    ),
    path(
        "connections/<slug:slug>/users/<remote_id:user_id>/profile/",
        views.user_profile_update,
        name="user_profile_update",
    ),
    path(
        "connections/<slug:slug>/users/<remote_id:user_id>/metadata/",
        views.user_metadata_update,
        name="user_metadata_update",
    ),
    path(
        "connections/<slug:slug>/users/<remote_id:user_id>/attributes/",
        views.user_attribute_update,
        name="user_attribute_update",
    ),
    path(
        "connections/<slug:slug>/users/<remote_id:user_id>/workspaces/add/",
        views.user_workspace_add,
        name="user_workspace_add",
    ),
    path(
        "connections/<slug:slug>/users/<remote_id:user_id>/workspaces/remove/",
        views.user_workspace_remove,
        name="user_workspace_remove",
    ),
    path(
        "connections/<slug:slug>/users/<remote_id:user_id>/workspaces/groups/",
        views.user_workspace_groups,
        name="user_workspace_groups",
    ),
    path("connections/<slug:slug>/invites/", invite_views.invite_list, name="invite_list"),
    path("connections/<slug:slug>/invites/new/", invite_views.invite_create, name="invite_create"),
    path(
        "connections/<slug:slug>/invites/<remote_id:invite_id>/revoke/",
        invite_views.invite_revoke,
        name="invite_revoke",
    ),
    path(
        "connections/<slug:slug>/invites/<remote_id:invite_id>/renew/",
        invite_views.invite_renew,
        name="invite_renew",
    ),
]
