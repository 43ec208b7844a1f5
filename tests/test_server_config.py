"""Shared configuration of a deployment (docs/DEPLOY.md): the OTP pepper and the archive public
key come from the configuration when several instances share a database (never made per
instance), ``--config FILE`` (TOML) / ``RECOGNITION_DESK_*`` / the command line in that order of
precedence, and ``recognition-desk config check``. The real CLI, as subprocesses."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tests.fixtures.desk import _desk_command

pytestmark = pytest.mark.timeout(120)

TOTP_KEY = base64.b64encode(bytes(range(32))).decode()
PEPPER = base64.b64encode(bytes(range(100, 132))).decode()
#: what serve needs outside --demo besides keys and database
PRODUCTION = ("--public-url", "https://desk.example", "--sms-gateway-url",
              "https://sms.example.test/send", "--smtp-host", "smtp.example.test")


def _env(**extra: str) -> dict[str, str]:
    """The environment without any RECOGNITION_DESK_* of the caller, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOGNITION_DESK_")}
    return {**env, **extra}


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_desk_command(), *args], capture_output=True, text=True, timeout=90,
                          env=_env() if env is None else env)


def _archive_public_key(path: Path) -> str:
    """Write an X25519 public key (PEM) to ``path``; returns its key_id."""
    pub = X25519PrivateKey.generate().public_key()
    path.write_bytes(pub.public_bytes(serialization.Encoding.PEM,
                                      serialization.PublicFormat.SubjectPublicKeyInfo))
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@pytest.fixture
def shared_db(tmp_path: Path) -> str:
    """A migrated SQLite file given as a --db URL: the shared-database deployment's rules."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    r = _run("migrate", "--db", url, "--data-dir", str(tmp_path / "migrate-data"))
    assert r.returncode == 0, r.stderr
    return url


def _lines(r: subprocess.CompletedProcess[str]) -> list[str]:
    return r.stdout.splitlines()


def _all_ok(r: subprocess.CompletedProcess[str]) -> None:
    assert r.returncode == 0, r.stdout + r.stderr
    assert _lines(r) and all(line.startswith("ok   ") for line in _lines(r)), r.stdout


def _no_secret(r: subprocess.CompletedProcess[str], *secrets: str) -> None:
    for secret in secrets:
        assert secret not in r.stdout + r.stderr


def test_a_shared_database_refuses_to_start_without_pepper_or_archive_key(
        tmp_path: Path, shared_db: str) -> None:
    data = tmp_path / "data"
    args = ("serve", "--port", "0", "--db", shared_db, "--data-dir", str(data), *PRODUCTION)
    r = _run(*args, env=_env(RECOGNITION_DESK_TOTP_KEY=TOTP_KEY))
    assert r.returncode == 2 and r.stdout == "", r.stderr
    assert "refusing to start: no OTP pepper configured" in r.stderr
    assert "RECOGNITION_DESK_OTP_PEPPER" in r.stderr and "openssl rand -base64 32" in r.stderr
    assert "Traceback" not in r.stderr
    keys = _env(RECOGNITION_DESK_TOTP_KEY=TOTP_KEY, RECOGNITION_DESK_OTP_PEPPER=PEPPER)
    r = _run(*args, env=keys)
    assert r.returncode == 2 and r.stdout == "", r.stderr
    assert "refusing to start: no archive public key configured" in r.stderr
    assert "RECOGNITION_DESK_ARCHIVE_PUBLIC_KEY_FILE" in r.stderr
    _no_secret(r, PEPPER, TOTP_KEY)
    # nothing security-relevant was made in the data dir on the way
    for name in ("otp-pepper.bin", "archive-demo-private.key", "archive-public.key"):
        assert not (data / name).exists()
    # a pepper that is too short or not base64 is refused, naming where it came from
    short = base64.b64encode(b"0123456789").decode()
    r = _run(*args, env=_env(RECOGNITION_DESK_TOTP_KEY=TOTP_KEY,
                             RECOGNITION_DESK_OTP_PEPPER=short))
    assert r.returncode == 2 and "RECOGNITION_DESK_OTP_PEPPER" in r.stderr
    assert "at least 16 bytes" in r.stderr and short not in r.stderr
    bad_key = tmp_path / "not-a-key.pem"
    bad_key.write_text("hello\n")
    r = _run(*args, "--archive-public-key", str(bad_key), env=keys)
    assert r.returncode == 2 and "not a PEM public key" in r.stderr, r.stderr


def test_a_shared_database_serves_with_the_configured_keys(tmp_path: Path,
                                                           shared_db: str) -> None:
    data = tmp_path / "data"
    key_file = tmp_path / "archive-public.pem"
    key_id = _archive_public_key(key_file)
    env = _env(RECOGNITION_DESK_TOTP_KEY=TOTP_KEY, RECOGNITION_DESK_OTP_PEPPER=PEPPER,
               RECOGNITION_DESK_ARCHIVE_PUBLIC_KEY_FILE=str(key_file))
    proc = subprocess.Popen([*_desk_command(), "serve", "--port", "0", "--db", shared_db,
                             "--data-dir", str(data), "--exit-with-parent", *PRODUCTION],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on "), proc.stderr.read() if proc.stderr else line
        url = line.split(" ", 2)[2].strip()
        with urllib.request.urlopen(f"{url}/api/v1/archive-key", timeout=10) as resp:
            assert json.loads(resp.read())["key_id"] == key_id
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    _no_secret(subprocess.CompletedProcess([], 0, "", err), PEPPER, TOTP_KEY)
    for name in ("otp-pepper.bin", "archive-demo-private.key", "archive-public.key"):
        assert not (data / name).exists()


def test_config_check_passes_with_everything_in_the_environment(tmp_path: Path,
                                                                shared_db: str) -> None:
    key_file = tmp_path / "archive-public.pem"
    key_id = _archive_public_key(key_file)
    env = _env(RECOGNITION_DESK_DB=shared_db, RECOGNITION_DESK_DATA_DIR=str(tmp_path / "data"),
               RECOGNITION_DESK_TOTP_KEY=TOTP_KEY, RECOGNITION_DESK_OTP_PEPPER=PEPPER,
               RECOGNITION_DESK_ARCHIVE_PUBLIC_KEY_FILE=str(key_file),
               RECOGNITION_DESK_PUBLIC_URL="https://desk.example",
               RECOGNITION_DESK_SMS_GATEWAY_URL="https://sms.example.test/send",
               RECOGNITION_DESK_SMTP_HOST="smtp.example.test",
               RECOGNITION_DESK_SMTP_PASSWORD="smtp-s3cret-value")
    r = _run("config", "check", env=env)
    _all_ok(r)
    out = r.stdout
    assert "from environment" in out and f"archive public key {key_id}" in out
    assert f"database {shared_db} (schema " in out and "OTP pepper" in out
    _no_secret(r, PEPPER, TOTP_KEY, "smtp-s3cret-value")
    # the same check without the pepper: a FAIL line, exit 1, the other checks still run
    del env["RECOGNITION_DESK_OTP_PEPPER"]
    r = _run("config", "check", env=env)
    assert r.returncode == 1
    assert any(line.startswith("FAIL OTP pepper: no OTP pepper configured")
               for line in _lines(r)), r.stdout
    assert any(line.startswith("ok   database ") for line in _lines(r))


def test_config_check_and_operator_read_a_toml_file(tmp_path: Path, shared_db: str) -> None:
    key_file = tmp_path / "archive-public.pem"
    _archive_public_key(key_file)
    (tmp_path / "totp.b64").write_text(TOTP_KEY + "\n")
    (tmp_path / "pepper.b64").write_text(PEPPER + "\n")
    config = tmp_path / "desk.toml"
    config.write_text(f"""
