from __future__ import annotations

from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "apps.connections"
    label = "connections"

    def ready(self) -> None:
        from apps.connections.alerts import page_connection
        from apps.core.alerts import register_page_context, register_upstream_error
        from apps.providers.errors import InvalidPathSegment, ProviderError, Unsupported

        # an upstream failure no view handled is an alert, not a 500 page; its page keeps the connection's tabs
        register_upstream_error(ProviderError)
        # something this connection cannot do (known from its probe, or learnt from the instance): one answer,
        # 409 — the request is fine, the connection's state does not allow it
        register_upstream_error(Unsupported, status=409)
        # an id no object can have names nothing: not found, whatever the view was about to do with it
        register_upstream_error(InvalidPathSegment, status=404)
        register_page_context(page_connection)

        from apps.connections import health

        health.install()  # every call to an instance says whether it still answers

        from django.conf import settings

        from apps.connections.urlnorm import outbound_refusal, outbound_url_refusal
        from apps.providers import jsonguard, netguard

        jsonguard.set_max_depth(settings.ADMINUI_JSON_MAX_DEPTH)
        # every connection the providers open is checked against the outbound policy, by resolved address
        netguard.set_address_policy(outbound_refusal, lambda url: outbound_url_refusal(url, resolve=False))
