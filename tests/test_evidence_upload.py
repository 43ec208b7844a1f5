"""Evidence upload against a real desk service process: resumable, durable, stored once,
crash recovery, logged opening."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import pytest

from console.errors import ServerUnreachable
from console.evidence import TrustStore, WorkstationKey, open_sealed, verify
from console.evidence.cli import TokenApi
from console.evidence.cli import main as cli_main
from console.evidence.upload import EVIDENCE_KIND, Uploader, upload_key
from console.outbox import OutboxStatus
from tests.test_evidence_package import local_trust, make_package

ROOT = Path(__file__).resolve().parents[1]
CH = 8 * 1024  # upload chunk in the tests (the service takes up to 4 MiB)


@dataclass
class Desk:
    url: str
    data_dir: Path
    request_id: str
    operator: TokenApi
    supervisor: TokenApi
    supervisor_token: str

    @property
    def archive_private_key(self) -> Path:
        return self.data_dir / "archive-demo-private.key"


@pytest.fixture(scope="module")
def desk(desk_server_shared: Any) -> Desk:
    """The shared real desk service (tests/fixtures/desk.py) with fresh tokens and a request
    of this module's own."""
    srv = desk_server_shared
    op_token = srv.login("operatore1")["access_token"]
    sup_token = srv.login("supervisore1")["access_token"]
    request = srv.start_video_session("operatore1")  # uploads only on one's own session
    return Desk(srv.base_url, Path(srv.data_dir), str(request["id"]),
                TokenApi(srv.base_url, op_token), TokenApi(srv.base_url, sup_token), sup_token)


class FlakyApi:
    """The real client, but the link drops after ``fail_after`` chunk PUTs (counts bytes)."""

    def __init__(self, inner: TokenApi, fail_after: int | None = None) -> None:
        self.inner = inner
        self.fail_after = fail_after
        self.puts = 0
        self.put_bytes = 0

    def call(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        if method == "PUT":
            if self.fail_after is not None and self.puts >= self.fail_after:
                raise ServerUnreachable("link dropped (test)")
            self.puts += 1
            self.put_bytes += len(kw.get("data") or b"")
        return self.inner.call(method, path, **kw)


def _packages(desk: Desk, request_id: str) -> list[dict[str, Any]]:
    _, data = desk.supervisor.call("GET", "/evidence", params={"request_id": request_id})
    return list(data["packages"])


def _download(desk: Desk, package_id: str, dst: Path) -> Path:
    import requests

    r = requests.get(f"{desk.url}/api/v1/evidence/{package_id}/content",
                     params={"reason": "test download"}, timeout=30,
                     headers={"Authorization": f"Bearer {desk.supervisor_token}"})
    assert r.status_code == 200
    dst.write_bytes(r.content)
    return dst


def _new_package(data_dir: Path, desk: Desk, seconds: float = 3.0) -> Path:
    folder = make_package(data_dir, seconds=seconds, request_id=desk.request_id,
                          work=data_dir / "evidence" / "work")
    assert verify(folder, trust=local_trust(data_dir)).ok
    return folder


def test_upload_interrupted_and_resumed(desk: Desk, tmp_path: Path) -> None:
    folder = _new_package(tmp_path, desk)
    flaky = FlakyApi(desk.operator, fail_after=5)
    seen: list[tuple[int, int]] = []
    up = Uploader(flaky, tmp_path, chunk_size=CH,
                  progress=lambda pid, done, total: seen.append((done, total)))
    item = up.submit(folder)
    payload = item.payload
    size, sha = int(payload["size"]), str(payload["sha256"])
    assert size > 2 * 5 * CH  # the interruption really is part-way
    report = up.run_pending()
    assert report.retrying == [upload_key(folder.name)]
    assert flaky.put_bytes == 5 * CH
    assert up.outbox.get(upload_key(folder.name)).status is OutboxStatus.PENDING  # type: ignore[union-attr]
    assert folder.exists() and Path(payload["sealed"]).exists()  # nothing lost
    up.outbox.close()
    # "restart": a new outbox and uploader on the same data dir, link back
    api2 = FlakyApi(desk.operator)
    seen2: list[tuple[int, int]] = []
    up2 = Uploader(api2, tmp_path, chunk_size=CH,
                   progress=lambda pid, done, total: seen2.append((done, total)))
    assert [i.idempotency_key for i in up2.pending()] == [upload_key(folder.name)]
    report = up2.run_pending()
    assert report.delivered == [upload_key(folder.name)]
    result = up2.results[folder.name]
    assert result.resumed_from == 5 * CH
    assert api2.put_bytes == size - 5 * CH  # nothing sent twice
    assert seen2[0] == (5 * CH, size) and seen2[-1] == (size, size)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(seen2))
    # identical SHA-256 at the service, retention 20 years
    pkgs = [p for p in _packages(desk, desk.request_id) if p["sha256"] == sha]
    assert len(pkgs) == 1 and pkgs[0]["size"] == size
    assert pkgs[0]["retention_until"][:4] == str(int(pkgs[0]["stored_at"][:4]) + 20)
    got = _download(desk, pkgs[0]["package_id"], tmp_path / "dl.sealed")
    assert hashlib.sha256(got.read_bytes()).hexdigest() == sha
    # plaintext deleted only now, after the confirmation
    assert not folder.exists() and not Path(payload["sealed"]).exists()
    # the archive (demo key held by the local service) opens and verifies it
    opened = open_sealed(got, desk.archive_private_key, tmp_path / "opened")
    assert verify(opened, trust=local_trust(tmp_path)).ok
    # the same package again: the same outbox item, nothing new
    again = up2.outbox.get(upload_key(folder.name))
    assert again is not None and again.status is OutboxStatus.DONE
    # a crash between "complete" and "done" would deliver again: stored once, no bytes sent
    api3 = FlakyApi(desk.operator)
    up3 = Uploader(api3, tmp_path / "other")
    res = up3._deliver(payload)
    assert api3.put_bytes == 0 and res["service_package_id"] == pkgs[0]["package_id"]
    assert len([p for p in _packages(desk, desk.request_id) if p["sha256"] == sha]) == 1
    up2.outbox.close()
    up3.outbox.close()


