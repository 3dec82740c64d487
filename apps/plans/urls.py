from __future__ import annotations

from django.urls import path

from apps.plans import views

app_name = "plans"
urlpatterns = [
    path("", views.plan_list, name="plan_list"),
    path("approvals/", views.approval_list, name="approval_list"),
    path("ticket/", views.ticket_set, name="ticket_set"),
    path("offboard/", views.offboard_build, name="offboard_build"),
    path("role/", views.role_build, name="role_build"),
    path("selection/", views.selection_build, name="selection_build"),
    path("copy-access/", views.copy_access_build, name="copy_access_build"),
    path("csv/", views.csv_upload, name="csv_upload"),
    path("csv/template.csv", views.csv_template, name="csv_template"),
    path("<int:pk>/errors.csv", views.csv_errors, name="csv_errors"),
    path("<int:pk>/end/", views.plan_end_now, name="plan_end_now"),
    path("<int:pk>/", views.plan_detail, name="plan_detail"),
    path("<int:pk>/submit/", views.plan_submit, name="plan_submit"),
    path("<int:pk>/approve/", views.plan_approve, name="plan_approve"),
    path("<int:pk>/reject/", views.plan_reject, name="plan_reject"),
    path("<int:pk>/retry/", views.plan_retry, name="plan_retry"),
    path("<int:pk>/revert/", views.plan_revert, name="plan_revert"),
]
