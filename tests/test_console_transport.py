"""Console side of files and transport: no plain HTTP off loopback, and the archive key the
console seals evidence to is pinned (a different key is refused until re-pinned)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from console.client import DeskClient
from console.errors import ConsoleError, InsecureUrl
from console.evidence.cli import TokenApi
from console.evidence.cli import main as evidence_main
from console.evidence.errors import EvidenceError, EvidenceKeyError
from console.evidence.keys import ArchivePublicKey
from console.evidence.pin import (
    ArchiveKeyChanged,
    check_pin,
    fingerprint,
    load_pin,
    pin_path,
    repin,
)
from console.evidence.upload import Uploader
from console.settings import Settings
from console.urls import is_loopback_host, require_secure_url

pytestmark = pytest.mark.timeout(120)


# --- plain HTTP only to loopback ---------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://127.3.4.5", "http://[::1]:80",
                                 "http://localhost:8080/api/v1", "http://LOCALHOST",
                                 "https://desk.example", "https://10.0.0.5:8443"])
def test_loopback_and_https_are_accepted(url: str) -> None:
    DeskClient(url).close()
    require_secure_url(url)
    assert Settings(server_url=url).validate().get("server_url") is None


@pytest.mark.parametrize("url", ["http://desk.example", "http://10.0.0.5:8080",
                                 "http://192.168.1.10", "http://[2001:db8::1]:8080",
                                 "http://localhost.evil.example", "http://127.0.0.1.nip.io"])
def test_plain_http_off_loopback_is_refused(url: str) -> None:
    with pytest.raises(InsecureUrl) as err:
        DeskClient(url)
    assert err.value.code == "insecure_url"
    assert isinstance(err.value, ConsoleError) and isinstance(err.value, ValueError)
    assert "https://" in str(err.value) and "127.0.0.1" in str(err.value)
    with pytest.raises(InsecureUrl):
        TokenApi(url, "token")
    assert Settings(server_url=url).validate()["server_url"] == "insecure_url"


def test_loopback_hosts() -> None:
    assert is_loopback_host("127.0.0.1") and is_loopback_host("::1")
    assert is_loopback_host("[::1]") and is_loopback_host("localhost")
    assert not is_loopback_host("0.0.0.0") and not is_loopback_host("")
    assert not is_loopback_host(None) and not is_loopback_host("::ffff:10.0.0.1")


# --- archive key pin ---------------------------------------------------------------------------

def _key(seed: int, key_id: str | None = None) -> ArchivePublicKey:
    raw = bytes([seed]) * 32
    return ArchivePublicKey(key_id or f"key{seed}", raw)


class FakeApi:
    """Answers GET /archive-key with ``self.key``; nothing else is needed here."""

    def __init__(self, key: ArchivePublicKey) -> None:
        self.key = key
        self.calls = 0

    def call(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        assert (method, path) == ("GET", "/archive-key")
        self.calls += 1
        return 200, self.key.to_json()


def test_first_key_is_pinned_and_a_different_one_refused(tmp_path: Path) -> None:
    api = FakeApi(_key(1))
    up = Uploader(api, tmp_path)
    try:
        assert up.archive_key() == _key(1)
        pin = load_pin(tmp_path)
        assert pin is not None and pin.key_id == "key1"
        assert pin.fingerprint == fingerprint(_key(1)) == \
            hashlib.sha256(bytes([1]) * 32).hexdigest()
        assert stat.S_IMODE(pin_path(tmp_path).stat().st_mode) == 0o600
        assert stat.S_IMODE(pin_path(tmp_path).parent.stat().st_mode) == 0o700
        cache = tmp_path / "evidence" / "archive_key.json"
        assert stat.S_IMODE(cache.stat().st_mode) == 0o600
        assert up.archive_key() == _key(1)  # the same key again: fine
        for other in (_key(2), _key(2, "key1"), _key(1, "key-renamed")):
            api.key = other
            with pytest.raises(ArchiveKeyChanged) as err:
                up.archive_key()
            assert err.value.code == "evidence_archive_key_changed"
            assert isinstance(err.value, EvidenceError)
            assert "--repin" in str(err.value) and "key1" in str(err.value)
        assert json.loads(cache.read_text())["public_key"] == \
            base64.b64encode(bytes([1]) * 32).decode()  # the cache still holds the pinned key
        # an explicit re-pin (after an intended rotation) accepts the new key from then on
        repin(tmp_path, _key(2))
        api.key = _key(2)
        assert up.archive_key() == _key(2)
        api.key = _key(1)
        with pytest.raises(ArchiveKeyChanged):
            up.archive_key()
    finally:
        up.outbox.close()


def test_offline_cache_is_checked_against_the_pin(tmp_path: Path) -> None:
    class Dead:
        def call(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
            from console.errors import ServerUnreachable

            raise ServerUnreachable("down (test)")

    up = Uploader(FakeApi(_key(3)), tmp_path)
    up.archive_key()
    up.outbox.close()
    offline = Uploader(Dead(), tmp_path)
    try:
        assert offline.archive_key() == _key(3)
        cache = tmp_path / "evidence" / "archive_key.json"
        cache.write_text(json.dumps(_key(4).to_json()))  # tampered while offline
        with pytest.raises(ArchiveKeyChanged):
            offline.archive_key()
    finally:
        offline.outbox.close()


def test_malformed_pin_is_an_error_not_a_fresh_pin(tmp_path: Path) -> None:
    check_pin(tmp_path, _key(5))
    pin_path(tmp_path).write_text("{not json")
    with pytest.raises(EvidenceKeyError, match="malformed"):
        check_pin(tmp_path, _key(6))
    pin_path(tmp_path).write_text(json.dumps({"key_id": "k", "fingerprint": "zz"}))
    with pytest.raises(EvidenceKeyError):
        load_pin(tmp_path)
    repin(tmp_path, _key(6))
    assert check_pin(tmp_path, _key(6)).key_id == "key6"


def test_archive_key_cli_against_a_real_desk(desk_server_shared: Any, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    url = desk_server_shared.base_url
    data = str(tmp_path / "console")
    assert evidence_main(["archive-key", "--data-dir", data]) == 0
    assert "no archive key pinned" in capsys.readouterr().out
    assert evidence_main(["archive-key", "--desk", url, "--data-dir", data]) == 0
    first = load_pin(data)
    assert first is not None
    served = desk_server_shared.http.get(f"{desk_server_shared.api_url}/archive-key",
                                         timeout=10).json()
    assert first.key_id == served["key_id"]
    assert first.fingerprint == fingerprint(ArchivePublicKey.from_json(served))
    assert "pinned" in capsys.readouterr().out
    # pinned to another key: the service's key is refused, exit 1, until --repin
    repin(data, _key(7))
    assert evidence_main(["archive-key", "--desk", url, "--data-dir", data]) == 1
    assert "re-pin" in capsys.readouterr().err
    up = Uploader(TokenApi(url, ""), data)
    try:
        with pytest.raises(ArchiveKeyChanged):
            up.archive_key()
    finally:
        up.outbox.close()
    assert evidence_main(["archive-key", "--repin", "--data-dir", data]) == 2  # needs --desk
    assert evidence_main(["archive-key", "--desk", url, "--repin", "--data-dir", data]) == 0
    again = load_pin(data)
    assert again is not None and again.fingerprint == first.fingerprint
    assert evidence_main(["archive-key", "--data-dir", data]) == 0
    assert first.key_id in capsys.readouterr().out
    assert evidence_main(["archive-key", "--desk", "http://desk.example", "--data-dir",
                          data]) == 2
    assert "https://" in capsys.readouterr().err
    assert os.path.exists(pin_path(data))
