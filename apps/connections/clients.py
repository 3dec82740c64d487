"""The glue from a `Connection` row to a provider client (STYLE §13: connections owns get_provider)."""

from __future__ import annotations

from apps.connections.crypto import TokenUnreadable
from apps.connections.models import Connection
from apps.connections.ratelimit import limiter_for_settings
from apps.core.context import current_request_meta
from apps.providers import get_provider_class
from apps.providers.base import Capabilities, ConnectionConfig
from apps.providers.errors import ProviderError


class TokenUnusable(ProviderError):
    """The stored token cannot be decrypted with the configured keys (or none is set)."""

    default_message = "This connection's token cannot be read with the configured encryption keys — re-enter it on the connection's edit page."


def connection_config(connection: Connection) -> ConnectionConfig:
    try:
        token = connection.get_token()
    except TokenUnreadable:
        raise TokenUnusable(TokenUnusable.default_message) from None
    return ConnectionConfig(
        kind=connection.kind,
        base_url=connection.base_url,
        token=token,
        timeout=connection.timeout,
        requests_per_minute=connection.requests_per_minute,
        verify_tls=connection.verify_tls,
        key=f"connection:{connection.pk}",
        request_id=current_request_meta().request_id,
    )


def connection_capabilities(connection: Connection) -> Capabilities:
    if connection.capabilities:
        return Capabilities.from_dict(connection.capabilities)
    return Capabilities(
        reasons=dict.fromkeys(
            Capabilities.FLAGS, "Not checked yet — use “Test connection” on the connection page."
        )
    )


def get_provider(connection: Connection):
    """A provider client for this connection (pooled HTTP client underneath). Raises TokenUnusable."""
    cls = get_provider_class(connection.kind)
    return cls(
        connection_config(connection),
        capabilities=connection_capabilities(connection),
        limiter=limiter_for_settings(),
    )
