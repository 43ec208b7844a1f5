"""The desk service's JSON log lines carry the request id; nothing personal in them."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from tests.fixtures.desk import request_body, start_desk_server


def test_json_lines_with_request_ids_and_no_personal_data(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setenv("RECOGNITION_DESK_LOG_FORMAT", "json")
    desk = start_desk_server(tmp_path / "desk")
    try:
        r = requests.get(f"{desk.api_url}/health", headers={"X-Request-Id": "lb-0123456789ab"},
                         timeout=10)
        assert r.status_code == 200 and r.headers["X-Request-Id"] == "lb-0123456789ab"
        # an id that is not a plain token is replaced, never copied into the log
        r = requests.get(f"{desk.api_url}/health", headers={"X-Request-Id": 'x"} {evil'},
                         timeout=10)
        fresh = r.headers["X-Request-Id"]
        assert fresh != 'x"} {evil' and len(fresh) == 32
        # errors, the router's 404 and a failed login carry one too
        assert requests.get(f"{desk.base_url}/no/such/page", timeout=10).headers["X-Request-Id"]
        body = request_body(4242)
        created = requests.post(f"{desk.api_url}/requests", json=body, timeout=10)
        assert created.status_code == 201
        bad = requests.post(f"{desk.api_url}/auth/login", timeout=10, json={
            "username": "operatore1", "password": "wrong-password-1", "totp": "123456"})
        assert bad.status_code == 401 and bad.headers["X-Request-Id"]
        time.sleep(0.5)
        lines = [line for line in desk.log_text().splitlines() if line.strip()]
        records = [json.loads(line) for line in lines]  # every line is one JSON object
        assert all({"ts", "level", "logger", "message"} <= set(r) for r in records)
        tagged = [r for r in records if r.get("request_id") == "lb-0123456789ab"]
        assert tagged and any("/api/v1/health" in r["message"] for r in tagged)
        assert any(r.get("request_id") == fresh for r in records)
        assert not any("evil" in line for line in lines)
        applicant = body["applicant"]
        for secret in (applicant["codice_fiscale"], applicant["surname"], applicant["mobile"],
                       applicant["email"], "wrong-password-1"):
            assert secret not in "\n".join(lines)
    finally:
        desk.stop()
