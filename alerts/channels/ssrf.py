"""Keep webhook and Slack deliveries off Vigil's own network (server-side request forgery).

A tenant admin chooses the URL a channel posts to, and Vigil's workers sit
next to PostgreSQL, Redis and the cloud metadata service. So a channel URL
must be http(s) and every address its host resolves to must be a public
one: loopback, RFC 1918, link-local (169.254/16, the metadata service),
unique-local IPv6, multicast, unspecified and reserved ranges are refused.

The check runs when the channel is saved (a clear field error) and again
right before each delivery, because DNS can change in between (rebinding).
Delivery then connects to the address that was vetted, not to a fresh
lookup, and never follows redirects (see `delivery._post`).

`VIGIL_WEBHOOK_ALLOW_PRIVATE` turns the address check off (an on-premises
install posting to an internal receiver); `VIGIL_WEBHOOK_ALLOWED_HOSTS`
exempts named hosts only (the tests' receiver on 127.0.0.1, an internal
chat gateway). Both are off by default.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

ALLOWED_SCHEMES = ("http", "https")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(Exception):
    """The URL may not be posted to; the message says why, for the form's field error."""


@dataclass(frozen=True)
class VettedURL:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    addresses: tuple[str, ...]  # the resolved addresses that passed the check, in DNS order


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    # An IPv6 address can carry an IPv4 one (mapped, 6to4, Teredo): judge that one too.
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
    return None


def address_refusal(ip: IPAddress) -> str | None:
    """Why Vigil must not connect to `ip`, or None when it is a public unicast address."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        return address_refusal(embedded)
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private or not ip.is_global:
        # RFC 1918, unique-local fc00::/7, carrier-grade NAT, documentation ranges...
        return "a private address"
    return None


def _host_exempt(host: str) -> bool:
    if settings.VIGIL_WEBHOOK_ALLOW_PRIVATE:
        return True
    allowed = {h.strip().lower().rstrip(".") for h in settings.VIGIL_WEBHOOK_ALLOWED_HOSTS}
    return host in allowed


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"The host {host} does not resolve.") from exc
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeURL(f"The host {host} does not resolve.")
    return addresses


def vet_url(url: str) -> VettedURL:
    """Parse and resolve `url`; raise UnsafeURL unless every address is a public one."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL("Not a valid URL.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeURL("Only http:// and https:// URLs.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURL("The URL needs a host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("Put credentials in the path or query, not before the host.")
    port = port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    addresses = _resolve(host, port)
    if not _host_exempt(host):
        for address in addresses:
            reason = address_refusal(ipaddress.ip_address(address))
            if reason is not None:
                raise UnsafeURL(
                    f"The host {host} resolves to {address}, {reason}; "
                    "Vigil only posts to public addresses."
                )
    return VettedURL(scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses))
