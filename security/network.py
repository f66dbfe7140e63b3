"""The client's IP address, as far as the deployment's proxies vouch for it.

Guarantees (OWASP ASVS 15.3.4): by default the address is the socket's
(`REMOTE_ADDR`) and `X-Forwarded-For` is ignored, so a client can't choose
its own rate-limit key or audit address by sending a header. Only when the
deployment declares its proxies is the header read, and then from the
right: with `SECURITY["TRUSTED_PROXY_COUNT"] = n` the n-th address from the
right is the client; with `SECURITY["TRUSTED_PROXIES"]` (networks) the
rightmost address that is not a trusted proxy is. Malformed entries fall
back to the socket address.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import TYPE_CHECKING

from security.conf import security_settings

if TYPE_CHECKING:
    from django.http import HttpRequest

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[_Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _parse(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _trusted(address: str, networks: tuple[_Network, ...]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in networks)


def get_client_ip(request: HttpRequest) -> str:
    """Return the client's address under the configured proxy trust."""
    remote = _parse(request.META.get("REMOTE_ADDR", "")) or "0.0.0.0"  # noqa: S104
    count = int(security_settings.TRUSTED_PROXY_COUNT or 0)
    networks = _networks(tuple(security_settings.TRUSTED_PROXIES or ()))
    if not count and not networks:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    # Raw entries, rightmost last; the socket peer is the last proxy. Only
    # the entries the trusted proxies wrote are read: whatever the client
    # put to their left, junk included, is never looked at.
    chain = [item.strip() for item in header.split(",") if item.strip()] + [remote]
    if networks:
        if not _trusted(remote, networks):
            return remote
        nearest = remote
        for entry in reversed(chain[:-1]):
            address = _parse(entry)
            if address is None:
                return nearest
            if not _trusted(address, networks):
                return address
            nearest = address
        return nearest
    # Each trusted proxy appends the address it saw, so the client is the
    # entry `count` places from the right.
    if len(chain) <= count:
        return _parse(chain[0]) or remote
    return _parse(chain[-(count + 1)]) or _parse(chain[-count]) or remote
