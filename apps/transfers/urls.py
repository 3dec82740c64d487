from __future__ import annotations

from django.urls import path

import apps.connections.converters  # noqa: F401 - registers <remote_id:…>
from apps.transfers import access_views, bundle_views, views

app_name = "transfers"
urlpatterns = [
    path("apps/", views.fleet, name="fleet"),
    path("apps/access/", access_views.fleet_access, name="fleet_access"),
    path("apps/access.csv", access_views.fleet_access_csv, name="fleet_access_csv"),
    path("connections/<slug:slug>/apps/", views.app_list, name="app_list"),
    path("connections/<slug:slug>/apps/import/", views.app_import, name="app_import"),
    path(
        "connections/<slug:slug>/apps/import/<uuid:staged_id>/", views.import_confirm, name="import_confirm"
    ),
    path(
        "connections/<slug:slug>/apps/import/<uuid:staged_id>/done/",
        views.import_result,
        name="import_result",
    ),
    path("connections/<slug:slug>/apps/<remote_id:app_id>/", views.app_detail, name="app_detail"),
    path("connections/<slug:slug>/apps/<remote_id:app_id>/export/", views.app_export, name="app_export"),
    path("connections/<slug:slug>/apps/<remote_id:app_id>/copy/", views.app_copy, name="app_copy"),
    path("connections/<slug:slug>/apps/<remote_id:app_id>/clone/", views.app_clone, name="app_clone"),
    path("connections/<slug:slug>/bundles/", bundle_views.bundle_create, name="bundle_create"),
    path("connections/<slug:slug>/bundles/upload/", bundle_views.bundle_upload, name="bundle_upload"),
    path(
        "connections/<slug:slug>/bundles/<uuid:bundle_id>/", bundle_views.bundle_detail, name="bundle_detail"
    ),
    path(
        "connections/<slug:slug>/bundles/<uuid:bundle_id>/retry/",
        bundle_views.bundle_retry,
        name="bundle_retry",
    ),
    path(
        "connections/<slug:slug>/bundles/<uuid:bundle_id>/download/",
        bundle_views.bundle_download,
        name="bundle_download",
    ),
]
