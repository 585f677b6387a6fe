"""Web origins: normalising a widget's allowed list and matching a page's origin against it. Pure.

An origin is scheme://host[:port] (RFC 6454) with no path. An entry may start
its host with "*." to allow every subdomain (https://*.shop.example allows
https://eu.shop.example, not https://shop.example itself). Default ports are
dropped, so https://shop.example:443 and https://shop.example are one origin.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_HOST = re.compile(r"^(\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class NotAnOrigin(ValueError):
    pass


def normalise_origin(raw: str) -> str:
    """`https://Shop.Example:443/` → `https://shop.example`; a refusal for anything that is not an origin."""
    text = raw.strip()
    wildcard = "://*." in text
    parts = urlsplit(text.replace("://*.", "://wildcard-placeholder.", 1) if wildcard else text)
    if parts.scheme not in _DEFAULT_PORTS:
        raise NotAnOrigin(f"{raw!r}: an origin starts with https:// or http://.")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise NotAnOrigin(f"{raw!r}: an origin has no path, query or user (https://shop.example).")
    try:
        port = parts.port
    except ValueError as exc:
        raise NotAnOrigin(f"{raw!r}: the port is not a number.") from exc
    host = (parts.hostname or "").lower()
    if host.startswith("wildcard-placeholder."):
        host = "*." + host.removeprefix("wildcard-placeholder.")
    if ":" in host:
        host = f"[{host}]"
    if not host or not _HOST.match(host):
        raise NotAnOrigin(f"{raw!r}: not a host name.")
    suffix = f":{port}" if port is not None and port != _DEFAULT_PORTS[parts.scheme] else ""
    return f"{parts.scheme}://{host}{suffix}"


def origin_of_url(url: str) -> str | None:
    """The origin of a full URL (a Referer), or None."""
    parts = urlsplit(url.strip())
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        return normalise_origin(f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}")
    except NotAnOrigin:
        return None


def is_allowed(origin: str, allowed: list[str]) -> bool:
    """Whether a page at `origin` may use a widget that allows `allowed` (already normalised entries)."""
    try:
        page = normalise_origin(origin)
    except NotAnOrigin:
        return False  # "null" (sandboxed frames, file://) and garbage never match
    if "*" in page:
        return False
    page_scheme, _, page_rest = page.partition("://")
    for entry in allowed:
        if entry == page:
            return True
        scheme, _, rest = entry.partition("://")
        if rest.startswith("*.") and scheme == page_scheme and page_rest.endswith(rest[1:]) and page_rest != rest[2:]:
            return True
    return False
