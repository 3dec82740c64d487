from __future__ import annotations

from django.urls import include, path

from apps.core import views as core_views
from apps.ops import views as ops_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    # the cheap check is apps.core's; apps.ops adds ?full=1 (cache, worker heartbeat) and /metrics
    path("readyz", ops_views.readyz, name="readyz"),
    path("metrics", ops_views.metrics, name="metrics"),
    path("", include("apps.accounts.urls")),
    path("connections/", include("apps.connections.urls")),
    path("", include("apps.directory.urls")),
    path("", include("apps.people.urls")),
    path("", include("apps.groups.urls")),
    path("", include("apps.transfers.urls")),
    path("audit/", include("apps.audit.urls")),
    path("plans/", include("apps.plans.urls")),
]

handler400 = "apps.core.views.bad_request"
handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"
