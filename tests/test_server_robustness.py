"""Robustness: random and hostile input against a real desk service process never gets a 500,
never kills the service, and never leaves personal data in its log.

Bounded: a few dozen examples per property. schemathesis over the whole OpenAPI document, with
the token of each role, is in tests/faults/test_fuzz_api.py.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.validation import validate_new_request
from tests.fixtures.desk import DeskServer, request_body, start_desk_server

pytestmark = pytest.mark.timeout(300)

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12),
                                                                      children, max_size=5),
    max_leaves=12)


def _mutations() -> st.SearchStrategy[dict[str, Any]]:
    """A valid request body with some leaves replaced by random JSON values."""
    base = request_body(3)
    keys = [("applicant", k) for k in base["applicant"]] + [("document", k) for k in
                                                            base["document"]] + [("product",)]
    return st.lists(st.tuples(st.sampled_from(keys), _json_values), min_size=1, max_size=4).map(
        lambda changes: _apply(base, changes))


def _apply(base: dict[str, Any], changes: list[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    out = json.loads(json.dumps(base))
    for path, value in changes:
        node = out
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = value
    return out


@settings(max_examples=300, deadline=None, database=None)
@given(body=_json_values | _mutations())
def test_validation_never_raises(body: Any) -> None:
    from datetime import UTC, datetime

    values, errors = validate_new_request(body, datetime.now(UTC))
    assert (values is None) == bool(errors)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in errors.items())


@pytest.fixture(scope="module")
def fuzz_desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeskServer]:
    desk = start_desk_server(tmp_path_factory.mktemp("desk-fuzz"))
    try:
        yield desk
    finally:
        code = desk.stop()
        log = desk.log_path.read_text()
        assert code == 0, log[-2000:]
        assert "Traceback" not in log and "internal error" not in log
        assert "RSSMRA85D52H501P" not in log and "+393331234567" not in log


def test_random_request_bodies_over_http(fuzz_desk: DeskServer) -> None:
    desk = fuzz_desk
    seen: set[int] = set()

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(body=_json_values | _mutations())
    def post(body: Any) -> None:
        r = desk.api("POST", "/requests", json=body)
        seen.add(r.status_code)
        assert r.status_code in (201, 400, 422), r.text
        err = r.json()
        if r.status_code == 422:
            assert err["error"] == "validation_failed" and err["fields"]
        elif r.status_code == 201:
            got = desk.api("GET", f"/requests/{err['id']}", "supervisore1").json()
            assert got["state"] == "registered"

    post()
    assert 422 in seen


def test_hostile_raw_http_is_answered(fuzz_desk: DeskServer) -> None:
    desk = fuzz_desk
    cases = [
        b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /api/v1/requests HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{\"a\":",
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n\xff\xfe\x00\x01",
        b"PUT /api/v1/evidence/uploads/x?offset=abc HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 1\r\n\r\nx",
        b"GARBAGE\r\n\r\n",
        b"GET /ws/operator HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: bad\r\n\r\n",
        b"GET /join/%00%ff HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /static/../../server/store.py HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    for raw in cases:
        with socket.create_connection(("127.0.0.1", desk.port), timeout=10) as sock:
            sock.sendall(raw)
            sock.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.") else 0
        assert 200 <= status < 500, (raw, answer[:200])
        assert b"class Store" not in answer
    assert desk.api("GET", "/health").json()["status"] == "ok"


def test_truncated_uploads_and_aborted_connections(fuzz_desk: DeskServer) -> None:
    desk = fuzz_desk
    req = desk.start_in_person("partner1")
    body = {"upload_key": "abort-test-1", "request_id": req["id"], "filename": "e.bin",
            "size": 100_000, "sha256": "a" * 64}
    upload = desk.api("POST", "/evidence/uploads", "partner1", json=body).json()
    token = desk.token("partner1")
    # promise 100 000 bytes, send 10, hang up
    with socket.create_connection(("127.0.0.1", desk.port), timeout=10) as sock:
        sock.sendall(f"PUT /api/v1/evidence/uploads/{upload['upload_id']}?offset=0 HTTP/1.1\r\n"
                     f"Host: x\r\nAuthorization: Bearer {token}\r\nContent-Length: 100000\r\n"
                     "\r\n".encode() + b"0123456789")
    again = desk.api("POST", "/evidence/uploads", "partner1", json=body).json()
    assert again["received"] in (0,)  # nothing half-counted
    assert desk.api("GET", "/health").status_code == 200


def test_service_survived_the_fuzzing(fuzz_desk: DeskServer, tmp_path: Path) -> None:
    desk = fuzz_desk
    assert desk.proc.poll() is None
    maria = desk.seed_request("ROSSI")
    got = desk.api("GET", f"/requests/{maria['id']}", "supervisore1").json()
    assert got["applicant"]["codice_fiscale"] == "RSSMRA85D52H501P"
    del tmp_path
