"""The service's public URL: the base of every link sent to applicants and the origin that
browsers may open WebSockets from.

Links are never built from the request's ``Host`` header: anyone can send a request with
``Host: evil.example`` and would otherwise have the service mail or text a link to their own
site. ``serve`` needs ``--public-url`` (or ``RECOGNITION_DESK_PUBLIC_URL``) outside demo mode;
in demo mode it defaults to the listening address (``http://127.0.0.1:PORT``). Only an embedding
program that sets none gets links on the address of the socket the request arrived on -- still
the service's own address, never one the client chose.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from aiohttp import web

ENV_PUBLIC_URL = "RECOGNITION_DESK_PUBLIC_URL"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def is_loopback_host(host: str | None) -> bool:
    """127.0.0.0/8, ::1 or ``localhost`` (brackets of an IPv6 literal allowed)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_public_url(value: str, *, require_https: bool) -> str:
    """``scheme://host[:port][/prefix]`` without a trailing slash; ValueError saying why not.

    ``require_https``: plain ``http://`` only for a loopback host (outside demo mode the links go
    to applicants over the Internet)."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} must be an http(s)://host[:port] URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{value!r} must not carry a user name or password")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise ValueError(f"{value!r} must not have a query or a fragment")
    if require_https and parts.scheme != "https" and not is_loopback_host(parts.hostname):
        raise ValueError(f"{value!r} must be https:// (plain http only for a loopback host)")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS[parts.scheme] else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def origin_of(url: str) -> str | None:
    """The origin ``scheme://host[:port]`` of a URL or an ``Origin`` header value, lower case,
    default port dropped; None when it is not an http(s)/ws(s) origin (``null``, garbage)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def parse_origin(value: str) -> str:
    """An ``--allow-origin`` value, normalised like :func:`origin_of`; ValueError when it is not
    a bare ``scheme://host[:port]`` (a path, query or user name is a mistake worth reporting)."""
    origin = origin_of(value)
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        parts = None
    if (origin is None or parts is None or parts.path not in ("", "/") or parts.query
            or parts.fragment or parts.username is not None):
        raise ValueError(f"{value!r} is not an origin (scheme://host[:port])")
    return origin


def socket_base_url(request: web.Request) -> str:
    """``scheme://ip:port`` of the local socket the request arrived on (not its Host header)."""
    transport = request.transport
    sock = transport.get_extra_info("sockname") if transport is not None else None
    if not isinstance(sock, tuple) or len(sock) < 2:
        raise web.HTTPInternalServerError(reason="no public URL configured")
    host, port = str(sock[0]), int(sock[1])
    if ":" in host:
        host = f"[{host}]"
    return f"{request.scheme}://{host}:{port}"


def service_base_url(request: web.Request, configured: str | None) -> str:
    """The base of links: the configured public URL, else the local socket's address."""
    if configured:
        return configured.rstrip("/")
    return socket_base_url(request)
