"""The client's address behind a reverse proxy.

`X-Forwarded-For` is believed only when the peer that connected to us (REMOTE_ADDR) is one of
ADMINUI_TRUSTED_PROXIES; anyone else could write any address into it. From a trusted peer, django-ipware reads the
header with ADMINUI_PROXY_COUNT proxies after the client (0 when the proxy in front overwrites the header with the
address it saw, as deploy/nginx.conf does) and strict checking: a chain of the wrong length is not believed either.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest
from ipware import get_client_ip


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(t, strict=False) for t in trusted)


def _trusted(peer: str) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in net for net in _networks(tuple(settings.ADMINUI_TRUSTED_PROXIES)))


def client_ip(request: HttpRequest) -> str | None:
    """The address of the browser that sent ``request`` (also django-axes' AXES_CLIENT_IP_CALLABLE)."""
    peer = request.META.get("REMOTE_ADDR") or None
    if peer is None or not _trusted(peer):
        return peer
    ip, _routable = get_client_ip(
        request,
        proxy_order="left-most",
        proxy_count=settings.ADMINUI_PROXY_COUNT,
        request_header_order=["HTTP_X_FORWARDED_FOR"],
        strict=True,
    )
    return ip or peer
