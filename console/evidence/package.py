"""The evidence package: a folder (and one tar archive of it) with a signed manifest.

Layout of ``<package_id>/``::

    session.json                 request, product, operator, workstation, software, start time
    audit.jsonl                  hash-chained log of every event (the source of truth, fsynced)
    recording.mkv                four-stream recording (media.recorder)
    recording.timeline.jsonl     markers as they happened (crash-safe sidecar)
    captures/NN_<step>.png       stills, lossless (JPEG stills are kept as received)
    captures.json                per still: file, step, capture time, SHA-256, quality, checks
    transcript.json              script steps (time, offset, result, answer, note), notes, link
    otp_events.json              OTP and e-mail confirmation events (never the code)
    decision.json                the decision and its reason (``null`` in a partial package)
    report.pdf                   the session report an auditor reads first
    workstation_key.pub          the workstation's Ed25519 public key (base64)
    manifest.json                every other file's SHA-256 and size, audit head; signed
    manifest.sig                 Ed25519 signature of manifest.json (base64)

Everything the session produces is appended to ``audit.jsonl`` as it happens, so a package
interrupted by a crash can be closed later from what is on disk (:meth:`resume`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import tarfile
import threading
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from console import __version__
from console.evidence.audit import AuditLog, canonical, utc_now
from console.evidence.errors import PackageError, RecordingError
from console.evidence.keys import WorkstationKey

if TYPE_CHECKING:
    import numpy as np

    from media.recorder import Recorder

log = logging.getLogger(__name__)

FORMAT = "recognition-console/evidence-package"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "workstation_key.pub"
AUDIT = "audit.jsonl"
SESSION = "session.json"
RECORDING = "recording.mkv"
TIMELINE = "recording.timeline.jsonl"
REPORT = "report.pdf"
UNSIGNED = (MANIFEST, SIGNATURE)  # the only files not listed in the manifest
SECRET_KEYS = frozenset({"code", "otp", "otp_code", "token", "access_token", "refresh_token",
                         "password", "totp", "join_token"})
CHUNK = 1 << 20


def sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def scrub(data: Any) -> Any:
    """Remove secrets (OTP codes, tokens, passwords) from event data, recursively."""
    if isinstance(data, Mapping):
        return {str(k): scrub(v) for k, v in data.items() if str(k).lower() not in SECRET_KEYS}
    if isinstance(data, list | tuple):
        return [scrub(v) for v in data]
    return data


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def package_files(folder: Path) -> list[str]:
    """Relative POSIX paths of every file in the package (directories excluded), sorted."""
    out = []
    for p in folder.rglob("*"):
        if p.is_file() or p.is_symlink():
            out.append(p.relative_to(folder).as_posix())
    return sorted(out)


def _safe_step(step: str) -> str:
    s = re.sub(r"[^a-z0-9_-]+", "_", step.lower()).strip("_")
    return s[:40] or "still"


class EvidencePackageBuilder:
    """Collects a session's evidence into a package folder as the session runs.

    Create one at consent with :meth:`create`, start the recorder with :meth:`start_recording`,
    call the ``record_*``/``add_capture``/``otp_event`` methods as things happen (any thread),
    and :meth:`finalize` at hang-up. Then seal and upload (``console.evidence.seal``/``upload``).
    """

    def __init__(self, folder: Path, key: WorkstationKey, session: dict[str, Any]) -> None:
        self.folder = folder
        self.key = key
        self.session = session
        self.audit = AuditLog(folder / AUDIT)
        self.recorder: Recorder | None = None
        self._lock = threading.Lock()
        self._finalized = (folder / MANIFEST).exists()

    # ---------------------------------------------------------------- construction
    @classmethod
    def create(
        cls,
        root: str | os.PathLike[str],
        key: WorkstationKey,
        *,
        request_id: str,
        product: str,
        operator: Mapping[str, Any],
        session_id: str | None = None,
        mode: str = "remote",
        script_id: str | None = None,
        applicant: Mapping[str, Any] | None = None,
        package_id: str | None = None,
    ) -> EvidencePackageBuilder:
        pid = package_id or str(uuid.uuid4())
        folder = Path(root) / pid
        folder.mkdir(parents=True, exist_ok=False)
        (folder / "captures").mkdir()
        session = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "package_id": pid,
            "request_id": request_id,
            "session_id": session_id,
            "product": product,
            "mode": mode,
            "script_id": script_id,
            "operator": {k: operator[k] for k in ("id", "username", "display_name", "role")
                         if k in operator},
            "workstation": key.identity(),
            "software": {"name": "recognition-console", "version": __version__},
            "started_at": utc_now(),
            "applicant": dict(applicant or {}),
        }
        _write_json(folder / SESSION, session)
        builder = cls(folder, key, session)
        builder.audit.append("session_started", {"package_id": pid, "request_id": request_id,
                                                 "product": product, "mode": mode})
        return builder

    @classmethod
    def resume(cls, folder: str | os.PathLike[str], key: WorkstationKey) -> EvidencePackageBuilder:
        """Reopen a package folder left by a crash (to :meth:`finalize` it as partial)."""
        f = Path(folder)
        try:
            session = json.loads((f / SESSION).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise PackageError(f"{f.name}: session.json missing or unreadable") from exc
        if not isinstance(session, dict) or "package_id" not in session:
            raise PackageError(f"{f.name}: session.json is not a package description")
        return cls(f, key, session)

    @property
    def package_id(self) -> str:
        return str(self.session["package_id"])

    @property
    def request_id(self) -> str:
        return str(self.session["request_id"])

    @property
    def recording_path(self) -> Path:
        return self.folder / RECORDING

    @property
    def finalized(self) -> bool:
        return self._finalized

    # ---------------------------------------------------------------- recording
    def start_recording(self, **recorder_options: Any) -> Recorder:
        """Start the session recorder writing into this package (``media.recorder.Recorder``)."""
        from media.recorder import Recorder, RecorderError  # lazy: PyAV only when recording

        metadata = {"title": f"evidence {self.package_id}", "comment": self.request_id}
        try:
            rec = Recorder(self.recording_path, timeline_path=self.folder / TIMELINE,
                           metadata=metadata, **recorder_options)
            rec.start()
        except (RecorderError, ValueError, OSError) as exc:
            self.audit.append("recording_failed", {"error": type(exc).__name__})
            raise RecordingError(f"the recorder could not start ({type(exc).__name__})") from exc
        self.attach_recorder(rec)
        self.audit.append("recording_started", {"file": RECORDING, "timeline": TIMELINE},
                          offset_s=0.0)
        return rec

    def attach_recorder(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def _offset(self) -> float | None:
        rec = self.recorder
        return None if rec is None or rec.start_ts is None else rec.offset()

    # ---------------------------------------------------------------- events
    def event(self, event: str, data: Mapping[str, Any] | None = None, *,
              marker: tuple[str, str] | None = None, at: str | None = None,
              offset_s: float | None = None) -> dict[str, Any]:
        """Append any event to the audit log (and as a recording marker when ``marker``).

        The offset is the recording's clock when a recorder runs; ``at``/``offset_s`` are used
        when there is none (events replayed from a session after the fact)."""
        if self._finalized:
            raise PackageError("package already finalised")
        clean = scrub(dict(data or {}))
        offset = self._offset()
        if marker is not None and self.recorder is not None:
            m = self.recorder.mark(marker[0], marker[1], clean)
            offset = m["offset_s"]
        if offset is None:
            offset = offset_s
        return self.audit.append(event, clean, offset_s=offset, at=at)

    def record_step(self, step_id: str, *, passed: bool | None, title: str | None = None,
                    answer: str | None = None, note: str | None = None,
                    at: str | None = None, offset_s: float | None = None,
                    **extra: Any) -> dict[str, Any]:
        """A script step completed (``passed`` None = skipped / not applicable)."""
        data = {"step": step_id, "title": title, "passed": passed, "answer": answer,
                "note": note, **extra}
        return self.event("step", data, marker=("step", step_id), at=at, offset_s=offset_s)

    def add_capture(
        self,
        step: str,
        image: bytes | np.ndarray | str | os.PathLike[str],
        *,
        captured_at: str | None = None,
        quality: Mapping[str, Any] | None = None,
        checks: Mapping[str, Any] | None = None,
        still_id: str | None = None,
        offset_s: float | None = None,
    ) -> dict[str, Any]:
        """Keep a still losslessly: PNG bytes as received, a BGR ndarray encoded as PNG,
        JPEG bytes kept as received (re-encoding would not recover anything)."""
        if self._finalized:
            raise PackageError("package already finalised")
        data, ext, size = _image_bytes(image)
        with self._lock:
            n = sum(1 for e in self.audit.entries if e["event"] == "capture") + 1
            rel = f"captures/{n:02d}_{_safe_step(step)}.{ext}"
            path = self.folder / rel
            with open(path, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        info = {"file": rel, "step": step, "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data), "width": size[0], "height": size[1],
                "captured_at": captured_at or utc_now(), "still_id": still_id,
                "quality": dict(quality or {}), "checks": dict(checks or {})}
        return self.event("capture", info, marker=("capture", step), at=captured_at,
                          offset_s=offset_s)

    def otp_event(self, action: str, **info: Any) -> dict[str, Any]:
        """OTP sent / verified / failed / exhausted / resent. The code itself is never kept."""
        return self.event("otp", {"action": action, **info}, marker=("otp", action))

    def email_event(self, action: str, **info: Any) -> dict[str, Any]:
        """E-mail verification sent / confirmed."""
        return self.event("email", {"action": action, **info}, marker=("email", action))

    def connection_event(self, state: str, **info: Any) -> dict[str, Any]:
        """``lost`` / ``restored``: the recording goes on, the gap is marked."""
        return self.event("connection", {"state": state, **info}, marker=("connection", state))

    def note(self, text: str, **info: Any) -> dict[str, Any]:
        return self.event("note", {"text": text, **info}, marker=("note", "note"))

    def record_decision(self, decision: str, reason_code: str, note: str = "", *,
                        decision_id: str | None = None,
                        decided_at: str | None = None) -> dict[str, Any]:
        data = {"decision": decision, "reason_code": reason_code, "note": note,
                "decision_id": decision_id, "decided_at": decided_at or utc_now()}
        return self.event("decision", data, marker=("decision", decision))

    # ---------------------------------------------------------------- finalise
    def finalize(self, *, partial: bool = False, reason: str | None = None) -> Path:
        """Close the recording, write the derived files and the report, sign the manifest."""
        if self._finalized:
            return self.folder
        stats: dict[str, Any] | None = None
        recorder_error: str | None = None
        if self.recorder is not None:
            stats = self.recorder.stop()
            if self.recorder.error is not None:
                recorder_error = type(self.recorder.error).__name__
        if partial:
            self.audit.append("package_recovered", {"reason": reason or "unfinished"})
        entries = self.audit.entries
        rec_info: dict[str, Any] = {"file": RECORDING, "present": self.recording_path.exists()}
        if rec_info["present"]:
            sha, size = sha256_file(self.recording_path)
            rec_info.update(sha256=sha, bytes=size,
                            complete=not partial and stats is not None and not recorder_error)
            if recorder_error:
                rec_info["recorder_error"] = recorder_error
            if stats is not None:
                rec_info["stats"] = stats
        self.audit.append("recording_closed", rec_info, offset_s=self._offset())
        entries = self.audit.entries
        by = _group(entries)
        transcript = {
            "package_id": self.package_id,
            "request_id": self.request_id,
            "script_id": self.session.get("script_id"),
            "steps": [_row(e) for e in by.get("step", [])],
            "notes": [_row(e) for e in by.get("note", [])],
            "connection": [_row(e) for e in by.get("connection", [])],
        }
        _write_json(self.folder / "transcript.json", transcript)
        _write_json(self.folder / "otp_events.json", {
            "otp": [_row(e) for e in by.get("otp", [])],
            "email": [_row(e) for e in by.get("email", [])],
        })
        decisions = by.get("decision", [])
        _write_json(self.folder / "decision.json",
                    {"decision": _row(decisions[-1]) if decisions else None, "partial": partial})
        _write_json(self.folder / "captures.json",
                    {"captures": [_row(e) for e in by.get("capture", [])]})
        try:
            from console.evidence.report import write_report

            write_report(self.folder / REPORT, self.session, entries, rec_info, partial=partial)
        except Exception as exc:  # a report failure must not lose the evidence
            log.exception("session report could not be written")
            self.audit.append("report_failed", {"error": type(exc).__name__})
        (self.folder / PUBLIC_KEY).write_text(self.key.public_b64 + "\n", encoding="ascii")
        final = self.audit.append("package_finalized", {"partial": partial})
        self.audit.close()
        write_manifest(self.folder, self.key, self.session, final["hash"],
                       len(self.audit.entries), partial=partial, recording=rec_info)
        self._finalized = True
        log.info("evidence package %s finalised (partial=%s)", self.package_id, partial)
        return self.folder


def _group(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        out.setdefault(str(e.get("event")), []).append(e)
    return out


def _row(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {"at": entry.get("at"), "offset_s": entry.get("offset_s"),
            "audit_seq": entry.get("seq"), **dict(entry.get("data") or {})}


def _image_bytes(image: Any) -> tuple[bytes, str, tuple[int, int]]:
    from media import imagegate

    if isinstance(image, str | os.PathLike):
        try:
            image = Path(image).read_bytes()
        except OSError as exc:
            raise PackageError(f"still file unreadable: {exc.strerror}") from exc
    if isinstance(image, bytes | bytearray):
        data = bytes(image)
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            ext = "png"
        elif data.startswith(b"\xff\xd8\xff"):
            ext = "jpg"
        else:
            raise PackageError("still is neither PNG nor JPEG")
        try:  # the image gate: header and limits first, then a bounded full decode
            info = imagegate.probe_image(data, formats=imagegate.STILL_FORMATS)
            imagegate.decode_image(data, formats=imagegate.STILL_FORMATS, orient=False)
        except imagegate.ImageGateError as exc:
            if exc.code is imagegate.ImageErrorCode.TOO_LARGE:
                raise PackageError(f"still is too large ({exc.code.value})") from None
            raise PackageError(f"still is a damaged image ({exc.code.value})") from None
        return data, ext, (info.width, info.height)
    shape = getattr(image, "shape", None)
    if shape is None or len(shape) not in (2, 3) or str(getattr(image, "dtype", "")) != "uint8":
        raise PackageError("still must be PNG/JPEG bytes, a file or a uint8 image array")
    import cv2

    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise PackageError("still could not be encoded as PNG")
    return buf.tobytes(), "png", (int(shape[1]), int(shape[0]))


def write_manifest(folder: Path, key: WorkstationKey, session: Mapping[str, Any],
                   audit_head: str, audit_entries: int, *, partial: bool,
                   recording: Mapping[str, Any]) -> dict[str, Any]:
    for stray in folder.rglob("*.tmp"):  # left by a crash in an earlier finalisation
        stray.unlink()
    files: dict[str, dict[str, Any]] = {}
    for rel in package_files(folder):
        if rel in UNSIGNED:
            continue
        sha, size = sha256_file(folder / rel)
        files[rel] = {"sha256": sha, "bytes": size}
    manifest = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "package_id": session["package_id"],
        "request_id": session["request_id"],
        "product": session.get("product"),
        "mode": session.get("mode"),
        "operator": session.get("operator"),
        "workstation": key.identity(),
        "software": session.get("software"),
        "started_at": session.get("started_at"),
        "created_at": utc_now(),
        "partial": partial,
        "recording": {k: recording.get(k) for k in ("file", "sha256", "bytes", "complete")},
        "audit": {"file": AUDIT, "head": audit_head, "entries": audit_entries},
        "files": files,
    }
    body = canonical(manifest)
    # signature first, manifest last and atomically: a package counts as finalised (and is
    # never finalised again) only once both are on disk
    (folder / SIGNATURE).write_text(base64.b64encode(key.sign(body)).decode() + "\n",
                                    encoding="ascii")
    tmp = folder / (MANIFEST + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / MANIFEST)
    return manifest


def _tar_members(folder: Path) -> Iterator[tuple[tarfile.TarInfo, Path]]:
    prefix = folder.name
    for rel in package_files(folder):
        p = folder / rel
        if p.is_symlink() or not p.is_file():
            continue
        info = tarfile.TarInfo(f"{prefix}/{rel}")
        st = p.stat()
        info.size = st.st_size
        info.mtime = int(st.st_mtime)
        info.mode = 0o644
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        yield info, p


def write_tar(folder: Path, fileobj: IO[bytes], *, stream: bool = False) -> None:
    """Write the package as an uncompressed tar (``<package_id>/...``) to ``fileobj``."""
    mode = "w|" if stream else "w"
    with tarfile.open(fileobj=fileobj, mode=mode, format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
        for info, path in _tar_members(folder):
            with open(path, "rb") as fh:
                tar.addfile(info, fh)


def build_archive(folder: str | os.PathLike[str],
                  out: str | os.PathLike[str] | None = None) -> Path:
    """One archive file of a finalised package folder: ``<folder>.tar`` by default."""
    f = Path(folder)
    if not (f / MANIFEST).exists():
        raise PackageError(f"{f.name}: not finalised (no manifest.json)")
    target = Path(out) if out is not None else f.with_name(f.name + ".tar")
    tmp = target.with_name(target.name + ".tmp")
    with open(tmp, "wb") as fh:
        write_tar(f, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return target
