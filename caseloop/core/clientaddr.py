"""The client's address, for per-address limits and records, also from behind a reverse proxy.

`REMOTE_ADDR` is the peer of the connection: behind a reverse proxy or load balancer, that
proxy, for every client. The proxy names the client in `X-Forwarded-For`, but any client can
send that header too. So the header is read only when the peer is a proxy the deployment names
in CASELOOP_TRUSTED_PROXIES, and only as far as proxies it names: each proxy appends the
address it saw, so walking from the right, the first address that is not a trusted proxy is
the client. Whatever lies left of it was written by that client and proves nothing.

Invariant: the answer is an address a trusted proxy or the connection itself vouches for; an
entry that is not an address (a name, `unknown`, garbage) ends the walk at the last address
that was. Some load balancers append the client's port (`203.0.113.9:4711`,
`[2001:db8::9]:443`); the port is dropped, the address kept.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# at most this many entries of X-Forwarded-For are read, from the right: proxies in a row are a few, and a
# client's own long header costs one split of its tail
MAX_HOPS = 16
MAX_ENTRY_CHARS = 45  # the longest address spelled out (an IPv6 with an IPv4 tail); more is not an address


def trusted_proxies(value: str | Sequence[str]) -> tuple[Network, ...]:
    """CASELOOP_TRUSTED_PROXIES parsed: addresses and networks, comma-separated (or a list of them).

    Raises ImproperlyConfigured naming the first entry that is neither; settings.py calls it at
    start, so a mistyped value stops every process rather than trusting nothing (or too much).
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    return _parse_networks(tuple(item.strip() for item in items if item.strip()))


@functools.lru_cache(maxsize=8)  # parsed once per process (per value, which only tests change)
def _parse_networks(items: tuple[str, ...]) -> tuple[Network, ...]:
    networks: list[Network] = []
    for item in items:
        try:
            network = ipaddress.ip_network(item, strict=True)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"CASELOOP_TRUSTED_PROXIES: {item!r} is not an IP address or network ({exc}); write addresses "
                "and networks such as 10.0.0.5, 10.0.0.0/8 or fd00::/8, comma-separated"
            ) from exc
        if network.prefixlen == 0:
            raise ImproperlyConfigured(
                f"CASELOOP_TRUSTED_PROXIES: {item!r} trusts every address, so any client could name itself in "
                "X-Forwarded-For; name your proxies' addresses"
            )
        networks.append(network)
    return tuple(networks)


def _address(text: str) -> Address | None:
    """A plain IP address, IPv4-mapped IPv6 as IPv4; None for anything else (never raises)."""
    if not text or len(text) > MAX_ENTRY_CHARS or "%" in text:  # a zone (fe80::1%eth0) means nothing elsewhere
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # a dual-stack socket's ::ffff:192.0.2.1 is 192.0.2.1, to trust and to count
    return address


_WITH_PORT = re.compile(
    r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\](?::(?P<v6port>[0-9]{1,5}))?|(?P<v4>[0-9.]+):(?P<v4port>[0-9]{1,5}))$"
)


def _forwarded_address(text: str) -> Address | None:
    """An X-Forwarded-For entry: a plain address, or one with the port some balancers append."""
    match = _WITH_PORT.match(text) if len(text) <= MAX_ENTRY_CHARS + 8 else None
    if match is not None:
        return _address(match["v6"] or match["v4"])
    return _address(text)


def _is_trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)  # an IPv4 address is in no IPv6 network, and back


def client_address(request: HttpRequest) -> str | None:
    """The address to count and record for this request; None when the connection has no IP address.

    If the peer (`REMOTE_ADDR`) is not a trusted proxy, it is the client, whatever headers it sent.
    Otherwise `X-Forwarded-For` is walked from the right past trusted proxies; the first address
    that is not one is the client; if all are, the leftmost; a malformed entry stops the walk at
    the last good address (at worst the peer).
    """
    peer = _address(str(request.META.get("REMOTE_ADDR") or "").split("%", 1)[0])
    if peer is None:
        return None
    networks = trusted_proxies(settings.CASELOOP_TRUSTED_PROXIES)
    client = peer
    if networks and _is_trusted(peer, networks):
        header = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
        # the rightmost MAX_HOPS entries; anything further left is not read at all
        for entry in reversed(header.rsplit(",", MAX_HOPS)[-MAX_HOPS:]):
            forwarded = _forwarded_address(entry.strip())
            if forwarded is None:
                break
            client = forwarded
            if not _is_trusted(forwarded, networks):
                break
    return str(client)
