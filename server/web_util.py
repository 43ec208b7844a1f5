"""HTTP plumbing: JSON bodies, bearer auth, the error middleware, a log line without secrets."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientPayloadError, web
from aiohttp.abc import AbstractAccessLogger

from server.errors import ApiError, storage_error
from server.logs import HEADER as REQUEST_ID_HEADER
from server.logs import REQUEST_ID, request_id_for

logger = logging.getLogger(__name__)

MAX_JSON_BODY = 256 * 1024
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data, ensure_ascii=False), status=status,
                        content_type="application/json")


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, or ``limit + 1`` bytes when it is larger (the caller refuses it)."""
    parts: list[bytes] = []
    total = 0
    while total <= limit:
        try:
            block = await request.content.read(limit + 1 - total)
        except (ClientPayloadError, ConnectionError, asyncio.IncompleteReadError) as exc:
            raise ApiError(400, "incomplete_body", "the body ended early") from exc
        if not block:
            break
        parts.append(block)
        total += len(block)
    return b"".join(parts)


#: Arrays and objects nested deeper than this are refused (HTTP 400 ``json_too_deep``,
#: WebSocket close 4400): no message of the service nests more than a few levels.
MAX_JSON_DEPTH = 32
_JSON_SPECIAL = re.compile(r'[\[\]{}"\\]')


class JsonTooDeep(ValueError):
    pass


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``text`` nests arrays/objects deeper than ``limit``. One pass over the brackets,
    quotes and backslashes only (strings are skipped), no recursion; bodies with at most
    ``limit`` opening brackets in all are not scanned at all."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = False
    escaped_at = -1
    for m in _JSON_SPECIAL.finditer(text):
        pos = m.start()
        if pos == escaped_at:
            continue
        ch = m.group()
        if in_string:
            if ch == "\\":
                escaped_at = pos + 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def loads_limited(text: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that refuses (:class:`JsonTooDeep`) nesting deeper than ``max_depth``."""
    if json_too_deep(text, max_depth):
        raise JsonTooDeep(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except RecursionError as exc:  # not reachable below the depth limit; never a 500
        raise JsonTooDeep("JSON nested too deeply") from exc


@dataclass
class _Parsed:
    value: Any = None
    error: ApiError | None = None


#: the parsed body, once read (the rate-limit middleware reads a sign-in's username first)
_PARSED: web.RequestKey[_Parsed] = web.RequestKey("desk_parsed_json", _Parsed)


async def read_json(request: web.Request) -> Any:
    parsed = request.get(_PARSED)
    if parsed is None:
        parsed = _Parsed()
        try:
            parsed.value = await _read_json(request)
        except ApiError as exc:
            parsed.error = exc
        request[_PARSED] = parsed
    if parsed.error is not None:
        raise parsed.error
    return parsed.value


async def _read_json(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > MAX_JSON_BODY:
        raise ApiError(413, "body_too_large")
    raw = await read_body(request, MAX_JSON_BODY)
    if len(raw) > MAX_JSON_BODY:
        raise ApiError(413, "body_too_large")
    if not raw.strip():
        raise ApiError(400, "invalid_json", "a JSON body is required")
    try:
        return loads_limited(raw.decode("utf-8"))
    except JsonTooDeep as exc:
        raise ApiError(400, "json_too_deep", f"JSON may nest at most {MAX_JSON_DEPTH} levels",
                       max_depth=MAX_JSON_DEPTH) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "invalid_json", "the body is not valid JSON") from exc


async def read_object(request: web.Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object")
    return body


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "body_too_large", 415: "unsupported_media_type"}


def error_response(exc: ApiError) -> web.Response:
    resp = json_response(exc.body(), exc.status)
    if isinstance(exc.extra.get("retry_after"), int):
        resp.headers["Retry-After"] = str(exc.extra["retry_after"])
    return resp


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith("/api/"):
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        resp = json_response({"error": code, "message": exc.reason}, exc.status)
        if exc.status == 405 and "Allow" in exc.headers:
            resp.headers["Allow"] = exc.headers["Allow"]
        return resp
    except Exception as exc:
        refused = storage_error(exc)
        if refused is not None:  # a full or read-only disk: 507, and the service carries on
            logger.warning("write refused on %s %s (%s)", request.method, route_name(request),
                           refused.code)
            return error_response(refused)
        # no message or locals: a traceback could carry personal data from the request
        logger.error("internal error on %s %s (%s)", request.method, route_name(request),
                     exc.__class__.__name__)
        logger.debug("internal error detail", exc_info=True)
        return json_response({"error": "internal_error", "message": "internal error"}, 500)


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    rid = request_id_for(request.headers.get(REQUEST_ID_HEADER))
    REQUEST_ID.set(rid)  # this request's task: every log line of it carries the id
    try:
        resp = await handler(request)
    except web.HTTPException as exc:  # the router's own 404/405 and redirects
        exc.headers[REQUEST_ID_HEADER] = rid
        raise
    if not resp.prepared:  # a WebSocket or stream has sent its headers already
        resp.headers[REQUEST_ID_HEADER] = rid
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", "no-referrer")
    if request.path.startswith(("/api/", "/join/", "/verify-email/")):
        resp.headers.setdefault("Cache-Control", "no-store")
    return resp


def route_name(request: web.Request) -> str:
    """The route template (``/api/v1/requests/{request_id}``), never the concrete path."""
    try:
        info = request.match_info
    except (AssertionError, AttributeError):  # the request never reached the router
        return _redact(request.path)
    route = getattr(info, "route", None)
    resource = getattr(route, "resource", None)
    canonical = getattr(resource, "canonical", None)
    if isinstance(canonical, str):
        return canonical
    return _redact(request.path)


_LONG = re.compile(r"/[A-Za-z0-9_\-]{16,}")


def _redact(path: str) -> str:
    return _LONG.sub("/…", path)


class AccessLogger(AbstractAccessLogger):
    """One line per request: method, route template, status, time. No query, no tokens."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        route = route_name(request) if isinstance(request, web.Request) else _redact(request.path)
        self.logger.info("%s %s %d %.1fms", request.method, route, response.status,
                         time * 1000)
