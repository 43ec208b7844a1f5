"""TOTP secrets: re-enrolment needs the password and a current code, secrets are sealed at rest
with a key from the configuration, and the service refuses to start without (or with a wrong)
key outside demo mode."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest

from server import security
from server.app import build_desk
from server.config import ConfigError, DeskConfig
from server.store import Store
from tests.fixtures.desk import DeskServer, _desk_command

pytestmark = pytest.mark.timeout(180)


def _enrol(desk: DeskServer, op_id: int, username: str, body: dict | None = None):  # type: ignore[no-untyped-def]
    kwargs = {"json": body} if body is not None else {}
    return desk.api("POST", f"/operators/{op_id}/totp", username, **kwargs)


def _wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def test_own_re_enrolment_needs_the_password_and_a_current_code(desk_server: DeskServer) -> None:
    desk = desk_server
    op = desk.operator("operatore1")
    desk.token("operatore1")
    r = _enrol(desk, op["id"], "operatore1")
    assert r.status_code == 422 and set(r.json()["fields"]) == {"password", "totp"}
    r = _enrol(desk, op["id"], "operatore1", {"password": "wrong password!",
                                             "totp": desk.totp("operatore1")})
    assert r.status_code == 401 and r.json()["error"] == "invalid_credentials"
    r = _enrol(desk, op["id"], "operatore1", {"password": op["password"],
                                             "totp": _wrong(desk.totp("operatore1"))})
    assert r.status_code == 401 and r.json()["error"] == "invalid_totp"
    r = _enrol(desk, op["id"], "operatore1", {"password": op["password"],
                                             "totp": desk._fresh_code("operatore1")})
    assert r.status_code == 201, r.text
    new_secret = pyotp.parse_uri(r.json()["otpauth_uri"]).secret
    assert new_secret != op["totp_secret"]
    # the old device no longer signs in; the new one does; the session that re-enrolled lives on
    old = desk.api("POST", "/auth/login", json={"username": "operatore1",
                                                "password": op["password"],
                                                "totp": desk.totp("operatore1")})
    assert old.status_code == 401 and old.json()["error"] == "invalid_totp"
    new = desk.api("POST", "/auth/login", json={"username": "operatore1",
                                                "password": op["password"],
                                                "totp": pyotp.TOTP(new_secret).now()})
    assert new.status_code == 200
    assert desk.api("GET", "/auth/me", "operatore1").status_code == 200


def test_wrong_values_on_re_enrolment_count_towards_the_lockout(desk_server: DeskServer) -> None:
    desk = desk_server
    op = desk.operator("partner1")
    desk.token("partner1")
    statuses = [_enrol(desk, op["id"], "partner1", {"password": f"wrong-{i}",
                                                    "totp": "000000"}).status_code
                for i in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    r = _enrol(desk, op["id"], "partner1", {"password": op["password"],
                                            "totp": desk.totp("partner1")})
    assert r.status_code == 423
    login = desk.api("POST", "/auth/login", json={"username": "partner1",
                                                  "password": op["password"],
                                                  "totp": desk.totp("partner1")})
    assert login.status_code == 423


def test_an_admin_enrols_another_account_without_its_credentials(desk_server: DeskServer) -> None:
    desk = desk_server
    target = desk.operator("operatore2")
    hdr = desk.headers("operatore2")
    r = _enrol(desk, target["id"], "admin1")
    assert r.status_code == 201, r.text
    # that account's sign-ins end (its device was lost); the new secret signs in
    assert desk.api("GET", "/auth/me", headers=hdr).status_code == 401
    secret = pyotp.parse_uri(r.json()["otpauth_uri"]).secret
    login = desk.api("POST", "/auth/login", json={"username": "operatore2",
                                                  "password": target["password"],
                                                  "totp": pyotp.TOTP(secret).now()})
    assert login.status_code == 200
    # nobody else may enrol another account
    r = _enrol(desk, desk.operator("formatore1")["id"], "supervisore1")
    assert r.status_code == 403


def test_the_database_holds_no_totp_secret_in_clear(desk_server: DeskServer) -> None:
    desk = desk_server
    desk.login("operatore1")
    secrets = [o["totp_secret"] for o in desk.seed["operators"]]
    files = [p for p in desk.data_dir.iterdir() if p.name.startswith("desk.sqlite3")]
    assert files or desk.backend != "sqlite"
    for path in files:
        blob = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in blob, path.name
            assert base64.b32decode(secret) not in blob, path.name
    if desk.backend == "postgresql":  # every column of every operator, as text
        dump = " ".join(r[0] for r in desk.sql("SELECT row_to_json(o)::text FROM operators o"))
        for secret in secrets:
            assert secret not in dump
    stored = [row[0] for row in desk.sql("SELECT totp_secret FROM operators")]
    assert stored and all(s.startswith(security.SEALED_PREFIX) for s in stored)


def test_a_sealed_secret_opens_only_with_its_key_and_account() -> None:
    key = security.new_totp_key()
    secret = security.new_totp_secret()
    sealed = security.seal_totp_secret(key, secret, "mario")
    assert len(sealed) <= 200 and secret not in sealed
    assert security.open_totp_secret(key, sealed, "mario") == secret
    with pytest.raises(ValueError):
        security.open_totp_secret(security.new_totp_key(), sealed, "mario")
    with pytest.raises(ValueError):  # copied onto another account's row
        security.open_totp_secret(key, sealed, "admin1")
    with pytest.raises(ValueError):
        security.parse_totp_key(base64.b64encode(b"short").decode())


def test_plaintext_secrets_of_an_older_database_are_sealed_at_start(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'desk.sqlite3'}", migrate=True)
    secret = security.new_totp_secret()
    store.create_operator("vecchio", "V", "operator", "x", datetime.now(UTC), totp_secret=secret)
    store.close()
    key = security.new_totp_key()
    desk = build_desk(DeskConfig(data_dir=tmp_path, totp_key=key))
    try:
        op = desk.store.operator_by_username("vecchio")
        assert op is not None and op.totp_secret is not None
        assert security.open_totp_secret(key, op.totp_secret, "vecchio") == secret
    finally:
        desk.store.close()
    with pytest.raises(ConfigError, match="does not open"):
        build_desk(DeskConfig(data_dir=tmp_path, totp_key=security.new_totp_key()))
    with pytest.raises(ConfigError, match="no TOTP key"):
        build_desk(DeskConfig(data_dir=tmp_path))


def _serve(data_dir: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [*_desk_command(), "serve", "--port", "0", "--data-dir", str(data_dir),
           "--public-url", "https://desk.example", "--sms-gateway-url",
           "http://127.0.0.1:9/sms", "--smtp-host", "127.0.0.1", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})


def test_serve_refuses_to_start_without_a_key_or_with_a_wrong_one(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RECOGNITION_DESK_TOTP_KEY"}
    r = subprocess.run([*_desk_command(), "serve", "--port", "0", "--data-dir", str(tmp_path),
                        "--public-url", "https://desk.example", "--sms-gateway-url",
                        "http://127.0.0.1:9/sms", "--smtp-host", "127.0.0.1"],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 2
    assert "no TOTP key configured" in r.stderr and "RECOGNITION_DESK_TOTP_KEY" in r.stderr
    bad = _serve(tmp_path, {"RECOGNITION_DESK_TOTP_KEY": "bm90IGEga2V5"})
    assert bad.returncode != 0 and "32 bytes" in bad.stderr
    # a database sealed with one key does not start with another
    key = tmp_path / "k.b64"
    key.write_text(base64.b64encode(os.urandom(32)).decode())
    seeded = subprocess.run([*_desk_command(), "seed", "--data-dir", str(tmp_path),
                             "--totp-key-file", str(key), "--json"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert seeded.returncode == 0, seeded.stderr
    other = base64.b64encode(os.urandom(32)).decode()
    wrong = _serve(tmp_path, {"RECOGNITION_DESK_TOTP_KEY": other})
    assert wrong.returncode == 2 and "does not open" in wrong.stderr


def test_operator_add_needs_the_key_outside_a_demo_data_dir(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RECOGNITION_DESK_TOTP_KEY"}

    def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*_desk_command(), *args, "--data-dir", str(data_dir)],
                              capture_output=True, text=True, timeout=60, env=env)

    r = run(tmp_path / "prod", "operator", "add", "mario.rossi", "--json")
    assert r.returncode == 2 and "no TOTP key configured" in r.stderr
    # a data dir that `seed` made for the demo has its own key, and `operator add` uses it
    assert run(tmp_path / "demo", "seed", "--json").returncode == 0
    r = run(tmp_path / "demo", "operator", "add", "mario.rossi", "--json")
    assert r.returncode == 0, r.stderr
    key = security.parse_totp_key((tmp_path / "demo" / "totp-key.b64").read_text())
    store = Store(f"sqlite:///{tmp_path / 'demo' / 'desk.sqlite3'}", migrate=True)
    try:
        op = store.operator_by_username("mario.rossi")
        assert op is not None and op.totp_secret is not None
        assert security.open_totp_secret(key, op.totp_secret, "mario.rossi") == \
            json.loads(r.stdout)["totp_secret"]
    finally:
        store.close()
