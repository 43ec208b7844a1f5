"""Small helpers shared by the engine and the synthetic applicant: URLs and ICE configuration."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiortc import RTCConfiguration, RTCIceServer

logger = logging.getLogger(__name__)

IceServerSpec = str | Mapping[str, Any]


def ws_url(base_url: str, path: str) -> str:
    """`http(s)://host[:port][/prefix]` + path -> `ws(s)://host[:port][/prefix]/path`."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.netloc:
        raise ValueError("the desk URL must be http(s)://host[:port]")
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    prefix = parts.path.rstrip("/")
    return urlunsplit((scheme, parts.netloc, prefix + path, "", ""))


def http_url(base_url: str, path: str) -> str:
    parts = urlsplit(base_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + path, "", ""))


def rtc_configuration(ice_servers: Sequence[IceServerSpec] = ()) -> RTCConfiguration:
    """An RTCConfiguration with iceServers ALWAYS set explicitly ([] on loopback): left unset,
    aiortc silently uses a public STUN server."""
    servers: list[RTCIceServer] = []
    for spec in ice_servers:
        if isinstance(spec, str):
            servers.append(RTCIceServer(urls=spec))
        else:
            urls = spec.get("urls")
            if not isinstance(urls, str | list):
                raise ValueError("an ICE server needs 'urls'")
            servers.append(
                RTCIceServer(
                    urls=urls,
                    username=spec.get("username"),
                    credential=spec.get("credential"),
                )
            )
    # bundlePolicy stays "balanced": with max-bundle an aiortc answerer never connected here
    return RTCConfiguration(iceServers=servers)


def parse_json_message(text: str | bytes) -> dict[str, Any] | None:
    """A JSON object with a string `type`, or None (malformed input is never fatal)."""
    try:
        msg = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: [[[[…]]]]
        return None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        return None
    return msg
