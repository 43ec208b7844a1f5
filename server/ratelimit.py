"""Rate limits: token buckets per client address and per account, one table keyed on actions.

:data:`RULES` says, per action of the role table (``server.policy.ROUTES``), which buckets a
request takes a token from and what each bucket is keyed by: the client's address (``ip``), the
submitted username (``username``, sign-in), the identification request of the route
(``request``) or its join link (``link``). The sizes come from ``DeskConfig.rate_limits``
(``serve --rate-limit RULE=COUNT/SECONDS``): a bucket holds ``COUNT`` tokens and regains them at
``COUNT`` per ``SECONDS``. An empty bucket answers 429 ``rate_limited`` with ``retry_after``
(seconds, also as a ``Retry-After`` header) before the handler, or the database, is reached.

The client's address is ``request.remote``: behind a reverse proxy that is the proxy's address,
so every client would share one bucket, unless the proxy is listed in
``DeskConfig.trusted_proxies`` (``serve --trusted-proxy``); then ``X-Forwarded-For`` is read from
the right, past the trusted hops, and never from anyone else. IPv6 clients are counted per /64
(one host usually holds a whole /64).

Buckets live in a :class:`RateStore`. :class:`MemoryRateStore` keeps them in the process (one
service instance); a shared store (a PostgreSQL table, Redis) implements the same one method so
several instances count together: set ``app[LIMITER].store``. Bucket keys are hashes: no
username, address or join token is kept in clear.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from abc import ABC, abstractmethod
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web

from server.config import ConfigError, DeskConfig, RateLimit
from server.errors import ApiError
from server.policy import route_action
from server.web_util import Handler, read_json

logger = logging.getLogger(__name__)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: action -> (rule, key) pairs; a request takes one token from each bucket, in this order.
RULES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "auth.login": (("login.ip", "ip"), ("login.account", "username")),
    "requests.create": (("register.ip", "ip"),),
    "otp.send": (("otp.ip", "ip"), ("otp.request", "request")),
    "otp.verify": (("otp.ip", "ip"), ("otp.request", "request")),
    "pages.join": (("join.ip", "ip"), ("join.link", "link")),
    "ws.applicant_connect": (("join.ip", "ip"), ("join.link", "link")),
}

#: how often the refusals are summed up in the log (one line, not one per refused request)
LOG_EVERY_S = 60.0


class RateStore(ABC):
    """Where the token buckets live."""

    @abstractmethod
    async def take(self, key: str, limit: RateLimit) -> float:
        """Take one token from bucket ``key`` (full when new): 0.0 when there was one, else the
        seconds until there is (nothing is taken then)."""


class MemoryRateStore(RateStore):
    """Buckets in a dict of this process; the least recently used go beyond ``max_keys`` (an
    idle bucket is full again by then, so forgetting it changes nothing)."""

    def __init__(self, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def take(self, key: str, limit: RateLimit) -> float:
        now = self._clock()
        tokens, last = self._buckets.pop(key, (float(limit.count), now))
        tokens = min(float(limit.count), tokens + max(0.0, now - last) * limit.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / limit.rate
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


def parse_networks(items: tuple[str, ...] | list[str]) -> tuple[IPNetwork, ...]:
    out = []
    for item in items:
        try:
            out.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ConfigError(f"bad trusted proxy {item!r} (an address or a network such as "
                              "10.0.0.0/8)") from None
    return tuple(out)


@dataclass
class Limiter:
    store: RateStore
    limits: Mapping[str, RateLimit]
    trusted: tuple[IPNetwork, ...] = ()
    _refused: Counter[str] = field(default_factory=Counter)
    _logged_at: float = 0.0

    def refused(self, rule: str) -> None:
        self._refused[rule] += 1
        now = time.monotonic()
        if now - self._logged_at >= LOG_EVERY_S:
            summary = ", ".join(f"{r} {n}" for r, n in sorted(self._refused.items()))
            logger.warning("rate limits: requests refused since the last report: %s", summary)
            self._refused.clear()
            self._logged_at = now


LIMITER: web.AppKey[Limiter] = web.AppKey("rate_limiter", Limiter)


def setup(app: web.Application, config: DeskConfig, store: RateStore | None = None) -> None:
    unknown = set(config.rate_limits) - {rule for rules in RULES.values() for rule, _ in rules}
    if unknown:
        raise ConfigError(f"unknown rate limit rules: {', '.join(sorted(unknown))}")
    app[LIMITER] = Limiter(store or MemoryRateStore(), dict(config.rate_limits),
                           parse_networks(config.trusted_proxies))


# --- keys ----------------------------------------------------------------------------------

def _address(text: str) -> IPAddress | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def client_address(request: web.BaseRequest, trusted: tuple[IPNetwork, ...]) -> str:
    """The client's address: the peer's, or, from a trusted proxy, the first untrusted hop of
    ``X-Forwarded-For`` read from the right."""
    addr = _address(request.remote or "")
    if addr is None:
        return request.remote or "unknown"
    if not any(addr in net for net in trusted):
        return str(addr)
    hops = ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")
    for hop in reversed(hops):
        if not hop.strip():
            continue
        ip = _address(hop)
        if ip is None:
            break  # garbage in the header: believe no further than the last trusted hop
        addr = ip
        if not any(ip in net for net in trusted):
            break
    return str(addr)


def _bucket_of_address(address: str) -> str:
    addr = _address(address)
    if isinstance(addr, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{addr}/64", strict=False))
    return address


def _hashed(rule: str, value: str) -> str:
    return f"{rule}|{hashlib.sha256(value.encode('utf-8')).hexdigest()[:32]}"


async def _key_value(request: web.Request, kind: str, limiter: Limiter) -> str | None:
    if kind == "ip":
        return _bucket_of_address(client_address(request, limiter.trusted))
    if kind == "username":
        body = await read_json(request)  # cached: the handler reads the same parsed body
        name = body.get("username") if isinstance(body, dict) else None
        return name.strip().lower()[:64] if isinstance(name, str) and name.strip() else None
    if kind == "request":
        return request.match_info.get("request_id", "").lower()[:64] or None
    if kind == "link":
        info = request.match_info
        return info.get("token") or info.get("join_token") or None
    raise AssertionError(f"unknown rate limit key {kind!r}")


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.match_info.http_exception is not None:
        return await handler(request)
    action = route_action(request)
    rules = RULES.get(action or "")
    if not rules:
        return await handler(request)
    limiter = request.app[LIMITER]
    for rule, kind in rules:
        limit = limiter.limits.get(rule)
        if limit is None:
            continue
        value = await _key_value(request, kind, limiter)
        if value is None:
            continue
        wait = await limiter.store.take(_hashed(rule, value), limit)
        if wait > 0:
            limiter.refused(rule)
            raise ApiError(429, "rate_limited", "too many requests: try again later",
                           retry_after=max(1, math.ceil(wait)), limit=rule)
    return await handler(request)