def test_offline_package_waits_in_outbox(desk: Desk, tmp_path: Path) -> None:
    up = Uploader(desk.operator, tmp_path)
    up.archive_key()  # cached while the service was reachable
    folder = _new_package(tmp_path, desk, seconds=0.5)
    dead = TokenApi("http://127.0.0.1:9", "token")  # nothing listens on the discard port
    up.outbox.close()
    offline = Uploader(dead, tmp_path)
    item = offline.submit(folder)  # sealed with the cached archive key, queued durably
    report = offline.run_pending()
    assert report.retrying == [item.idempotency_key]
    stored = offline.outbox.get(item.idempotency_key)
    assert stored is not None and stored.status is OutboxStatus.PENDING
    assert stored.last_error is not None
    assert folder.exists() and Path(item.payload["sealed"]).exists()
    offline.outbox.close()
    online = Uploader(desk.operator, tmp_path)
    assert online.run_pending().delivered == [item.idempotency_key]
    assert not folder.exists()
    online.outbox.close()


CRASHING_SESSION = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from pathlib import Path
    from console.evidence import EvidencePackageBuilder, WorkstationKey
    data, request_id = Path(sys.argv[1]), sys.argv[2]
    key = WorkstationKey.load_or_create(data / "data")
    b = EvidencePackageBuilder.create(data / "evidence" / "work", key, request_id=request_id,
        product="spid_personal", operator={"id": "1", "username": "operatore1"})
    rec = b.start_recording(video_sizes={"applicant_video": (320, 180),
                                         "operator_video": (160, 90)})
    b.record_step("consent", agid="a", passed=True)
    t0 = rec.start_ts
    i = 0
    while True:
        t = t0 + i / 25
        while time.monotonic() < t:
            time.sleep(0.002)
        img = np.zeros((180, 320, 3), np.uint8)
        img[:, (i * 4) % 300:(i * 4) % 300 + 20] = 220
        rec.submit("applicant_video", img, t)
        rec.submit("operator_video", img[::2, ::2].copy(), t)
        a = (np.sin(np.arange(1920) / 9 + i) * 4000).astype(np.int16)
        rec.submit("applicant_audio", a[:960], t)
        rec.submit("applicant_audio", a[960:], t + 0.02)
        rec.submit("operator_audio", a[:960], t)
        rec.submit("operator_audio", a[960:], t + 0.02)
        if i == 40:
            b.otp_event("sent", otp_id="o1")
            print(b.package_id, flush=True)
        i += 1
    """
)


def test_crash_recovery_closes_and_uploads_partial_package(desk: Desk, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", CRASHING_SESSION, str(tmp_path),
                             desk.request_id], stdout=subprocess.PIPE, text=True, env=env,
                            cwd=ROOT)
    assert proc.stdout is not None
    package_id = proc.stdout.readline().strip()
    time.sleep(1.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    folder = tmp_path / "evidence" / "work" / package_id
    assert folder.is_dir() and not (folder / "manifest.json").exists()
    # next start: found, closed as partial (recording kept), sealed, queued, uploaded
    up = Uploader(desk.operator, tmp_path)
    key = WorkstationKey.load_or_create(tmp_path / "data")
    assert up.recover(key) == [package_id]
    item = up.outbox.get(upload_key(package_id))
    assert item is not None and item.kind == EVIDENCE_KIND
    sha = item.payload["sha256"]
    trust = TrustStore.of_keys([key])
    assert verify(folder, trust=trust).ok and verify(folder, trust=trust).partial
    assert up.run_pending().delivered == [upload_key(package_id)]
    assert up.recover(key) == []  # nothing left over, nothing queued twice
    pkg = next(p for p in _packages(desk, desk.request_id) if p["sha256"] == sha)
    got = _download(desk, pkg["package_id"], tmp_path / "crash.sealed")
    opened = open_sealed(got, desk.archive_private_key, tmp_path / "opened")
    result = verify(opened, trust=trust)
    assert result.ok and result.partial
    audit = [json.loads(x) for x in (opened / "audit.jsonl").read_text().splitlines()]
    events = [e["event"] for e in audit]
    assert events[:3] == ["session_started", "recording_started", "step"]
    assert "otp" in events and "package_recovered" in events
    with av.open(str(opened / "recording.mkv")) as c:
        assert len(c.streams) == 4
        last = max(float(f.pts * f.time_base) for f in c.decode(video=0))
    assert last >= 1.5  # the partial recording is kept (killed ~3 s in)
    up.outbox.close()


def test_open_is_logged_at_the_service(desk: Desk, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    folder = _new_package(tmp_path, desk, seconds=0.5)
    up = Uploader(desk.operator, tmp_path, keep_sealed=True)
    item = up.submit(folder)
    assert up.run_pending().delivered == [item.idempotency_key]
    sealed = Path(item.payload["sealed"])
    pid = up.results[folder.name].service_package_id
    # without the key: nothing
    assert cli_main(["verify", str(sealed)]) != 0
    wrong = tmp_path / "wrong.key"
    wrong.write_bytes(os.urandom(32))
    assert cli_main(["open", str(sealed), "--key", str(wrong), "--out",
                     str(tmp_path / "x")]) != 0
    assert not (tmp_path / "x" / folder.name).exists()
    capsys.readouterr()
    trust_file = local_trust(tmp_path).save(tmp_path / "trust.json")
    rc = cli_main(["open", str(sealed), "--key", str(desk.archive_private_key),
                   "--out", str(tmp_path / "review"), "--desk", desk.url,
                   f"--token={desk.supervisor_token}", "--reason", "judicial request 42/2026",
                   "--trust", str(trust_file)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert f"access logged at the desk service for package {pid}" in out
    assert verify(tmp_path / "review" / folder.name, trust=local_trust(tmp_path)).ok
    _, info = desk.supervisor.call("GET", f"/evidence/{pid}")
    opens = [a for a in info["access_log"] if a["action"] == "open"]
    assert opens and opens[-1]["reason"] == "judicial request 42/2026"
    assert opens[-1]["operator"] == "supervisore1"
    assert cli_main(["verify", str(sealed), "--key", str(desk.archive_private_key),
                     "--trust", str(trust_file)]) == 0
    up.outbox.close()


def test_session_package_sealed_and_uploaded(desk: Desk, tmp_path: Path) -> None:
    """The UI's one-call entry point, as the autopilot uses it, with the real service."""
    from console.evidence.session import build_session_package
    from console.script import script_for
    from console.session import Session

    session = Session(desk.request_id, script_for("spid_personal"))
    session.start()
    for step in "abcdef":
        session.pass_step(step)
    session.suspend("poor_video", "applicant will call back")
    sealed = build_session_package(session=session, client=desk.operator, data_dir=tmp_path)
    assert sealed is not None and sealed.suffix == ".sealed"
    assert not list((tmp_path / "evidence" / "work").iterdir())  # plaintext gone after upload
    sha = hashlib.sha256(sealed.read_bytes()).hexdigest()
    assert any(p["sha256"] == sha for p in _packages(desk, desk.request_id))
    result = verify(sealed, key_file=desk.archive_private_key,
                    trust=TrustStore.of_keys([WorkstationKey.load_or_create(tmp_path)]))
    assert result.ok and result.request_id == desk.request_id