db = "{shared_db}"
data_dir = "{tmp_path / 'data'}"
totp_key_file = "{tmp_path / 'totp.b64'}"
otp_pepper_file = "{tmp_path / 'pepper.b64'}"
archive_public_key = "{key_file}"
public_url = "https://desk.example"
sms_gateway_url = "https://sms.example.test/send"
smtp_host = "smtp.example.test"
smtp_port = 25
rate_limit = ["login.ip=50/300"]
trusted_proxy = ["10.0.0.0/8"]
""")
    r = _run("config", "check", "--config", str(config))
    _all_ok(r)
    assert f"from {config}" in r.stdout
    _no_secret(r, PEPPER, TOTP_KEY)
    # a wrong TOTP key file (from the file) against a database with sealed secrets: FAIL
    add = _run("operator", "add", "mario.rossi", "--config", str(config), "--json")
    assert add.returncode == 0, add.stderr
    _all_ok(_run("config", "check", "--config", str(config)))
    r = _run("config", "check", "--config", str(config),
             env=_env(RECOGNITION_DESK_TOTP_KEY=base64.b64encode(bytes(32)).decode()))
    assert r.returncode == 1 and "FAIL TOTP key: it does not open the TOTP secrets" in r.stdout


def test_command_line_beats_environment_beats_file(tmp_path: Path) -> None:
    config = tmp_path / "desk.toml"
    config.write_text(f'port = 1111\nhost = "127.0.0.2"\ndata_dir = "{tmp_path / "file"}"\n')
    base = ("config", "check", "--demo", "--config", str(config))

    def listening(r: subprocess.CompletedProcess[str]) -> str:
        return next(line for line in _lines(r) if "listening on" in line)

    r = _run(*base)
    assert listening(r) == "ok   listening on http://127.0.0.2:1111", r.stdout
    assert f"data dir {tmp_path / 'file'}" in r.stdout
    env = _env(RECOGNITION_DESK_PORT="2222", RECOGNITION_DESK_DATA_DIR=str(tmp_path / "env"))
    r = _run(*base, env=env)
    assert listening(r) == "ok   listening on http://127.0.0.2:2222"
    assert f"data dir {tmp_path / 'env'}" in r.stdout
    r = _run(*base, "--port", "3333", "--data-dir", str(tmp_path / "cli"), env=env)
    assert listening(r) == "ok   listening on http://127.0.0.2:3333"
    assert f"data dir {tmp_path / 'cli'}" in r.stdout
    assert r.returncode == 0, r.stdout
    # a value of the wrong kind in the environment names the variable, not the value
    r = _run(*base, env=_env(RECOGNITION_DESK_PORT="eighty"))
    assert r.returncode == 2 and "RECOGNITION_DESK_PORT: not a number" in r.stdout
    assert "eighty" not in r.stdout + r.stderr


def test_an_unknown_file_key_is_an_error_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "desk.toml"
    config.write_text('public_url = "https://desk.example"\ncolour = "blue"\n')
    r = _run("config", "check", "--config", str(config))
    assert r.returncode == 2 and "unknown key 'colour'" in r.stdout, r.stdout
    r = _run("serve", "--demo", "--port", "0", "--config", str(config))
    assert r.returncode == 2 and r.stdout == "" and "unknown key 'colour'" in r.stderr
    config.write_text('port = "eighty"\n')
    r = _run("migrate", "--config", str(config), "--data-dir", str(tmp_path / "d"))
    assert r.returncode == 2 and "port must be an integer" in r.stderr


def test_config_check_fails_on_an_unreachable_database_without_its_password(
        tmp_path: Path) -> None:
    r = _run("config", "check", "--db", "postgresql+psycopg://u:pa55word-x@127.0.0.1:1/x",
             "--data-dir", str(tmp_path / "data"), *PRODUCTION,
             env=_env(RECOGNITION_DESK_TOTP_KEY=TOTP_KEY, RECOGNITION_DESK_OTP_PEPPER=PEPPER))
    assert r.returncode == 1
    fails = [line for line in _lines(r) if line.startswith("FAIL database ")]
    assert len(fails) == 1 and "u:***@127.0.0.1:1/x" in fails[0], r.stdout
    _no_secret(r, "pa55word-x", PEPPER, TOTP_KEY)


def test_demo_mode_still_starts_without_any_of_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = f"sqlite:///{tmp_path / 'demo.sqlite3'}"  # even with --db: the demo rule
    proc = subprocess.Popen([*_desk_command(), "serve", "--demo", "--port", "0", "--db", db,
                             "--data-dir", str(data), "--exit-with-parent"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env())
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on "), proc.stderr.read() if proc.stderr else line
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "created an OTP pepper in the data dir" in err
    for name in ("otp-pepper.bin", "archive-demo-private.key", "archive-public.key"):
        assert (data / name).exists()
