"""Malformed answers never crash the client: parsing raises ProtocolError, HTTP statuses map to
typed errors. The desk service itself answers well-formed JSON (test_core_client.py); what is
exercised here is what a broken proxy or a future/older service could send, served by a plain
HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.client import DeskClient, _Tokens
from console.errors import (
    AccountLocked,
    Forbidden,
    NotAuthenticated,
    ProtocolError,
    RateLimited,
    ServerError,
    ValidationError,
)
from console.models import (
    ArchiveKey,
    Assignment,
    DecisionResult,
    EmailVerificationStatus,
    Operator,
    OtpSent,
    OtpVerification,
    QueueSnapshot,
    RecognitionRequest,
    format_datetime,
    parse_datetime,
)

PARSERS = [Operator, RecognitionRequest, QueueSnapshot, Assignment, OtpSent, OtpVerification,
           EmailVerificationStatus, DecisionResult, ArchiveKey]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=20,
)

VALID_REQUEST = {
    "id": "r-1", "state": "waiting", "product": "cns",
    "applicant": {"surname": "ROSSI", "given_names": "MARIA", "codice_fiscale": "X",
                  "birth_date": "1985-04-12"},
    "document": {"type": "passport", "number": "YA1", "issuer": "Q", "expiry_date": "2031-01-01"},
}


@settings(max_examples=80, deadline=None)
@given(data=json_values)
def test_parsers_raise_only_protocol_error(data: Any) -> None:
    for parser in PARSERS:
        try:
            parsed = parser.from_json(data)  # type: ignore[attr-defined]
        except Exception as exc:  # anything else than ProtocolError would be a crash
            assert isinstance(exc, ProtocolError), repr(exc)
        else:
            assert isinstance(parsed, parser)


@settings(max_examples=60, deadline=None)
@given(key=st.sampled_from(sorted(VALID_REQUEST)), value=json_values)
def test_one_bad_field_in_a_request(key: str, value: Any) -> None:
    data = {**VALID_REQUEST, key: value}
    try:
        parsed = RecognitionRequest.from_json(data)
    except ProtocolError:
        return
    assert parsed.id


def test_valid_shapes_parse() -> None:
    request = RecognitionRequest.from_json(VALID_REQUEST)
    assert request.document is not None and request.document.expiry_date is not None
    assert "ROSSI" not in repr(request)
    assert OtpSent.from_json({"otp_id": 1, "expires_at": "2026-11-23T10:00:00Z",
                              "attempts_left": 3, "resend_after": 30}).resend_after is not None
    with pytest.raises(ProtocolError, match="32 bytes"):
        ArchiveKey.from_json({"key_id": "k", "algorithm": "X25519", "public_key": "AAAA"})
    with pytest.raises(ProtocolError, match="unsupported"):
        ArchiveKey.from_json({"key_id": "k", "algorithm": "RSA", "public_key": "AAAA"})
    with pytest.raises(ProtocolError, match="unknown value"):
        RecognitionRequest.from_json({**VALID_REQUEST, "state": "teleported"})


def test_datetimes_round_trip() -> None:
    moment = parse_datetime("2026-11-23T10:00:00Z")
    assert moment == datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert format_datetime(moment) == "2026-11-23T10:00:00Z"
    assert parse_datetime("2026-11-23T11:00:00+01:00") == moment
    assert parse_datetime("2026-11-23T10:00:00") == moment  # naive = UTC
    with pytest.raises(ProtocolError):
        parse_datetime("yesterday")
    with pytest.raises(ProtocolError):
        parse_datetime(12)


# --- a misbehaving HTTP peer ------------------------------------------------------------------

ROUTES: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/api/v1/queue": (200, {"Content-Type": "text/html"}, b"<html>proxy page</html>"),
    "/api/v1/archive-key": (200, {}, json.dumps({"key_id": "k"}).encode()),
    "/api/v1/requests/r1": (502, {"Content-Type": "text/html"}, b"<h1>Bad gateway</h1>"),
    "/api/v1/requests/r1/otp": (429, {"Retry-After": "7"},
                                json.dumps({"error": "resend_too_soon", "message": "x"}).encode()),
    "/api/v1/requests/r2/otp": (429, {}, json.dumps({
        "error": "resend_too_soon", "retry_after": 12}).encode()),
    "/api/v1/auth/login": (423, {}, json.dumps({
        "error": "account_locked", "message": "locked",
        "locked_until": "2026-11-23T10:15:00Z"}).encode()),
    "/api/v1/queue/next": (403, {}, json.dumps({"error": "forbidden"}).encode()),
    "/api/v1/requests/r1/decision": (422, {}, json.dumps({
        "error": "validation_failed", "fields": {"note": "too_long", "n": 3}}).encode()),
    "/api/v1/requests/r3/otp": (401, {}, json.dumps({"error": "invalid_token"}).encode()),
    "/api/v1/auth/refresh": (401, {}, json.dumps({"error": "invalid_refresh_token"}).encode()),
}


class Handler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        status, headers, body = ROUTES.get(self.path.split("?")[0], (404, {}, b"{}"))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def peer() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def client_for(url: str, **kwargs: Any) -> DeskClient:
    client = DeskClient(url, timeout=(2, 2), **kwargs)
    client._tokens = _Tokens(access="a" * 40, refresh="r" * 40, expires_at=0.0)
    return client


def test_error_mapping(peer: str) -> None:
    client = client_for(peer)
    with pytest.raises(ProtocolError, match="not JSON"):
        client.queue()
    with pytest.raises(ProtocolError, match="missing field"):
        client.archive_key()
    with pytest.raises(ServerError) as gateway:
        client.get_request("r1")
    assert gateway.value.status == 502 and gateway.value.code == "server_error"
    with pytest.raises(RateLimited) as header:
        client.send_otp("r1")
    assert header.value.retry_after == 7 and header.value.code == "resend_too_soon"
    with pytest.raises(RateLimited) as body:
        client.send_otp("r2")
    assert body.value.retry_after == 12
    with pytest.raises(Forbidden):
        client.take_next()
    with pytest.raises(ValidationError) as invalid:
        client.decide("r1", "6f1c2d4e-0b7a-4c55-9f0e-3a2b1c0d9e8f", "approved", "ok")
    assert invalid.value.fields == {"note": "too_long", "n": "3"}
    with pytest.raises(AccountLocked) as locked:
        DeskClient(peer).login("u", "p", "123456")
    assert locked.value.locked_until == datetime(2026, 11, 23, 10, 15, tzinfo=UTC)


def test_refused_refresh_signs_out(peer: str) -> None:
    lost: list[int] = []
    client = client_for(peer, on_auth_lost=lambda: lost.append(1))
    with pytest.raises(NotAuthenticated):
        client.send_otp("r3")  # 401 → refresh refused → sign in again
    assert lost == [1] and not client.is_authenticated
