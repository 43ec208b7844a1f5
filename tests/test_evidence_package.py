"""Evidence package: build, sign, verify (tamper detection), archive, seal and open."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from console.evidence import (
    EvidencePackageBuilder,
    PackageError,
    SealError,
    TrustStore,
    WorkstationKey,
    build_archive,
    generate_archive_key,
    open_sealed,
    seal,
    sealed_header,
    verify,
)
from console.evidence.audit import check_chain
from console.evidence.cli import main as cli_main

CF = "RSSMRA85D52H501P"
OTP_CODE = "493817"


def make_package(root: Path, *, seconds: float = 1.0, request_id: str = "req-1",
                 work: Path | None = None) -> Path:
    key = WorkstationKey.load_or_create(root / "data")
    b = EvidencePackageBuilder.create(
        work or root / "work", key, request_id=request_id, product="spid_personal",
        operator={"id": "op-1", "username": "operatore1", "display_name": "Operatore Uno"},
        applicant={"surname": "ROSSI", "given_names": "MARIA", "codice_fiscale": CF},
        script_id="spid_remote")
    rec = b.start_recording(video_sizes={"applicant_video": (320, 180),
                                         "operator_video": (160, 90)}, queue_size=1024)
    t0 = rec.start_ts
    assert t0 is not None
    for i in range(int(seconds * 25)):
        img = np.zeros((180, 320, 3), np.uint8)
        img[:, (i * 5) % 300:(i * 5) % 300 + 20] = 255
        rec.submit("applicant_video", img, t0 + i / 25)
        rec.submit("operator_video", img[::2, ::2].copy(), t0 + i / 25)
        tone = (np.sin(np.arange(1920) / 7 + i) * 3000).astype(np.int16)
        for k in range(2):
            rec.submit("applicant_audio", tone[k * 960:(k + 1) * 960], t0 + i / 25 + k * 0.02)
            rec.submit("operator_audio", tone[k * 960:(k + 1) * 960], t0 + i / 25 + k * 0.02)
    b.record_step("consent", agid="a", passed=True, answer="sì, acconsento")
    b.record_step("operator_identity", agid="b", passed=True)
    doc = np.zeros((400, 640, 3), np.uint8)
    doc[50:350, 50:590] = (200, 180, 160)
    b.add_capture("document_front", doc, quality={"sharpness": 0.91, "glare": 0.02},
                  checks={"mrz_check_digits": "ok", "expiry": "valid"})
    b.otp_event("sent", otp_id="otp-1", code=OTP_CODE, expires_at="2026-11-23T10:05:00Z")
    b.otp_event("verified", otp_id="otp-1", attempts_left=2, otp=OTP_CODE)
    b.email_event("confirmed", confirmed_at="2026-11-23T10:03:00Z")
    b.connection_event("lost", reason="no_pong")
    b.connection_event("restored")
    b.note("applicant wears glasses")
    b.record_decision("approved", "ok", "all checks passed", decision_id="d-1")
    return b.finalize()


@pytest.fixture(scope="module")
def package_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_package(tmp_path_factory.mktemp("pkg"))


@pytest.fixture
def package(package_template: Path, tmp_path: Path) -> Path:
    dst = tmp_path / package_template.name
    shutil.copytree(package_template, dst)
    return dst


def local_trust(root: Path) -> TrustStore:
    """A trust store with the workstation key ``make_package(root)`` signed with, built from the
    local key (never from the package)."""
    return TrustStore.of_keys([WorkstationKey.load_or_create(root / "data")], workstation="test")


@pytest.fixture(scope="module")
def trust(package_template: Path) -> TrustStore:
    return local_trust(package_template.parent.parent)


@pytest.fixture
def trust_file(trust: TrustStore, tmp_path: Path) -> Path:
    return trust.save(tmp_path / "trust.json")


def test_package_contents(package: Path) -> None:
    names = {p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()}
    assert {"recording.mkv", "recording.timeline.jsonl", "audit.jsonl", "manifest.json",
            "manifest.sig", "workstation_key.pub", "session.json", "transcript.json",
            "otp_events.json", "decision.json", "captures.json", "report.pdf",
            "captures/01_document_front.png"} <= names
    manifest = json.loads((package / "manifest.json").read_bytes())
    assert set(manifest["files"]) == names - {"manifest.json", "manifest.sig"}
    assert manifest["operator"]["username"] == "operatore1"
    assert manifest["software"]["name"] == "recognition-console"
    assert len(manifest["workstation"]["public_key"]) == 44
    # the OTP code is nowhere in the package
    for p in package.rglob("*"):
        if p.is_file():
            assert OTP_CODE.encode() not in p.read_bytes(), p
    # the audit log is hash-chained and its head is in the manifest
    entries, problems, head = check_chain((package / "audit.jsonl").read_bytes().split(b"\n"))
    assert not problems
    assert head == manifest["audit"]["head"]
    assert all(e["prev"] == p["hash"] for p, e in itertools.pairwise(entries))
    # captures: lossless PNG with time, step, sha256
    caps = json.loads((package / "captures.json").read_text())["captures"]
    assert caps[0]["step"] == "document_front" and caps[0]["captured_at"].endswith("Z")
    assert caps[0]["quality"]["sharpness"] == 0.91
    png = (package / caps[0]["file"]).read_bytes()
    import hashlib

    import cv2

    assert hashlib.sha256(png).hexdigest() == caps[0]["sha256"]
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert tuple(img[100, 100]) == (200, 180, 160)  # lossless
    steps = json.loads((package / "transcript.json").read_text())["steps"]
    assert [s["step"] for s in steps] == ["consent", "operator_identity"]
    assert all(isinstance(s["offset_s"], float) for s in steps)
    decision = json.loads((package / "decision.json").read_text())["decision"]
    assert decision["decision"] == "approved" and decision["reason_code"] == "ok"
    with av.open(str(package / "recording.mkv")) as c:
        assert len(c.streams) == 4
        titles = [ch["metadata"]["title"] for ch in c.chapters()]
    assert "decision:approved" in titles and "capture:document_front" in titles
    assert (package / "report.pdf").read_bytes().startswith(b"%PDF")


def test_report_mentions_steps_sha_and_offsets(package: Path) -> None:
    text = pdf_text(package / "report.pdf")
    manifest = json.loads((package / "manifest.json").read_bytes())
    assert manifest["recording"]["sha256"] in text
    assert "[PASS] consent (AgID a)" in text
    assert "APPROVED - reason ok" in text
    assert "@ 00:00:" in text
    assert "OTP verified" in text and OTP_CODE not in text
    assert "mrz_check_digits=ok" in text


def test_intact_package_verifies(package: Path, trust: TrustStore) -> None:
    result = verify(package, trust=trust)
    assert result.ok, result.problems
    assert result.files_checked == 13
    assert result.workstation == "test" and result.key_id == trust.keys[0].key_id
    archive = build_archive(package)
    assert verify(archive, trust=trust).ok
    # the package is intact, but nobody said which key to trust: refused, naming the key
    for path in (package, archive):
        untrusted = verify(path)
        assert [(p.kind, p.path) for p in untrusted.problems] == [("untrusted", "manifest.sig")]
        assert f"signed by unknown key {trust.keys[0].key_id}" in untrusted.problems[0].detail


def pdf_text(path: Path) -> str:
    """Text of an fpdf2 PDF: inflate its content streams, unescape the (...) Tj strings."""
    import re
    import zlib

    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", path.read_bytes(), re.S):
        try:
            content = zlib.decompress(m.group(1))
        except zlib.error:
            continue
        for s in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", content):
            out.append(re.sub(rb"\\(.)", rb"\1", s).decode("latin-1"))
    return "\n".join(out)


def _flip(path: Path, pos: int) -> None:
    data = bytearray(path.read_bytes())
    data[pos] ^= 0x01
    path.write_bytes(bytes(data))


def test_one_byte_flipped_anywhere_is_named(package: Path, tmp_path: Path,
                                            trust: TrustStore) -> None:
    files = sorted(p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file())
    checked = 0
    for rel in files:
        size = (package / rel).stat().st_size
        for pos in sorted({0, size // 2, size - 1}):
            work = tmp_path / f"w{checked}"
            shutil.copytree(package, work)
            _flip(work / rel, pos)
            result = verify(work, trust=trust)
            assert not result.ok, (rel, pos)
            named = " ".join(p.path for p in result.problems)
            assert rel in named, (rel, pos, result.problems)
            shutil.rmtree(work)
            checked += 1
    assert checked >= 3 * len(files) - 2


def test_removed_and_added_files_are_named(package: Path, trust: TrustStore) -> None:
    (package / "captures" / "01_document_front.png").unlink()
    (package / "captures" / "02_extra.png").write_bytes(b"\x89PNG\r\n\x1a\nforged")
    (package / "notes.txt").write_text("added later")
    result = verify(package, trust=trust)
    assert not result.ok
    got = {(p.kind, p.path) for p in result.problems}
    assert got == {("removed", "captures/01_document_front.png"),
                   ("added", "captures/02_extra.png"), ("added", "notes.txt")}


def test_removed_manifest_or_audit_entry(package: Path, tmp_path: Path,
                                        trust: TrustStore) -> None:
    other = tmp_path / "other"
    shutil.copytree(package, other)
    (package / "manifest.json").unlink()
    result = verify(package, trust=trust)
    assert [(p.kind, p.path) for p in result.problems] == [("removed", "manifest.json")]
    # drop the last audit entry (and fix nothing else): named as audit.jsonl
    lines = (other / "audit.jsonl").read_bytes().splitlines(keepends=True)
    (other / "audit.jsonl").write_bytes(b"".join(lines[:-1]))
    result = verify(other, trust=trust)
    assert {p.path for p in result.problems} == {"audit.jsonl"}


def test_resigned_with_another_key_is_not_trusted(package: Path, tmp_path: Path,
                                                  trust: TrustStore) -> None:
    assert verify(package, trust=trust).ok
    # an attacker with another key re-signs an altered package: self-consistent but untrusted
    from console.evidence.package import write_manifest

    rogue = WorkstationKey.load_or_create(tmp_path / "rogue")
    session = json.loads((package / "session.json").read_bytes())
    (package / "transcript.json").write_text("{}")
    (package / "workstation_key.pub").write_text(rogue.public_b64 + "\n")
    m = json.loads((package / "manifest.json").read_bytes())
    write_manifest(package, rogue, session, m["audit"]["head"], m["audit"]["entries"],
                   partial=False, recording=m["recording"])
    # self-consistent (hashes, audit chain and the embedded key's signature all agree), but the
    # signer is not in the trust store: refused, naming the rogue key -- with or without a store
    for result in (verify(package, trust=trust), verify(package),
                   verify(build_archive(package), trust=trust)):
        assert not result.ok
        assert [(p.kind, p.path) for p in result.problems] == [("untrusted", "manifest.sig")]
        assert f"signed by unknown key {rogue.key_id}" in result.problems[0].detail


def test_seal_and_open(package: Path, tmp_path: Path, trust: TrustStore) -> None:
    key_file = tmp_path / "archive.pem"
    pub = generate_archive_key(key_file, key_id="demo-1")
    info = seal(package, pub, tmp_path / "p.sealed", chunk_size=64 * 1024)
    data = info.path.read_bytes()
    import hashlib

    assert hashlib.sha256(data).hexdigest() == info.sha256 and len(data) == info.size
    header = sealed_header(info.path)
    assert header["package_id"] == package.name and header["key_id"] == "demo-1"
    # nothing readable without the key: no personal data, no recording bytes, no PNG
    assert CF.encode() not in data and b"ROSSI" not in data and b"\x89PNG" not in data
    assert (package / "recording.mkv").read_bytes()[1000:1032] not in data
    res = verify(info.path)
    assert not res.ok and "--key" in res.problems[0].detail
    wrong = tmp_path / "wrong.pem"
    generate_archive_key(wrong)
    with pytest.raises(SealError, match="wrong archive key"):
        open_sealed(info.path, wrong, tmp_path / "out")
    # with the key: verifies (streamed, no plaintext on disk) and opens to an identical folder
    assert verify(info.path, key_file=key_file, trust=trust).ok
    opened = open_sealed(info.path, key_file, tmp_path / "out")
    assert opened.name == package.name
    for p in package.rglob("*"):
        if p.is_file():
            assert (opened / p.relative_to(package)).read_bytes() == p.read_bytes()
    # sealing the tar archive gives the same content
    tar_sealed = seal(build_archive(package), pub, tmp_path / "t.sealed")
    assert verify(tar_sealed.path, key_file=key_file, trust=trust).ok


def test_sealed_tampering_truncation_detected(package: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "archive.pem"
    pub = generate_archive_key(key_file)
    info = seal(package, pub, tmp_path / "p.sealed", chunk_size=16 * 1024)
    data = info.path.read_bytes()
    for i, bad in enumerate([
        data[: len(data) // 2],  # truncated
        data[:-1],
        data + b"x",  # extended
        bytes(data[:-40]) + bytes([data[-40] ^ 1]) + data[-39:],  # flipped in the last chunk
        bytes(data[:200]) + bytes([data[200] ^ 1]) + data[201:],  # flipped in the header
    ]):
        p = tmp_path / f"bad{i}.sealed"
        p.write_bytes(bad)
        with pytest.raises(SealError):
            open_sealed(p, key_file, tmp_path / f"out{i}")
        assert not (tmp_path / f"out{i}" / package.name).exists()


def test_key_files_raw_and_base64(tmp_path: Path) -> None:
    import base64

    from cryptography.hazmat.primitives import serialization

    from console.evidence import ArchivePublicKey, load_archive_private_key

    k = X25519PrivateKey.generate()
    raw = k.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                          serialization.NoEncryption())
    (tmp_path / "k.raw").write_bytes(raw)
    (tmp_path / "k.b64").write_text(base64.b64encode(raw).decode() + "\n")
    (tmp_path / "k.json").write_text(json.dumps({"private_key": base64.b64encode(raw).decode()}))
    pub = ArchivePublicKey.from_private(k).public_key
    for name in ("k.raw", "k.b64", "k.json"):
        loaded = load_archive_private_key(tmp_path / name)
        assert ArchivePublicKey.from_private(loaded).public_key == pub
    (tmp_path / "bad").write_text("not a key")
    from console.evidence import EvidenceKeyError

    with pytest.raises(EvidenceKeyError):
        load_archive_private_key(tmp_path / "bad")


def test_bad_still_is_a_clear_error(tmp_path: Path) -> None:
    key = WorkstationKey.load_or_create(tmp_path)
    b = EvidencePackageBuilder.create(tmp_path / "w", key, request_id="r", product="cns",
                                      operator={"id": "o"})
    with pytest.raises(PackageError, match="neither PNG nor JPEG"):
        b.add_capture("document_front", b"GIF89a....")
    with pytest.raises(PackageError, match="damaged"):
        b.add_capture("document_front", b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    folder = b.finalize()  # no recording: still a valid, verifiable package
    assert verify(folder, trust=TrustStore.of_keys([key])).ok
    report = json.loads((folder / "manifest.json").read_bytes())["recording"]
    assert report["sha256"] is None


def test_recorder_failure_is_a_typed_error(tmp_path: Path) -> None:
    from console.evidence import RecordingError

    key = WorkstationKey.load_or_create(tmp_path)
    b = EvidencePackageBuilder.create(tmp_path / "w", key, request_id="r", product="cns",
                                      operator={"id": "o"})
    with pytest.raises(RecordingError):
        b.start_recording(gop_s=5.0)  # refused: keyframes must come at least every 2 s
    assert b.audit.entries[-1]["event"] == "recording_failed"


def test_workstation_key_is_generated_once(tmp_path: Path) -> None:
    a = WorkstationKey.load_or_create(tmp_path)
    b = WorkstationKey.load_or_create(tmp_path)
    assert a.public_raw == b.public_raw
    assert a.path is not None and (a.path.stat().st_mode & 0o777) == 0o600


def test_cli_verify_exit_codes(package: Path, trust_file: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["verify", str(package), "--trust", str(trust_file)]) == 0
    assert "OK" in capsys.readouterr().out
    assert cli_main(["verify", str(package)]) == 1  # no trust store: refused
    assert "signed by unknown key" in capsys.readouterr().out
    _flip(package / "transcript.json", 5)
    (package / "report.pdf").unlink()
    assert cli_main(["verify", str(package), "--trust", str(trust_file)]) == 1
    out = capsys.readouterr().out
    assert "altered: transcript.json" in out and "removed: report.pdf" in out
    assert cli_main(["verify", str(package.parent / "nope")]) != 0
    capsys.readouterr()
    assert cli_main(["open", str(package.parent / "nope.sealed"), "--key", "x.key"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def test_recognition_console_evidence_verify_command(package: Path, trust_file: Path) -> None:
    """The real command line: ``recognition-console evidence verify`` (console.cli dispatch)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "console", "evidence", *args],
                              capture_output=True, text=True, cwd=root, timeout=120)

    ok = run("verify", str(package), "--trust", str(trust_file))
    assert ok.returncode == 0, ok.stderr
    assert "OK: package" in ok.stdout and "signed by workstation test" in ok.stdout
    untrusted = run("verify", str(package))
    assert untrusted.returncode == 1
    assert "untrusted: manifest.sig: signed by unknown key" in untrusted.stdout
    (package / "captures" / "01_document_front.png").unlink()
    bad = run("verify", str(package), "--json", "--trust", str(trust_file))
    assert bad.returncode == 1
    problems = json.loads(bad.stdout)["problems"]
    assert problems == [{"kind": "removed", "path": "captures/01_document_front.png",
                         "detail": "listed in the manifest, missing"}]


def test_one_byte_flipped_in_the_archive(package: Path, tmp_path: Path,
                                         trust: TrustStore) -> None:
    """The tar archive too: file contents by the manifest, headers by their checksums,
    padding and end blocks must be zero -- every byte counts."""
    import random

    archive = build_archive(package, tmp_path / "p.tar")
    data = archive.read_bytes()
    assert verify(archive, trust=trust).ok
    rng = random.Random(4)
    positions = sorted({rng.randrange(len(data)) for _ in range(120)} | {0, len(data) - 1})
    for pos in positions:
        bad = bytearray(data)
        bad[pos] ^= 1 << rng.randrange(8)
        target = tmp_path / "flipped.tar"
        target.write_bytes(bytes(bad))
        result = verify(target, trust=trust)
        assert not result.ok, pos
        assert result.problems and all(p.path for p in result.problems)
