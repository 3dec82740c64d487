"""Normalise what operators paste as an instance URL into the stored base URL (origin plus sub-path), and the
outbound policy: which hosts and addresses the console refuses to connect to."""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError

_HOST = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$", re.IGNORECASE)
_API_SUFFIX = re.compile(r"(/api(/v2)?(/ext)?)+$", re.IGNORECASE)


def normalize_base_url(value: str) -> str:
    """`https://Host/tooljet/api/ext/` → `https://host/tooljet`. Only http and https; no query, no fragment,
    no credentials. Raises ValidationError with an operator-facing message."""
    text = (value or "").strip()
    if not text:
        raise ValidationError("Enter the instance URL, e.g. https://tooljet.example.com")
    if "://" not in text:
        raise ValidationError("Start the URL with https:// (or http:// for a local instance).")
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValidationError("Only http:// and https:// URLs are supported.")
    if not parts.hostname:
        raise ValidationError("That URL has no host name.")
    if parts.username or parts.password:
        raise ValidationError("Do not put credentials in the URL; use the token field.")
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/")
    path = _API_SUFFIX.sub("", path).rstrip("/")
    netloc = parts.hostname.lower() + (f":{parts.port}" if parts.port else "")
    if ":" in parts.hostname:  # IPv6 literal
        netloc = f"[{parts.hostname}]" + (f":{parts.port}" if parts.port else "")
    if ":" not in parts.hostname and not _HOST.match(parts.hostname):
        raise ValidationError("That host name is not valid.")
    return urlunsplit((parts.scheme.lower(), netloc, path, "", ""))


# --------------------------------------------------------------------------------------------------------------
# Outbound policy: where the console may connect (docs/security.md)
# --------------------------------------------------------------------------------------------------------------

# Cloud metadata services by name; by address they are link-local (169.254.169.254, fd00:ec2::254 is unique-local
# but AWS's) or Alibaba's 100.100.100.200.
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
        "metadata.azure.com",
    }
)
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("100.100.100.200"),
    }
)


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names by itself, in any spelling the C resolver accepts: dotted, shortened
    (``127.1``), decimal (``2130706433``), hex (``0x7f000001``), octal (``0177.0.0.1``), IPv6 (also IPv4-mapped)."""
    host = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _allow_list() -> list[Any]:
    entries = []
    for item in getattr(settings, "ADMINUI_OUTBOUND_ALLOW", ()) or ():
        text = str(item).strip().lower()
        if not text:
            continue
        try:
            entries.append(ipaddress.ip_network(text.strip("[]"), strict=False))
        except ValueError:
            entries.append(text.rstrip("."))
    return entries


def _allowed(host: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
    host = host.lower().strip("[]").rstrip(".")
    for entry in _allow_list():
        if isinstance(entry, str) and entry == host:
            return True
        if ip is not None and not isinstance(entry, str) and ip.version == entry.version and ip in entry:
            return True
    return False


def _address_refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address):
        # an IPv4 address inside IPv6: mapped (::ffff:a.b.c.d), 6to4 (2002::/16) or NAT64 (64:ff9b::/96)
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in METADATA_ADDRESSES:
        return f"{ip} is a cloud metadata service"
    if ip.is_link_local:
        return f"{ip} is a link-local address"
    if (ip.is_loopback or ip.is_unspecified) and not settings.ADMINUI_OUTBOUND_ALLOW_LOOPBACK:
        return f"{ip} is this machine (loopback)"
    return None


def _own_host(host: str) -> bool:
    if not settings.ADMINUI_OUTBOUND_REFUSE_OWN_HOSTS:
        return False
    host = host.lower().strip("[]").rstrip(".")
    for pattern in settings.ALLOWED_HOSTS:
        pattern = pattern.lower().rstrip(".")
        if pattern == "*":
            continue
        if pattern == host or (pattern.startswith(".") and (host == pattern[1:] or host.endswith(pattern))):
            return True
    return False


def outbound_refusal(host: str, ip: str | None = None) -> str | None:
    """Why the console must not connect to ``host`` (resolved to ``ip`` when given), or None. Cloud metadata and
    link-local addresses are always refused; loopback unless ``ADMINUI_OUTBOUND_ALLOW_LOOPBACK`` (on in DEBUG and
    tests, for the simulators); the console's own ``ALLOWED_HOSTS`` in production. ``ADMINUI_OUTBOUND_ALLOW``
    (host names, addresses or networks) overrides all of it."""
    name = host.lower().strip("[]").rstrip(".")
    address = _literal_ip(ip) if ip else _literal_ip(name)
    if _allowed(name, address):
        return None
    if name in METADATA_HOSTS:
        return f"{name} is a cloud metadata service"
    if _own_host(name):
        return f"{name} is this console's own address"
    if address is not None:
        return _address_refusal(address)
    return None


def outbound_url_refusal(url: str, *, resolve: bool = True) -> str | None:
    """Why a base URL is refused by the outbound policy (scheme, then host, then every address the name resolves
    to when ``resolve``), or None. A name that does not resolve is left to the connection test to report."""
    parts = urlsplit(url)
    if parts.scheme == "http" and not settings.ADMINUI_ALLOW_HTTP:
        return "plain http:// is not allowed here (the token would travel unencrypted): use https://"
    host = parts.hostname or ""
    if reason := outbound_refusal(host):
        return reason
    if resolve and _literal_ip(host) is None:
        try:
            infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return None
        for *_, sockaddr in infos:
            if reason := outbound_refusal(host, str(sockaddr[0])):
                return f"{host} resolves to {sockaddr[0]}: {reason.split(' is ', 1)[-1]}"
    return None


def check_outbound(url: str) -> str:
    """``url`` if the outbound policy allows it; ValidationError (operator's words) otherwise."""
    if reason := outbound_url_refusal(url):
        raise ValidationError(
            f"The console will not connect there: {reason}. An administrator of the console can allow it with "
            "the ADMINUI_OUTBOUND_ALLOW setting (or ADMINUI_ALLOW_HTTP=1 for plain http)."
        )
    return url
