from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        from django.conf import settings

        from apps.providers import jsonguard

        jsonguard.set_max_depth(settings.ADMINUI_JSON_MAX_DEPTH)
