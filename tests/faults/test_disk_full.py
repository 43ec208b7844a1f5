"""Writes that tell the truth (issue 13, "Hostile input and faults"): a full or read-only disk.

Against a real desk service process whose data dir (or its database too) lies on a small tmpfs
mounted here (``mount -t tmpfs -o size=2m``; without the right to mount, in a user and mount
namespace of its own with ``unshare``; with neither the tests are skipped, saying why):

* a chunk the disk cannot hold is answered 507 ``insufficient_storage`` (``read_only_storage``
  on a read-only remount) with a clear message; ``received`` is never more than what is on disk
  (a partial chunk is cut back); the service keeps answering;
* the console's ``Uploader`` keeps the package in its outbox on a 507 and, once space is freed,
  resumes where the service stopped and completes with the right SHA-256;
* the demo SMS outbox on a full disk: 507 (not 502), no torn line;
* a database on a full disk gives 507, not 500, and rolls back: no half-written request; a
  read-only database (SQLITE_READONLY) likewise (in-process: a read-only remount is refused,
  EBUSY, while the service holds the database open for writing);
* the write loop (short writes, /dev/full) and the demo outbox's all-or-nothing line;
* the desk store runs SQLite with ``synchronous=FULL`` (the console's outbox too).

``DISK_FULL_TESTS_VIA=unshare`` forces the namespace variant (to try it where mount works too).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import tests.fixtures.desk as desk_fixture
from tests.fixtures.desk import DeskServer, request_body, start_desk_server

DISK_SIZE = 2 * 1024 * 1024
KIB = 1024
PAGE = 4096  # tmpfs counts its space in pages
TIMEOUT = 30


# --- a small disk ----------------------------------------------------------------------------


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def _tmpfs_options() -> str:
    return f"size={DISK_SIZE},mode=0700"


class SmallDisk:
    """A tmpfs of ``DISK_SIZE`` bytes at ``mountpoint``, mounted here (``mode="mount"``) or in
    the desk service's own mount namespace (``mode="unshare"``: the service is started through
    :meth:`wrap`; the test then reaches the disk through ``/proc/<pid>/root``)."""

    def __init__(self, mountpoint: Path, mode: str) -> None:
        self.mountpoint = mountpoint
        self.mode = mode
        self.pid: int | None = None  # the service process (unshare mode)
        self._fillers: list[Path] = []

    @classmethod
    def create(cls, mountpoint: Path) -> SmallDisk:
        mountpoint.mkdir(parents=True, exist_ok=True)
        forced = os.environ.get("DISK_FULL_TESTS_VIA", "")
        reasons: list[str] = []
        if forced != "unshare":
            if shutil.which("mount") is None:
                reasons.append("no mount command")
            else:
                done = _run(["mount", "-t", "tmpfs", "-o", _tmpfs_options(), "tmpfs",
                             str(mountpoint)])
                if done.returncode == 0:
                    return cls(mountpoint, "mount")
                reasons.append(f"mount -t tmpfs: {done.stderr.strip() or done.returncode}")
        if shutil.which("unshare") is None:
            reasons.append("no unshare command")
        else:
            probe = _run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                          'mount -t tmpfs -o "$1" tmpfs "$0"', str(mountpoint),
                          _tmpfs_options()])
            if probe.returncode == 0:
                return cls(mountpoint, "unshare")
            reasons.append(f"unshare --user --mount: {probe.stderr.strip() or probe.returncode}")
        pytest.skip("cannot mount a small tmpfs for the disk-full tests: " + "; ".join(reasons))

    def wrap(self, command: list[str]) -> list[str]:
        """The desk service's command line, started inside the disk's namespace if need be."""
        if self.mode != "unshare":
            return command
        return ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                'mount -t tmpfs -o "$1" tmpfs "$0" && shift 2 && exec "$@"',
                str(self.mountpoint), _tmpfs_options(), "--", *command]

    @property
    def view(self) -> Path:
        """Where this process sees the disk."""
        if self.mode == "mount":
            return self.mountpoint
        assert self.pid is not None, "start the service first"
        return Path(f"/proc/{self.pid}/root{self.mountpoint}")

    def available(self) -> int:
        st = os.statvfs(self.view)
        # never fill anything but the small disk (a wrong path would fill the real one)
        assert st.f_blocks * st.f_frsize <= DISK_SIZE, f"{self.view} is not the small tmpfs"
        return st.f_bavail * st.f_frsize

    def fill(self, leave: int = 0) -> None:
        """Take every byte but ``leave`` (a multiple of the page size) with a filler file."""
        assert leave % PAGE == 0
        self.available()  # the guard: this is the small tmpfs
        path = self.view / f"filler-{len(self._fillers)}"
        self._fillers.append(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            block = bytes(256 * KIB)
            while (want := self.available() - leave) > 0:
                try:
                    os.write(fd, block[:want])
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
        finally:
            os.close(fd)
        assert self.available() <= leave

    def free(self) -> None:
        for path in self._fillers:
            path.unlink(missing_ok=True)
        self._fillers.clear()

    def remount(self, *, read_only: bool) -> None:
        flag = "remount,ro" if read_only else "remount,rw"
        cmd = ["mount", "-o", flag, str(self.mountpoint)]
        if self.mode == "unshare":
            cmd = ["nsenter", "-t", str(self.pid), "-U", "-m", "--preserve-credentials", *cmd]
        done = _run(cmd)
        assert done.returncode == 0, done.stderr

    def query(self, relative: str, sql: str) -> Any:
        """The first column of the first row of ``sql`` on the SQLite file ``relative`` to the
        disk, opened read-only. (In unshare mode from inside the namespace: SQLite follows the
        ``/proc/<pid>/root`` link back to this namespace's view.)"""
        script = ("import json, sqlite3, sys\n"
                  "c = sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True, timeout=10)\n"
                  "print(json.dumps(c.execute(sys.argv[2]).fetchone()[0]))\n"
                  "c.close()\n")
        cmd = [sys.executable, "-c", script, str(self.mountpoint / relative), sql]
        if self.mode == "unshare":
            cmd = ["nsenter", "-t", str(self.pid), "-U", "-m", "--preserve-credentials", *cmd]
        done = _run(cmd)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def close(self) -> None:
        if self.mode == "mount" and _run(["umount", str(self.mountpoint)]).returncode != 0:
            _run(["umount", "-l", str(self.mountpoint)])  # still busy: detach it anyway


def _start_on_disk(tmp_path: Path, disk: SmallDisk, monkeypatch: pytest.MonkeyPatch,
                   *, database_too: bool) -> DeskServer:
    """A desk service whose data dir (uploads, package store, demo outboxes) is on ``disk``;
    its database too when ``database_too``. Logs and the seed stay on the ordinary disk."""
    data = disk.mountpoint / "data"
    args = ["--data-dir", str(data)]
    if database_too:
        args += ["--db", str(data / "desk.sqlite3")]
    plain = desk_fixture._desk_command
    monkeypatch.setattr(desk_fixture, "_desk_command", lambda: disk.wrap(plain()))
    srv = start_desk_server(tmp_path / "desk", *args)
    disk.pid = srv.proc.pid
    monkeypatch.setattr(desk_fixture, "_desk_command", plain)
    return srv


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    disk = SmallDisk.create(tmp_path / "small-disk")
    try:
        yield disk
    finally:
        disk.close()


@pytest.fixture
def desk_on_small_disk(tmp_path: Path, small_disk: SmallDisk,
                       monkeypatch: pytest.MonkeyPatch) -> Iterator[DeskServer]:
    srv = _start_on_disk(tmp_path, small_disk, monkeypatch, database_too=False)
    try:
        yield srv
    finally:
        small_disk.free()
        srv.stop()


@pytest.fixture
def desk_with_db_on_small_disk(tmp_path: Path, small_disk: SmallDisk,
                               monkeypatch: pytest.MonkeyPatch) -> Iterator[DeskServer]:
    srv = _start_on_disk(tmp_path, small_disk, monkeypatch, database_too=True)
    try:
        yield srv
    finally:
        small_disk.free()
        srv.stop()


# --- helpers ---------------------------------------------------------------------------------


def _open_upload(srv: DeskServer, request_id: str, key: str, data: bytes) -> dict[str, Any]:
    r = srv.api("POST", "/evidence/uploads", "operatore1", json={
        "upload_key": key, "request_id": request_id, "filename": "package.sealed",
        "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    assert r.status_code in (200, 201), r.text
    out: dict[str, Any] = r.json()
    return out


def _put(srv: DeskServer, upload_id: str, offset: int, chunk: bytes) -> requests.Response:
    return srv.api("PUT", f"/evidence/uploads/{upload_id}", "operatore1",
                   params={"offset": str(offset)}, data=chunk)


def _assert_alive(srv: DeskServer) -> None:
    assert srv.proc.poll() is None, srv.log_text()
    r = srv.api("GET", "/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def _assert_507(r: requests.Response, code: str, words: str) -> dict[str, Any]:
    assert r.status_code == 507, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = r.json()
    assert body["error"] == code
    assert words in body["message"] and "nothing was stored" in body["message"]
    assert int(r.headers["Retry-After"]) > 0
    return body


def _no_internal_errors(srv: DeskServer) -> None:
    log = srv.log_text()
    assert "internal error" not in log and "Traceback" not in log, log[-4000:]


# --- (a) a chunk on a full disk, then on a read-only one -------------------------------------


def test_full_disk_chunk_is_507_and_received_is_only_what_is_on_disk(
        desk_on_small_disk: DeskServer, small_disk: SmallDisk) -> None:
    srv, disk = desk_on_small_disk, small_disk
    req = srv.start_video_session("operatore1")
    data = os.urandom(256 * KIB)
    key = f"disk-full-{uuid.uuid4()}"
    up = _open_upload(srv, req["id"], key, data)
    upload_id = up["upload_id"]
    part = disk.view / "data" / "uploads" / f"{upload_id}.part"

    assert _put(srv, upload_id, 0, data[:64 * KIB]).json() == {"received": 64 * KIB}
    disk.fill(leave=16 * KIB)  # a 64 KiB chunk gets a short write, then ENOSPC
    body = _assert_507(_put(srv, upload_id, 64 * KIB, data[64 * KIB:128 * KIB]),
                       "insufficient_storage", "disk is full")
    assert body["received"] == 64 * KIB
    assert part.stat().st_size == 64 * KIB  # the 16 KiB that fitted were cut back
    assert part.read_bytes() == data[:64 * KIB]
    assert _open_upload(srv, req["id"], key, data)["received"] == 64 * KIB
    _assert_alive(srv)

    # what fits is taken: 8 KiB of the 16 KiB left; the next 64 KiB are refused again
    assert _put(srv, upload_id, 64 * KIB, data[64 * KIB:72 * KIB]).json() \
        == {"received": 72 * KIB}
    body = _assert_507(_put(srv, upload_id, 72 * KIB, data[72 * KIB:136 * KIB]),
                       "insufficient_storage", "disk is full")
    assert body["received"] == 72 * KIB and part.stat().st_size == 72 * KIB
    _assert_alive(srv)

    # read-only: refused the same way, nothing counted
    disk.free()
    disk.remount(read_only=True)
    try:
        body = _assert_507(_put(srv, upload_id, 72 * KIB, data[72 * KIB:136 * KIB]),
                           "read_only_storage", "read-only")
        assert body["received"] == 72 * KIB
        _assert_alive(srv)
    finally:
        disk.remount(read_only=False)

    # space again: the upload goes on from what the service really has, and is intact
    offset = 72 * KIB
    while offset < len(data):
        chunk = data[offset:offset + 64 * KIB]
        assert _put(srv, upload_id, offset, chunk).json() == {"received": offset + len(chunk)}
        offset += len(chunk)
    done = srv.api("POST", f"/evidence/uploads/{upload_id}/complete", "operatore1")
    assert done.status_code == 200, done.text
    assert done.json()["sha256"] == hashlib.sha256(data).hexdigest()
    stored = disk.view / "data" / "evidence" / f"{upload_id}.bin"
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    log = srv.log_text()
    assert f"upload {upload_id}: chunk at {64 * KIB} not stored (insufficient_storage)" in log
    assert f"upload {upload_id}: chunk at {72 * KIB} not stored (read_only_storage)" in log
    _no_internal_errors(srv)


def test_sms_outbox_on_a_full_disk_is_507_and_keeps_no_torn_line(
        desk_on_small_disk: DeskServer, small_disk: SmallDisk) -> None:
    """Demo mode: the SMS code is "sent" to a file in the data dir; on a full disk the code is
    not reported sent (507, not 502 ``sms_failed``) and no half line is left in the file."""
    srv, disk = desk_on_small_disk, small_disk
    req = srv.start_video_session("operatore1")
    outbox = disk.view / "data" / "outbox" / "sms.jsonl"
    before = outbox.read_bytes() if outbox.exists() else b""
    disk.fill(leave=0)
    body = _assert_507(srv.api("POST", f"/requests/{req['id']}/otp", "operatore1"),
                       "insufficient_storage", "disk is full")
    assert body["reason"] == "sms_failed"
    assert (outbox.read_bytes() if outbox.exists() else b"") == before
    _assert_alive(srv)
    disk.free()
    sent = srv.api("POST", f"/requests/{req['id']}/otp", "operatore1")
    assert sent.status_code == 201, sent.text
    mobile = srv.api("GET", f"/requests/{req['id']}", "operatore1").json()["applicant"]["mobile"]
    assert len(srv.sms_outbox(mobile)) == 1
    assert all(json.loads(line) for line in outbox.read_text("utf-8").splitlines())
    _no_internal_errors(srv)


# --- (b) the console keeps the package and resumes -------------------------------------------


def test_uploader_keeps_the_package_on_507_and_resumes_once_space_is_freed(
        desk_on_small_disk: DeskServer, small_disk: SmallDisk, tmp_path: Path) -> None:
    from console.client import DeskClient
    from console.evidence.upload import Uploader, upload_key
    from console.outbox import OutboxStatus
    from tests.test_evidence_package import make_package
    from ui.messages import error_message

    srv, disk = desk_on_small_disk, small_disk
    req = srv.start_video_session("operatore1")
    client = DeskClient(srv.base_url)
    client.login("operatore1", srv.operator("operatore1")["password"],
                 srv._fresh_code("operatore1"))
    console_dir = tmp_path / "console"
    folder = make_package(console_dir, seconds=1.0, request_id=req["id"],
                          work=console_dir / "evidence" / "work")
    chunk = 8 * KIB
    up = Uploader(client, console_dir, chunk_size=chunk)
    item = up.submit(folder)
    key = upload_key(folder.name)
    size, sha = int(item.payload["size"]), str(item.payload["sha256"])
    sealed = Path(str(item.payload["sealed"]))
    assert 4 * chunk < size < DISK_SIZE // 2

    disk.fill(leave=2 * chunk + chunk // 2)  # two chunks and a half
    report = up.run_pending()
    assert report.retrying == [key] and not report.failed
    waiting = up.outbox.get(key)
    assert waiting is not None and waiting.status is OutboxStatus.PENDING
    assert waiting.last_error == "insufficient_storage"
    assert waiting.next_attempt_at - waiting.updated_at >= 30  # the service's Retry-After
    assert folder.exists() and sealed.exists()  # nothing lost on the console
    state = srv.api("POST", "/evidence/uploads", "operatore1", json={
        "upload_key": key, "request_id": req["id"], "filename": sealed.name, "size": size,
        "sha256": sha}).json()
    assert state["received"] == 2 * chunk and not state["complete"]
    part = disk.view / "data" / "uploads" / f"{state['upload_id']}.part"
    assert part.stat().st_size == 2 * chunk
    text = error_message(waiting.last_error)
    assert "disk is full" in text and "Unexpected error" not in text
    assert error_message("read_only_storage") == text
    _assert_alive(srv)

    disk.free()
    report = up.run_pending()
    assert report.delivered == [key], srv.log_text()[-3000:]
    result = up.results[folder.name]
    assert result.resumed_from == 2 * chunk and result.sha256 == sha
    stored = disk.view / "data" / "evidence" / f"{state['upload_id']}.bin"
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
    got = srv.api("GET", f"/evidence/{result.service_package_id}/content", "supervisore1",
                  params={"reason": "disk-full test"})
    assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == sha
    assert not folder.exists()  # plaintext deleted only after the confirmed SHA-256
    done = up.outbox.get(key)
    assert done is not None and done.status is OutboxStatus.DONE
    up.outbox.close()
    client.close()
    _no_internal_errors(srv)


# --- (c) the database on a full disk ---------------------------------------------------------


DB = "data/desk.sqlite3"


def _count(disk: SmallDisk, table: str) -> int:
    return int(disk.query(DB, f"SELECT count(*) FROM {table}"))


def test_database_on_a_full_disk_is_507_and_rolls_back(
        desk_with_db_on_small_disk: DeskServer, small_disk: SmallDisk) -> None:
    srv, disk = desk_with_db_on_small_disk, small_disk
    srv.token("operatore1")  # signed in while there is room
    before = _count(disk, "requests")
    disk.fill(leave=0)
    statuses: list[int] = []
    refused: requests.Response | None = None
    for n in range(300):
        r = srv.api("POST", "/requests", json=request_body(900_000 + n))
        statuses.append(r.status_code)
        if r.status_code != 201:
            refused = r
            break
    assert refused is not None, "the database never ran out of room"
    _assert_507(refused, "insufficient_storage", "disk is full")
    assert set(statuses) <= {201, 507}
    _assert_alive(srv)
    # a read still works, a write is refused again, and the service stays up
    assert srv.api("GET", "/queue", "operatore1").status_code == 200
    again = srv.api("POST", "/requests", json=request_body(899_999))
    _assert_507(again, "insufficient_storage", "disk is full")
    # nothing half-written: every request has its join link and its first transition
    created = statuses.count(201)
    assert _count(disk, "requests") == before + created
    assert _count(disk, "join_links") == _count(disk, "requests")

    disk.free()
    r = srv.api("POST", "/requests", json=request_body(899_998))
    assert r.status_code == 201, r.text
    assert _count(disk, "requests") == before + created + 1
    assert disk.query(DB, "PRAGMA integrity_check") == "ok"
    assert "database write refused and rolled back (insufficient_storage)" in srv.log_text()
    _assert_alive(srv)
    _no_internal_errors(srv)


def test_read_only_database_is_507_and_rolls_back(tmp_path: Path) -> None:
    """SQLITE_READONLY ("attempt to write a readonly database"). A read-only remount of the
    database's disk is refused while the service holds the file open for writing (EBUSY), so
    SQLite is made read-only here with ``PRAGMA query_only``: the same error code."""
    from datetime import UTC, datetime

    from sqlalchemy import event

    from server.errors import ApiError
    from server.store import Store

    store = Store(f"sqlite:///{tmp_path / 'desk.sqlite3'}", migrate=True)
    now = datetime.now(UTC)
    try:
        store.create_operator("before", "Before", "operator", "x", now)

        def query_only(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA query_only=ON")

        event.listen(store.engine, "connect", query_only)
        store.engine.dispose()
        with pytest.raises(ApiError) as refused:
            store.create_operator("during", "During", "operator", "x", now)
        assert refused.value.status == 507 and refused.value.code == "read_only_storage"
        assert "read-only" in refused.value.body()["message"]
        assert [o.username for o in store.list_operators()] == ["before"]  # reads still work
        event.remove(store.engine, "connect", query_only)
        store.engine.dispose()
        store.create_operator("after", "After", "operator", "x", now)
        assert [o.username for o in store.list_operators()] == ["before", "after"]
    finally:
        store.close()


def test_io_error_on_a_full_or_read_only_disk_is_told_apart(small_disk: SmallDisk) -> None:
    """SQLite reports a write that fails with EROFS as a plain I/O error (SQLITE_IOERR_WRITE):
    the store then looks at the file system of the database to say which it is."""
    from server.store import _disk_refuses

    if small_disk.mode != "mount":
        pytest.skip("in unshare mode the small disk lives only in the service's namespace")
    db = small_disk.view / "desk.sqlite3"
    assert _disk_refuses(db) is None
    small_disk.fill(leave=0)
    assert _disk_refuses(db) == "insufficient_storage"
    small_disk.free()
    small_disk.remount(read_only=True)
    try:
        assert _disk_refuses(db) == "read_only_storage"
    finally:
        small_disk.remount(read_only=False)
    assert _disk_refuses(None) is None


# --- (d) the write loop ----------------------------------------------------------------------


def _short_pwrite(limit: int, fail_after: int | None = None
                  ) -> Callable[[int, Any, int], int]:
    """``os.pwrite`` that writes at most ``limit`` bytes a call (and raises ENOSPC once
    ``fail_after`` bytes are written, like a disk that fills up)."""
    real = os.pwrite
    written = 0

    def pwrite(fd: int, data: Any, offset: int) -> int:
        nonlocal written
        if fail_after is not None and written >= fail_after:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = real(fd, bytes(data[:limit]), offset)
        written += n
        return n

    return pwrite


def test_write_loop_finishes_short_writes_and_cuts_back_a_failed_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from server import api_evidence, files
    from server.errors import storage_error

    path = tmp_path / "upload.part"
    data = os.urandom(10_000)
    monkeypatch.setattr(files.os, "pwrite", _short_pwrite(777))
    api_evidence._write_at(path, 0, data[:5000])
    api_evidence._write_at(path, 5000, data[5000:])
    assert path.read_bytes() == data  # every short write was carried on

    # a disk that fills up part-way through a chunk: the chunk is cut back, ENOSPC raised
    monkeypatch.setattr(files.os, "pwrite", _short_pwrite(1000, fail_after=3000))
    with pytest.raises(OSError) as failed:
        api_evidence._write_at(path, len(data), os.urandom(8000))
    assert failed.value.errno == errno.ENOSPC
    assert path.read_bytes() == data
    err = storage_error(failed.value, received=len(data))
    assert err is not None and err.status == 507 and err.code == "insufficient_storage"
    assert err.body()["received"] == len(data)

    # a write that makes no progress is an error, never a silent success
    monkeypatch.setattr(files.os, "pwrite", lambda fd, data, offset: 0)
    with pytest.raises(OSError) as stuck:
        files.pwrite_all(0, b"abc", 0)
    assert stuck.value.errno == errno.EIO


def test_write_loop_on_dev_full_raises_enospc() -> None:
    from server.errors import storage_code
    from server.files import pwrite_all, write_all

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        with pytest.raises(OSError) as full:
            pwrite_all(fd, b"x" * 70_000, 0)
        assert full.value.errno == errno.ENOSPC
        assert storage_code(full.value) == "insufficient_storage"
        with pytest.raises(OSError) as full_too:
            write_all(fd, b"line\n")
        assert full_too.value.errno == errno.ENOSPC
    finally:
        os.close(fd)
    assert storage_code(OSError(errno.EROFS, "ro")) == "read_only_storage"
    assert storage_code(OSError(errno.EDQUOT, "quota")) == "insufficient_storage"
    assert storage_code(OSError(errno.EACCES, "denied")) is None


def test_demo_outbox_line_is_whole_or_absent(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from server import files
    from server.sms import LocalOutboxSender, SendError

    sender = LocalOutboxSender(tmp_path)
    asyncio.run(sender.send("+393330000000", "first", "2026-01-01T00:00:00Z"))
    before = sender.outbox.path.read_bytes()
    real = os.write

    def half_then_full(fd: int, data: Any) -> int:
        if len(data) > 8:
            return real(fd, bytes(data[:len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "write", half_then_full)
    with pytest.raises(SendError) as refused:
        asyncio.run(sender.send("+393330000000", "second " * 20, "2026-01-01T00:00:01Z"))
    assert refused.value.code == "insufficient_storage"
    assert sender.outbox.path.read_bytes() == before  # no torn line left behind
    monkeypatch.setattr(files.os, "write", real)
    asyncio.run(sender.send("+393330000000", "third", "2026-01-01T00:00:02Z"))
    assert [m["body"] for m in sender.messages()] == ["first", "third"]
    assert all(json.loads(line) for line in sender.outbox.path.read_text().splitlines())


# --- (e) what is acknowledged survives a power cut -------------------------------------------


def test_sqlite_stores_sync_every_commit(tmp_path: Path) -> None:
    from console.outbox import Outbox
    from server.store import Store

    store = Store(f"sqlite:///{tmp_path / 'desk.sqlite3'}", migrate=True)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        store.close()
    with Outbox(tmp_path / "outbox.sqlite3") as box:
        assert box._db.execute("PRAGMA synchronous").fetchone()[0] == 2
