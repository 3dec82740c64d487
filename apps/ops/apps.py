from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "apps.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from apps.ops import jobs as _declared  # noqa: F401 - the routine jobs declare themselves on import
        from apps.ops import metrics

        metrics.install_upstream_observer()
