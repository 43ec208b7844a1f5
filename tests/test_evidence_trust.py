"""Evidence trust anchored outside the package: trust stores (file, desk registry), unknown,
revoked and out-of-validity keys, archive members that appear twice or are not in the manifest,
the enrolment key print-out, and the desk service's key registry."""

from __future__ import annotations

import base64
import io
import json
import shutil
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.evidence import (
    EvidenceKeyError,
    TrustedKey,
    TrustStore,
    WorkstationKey,
    build_archive,
    fetch_trust_store,
    verify,
)
from console.evidence.cli import TokenApi
from console.evidence.cli import main as cli_main
from console.evidence.package import write_manifest
from console.evidence.verify import VerifyResult
from tests.fixtures.desk import DeskServer
from tests.test_evidence_package import make_package


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WorkstationKey]:
    """A finalised package and the local key that signed it."""
    root = tmp_path_factory.mktemp("trust")
    folder = make_package(root, seconds=0.4)
    return folder, WorkstationKey.load_or_create(root / "data")


@pytest.fixture
def package(signed: tuple[Path, WorkstationKey], tmp_path: Path) -> Path:
    dst = tmp_path / signed[0].name
    shutil.copytree(signed[0], dst)
    return dst


@pytest.fixture
def key(signed: tuple[Path, WorkstationKey]) -> WorkstationKey:
    return signed[1]


def _signed_at(folder: Path) -> datetime:
    created = json.loads((folder / "manifest.json").read_bytes())["created_at"]
    return datetime.fromisoformat(created.replace("Z", "+00:00"))


def _store(key: WorkstationKey, **limits: datetime | None) -> TrustStore:
    return TrustStore((TrustedKey(key.key_id, key.public_raw, "ws-test-01", **limits),),
                      source="test store")


def _only_problem(result: VerifyResult) -> tuple[str, str, str]:
    assert not result.ok
    assert len(result.problems) == 1, result.problems
    p = result.problems[0]
    return p.kind, p.path, p.detail


def _resign(folder: Path, rogue: WorkstationKey) -> None:
    """What an attacker can do: alter a file, then re-sign everything with a key of their own
    (the package then carries the rogue public key and is self-consistent)."""
    session = json.loads((folder / "session.json").read_bytes())
    (folder / "transcript.json").write_text('{"steps": []}')
    (folder / "workstation_key.pub").write_text(rogue.public_b64 + "\n")
    m = json.loads((folder / "manifest.json").read_bytes())
    write_manifest(folder, rogue, session, m["audit"]["head"], m["audit"]["entries"],
                   partial=False, recording=m["recording"])


# --- signer -----------------------------------------------------------------------------------

def test_enrolled_key_verifies_folder_and_archive(package: Path, key: WorkstationKey) -> None:
    store = _store(key)
    for path in (package, build_archive(package)):
        result = verify(path, trust=store)
        assert result.ok, result.problems
        assert result.workstation == "ws-test-01" and result.key_id == key.key_id
        assert result.as_dict()["signed_at"] == result.signed_at


def test_forged_content_is_refused(package: Path, key: WorkstationKey) -> None:
    (package / "transcript.json").write_text('{"steps": []}')
    kind, path, _ = _only_problem(verify(package, trust=_store(key)))
    assert (kind, path) == ("altered", "transcript.json")


def test_resigned_with_a_fresh_key_is_refused(package: Path, key: WorkstationKey,
                                             tmp_path: Path) -> None:
    rogue = WorkstationKey.load_or_create(tmp_path / "rogue")
    _resign(package, rogue)
    for path in (package, build_archive(package, tmp_path / "rogue.tar")):
        kind, where, detail = _only_problem(verify(path, trust=_store(key)))
        assert (kind, where) == ("untrusted", "manifest.sig")
        assert detail.startswith(f"signed by unknown key {rogue.key_id}")
        assert "test store" in detail


def test_without_a_trust_store_every_package_is_refused(package: Path, key: WorkstationKey
                                                        ) -> None:
    kind, _, detail = _only_problem(verify(package))
    assert kind == "untrusted"
    assert f"signed by unknown key {key.key_id}" in detail and "--trust" in detail


