"""Durable, resumable upload of sealed evidence packages to the desk service.

Flow at the end of a session::

    up = Uploader(desk_client, data_dir, outbox=outbox, progress=on_progress)
    up.submit(builder.finalize())   # seal to the archive key, queue durably (outbox), no network
    up.run_pending()                # (or the OutboxWorker) uploads in chunks, resumable

* Durable: each package is an item (kind ``evidence_upload``, key ``evidence:<package_id>``) in
  the console's SQLite outbox (``console.outbox``), committed before any network traffic. While
  the service is unreachable the item waits and is retried with back-off.
* Resumable: ``POST /evidence/uploads`` with the same ``upload_key`` tells how many bytes the
  service already has; chunks (``PUT ?offset=``, <= 4 MiB) continue from there. Nothing is sent
  twice, and the same package submitted again is stored once (same key -> same upload).
* Full disk at the service: a chunk answered 507 (``InsufficientStorage``, the service kept none
  of it) leaves the item queued, retried with back-off (at least the service's ``Retry-After``);
  once space is freed it resumes from the bytes the service confirmed.
* Confidential: only the sealed file travels. The plaintext folder (and the sealed copy) are
  deleted once the service confirms the upload with the matching SHA-256.
* Pinned: packages are sealed only to the archive key pinned at the first fetch
  (``console.evidence.pin``); a different key from the service is refused until an operator
  re-pins it (``recognition-console evidence archive-key --desk URL --repin``).
* After a crash, :meth:`recover` finds package folders that were never finalised, closes them as
  partial packages (the recording so far is kept, the audit log says so), seals and queues them.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from console.errors import (
    Conflict,
    DeskError,
    InsufficientStorage,
    ServerUnreachable,
    ValidationError,
)
from console.evidence.errors import EvidenceError, PackageError, UploadError
from console.evidence.keys import ArchivePublicKey, WorkstationKey
from console.evidence.package import MANIFEST, EvidencePackageBuilder
from console.evidence.pin import check_pin
from console.evidence.seal import SealedInfo, seal
from console.outbox import DeliveryReport, Outbox, OutboxItem, OutboxStatus

log = logging.getLogger(__name__)

EVIDENCE_KIND = "evidence_upload"
DEFAULT_CHUNK = 1 << 20
MAX_CHUNK = 4 << 20
Progress = Callable[[str, int, int], None]  # (package_id, bytes confirmed, total)


class Api(Protocol):
    """What the uploader needs from ``console.client.DeskClient``."""

    def call(self, method: str, path: str, *, json: Any = None,
             params: Mapping[str, str] | None = None, data: bytes | None = None,
             expected: tuple[int, ...] = ..., timeout: Any = None) -> tuple[int, Any]: ...


@dataclass(frozen=True)
class UploadResult:
    package_id: str  # the console's id (folder name)
    service_package_id: str
    sha256: str
    retention_until: str | None
    resumed_from: int  # bytes the service already had when this attempt began


def upload_key(package_id: str) -> str:
    return f"evidence:{package_id}"


class Uploader:
    def __init__(self, api: Api, data_dir: str | os.PathLike[str], *,
                 outbox: Outbox | None = None, chunk_size: int = DEFAULT_CHUNK,
                 progress: Progress | None = None, keep_sealed: bool = False) -> None:
        if not 1 <= chunk_size <= MAX_CHUNK:
            raise ValueError("chunk_size must be 1 byte .. 4 MiB")
        self.api = api
        self.data_dir = Path(data_dir).resolve()
        self.root = self.data_dir / "evidence"
        self.work_dir = self.root / "work"
        self.sealed_dir = self.root / "sealed"
        for d in (self.work_dir, self.sealed_dir):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o700)
        self.outbox = outbox if outbox is not None else Outbox.in_data_dir(Path(data_dir))
        self.outbox.register(EVIDENCE_KIND, self._deliver)
        self.chunk_size = chunk_size
        self.progress = progress
        self.keep_sealed = keep_sealed
        self.results: dict[str, UploadResult] = {}

    # ------------------------------------------------------------------ archive key
    def archive_key(self) -> ArchivePublicKey:
        """The archive's public key from the service; cached so sealing works offline.

        Checked against the pinned key (``console.evidence.pin``): the first key fetched is
        pinned; a different one raises ``ArchiveKeyChanged`` and nothing is sealed to it."""
        cache = self.root / "archive_key.json"
        try:
            _, data = self.api.call("GET", "/archive-key", expected=(200,))
        except DeskError as exc:
            if cache.exists():
                log.info("archive key from cache (service: %s)", exc.code)
                key = ArchivePublicKey.from_json(json.loads(cache.read_text("utf-8")))
                check_pin(self.data_dir, key)
                return key
            raise UploadError("archive key unavailable: the service was never reached",
                              code="evidence_archive_key_unavailable") from exc
        key = ArchivePublicKey.from_json(data)
        check_pin(self.data_dir, key)
        fd = os.open(cache, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(key.to_json()))
        return key

    # ------------------------------------------------------------------ queueing
    def submit(self, folder: str | os.PathLike[str],
               archive_key: ArchivePublicKey | None = None) -> OutboxItem:
        """Seal a finalised package and queue it durably. Idempotent per package."""
        f = Path(folder)
        manifest_path = f / MANIFEST
        if not manifest_path.exists():
            raise PackageError(f"{f.name}: not finalised")
        manifest = json.loads(manifest_path.read_bytes())
        pid = str(manifest["package_id"])
        existing = self.outbox.get(upload_key(pid))
        if existing is not None:
            return existing
        key = archive_key or self.archive_key()
        info = seal(f, key, self.sealed_dir / f"{pid}.sealed")
        payload = {"package_id": pid, "request_id": info.request_id,
                   "sealed": str(info.path), "folder": str(f.resolve()), "sha256": info.sha256,
                   "size": info.size, "key_id": info.key_id}
        item = self.outbox.enqueue(EVIDENCE_KIND, payload, upload_key(pid))
        log.info("evidence package %s queued for upload (%d bytes)", pid, info.size)
        return item

    def upload_now(self, sealed: SealedInfo, *, kind: str) -> Mapping[str, Any]:
        """Upload one sealed file at once (no outbox: the caller waits for it, e.g. the
        recording the service must hold before it accepts an approval). Raises on failure."""
        payload = {"package_id": sealed.package_id, "request_id": sealed.request_id,
                   "sealed": str(sealed.path), "sha256": sealed.sha256, "size": sealed.size,
                   "key_id": sealed.key_id, "kind": kind}
        return self._deliver(payload)

    def run_pending(self) -> DeliveryReport:
        """Seal what waits unsealed, then try every queued upload now (never raises)."""
        try:
            self._queue_unsubmitted()
        except EvidenceError as exc:
            log.info("packages wait unsealed: %s", exc.code)
        return self.outbox.deliver_due(include_not_due=True)

    def pending(self) -> list[OutboxItem]:
        return self.outbox.items(OutboxStatus.PENDING, EVIDENCE_KIND)

    def failed(self) -> list[OutboxItem]:
        return self.outbox.items(OutboxStatus.FAILED, EVIDENCE_KIND)

    # ------------------------------------------------------------------ crash recovery
    def recover(self, key: WorkstationKey) -> list[str]:
        """At start: close packages a crash left open (partial, recording kept), seal and queue
        them, with finalised ones that were never queued. Returns the package ids handled."""
        handled: list[str] = []
        for folder in sorted(p for p in self.work_dir.iterdir() if p.is_dir()):
            if (folder / MANIFEST).exists():
                continue
            try:
                builder = EvidencePackageBuilder.resume(folder, key)
                builder.finalize(partial=True, reason="recovered_after_crash")
                handled.append(builder.package_id)
                log.warning("evidence package %s was left open; closed as partial",
                            builder.package_id)
            except EvidenceError as exc:
                log.error("package folder %s cannot be recovered (%s); left in place",
                          folder.name, exc.code)
        try:
            handled += [pid for pid in self._queue_unsubmitted() if pid not in handled]
        except EvidenceError as exc:
            log.info("recovered packages wait unsealed: %s", exc.code)
        return handled

    def _queue_unsubmitted(self) -> list[str]:
        queued: list[str] = []
        key: ArchivePublicKey | None = None
        for folder in sorted(p for p in self.work_dir.iterdir() if p.is_dir()):
            if not (folder / MANIFEST).exists():
                continue
            if self.outbox.get(upload_key(folder.name)) is not None:
                continue
            key = key or self.archive_key()
            self.submit(folder, key)
            queued.append(folder.name)
        return queued

    # ------------------------------------------------------------------ the upload itself
    def _open(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        body = {"upload_key": upload_key(str(payload["package_id"])),
                "request_id": payload["request_id"],
                "filename": Path(str(payload["sealed"])).name,
                "size": payload["size"], "sha256": payload["sha256"]}
        if payload.get("kind"):
            body["kind"] = payload["kind"]
        _, data = self.api.call("POST", "/evidence/uploads", json=body, expected=(200, 201))
        if not isinstance(data, Mapping) or "upload_id" not in data:
            raise UploadError("unexpected answer to the upload request")
        return dict(data)

    def _deliver(self, payload: Mapping[str, Any]) -> Mapping[str, Any]:
        pid = str(payload["package_id"])
        size, sha = int(payload["size"]), str(payload["sha256"])
        sealed = Path(str(payload["sealed"]))
        state = self._open(payload)
        upload_id = str(state["upload_id"])
        resumed = int(state.get("received") or 0)
        if not state.get("complete"):
            if not sealed.exists():
                raise UploadError(f"sealed file of {pid} is missing; the folder is kept")
            offset = resumed
            self._progress(pid, offset, size)
            for _attempt in range(3):
                offset = self._send_from(upload_id, sealed, offset, size, pid, payload)
                try:
                    _, done = self.api.call("POST", f"/evidence/uploads/{upload_id}/complete",
                                            expected=(200, 201))
                    break
                except ValidationError as exc:  # 422 sha256_mismatch: service restarts at 0
                    log.warning("upload of %s: service reports %s; sending again", pid, exc.code)
                    offset = 0
                except Conflict:  # upload_incomplete: ask where it is
                    offset = int(self._open(payload).get("received") or 0)
            else:
                raise UploadError(f"upload of {pid} could not be completed")
        else:
            _, done = self.api.call("POST", f"/evidence/uploads/{upload_id}/complete",
                                    expected=(200, 201))
        if not isinstance(done, Mapping) or done.get("sha256") != sha:
            raise UploadError(f"service confirmed a different SHA-256 for {pid}")
        self._progress(pid, size, size)
        result = UploadResult(pid, str(done.get("package_id")), sha,
                              done.get("retention_until"), resumed)
        self.results[pid] = result
        self._cleanup(payload)
        log.info("evidence package %s stored at the service (resumed from %d bytes)", pid,
                 resumed)
        return {"service_package_id": result.service_package_id, "sha256": sha,
                "retention_until": result.retention_until, "resumed_from": resumed}

    def _send_from(self, upload_id: str, sealed: Path, offset: int, size: int, pid: str,
                   payload: Mapping[str, Any]) -> int:
        with open(sealed, "rb") as fh:
            conflicts = 0
            while offset < size:
                fh.seek(offset)
                chunk = fh.read(min(self.chunk_size, size - offset))
                if not chunk:
                    raise UploadError(f"sealed file of {pid} is shorter than declared")
                try:
                    _, r = self.api.call("PUT", f"/evidence/uploads/{upload_id}",
                                         params={"offset": str(offset)}, data=chunk,
                                         expected=(200,), timeout=(5.0, 60.0))
                except InsufficientStorage as exc:  # 507: the service's disk is full
                    log.warning("upload of %s paused at %d of %d bytes: the desk service cannot "
                                "store it (%s); it stays queued", pid, offset, size, exc.code)
                    raise
                except Conflict:  # wrong offset (another attempt got further): ask the service
                    conflicts += 1
                    if conflicts > 5:
                        raise
                    state = self._open(payload)
                    if state.get("complete"):
                        return size
                    offset = int(state.get("received") or 0)
                    continue
                received = int((r or {}).get("received", offset + len(chunk)))
                if received != offset + len(chunk):
                    raise ServerUnreachable("service acknowledged an unexpected offset")
                offset = received
                self._progress(pid, offset, size)
        return offset

    def _progress(self, pid: str, done: int, total: int) -> None:
        if self.progress is not None:
            try:
                self.progress(pid, done, total)
            except Exception:  # a UI callback must not break the upload
                log.exception("progress callback failed")

    def _cleanup(self, payload: Mapping[str, Any]) -> None:
        folder = Path(str(payload.get("folder", "")))
        # only a package folder of our own work dir is ever deleted
        if folder.is_dir() and folder.resolve().parent == self.work_dir:
            shutil.rmtree(folder)
            log.info("plaintext of package %s deleted after confirmed upload", folder.name)
        sealed = Path(str(payload["sealed"]))
        if not self.keep_sealed and sealed.exists():
            sealed.unlink()
