from __future__ import annotations

from django.urls import path

from apps.connections import views

app_name = "connections"
urlpatterns = [
    path("", views.connection_list, name="connection_list"),
    path("add/", views.connection_add, name="connection_add"),
    path("<slug:slug>/", views.connection_detail, name="connection_detail"),
    path("<slug:slug>/edit/", views.connection_edit, name="connection_edit"),
    path("<slug:slug>/delete/", views.connection_delete, name="connection_delete"),
    path("<slug:slug>/test/", views.connection_test, name="connection_test"),
]