def test_unknown_key_is_named(package: Path, key: WorkstationKey, tmp_path: Path) -> None:
    other = WorkstationKey.load_or_create(tmp_path / "other")
    kind, _, detail = _only_problem(verify(package, trust=TrustStore.of_keys([other])))
    assert kind == "untrusted" and f"signed by unknown key {key.key_id}" in detail


def test_revoked_key(package: Path, key: WorkstationKey) -> None:
    t = _signed_at(package)
    kind, _, detail = _only_problem(verify(package, trust=_store(
        key, revoked_at=t - timedelta(hours=1))))
    assert kind == "untrusted"
    assert f"signed by revoked key {key.key_id} (workstation ws-test-01)" in detail
    assert "before the package was signed" in detail
    # revoked later than the package was signed: that signature still counts
    assert verify(package, trust=_store(key, revoked_at=t + timedelta(hours=1))).ok


def test_key_outside_its_validity(package: Path, key: WorkstationKey) -> None:
    t = _signed_at(package)
    _, _, early = _only_problem(verify(package, trust=_store(
        key, not_before=t + timedelta(days=1))))
    assert f"key {key.key_id}" in early and "before its validity begins" in early
    _, _, late = _only_problem(verify(package, trust=_store(
        key, not_before=t - timedelta(days=30), not_after=t - timedelta(days=1))))
    assert f"key {key.key_id}" in late and "after its validity ended" in late
    assert verify(package, trust=_store(key, not_before=t - timedelta(days=1),
                                        not_after=t + timedelta(days=1))).ok


# --- archive members --------------------------------------------------------------------------

def _tar(folder: Path, target: Path, extra: list[tuple[str, bytes]] | None = None,
         first: list[tuple[str, bytes]] | None = None) -> Path:
    """The package's archive with members added before (``first``) or after (``extra``)."""
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))

        for name, data in first or []:
            add(name, data)
        for p in sorted(q for q in folder.rglob("*") if q.is_file()):
            add(f"{folder.name}/{p.relative_to(folder).as_posix()}", p.read_bytes())
        for name, data in extra or []:
            add(name, data)
    return target


def test_duplicate_member_is_refused(package: Path, key: WorkstationKey, tmp_path: Path
                                     ) -> None:
    store = _store(key)
    pid = package.name
    original = (package / "transcript.json").read_bytes()
    forged = b'{"steps": []}\n'
    # the forged copy first and the original last (tar's "last one wins"), and the other way
    for i, (first, extra) in enumerate([
        ([(f"{pid}/transcript.json", forged)], None),
        (None, [(f"{pid}/transcript.json", forged)]),
        (None, [(f"{pid}/transcript.json", original)]),  # even an identical second copy
        (None, [(f"./{pid}/manifest.json", (package / "manifest.json").read_bytes())]),
    ]):
        target = _tar(package, tmp_path / f"dup{i}.tar", extra, first)
        result = verify(target, trust=store)
        assert not result.ok, i
        dup = [p for p in result.problems if p.detail == "appears more than once in the archive"]
        assert dup and dup[0].kind == "added", (i, result.problems)
        assert dup[0].path in ("transcript.json", "manifest.json")


