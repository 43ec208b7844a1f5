"""Which desk URLs the console may use: TLS, or plain HTTP to this machine only."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from console.errors import InsecureUrl


def is_loopback_host(host: str | None) -> bool:
    """127.0.0.0/8, ::1 or ``localhost``: the only hosts plain HTTP may go to."""
    if not host:
        return False
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_secure_url(url: str) -> None:
    """Raise :class:`InsecureUrl` for a plain ``http://`` (or ``ws://``) URL whose host is not
    loopback: the desk service is reached over TLS, plain HTTP only on this machine (demo)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return  # not a URL at all: the caller's own check says so
    if parts.scheme.lower() in ("http", "ws") and not is_loopback_host(host):
        raise InsecureUrl(
            f"refusing plain {parts.scheme.lower()}:// to {host or '?'}: the desk service must "
            "be reached over https:// (plain http is allowed only to 127.0.0.1, ::1 or "
            "localhost)")
