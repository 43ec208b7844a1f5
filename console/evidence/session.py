"""Session-level evidence: mirror a ``console.session.Session`` into a package as it runs,
record the call, and at the end finalise, seal, queue and upload.

Use from the session controller (no Qt here)::

    ev = SessionEvidence(data_dir, session, operator=client.operator, engine=engine,
                         product=request.product)      # at consent: recording starts
    ...                                                 # session events are mirrored live
    ev.record_checks("document_front", quality={...}, checks={...})   # optional extras
    # outages of the call (engine link events) become connection events and gap markers
    result = ev.finish(client)                          # at hang-up: package sealed + queued

``build_session_package(session=..., client=..., data_dir=...)`` is the one-call entry point the
the remote flow uses (``console.flows.adapters.build_evidence``): it finishes the live
``SessionEvidence``
of that session, or builds a package from the session's events after the fact (no recording).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.evidence.errors import EvidenceError
from console.evidence.keys import WorkstationKey
from console.evidence.package import EvidencePackageBuilder
from console.evidence.report import AGID_STEPS
from console.evidence.seal import seal_file
from console.evidence.upload import Api, Progress, Uploader, upload_key
from console.outbox import Outbox

log = logging.getLogger(__name__)

#: evidence entries waiting for the writer thread before a producer waits (back-pressure)
WRITE_QUEUE_MAX = 4096

_ACTIVE: dict[str, SessionEvidence] = {}
_ACTIVE_LOCK = threading.Lock()


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return None if value is None else str(value)


def _val(value: Any) -> Any:
    return getattr(value, "value", value)


def _iso_epoch(value: Any) -> str | None:
    if not isinstance(value, int | float):
        return None
    return _iso(datetime.fromtimestamp(float(value), UTC))


def _operator_dict(operator: Any) -> dict[str, Any]:
    if operator is None:
        return {}
    if isinstance(operator, Mapping):
        return dict(operator)
    return {"id": str(getattr(operator, "id", "")),
            "username": getattr(operator, "username", ""),
            "display_name": getattr(operator, "display_name", ""),
            "role": str(_val(getattr(operator, "role", "")))}


@dataclass(frozen=True)
class FinishResult:
    package_id: str
    folder: Path  # deleted once the service confirmed the upload
    sealed: Path | None  # kept when keep_sealed, else deleted after the upload
    queued: bool
    uploaded: bool


#: the applicant's video is kept as received (VP8, no second encode: media.recorder)
RECORDER_DEFAULTS: dict[str, Any] = {"copy_received_video": True}


class SessionEvidence:
    """Evidence of one live session: package builder + recorder + session listener."""

    def __init__(self, data_dir: str | os.PathLike[str], session: Any, *, operator: Any,
                 product: str | None = None, engine: Any = None, record: bool = True,
                 recorder_options: Mapping[str, Any] | None = None,
                 applicant: Mapping[str, Any] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.session = session
        self.engine = engine
        self.key = WorkstationKey.load_or_create(self.data_dir)
        script = getattr(session, "script", None)
        channel = str(_val(getattr(script, "channel", "remote")) or "remote")
        self.builder = EvidencePackageBuilder.create(
            self.data_dir / "evidence" / "work", self.key,
            request_id=str(session.request_id),
            product=product or str(getattr(script, "product", None) or "unknown"),
            operator=_operator_dict(operator), session_id=str(session.session_id),
            mode="in_person" if "person" in channel else "remote",
            script_id=getattr(script, "id", None), applicant=applicant)
        self.recorder = None
        if record:
            options = {**RECORDER_DEFAULTS, **dict(recorder_options or {})}
            self.recorder = self.builder.start_recording(**options)
            if engine is not None:
                engine.add_media_sink(self.recorder)
        self._lock = threading.Lock()
        # the package's writes (fsynced) happen on this writer thread, in order, never on the
        # thread that raised the event (which can be the GUI thread)
        self._writes: queue.Queue[Callable[[], None] | None] = queue.Queue(WRITE_QUEUE_MAX)
        self._writer = threading.Thread(target=self._write_loop, daemon=True,
                                        name=f"evidence-writer-{str(session.session_id)[:8]}")
        self._writer.start()
        if engine is not None and hasattr(engine, "add_link_listener"):
            engine.add_link_listener(self._on_link)
        self._seen: set[int] = set()
        for event in tuple(getattr(session, "events", ())):
            self._on_event(event)
        session.add_listener(self._on_event)
        with _ACTIVE_LOCK:
            _ACTIVE[str(session.session_id)] = self

    @property
    def package_id(self) -> str:
        return self.builder.package_id

    # ------------------------------------------------------------------ extras from the UI
    def record_checks(self, target: str, *, quality: Mapping[str, Any] | None = None,
                      checks: Mapping[str, Any] | None = None) -> None:
        """Quality and check results of a still (sharpness, MRZ check digits, face match...)."""
        self._safe("capture_checks", {"target": target, "quality": dict(quality or {}),
                                      "checks": dict(checks or {})}, ("checks", target))

    def _safe(self, event: str, data: Mapping[str, Any], marker: tuple[str, str] | None,
              at: str | None = None, offset_s: float | None = None) -> None:
        """Queue one entry for the writer thread (the caller never waits on the disk, only on
        a full queue: back-pressure rather than loss)."""
        data = dict(data)

        def write() -> None:
            try:
                self.builder.event(event, data, marker=marker, at=at, offset_s=offset_s)
            except EvidenceError as exc:
                log.error("evidence event %s not recorded (%s)", event, exc.code)

        self._enqueue(write)

    def _enqueue(self, write: Callable[[], None]) -> None:
        if not self._writer.is_alive() or threading.current_thread() is self._writer:
            write()  # finished: nothing else writes any more
            return
        try:
            self._writes.put_nowait(write)
        except queue.Full:
            log.warning("evidence writes are behind; waiting for the disk")
            self._writes.put(write)

    def _write_loop(self) -> None:
        while True:
            write = self._writes.get()
            if write is None:
                return
            try:
                write()
            except Exception:  # one failed entry never stops the others
                log.exception("evidence write failed")

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every queued entry is on disk (before sealing or uploading)."""
        if not self._writer.is_alive():
            return
        done = threading.Event()
        self._writes.put(done.set)
        done.wait(timeout)

    def _stop_writer(self) -> None:
        if self._writer.is_alive():
            self._writes.put(None)
            self._writer.join(60)

    def mark_clip(self, kind: str, label: str, since_mono: float, until_mono: float,
                  data: Mapping[str, Any] | None = None) -> dict[str, float] | None:
        """Mark a clip of the recording (``since``…``until``, monotonic seconds): a marker on
        the recording's timeline (a chapter) and an audit entry, e.g. the movement shown for a
        security feature. Returns ``{"from_s", "to_s"}`` on the recording; None when nothing
        is being recorded. The writes go through the writer thread."""
        rec = self.recorder
        if rec is None or rec.start_ts is None or until_mono < since_mono:
            return None
        clip = {"from_s": round(rec.offset(since_mono), 3),
                "to_s": round(rec.offset(until_mono), 3)}
        info = {**dict(data or {}), **clip}

        def marker() -> None:
            try:
                rec.mark("clip", f"{kind}:{label}", info, ts=since_mono)
            except Exception as exc:  # the recording goes on without the chapter
                log.error("clip marker not written (%s)", type(exc).__name__)

        self._enqueue(marker)
        self._safe("clip", {"kind": kind, "label": label, **info}, ("clip", f"{kind}:{label}"))
        return clip

    # ------------------------------------------------------------------ call outages
    def _on_link(self, event: Any) -> None:
        """An outage of the call's connection (``media.api.LinkEvent``, on the engine thread).
        Its start is a ``connection lost`` event; its end (connection back, call ended or
        sign-in refused) a ``connection restored``/``ended``/``revoked`` event and a ``gap``
        marker over the outage on the recording's timeline (``from_s``…``to_s``, like the
        recorder's own media gaps). Each reconnection attempt is not recorded."""
        phase = str(_val(getattr(event, "phase", "")))
        if self.builder.finalized or phase not in ("reconnecting", "connected", "revoked",
                                                     "ended"):
            return
        info: dict[str, Any] = {"reason": str(getattr(event, "reason", "")),
                                "since": _iso_epoch(getattr(event, "since", None))}
        if phase == "reconnecting":
            if not getattr(event, "attempt", 0):
                self._safe("connection", {"state": "lost", **info}, ("connection", "lost"))
            return
        state = "restored" if phase == "connected" else phase
        duration = getattr(event, "duration_s", None)
        info.update(until=_iso_epoch(getattr(event, "until", None)),
                    outage_s=None if duration is None else round(float(duration), 3),
                    attempts=int(getattr(event, "attempt", 0)))
        rec = self.recorder
        since_mono = getattr(event, "since_mono", None)
        until_mono = getattr(event, "until_mono", None)
        if (rec is not None and rec.start_ts is not None and isinstance(since_mono, float)
                and isinstance(until_mono, float)):
            info.update(from_s=round(rec.offset(since_mono), 3),
                        to_s=round(rec.offset(until_mono), 3))
            try:
                rec.mark("gap", "connection", {**info, "state": state}, ts=since_mono)
            except Exception as exc:  # the recording goes on without the marker
                log.error("gap marker not written (%s)", type(exc).__name__)
        self._safe("connection", {"state": state, **info}, ("connection", state))

    # ------------------------------------------------------------------ session events
    def _on_event(self, ev: Any) -> None:
        with self._lock:
            seq = int(getattr(ev, "seq", -1))
            if seq in self._seen or self.builder.finalized:
                return
            self._seen.add(seq)
        self._enqueue(lambda: self._write_event(ev))

    def _write_event(self, ev: Any) -> None:
        """Writer thread: one session event as its evidence entry."""
        if self.builder.finalized:
            return
        kind = str(getattr(ev, "type", "event"))
        at, off = _iso(getattr(ev, "at", None)), getattr(ev, "offset_s", None)
        d = getattr(ev, "__dict__", {}) or {}
        if not d:  # slotted/frozen dataclasses: read the fields
            import dataclasses

            d = {f.name: getattr(ev, f.name) for f in dataclasses.fields(ev)}
        step_id = d.get("step_id")
        step_code = None
        if step_id:
            try:
                step_code = self.session.step_state(step_id).step.code
            except Exception:  # unknown step: keep the id only
                step_code = None
        try:
            if kind == "step_status_changed":
                new = str(_val(d.get("new")))
                passed = {"passed": True, "failed": False}.get(new)
                if new == "pending":
                    self._safe("step_reset", {"step": step_id}, ("step", f"{step_id}:reset"),
                               at, off)
                    return
                agid = step_id if step_id in AGID_STEPS else None  # SPID scripts: a..m
                self.builder.record_step(str(step_id), passed=passed, agid=agid, title=step_code,
                                         status=new, note=d.get("note") or None,
                                         reason_code=_val(d.get("reason_code")), at=at,
                                         offset_s=off)
            elif kind == "capture_attached":
                path = Path(str(d.get("path")))
                self.builder.add_capture(str(_val(d.get("target"))), path, captured_at=at,
                                         offset_s=off,
                                         checks={"sha256_reported": d.get("sha256"),
                                                 "replaced": d.get("replaced")})
            elif kind == "otp_sent":
                self._safe("otp", {"action": "resent" if d.get("resend") else "sent",
                                   "otp_id": d.get("otp_id"),
                                   "expires_at": _iso(d.get("expires_at")),
                                   "attempts_left": d.get("attempts_left")},
                           ("otp", "sent"), at, off)
            elif kind == "otp_checked":
                action = ("verified" if d.get("verified") else
                          "exhausted" if d.get("exhausted") else
                          "expired" if d.get("expired") else "failed")
                self._safe("otp", {"action": action, "attempts_left": d.get("attempts_left")},
                           ("otp", action), at, off)
            elif kind == "email_verification_sent":
                self._safe("email", {"action": "sent"}, ("email", "sent"), at, off)
            elif kind == "email_confirmed":
                self._safe("email", {"action": "confirmed",
                                     "confirmed_at": _iso(d.get("confirmed_at"))},
                           ("email", "confirmed"), at, off)
            elif kind == "session_decided":
                self._safe("decision", {"decision": _val(d.get("decision")),
                                        "reason_code": _val(d.get("reason_code")),
                                        "note": d.get("note", ""),
                                        "decision_id": d.get("decision_id"), "decided_at": at},
                           ("decision", str(_val(d.get("decision")))), at, off)
            elif kind == "external" and d.get("name") in ("link_lost", "peer_left",
                                                         "link_restored", "applicant_joined"):
                state = "lost" if d.get("name") in ("link_lost", "peer_left") else "restored"
                self._safe("connection", {"state": state, "reason": d.get("name"),
                                          **dict(d.get("data") or {})},
                           ("connection", state), at, off)
            else:
                data: dict[str, Any] = {}
                for k, v in d.items():
                    if k in ("session_id", "seq", "at", "offset_s"):
                        continue
                    if isinstance(v, datetime):
                        data[k] = _iso(v)
                    elif isinstance(v, Mapping):
                        data[k] = {str(a): _val(b) for a, b in v.items()}
                    elif isinstance(v, tuple | list):
                        data[k] = [_val(x) for x in v]
                    else:
                        data[k] = _val(v)
                self._safe(kind, data, (kind, str(step_id or d.get("name") or kind)), at, off)
        except EvidenceError as exc:
            log.error("session event %s not recorded in the evidence (%s)", kind, exc.code)

    # ------------------------------------------------------------------ before an approval
    def upload_recording(self, client: Api) -> Mapping[str, Any] | None:
        """Seal the recording as it stands now and upload it (``kind: recording``): the desk
        service accepts an approval only once it holds the session's recording. The whole
        recording travels again in the package after the call. Blocks: worker thread only.
        None when nothing is being recorded."""
        self.flush()
        path = self.builder.recording_path
        if self.recorder is None or not path.exists() or path.stat().st_size == 0:
            return None
        up = Uploader(client, self.data_dir)
        try:
            key = up.archive_key()
            pid = f"{self.package_id}.recording"
            info = seal_file(path, key, up.sealed_dir / f"{pid}.sealed", package_id=pid,
                             request_id=str(self.session.request_id), content="matroska",
                             limit=path.stat().st_size)
            result = up.upload_now(info, kind="recording")
        finally:
            up.outbox.close()
        log.info("recording of package %s stored at the service before the approval (%d bytes)",
                 self.package_id, info.size)
        return result

    # ------------------------------------------------------------------ end of session
    def finish(self, client: Api | None = None, *, upload: bool = True,
               keep_sealed: bool = False, outbox: Outbox | None = None,
               progress: Progress | None = None) -> FinishResult:
        """Stop recording, finalise and sign; then seal and queue for upload (with a client),
        and try the upload now. Without a client the folder waits for ``Uploader.recover``.

        Blocks while the recorder drains and the upload runs: call it from a worker thread,
        never the GUI thread. Pass the process's shared ``outbox`` when there is one (its
        worker then retries the upload), and ``progress(package_id, done, total)`` for a bar."""
        try:
            self.session.remove_listener(self._on_event)
        except Exception:  # already removed
            log.debug("session listener already removed")
        if self.engine is not None and hasattr(self.engine, "remove_link_listener"):
            self.engine.remove_link_listener(self._on_link)
        if self.engine is not None and self.recorder is not None:
            self.engine.remove_media_sink(self.recorder)
        with _ACTIVE_LOCK:
            _ACTIVE.pop(str(self.session.session_id), None)
        self._stop_writer()  # every queued entry is written before the package is sealed
        folder = self.builder.finalize()
        sealed: Path | None = None
        queued = uploaded = False
        if client is not None:
            up = Uploader(client, self.data_dir, keep_sealed=keep_sealed, outbox=outbox,
                          progress=progress)
            try:
                item = up.submit(folder)
                queued = True
                sealed = Path(str(item.payload["sealed"]))
                if upload:
                    report = up.run_pending()
                    uploaded = upload_key(self.package_id) in report.delivered
            except EvidenceError as exc:
                log.warning("package %s waits in the work folder (%s)", self.package_id,
                            exc.code)
            finally:
                if outbox is None:
                    up.outbox.close()
        return FinishResult(self.package_id, folder, sealed, queued, uploaded)


def active_for(session_id: str) -> SessionEvidence | None:
    with _ACTIVE_LOCK:
        return _ACTIVE.get(session_id)


def build_session_package(*, session: Any, client: Any, data_dir: str | os.PathLike[str],
                          product: str | None = None, outbox: Outbox | None = None,
                          progress: Progress | None = None) -> Path | None:
    """Finish the evidence of ``session`` (live one, or built from its events now) and return
    the sealed package's path (kept), or the plaintext folder when it could not be sealed."""
    ev = active_for(str(session.session_id))
    if ev is None:
        ev = SessionEvidence(data_dir, session, operator=getattr(client, "operator", None),
                             product=product, record=False)
    result = ev.finish(client, keep_sealed=True, outbox=outbox, progress=progress)
    if result.sealed is not None and result.sealed.exists():
        return result.sealed
    return result.folder if result.folder.exists() else None