def test_sealed_archive_with_a_duplicate_or_a_link_does_not_open(
        package: Path, key: WorkstationKey, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Inside a sealed package, too: a second copy of a member (tar's "last one wins") or a
    link is refused while opening, before anything is verified or read."""
    from console.evidence import generate_archive_key, open_sealed, seal
    from console.evidence.seal import SealError

    archive_key = tmp_path / "archive.pem"
    public = generate_archive_key(archive_key)
    pid = package.name
    trust = _store(key).save(tmp_path / "trust.json")
    link = tarfile.TarInfo(f"{pid}/captures/evil.png")
    link.type, link.linkname = tarfile.SYMTYPE, "../transcript.json"
    for i, extra in enumerate(([(f"{pid}/transcript.json", b'{"steps": []}\n')], None)):
        plain = _tar(package, tmp_path / f"s{i}.tar", extra)
        if extra is None:  # append a symbolic link to the plain archive
            with tarfile.open(plain, "a") as tar:
                tar.addfile(link)
        sealed = seal(plain, public, tmp_path / f"s{i}.sealed").path
        with pytest.raises(SealError, match="twice" if extra else "not a file"):
            open_sealed(sealed, archive_key, tmp_path / f"out{i}")
        assert not (tmp_path / f"out{i}" / pid).exists()  # nothing left half-extracted
        assert cli_main(["verify", str(sealed), "--key", str(archive_key), "--trust",
                         str(trust)]) != 0
        capsys.readouterr()


def test_unexpected_members_are_refused(package: Path, key: WorkstationKey, tmp_path: Path
                                        ) -> None:
    store = _store(key)
    pid = package.name
    assert verify(_tar(package, tmp_path / "plain.tar"), trust=store).ok
    cases = {
        f"{pid}/notes.txt": ("notes.txt", "not listed in the manifest"),
        f"{pid}/captures/02_extra.png": ("captures/02_extra.png", "not listed in the manifest"),
        "elsewhere/manifest.json": ("elsewhere/manifest.json", "outside the package folder"),
        f"{pid}/./notes.txt": (f"{pid}/./notes.txt", "not a plain relative path"),
        f"{pid}/captures/../transcript.json": (f"{pid}/captures/../transcript.json",
                                               "not a plain relative path"),
        f"/{pid}/notes.txt": (f"/{pid}/notes.txt", "not a plain relative path"),
    }
    for i, (name, (path, why)) in enumerate(cases.items()):
        target = _tar(package, tmp_path / f"extra{i}.tar", [(name, b"smuggled")])
        kind, where, detail = _only_problem(verify(target, trust=store))
        assert (kind, where) == ("added", path), name
        assert why in detail, (name, detail)


def test_directory_entries_inside_the_package_are_accepted(package: Path, key: WorkstationKey,
                                                          tmp_path: Path) -> None:
    target = tmp_path / "with-dirs.tar"
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(package, arcname=package.name)  # what `tar cf` makes: folders included
    assert verify(target, trust=_store(key)).ok


# --- the trust store file and the command line ------------------------------------------------

def test_trust_store_file_round_trip_and_errors(key: WorkstationKey, tmp_path: Path) -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    store = _store(key, not_before=t, not_after=t + timedelta(days=365))
    path = store.save(tmp_path / "trust.json")
    loaded = TrustStore.load(path)
    assert loaded.keys == store.keys and loaded.source == "trust store trust.json"
    data = json.loads(path.read_text())
    assert data["format"] == "recognition-desk/workstation-keys"
    entry = data["keys"][0]
    assert entry["public_key"] == key.public_b64 and entry["key_id"] == key.key_id
    assert entry["not_before"] == "2026-01-01T00:00:00Z" and entry["revoked_at"] is None
    assert TrustStore.from_json(data["keys"]).keys == store.keys  # a bare list is read too
    bad: list[Any] = [
        [{**entry, "key_id": "0" * 64}],
        [{**entry, "public_key": base64.b64encode(b"x" * 31).decode()}],
        [{**entry, "workstation": "no spaces please"}],
        [{**entry, "not_before": "yesterday"}],
        [{**entry, "algorithm": "RSA"}],
        [entry, entry],
        {"format": "something-else", "keys": []},
        {"keys": "nope"},
    ]
    for item in bad:
        with pytest.raises(EvidenceKeyError, match="trust store"):
            TrustStore.from_json(item)


def test_cli_trust_options(package: Path, key: WorkstationKey, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    trust = _store(key).save(tmp_path / "trust.json")
    assert cli_main(["verify", str(package), "--trust", str(trust)]) == 0
    out = capsys.readouterr().out
    assert "OK: package" in out and "ws-test-01" in out and key.key_id in out
    assert cli_main(["verify", str(package), "--trusted-key", key.public_b64]) == 0
    capsys.readouterr()
    rogue = WorkstationKey.load_or_create(tmp_path / "rogue")
    assert cli_main(["verify", str(package), "--trusted-key", rogue.public_b64]) == 1
    assert f"untrusted: manifest.sig: signed by unknown key {key.key_id}" in \
        capsys.readouterr().out
    assert cli_main(["verify", str(package), "--json", "--trust", str(trust)]) == 0
    assert json.loads(capsys.readouterr().out)["workstation"] == "ws-test-01"
    # unusable trust input: exit 2 with a clear message, no traceback
    (tmp_path / "broken.json").write_text("{not json")
    for args in (["--trust", str(tmp_path / "broken.json")],
                 ["--trust", str(tmp_path / "missing.json")],
                 ["--trusted-key", "not-base64!"],
                 ["--save-trust", str(tmp_path / "pin.json")],
                 ["--desk", "http://127.0.0.1:9"]):  # no token
        assert cli_main(["verify", str(package), *args]) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "Traceback" not in err, args


def test_cli_open_verifies_against_the_trust_store(package: Path, key: WorkstationKey,
                                                  tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from console.evidence import generate_archive_key, seal

    archive_key = tmp_path / "archive.pem"
    sealed = seal(package, generate_archive_key(archive_key), tmp_path / "p.sealed").path
    trust = _store(key).save(tmp_path / "trust.json")
    assert cli_main(["verify", str(sealed), "--key", str(archive_key), "--trust",
                     str(trust)]) == 0
    capsys.readouterr()
    assert cli_main(["open", str(sealed), "--key", str(archive_key), "--out",
                     str(tmp_path / "a"), "--trust", str(trust)]) == 0
    assert "verify: OK (signed by workstation ws-test-01)" in capsys.readouterr().out
    # opened without a trust store: the files are there, but the signer is not vouched for
    assert cli_main(["open", str(sealed), "--key", str(archive_key), "--out",
                     str(tmp_path / "b")]) == 1
    out = capsys.readouterr().out
    assert "verify: FAILED" in out and f"signed by unknown key {key.key_id}" in out


def test_evidence_key_public(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "console-data"
    assert cli_main(["key", "--public", "--data-dir", str(data)]) == 0
    captured = capsys.readouterr()
    key = WorkstationKey.load_or_create(data)  # created by the command, then reused
    assert captured.out.strip() == key.public_b64
    assert key.key_id in captured.err and "PRIVATE" not in captured.out
    assert cli_main(["key", "--public", "--json", "--workstation", "ws-roma-01",
                     "--data-dir", str(data)]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body == {"workstation": "ws-roma-01", "public_key": key.public_b64,
                    "key_id": key.key_id, "algorithm": "Ed25519"}
    assert len(base64.b64decode(body["public_key"])) == 32
    assert cli_main(["key", "--data-dir", str(data)]) == 2  # the private half is never printed
    assert cli_main(["key", "--public", "--workstation", "bad name",
                     "--data-dir", str(data)]) == 2
    capsys.readouterr()


# --- the desk service's registry --------------------------------------------------------------

def test_store_registry_methods(tmp_path: Path, key: WorkstationKey) -> None:
    from server.errors import ApiError
    from server.store import Store

    store = Store(f"sqlite:///{tmp_path / 'desk.sqlite3'}", migrate=True)
    try:
        now = datetime(2026, 3, 1, tzinfo=UTC)
        row = store.enrol_workstation_key(key.key_id, key.public_b64, "ws-a", None, None, now,
                                          None)
        assert row.key_id == key.key_id and row.revoked_at is None
        with pytest.raises(ApiError) as dup:
            store.enrol_workstation_key(key.key_id, key.public_b64, "ws-b", None, None, now,
                                        None)
        assert dup.value.status == 409
        assert [k.key_id for k in store.workstation_keys()] == [key.key_id]
        later = store.revoke_workstation_key(key.key_id, now + timedelta(days=2), None)
        earlier = store.revoke_workstation_key(key.key_id, now + timedelta(days=1), None)
        again = store.revoke_workstation_key(key.key_id, now + timedelta(days=5), None)
        assert later.revoked_at == now + timedelta(days=2)
        assert earlier.revoked_at == again.revoked_at == now + timedelta(days=1)
        with pytest.raises(ApiError) as missing:
            store.revoke_workstation_key("f" * 64, now, None)
        assert missing.value.status == 404
    finally:
        store.close()


def _admin(desk: DeskServer) -> str:
    admins = [o["username"] for o in desk.seed["operators"] if o["role"] == "admin"]
    if not admins:
        pytest.skip("the demo seed has no administrator account yet")
    return str(admins[0])


def test_registry_over_http_and_verify_with_desk(desk_server_shared: DeskServer,
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    desk = desk_server_shared
    admin = _admin(desk)
    folder = make_package(tmp_path, seconds=0.3)
    key = WorkstationKey.load_or_create(tmp_path / "data")
    name = f"ws-{key.key_id[:8]}"
    # every signed-in role reads the trust store; only administrators enrol
    listing = desk.api("GET", "/workstation-keys", username="operatore1")
    assert listing.status_code == 200, listing.text
    assert listing.json()["format"] == "recognition-desk/workstation-keys"
    assert desk.api("GET", "/workstation-keys").status_code == 401
    body = key.enrolment(name)  # what `evidence key --public --json` prints
    assert desk.api("POST", "/workstation-keys", username="supervisore1",
                    json=body).status_code == 403
    # malformed enrolments: 422 naming the field
    for bad, field in [({**body, "public_key": "abc"}, "public_key"),
                       ({**body, "public_key": base64.b64encode(b"k" * 31).decode()},
                        "public_key"),
                       ({**body, "workstation": "no spaces"}, "workstation"),
                       ({**body, "key_id": "0" * 64}, "key_id"),
                       ({**body, "algorithm": "RSA"}, "algorithm"),
                       ({**body, "not_before": "2027-01-01T00:00:00Z",
                         "not_after": "2026-01-01T00:00:00Z"}, "not_after"),
                       ({**body, "colour": "blue"}, "colour"),
                       ({"workstation": name}, "public_key")]:
        r = desk.api("POST", "/workstation-keys", username=admin, json=bad)
        assert r.status_code == 422, (field, r.text)
        assert field in r.json()["fields"], (field, r.json())
    r = desk.api("POST", "/workstation-keys", username=admin,
                 json={"workstation": name, "public_key": key.public_b64})
    assert r.status_code == 201, r.text
    enrolled = r.json()
    assert enrolled["key_id"] == key.key_id and enrolled["revoked_at"] is None
    assert desk.api("POST", "/workstation-keys", username=admin, json=body).status_code == 409
    listed = desk.api("GET", "/workstation-keys", username="formatore1").json()["keys"]
    mine = [k for k in listed if k["key_id"] == key.key_id]
    assert mine and mine[0]["public_key"] == key.public_b64 and "private" not in json.dumps(mine)
    # the console fetches the registry, pins it, and verifies against it
    token = desk.token("operatore1")
    store = fetch_trust_store(TokenApi(desk.base_url, token))
    assert store.find(key.public_raw) is not None
    pin = tmp_path / "pinned.json"
    assert cli_main(["verify", str(folder), "--desk", desk.base_url, f"--token={token}",
                     "--save-trust", str(pin)]) == 0
    captured = capsys.readouterr()
    assert f"signed by workstation {name}" in captured.out and "pinned" in captured.err
    assert token not in captured.out + captured.err
    assert cli_main(["verify", str(folder), "--trust", str(pin)]) == 0
    # a package re-signed by a key nobody enrolled: refused by the registry too
    rogue_pkg = tmp_path / "rogue" / folder.name
    shutil.copytree(folder, rogue_pkg)
    rogue = WorkstationKey.load_or_create(tmp_path / "rogue-key")
    _resign(rogue_pkg, rogue)
    assert cli_main(["verify", str(rogue_pkg), "--desk", desk.base_url,
                     f"--token={token}"]) == 1
    assert f"signed by unknown key {rogue.key_id}" in capsys.readouterr().out
    # revocation: administrators only, never in the future, from the compromise time on
    rev = f"/workstation-keys/{key.key_id}/revoke"
    assert desk.api("POST", rev, username="supervisore1").status_code == 403
    assert desk.api("POST", f"/workstation-keys/{'e' * 64}/revoke",
                    username=admin).status_code == 404
    future = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = desk.api("POST", rev, username=admin, json={"revoked_at": future})
    assert r.status_code == 422 and "revoked_at" in r.json()["fields"]
    before = (_signed_at(folder) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = desk.api("POST", rev, username=admin, json={"revoked_at": before})
    assert r.status_code == 200, r.text
    assert r.json()["revoked_at"] == before
    assert cli_main(["verify", str(folder), "--desk", desk.base_url, f"--token={token}"]) == 1
    out = capsys.readouterr().out
    assert f"signed by revoked key {key.key_id}" in out
    assert desk.api("POST", rev, username=admin).status_code == 200  # idempotent, not undone
    assert desk.api("GET", "/workstation-keys", username="operatore1").json()["keys"]
