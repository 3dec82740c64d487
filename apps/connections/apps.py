from __future__ import annotations

from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "apps.connections"
    label = "connections"

    def ready(self) -> None:
        from apps.connections.alerts import page_connection
        from apps.core.alerts import register_page_context, register_upstream_error
        from apps.providers.errors import ProviderError, Unsupported

        # an upstream failure no view handled is an alert, not a 500 page; its page keeps the connection's tabs
        register_upstream_error(ProviderError)
        # something this connection cannot do (known from its probe, or learnt from the instance): one answer,
        # 409 — the request is fine, the connection's state does not allow it
        register_upstream_error(Unsupported, status=409)
        register_page_context(page_connection)
