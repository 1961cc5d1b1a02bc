"""Which URLs customer webhooks may reach (SSRF safety), checked at creation and at each delivery.

A webhook URL is the customer's, so a delivery is a request this service makes on a stranger's
behalf: it must never reach what only the service can reach (the Lambda runtime API on
loopback, a VPC's private addresses, instance metadata at 169.254.169.254). The rules:

- ``https`` only; no user:password in the URL;
- the host (a name or an address literal) must resolve, and EVERY address it resolves to must be
  publicly routable: not private, loopback, link-local (cloud metadata), unique-local, site-local, shared
  (CGNAT), multicast, reserved or unspecified, also when IPv4-mapped in IPv6.

Checked when an endpoint is created and again before every delivery attempt (DNS can change),
where the deliverer then connects to the very addresses it checked (``resolve_checked``), so a
second lookup that an attacker's DNS could answer differently never happens.

The local stack sets OUTBOUND_WEBHOOKS_ALLOW_LOOPBACK=1 for itself (never in template.yaml), so its
loopback receiver works: then ``http`` and loopback addresses pass, nothing else more.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from outbound.config import outcome_event_settings

# Cloud metadata services: link-local or private already, named so the refusal says what it is.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200"))
MAX_URL_CHARS = 2048
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrl(ValueError):
    """The URL breaks a rule; the message names it (answered as a 400)."""


@dataclass(frozen=True)
class CheckedUrl:
    url: str
    scheme: str
    host: str  # as written (a name, or an address literal without brackets)
    port: int
    target: str  # path and query, what goes on the request line
    addresses: tuple[str, ...]  # every address the host resolved to, all allowed


def loopback_allowed() -> bool:
    return outcome_event_settings().allow_loopback


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


_resolver: Callable[[str, int], list[str]] = _system_resolver


def set_resolver(resolver: Callable[[str, int], list[str]] | None) -> None:
    """The local stack's name overrides (tests make a name change its address); None: the system's."""
    global _resolver
    _resolver = resolver or _system_resolver


def check_syntax(url: object) -> tuple[str, str, int, str]:
    """(scheme, host, port, target) of an acceptable URL, before any lookup."""
    schemes = ("https", "http") if loopback_allowed() else ("https",)
    if not isinstance(url, str) or len(url) > MAX_URL_CHARS:
        raise UnsafeUrl(f"url must be a string of at most {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl("url is not a valid URL") from None
    if parts.scheme not in schemes or not parts.hostname:
        raise UnsafeUrl("url must be an absolute https:// URL" if len(schemes) == 1
                        else "url must be an absolute https:// URL (or http:// to loopback, locally)")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("url must not contain a user name or password")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise UnsafeUrl("url must not contain spaces or control characters")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), target


def address_problem(address: Address) -> str | None:
    """Why webhooks may not reach this address, or None."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return address_problem(embedded)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_loopback:
        return None if loopback_allowed() else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"  # fec0::/10: deprecated, yet ipaddress calls it global
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified or address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a publicly routable address"
    return None


def resolve_checked(url: object) -> CheckedUrl:
    """Resolve once and check every address: the CheckedUrl to connect to, or UnsafeUrl."""
    scheme, host, port, target = check_syntax(url)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = _resolver(host, port)
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise UnsafeUrl(f"url host {host} does not resolve")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        problem = address_problem(address)
        if problem:
            where = f"{text} is" if literal is not None else f"{host} resolves to {text},"
            raise UnsafeUrl(f"url must not reach private, loopback, link-local or metadata addresses: "
                            f"{where} {problem}")
        if scheme == "http" and not address.is_loopback:
            raise UnsafeUrl("url must be an absolute https:// URL (http:// only reaches loopback, locally)")
    return CheckedUrl(str(url), scheme, host, port, target, tuple(addresses))
