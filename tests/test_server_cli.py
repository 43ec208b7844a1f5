"""`recognition-desk` command line: serve (loopback rule, TLS, port 0), seed, operator."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from pathlib import Path

import pyotp
import requests
import urllib3

from tests.fixtures.desk import _desk_command, start_desk_server

#: outside demo mode `operator add` seals TOTP secrets with a configured key
_ENV = {**os.environ, "RECOGNITION_DESK_TOTP_KEY": base64.b64encode(bytes(range(32))).decode()}


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_desk_command(), *args], capture_output=True, text=True, timeout=60,
                          input=stdin, env=_ENV)


def test_plain_http_is_refused_off_loopback(tmp_path: Path) -> None:
    r = _run("serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path))
    assert r.returncode == 2
    assert "refusing plain HTTP on 0.0.0.0" in r.stderr
    assert r.stdout == ""


def test_self_signed_https_prints_its_url_and_stops_cleanly(tmp_path: Path) -> None:
    desk = start_desk_server(tmp_path / "desk", "--self-signed")
    try:
        assert re.fullmatch(r"https://127\.0\.0\.1:\d+", desk.base_url)
        urllib3.disable_warnings()
        r = requests.get(f"{desk.base_url}/api/v1/health", verify=False, timeout=10)
        assert r.json()["status"] == "ok"
        cert = desk.data_dir / "tls" / "self-signed.crt"
        r = requests.get(f"{desk.base_url}/api/v1/health", verify=str(cert), timeout=10)
        assert r.status_code == 200
    finally:
        assert desk.stop() == 0


def test_seed_text_and_json_formats(tmp_path: Path) -> None:
    first = _run("seed", "--data-dir", str(tmp_path), "--json")
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert [o["username"] for o in data["operators"]] == [
        "operatore1", "supervisore1", "partner1", "formatore1", "operatore2", "partner2",
        "admin1"]
    assert {o["role"] for o in data["operators"]} == {"operator", "supervisor", "partner",
                                                      "trainer", "admin"}
    points = {o["username"]: o["point_id"] for o in data["operators"]}
    assert points["partner1"] != points["partner2"] and points["partner1"]
    assert points["operatore1"] is None
    for o in data["operators"]:
        assert o["password"] == "Demo-Operatore-2026!"
        assert len(pyotp.TOTP(o["totp_secret"]).now()) == 6
    maria = data["requests"][0]
    assert maria["applicant"]["codice_fiscale"] == "RSSMRA85D52H501P"
    assert maria["join_url"] == f"http://127.0.0.1:8080/join/{maria['join_token']}"
    assert maria["join_path"] == f"/join/{maria['join_token']}"
    assert sum(1 for r in data["requests"] if r["appointment_at"]) == 1
    # a second seed keeps accounts and requests, and issues fresh links
    text = _run("seed", "--data-dir", str(tmp_path), "--base-url", "https://desk.example:8443")
    assert text.returncode == 0
    lines = text.stdout.splitlines()
    op_lines = [ln for ln in lines if ln.startswith("operator ")]
    assert op_lines[0] == ("operator operatore1 role=operator password=Demo-Operatore-2026! "
                           f"totp_secret={data['operators'][0]['totp_secret']}")
    req_lines = [ln for ln in lines if ln.startswith("request ")]
    assert len(req_lines) == len(data["requests"])
    m = re.fullmatch(r"request (\S+) ROSSI MARIA product=spid_personal state=registered "
                     r"booking_code=([A-Z0-9]{8}) appointment_at=- "
                     r"join_url=https://desk\.example:8443/join/(\S+)", req_lines[0])
    assert m, req_lines[0]
    assert m.group(1) == maria["id"] and m.group(2) == maria["booking_code"]
    assert m.group(3) != maria["join_token"]


def test_operator_add_and_disable(tmp_path: Path) -> None:
    nopoint = _run("operator", "add", "mario.bianchi", "--role", "partner",
                   "--data-dir", str(tmp_path))
    assert nopoint.returncode == 2 and "--point" in nopoint.stderr
    r = _run("operator", "add", "mario.bianchi", "--role", "partner", "--point", "IC-TEST-0009",
             "--display-name", "Mario Bianchi", "--data-dir", str(tmp_path), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["username"] == "mario.bianchi" and out["role"] == "partner"
    assert out["otpauth_uri"].startswith("otpauth://totp/")
    assert len(out["password"]) >= 12
    again = _run("operator", "add", "mario.bianchi", "--data-dir", str(tmp_path))
    assert again.returncode == 1 and "username_taken" in again.stderr
    short = _run("operator", "add", "x.y", "--password-stdin", "--data-dir", str(tmp_path),
                 stdin="short\n")
    assert short.returncode == 2
    r = _run("operator", "disable", "mario.bianchi", "--data-dir", str(tmp_path))
    assert r.returncode == 0 and r.stdout.strip() == "operator mario.bianchi disabled"
    assert _run("operator", "disable", "nobody", "--data-dir", str(tmp_path)).returncode == 1
