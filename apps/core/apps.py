from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        from django.conf import settings

        from apps.connections.urlnorm import outbound_refusal, outbound_url_refusal
        from apps.providers import jsonguard, netguard

        jsonguard.set_max_depth(settings.ADMINUI_JSON_MAX_DEPTH)
        # every connection the providers open is checked against the outbound policy, by resolved address
        netguard.set_address_policy(outbound_refusal, lambda url: outbound_url_refusal(url, resolve=False))
