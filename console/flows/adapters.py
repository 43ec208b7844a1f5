"""The thin layer between the UI controller and the other parts of the console.

Everything here is plain Python (no widgets): it adapts the core's session workflow, settings,
credentials and outbox, and the media engine, to what the controller needs. Where another
part is not installed yet, the adapter says so in the log and degrades (no crash).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from console.credentials import Credentials
from console.errors import ConsoleError, SessionError
from console.models import Assignment, Operator, ReasonCode
from console.outbox import (
    DECISION_KIND,
    Outbox,
    OutboxWorker,
    commit_decision,
    decision_handler,
)
from console.quality import LOST_AFTER_S, LinkStats, QualityTracker, classify
from console.script import StepKind, script_for
from console.session import Session, SessionDecision, StepStatus
from console.settings_store import SettingsStore, data_dir

__all__ = ["SettingsStore", "data_dir"]

log = logging.getLogger(__name__)

SETTINGS_ENV = "RECOGNITION_CONSOLE_HOME"


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name and module.startswith(exc.name):
            log.debug("%s not available", module)
            return None
        raise


# ==== settings and credentials (console.settings, console.credentials) =====================
def remember_password(url: str, user: str, password: str) -> None:
    Credentials().store(url, user, password)


def forget_password(url: str, user: str) -> None:
    Credentials().forget(url, user)


def stored_password(url: str, user: str) -> str:
    if not url or not user:
        return ""
    return Credentials().lookup(url, user) or ""


# ==== the session workflow =====================================================================
@dataclass(frozen=True)
class StepInfo:
    """One script step as a checklist shows it (``ui.controller.step_views`` adds the words)."""

    id: str
    code: str
    required: bool
    status: str = "pending"  # pending | passed | failed | skipped
    at: datetime | None = None
    targets: tuple[str, ...] = ()  # capture step: the capture targets
    otp: bool = False  # the SMS code step
    random_actions: tuple[str, ...] = ()  # the random action step: the codes drawn


class Workflow:
    """Adapts ``console.session.Session`` to the checklist's vocabulary."""

    def __init__(self, session: Session, language: str, stills_dir: Path) -> None:
        self.session = session
        self.language = language
        self.stills_dir = stills_dir

    @classmethod
    def start(
        cls, assignment: Assignment, operator: Operator | None, language: str, folder: Path
    ) -> Workflow:
        script = script_for(assignment.request.product.value)
        session = Session(assignment.request.id, script, session_id=assignment.session_id)
        session.start()
        stills = folder / "stills" / assignment.session_id
        stills.mkdir(parents=True, exist_ok=True)
        return cls(session, language, stills)

    def steps(self) -> list[StepInfo]:
        """What a checklist shows of each step, in words-free form (the UI adds the titles)."""
        out = []
        for state in self.session.steps:
            step = state.step
            actions = (tuple(a.code for a in self.random_actions())
                       if step.kind is StepKind.RANDOM_ACTION else ())
            out.append(StepInfo(
                id=step.id, code=step.code, required=step.required, status=state.status.value,
                at=state.finished.at if state.finished else None,
                targets=tuple(t.value for t in step.targets), otp=step.kind is StepKind.OTP,
                random_actions=actions,
            ))
        return out

    def step_text(self, step_id: str, values: dict[str, str]) -> str:
        step = self.session.script.step(step_id)
        if step.kind is StepKind.RANDOM_ACTION:
            values = dict(values)
            values["random_action"] = " ".join(a.say(self.language) for a in self.random_actions())
        return step.say(self.language, values)

    def step_hint(self, step_id: str) -> str:
        return self.session.script.step(step_id).hint(self.language)

    def random_actions(self) -> tuple[Any, ...]:
        return self.session.random_actions

    def is_random_action(self, step_id: str) -> bool:
        return self.session.step_state(step_id).step.kind is StepKind.RANDOM_ACTION

    def kind(self, step_id: str) -> str:
        return self.session.step_state(step_id).step.kind.value

    def mark(self, step_id: str, status: str) -> None:
        if status == "passed":
            if self.is_random_action(step_id):
                for action in self.session.random_actions:
                    self.session.confirm_random_action(action.code, True)
            self.session.pass_step(step_id, advance=True)
        elif status == "failed":
            self.session.fail_step(step_id)
        elif status == "skipped":
            self.session.skip_step(step_id)
        else:
            self.session.reset_step(step_id)

    def store_still(self, step_id: str, target: str, still: Any) -> Path:
        """Write the still's bytes to the session's folder (blocking: a worker thread)."""
        ext = ".png" if getattr(still, "mime", "") == "image/png" else ".jpg"
        path = self.stills_dir / f"{step_id}-{target}{ext}"
        path.write_bytes(still.data)
        return path

    def add_still(self, step_id: str, target: str, still: Any, path: Path | None = None) -> Path:
        """Attach a still to its step (written first unless ``path`` says where it already
        is)."""
        if path is None:
            path = self.store_still(step_id, target, still)
        digest = getattr(still, "sha256", "") or hashlib.sha256(still.data).hexdigest()
        self.session.attach_capture(
            step_id,
            target,
            width=still.width,
            height=still.height,
            sha256=digest,
            path=path,
            mime=getattr(still, "mime", ""),
        )
        return path

    def otp_sent(self, sent: Any) -> None:
        self.session.otp_sent(sent)

    def otp_checked(self, result: Any) -> None:
        self.session.otp_checked(result, advance=True)

    def call_connected(self) -> None:
        with contextlib.suppress(SessionError):
            self.session.record("call_connected")

    def record(self, name: str, **data: Any) -> None:
        with contextlib.suppress(SessionError):
            self.session.record(name, **data)

    def record_quality(self, level: str) -> None:
        self.session.record_quality(level)

    def missing_required(self) -> list[str]:
        return list(self.session.missing_required())

    def decide(self, decision: str, reason: str, note: str) -> SessionDecision:
        if decision == "approved":
            return self.session.approve(note)
        if decision == "rejected":
            return self.session.reject(ReasonCode(reason), note)
        return self.session.suspend(ReasonCode(reason), note)

    def report_steps(self) -> list[dict[str, Any]]:
        out = []
        for s in self.session.steps:
            out.append(
                {
                    "id": s.step.id,
                    "code": s.step.code,
                    "status": s.status.value,
                    "at": s.finished.to_dict()["at"] if s.finished else None,
                }
            )
        return out

    def all_passed(self) -> bool:
        return all(s.status is StepStatus.PASSED for s in self.session.steps if s.step.required)


# ==== decisions through the durable outbox (console.outbox) ====================================
class DecisionOutbox:
    """The durable outbox plus its background sender (retries with backoff)."""

    def __init__(self, folder: Path, client: Any) -> None:
        self.outbox = Outbox.in_data_dir(folder)
        self.outbox.register(DECISION_KIND, decision_handler(client))
        self.worker = OutboxWorker(self.outbox, poll_max=5.0)
        self.worker.start()

    def close(self) -> None:
        self.worker.stop()
        self.outbox.close()


def open_outbox(settings: SettingsStore, client: Any) -> DecisionOutbox:
    return DecisionOutbox(settings.folder, client)


def close_outbox(outbox: DecisionOutbox | None) -> None:
    if outbox is not None:
        outbox.close()


def prepare_approval(client: Any, session: Session, request_id: str,
                     liveness: dict[str, Any] | None = None) -> None:
    """Before an approval: the service records the captures and the liveness check and holds
    the recording (console.approval). Blocks: worker thread."""
    from console.approval import report_captures, report_liveness

    report_captures(client, request_id, session.captures)
    report_liveness(client, request_id, liveness)
    mod = _optional("console.evidence.session")
    live = mod.active_for(str(session.session_id)) if mod is not None else None
    if live is not None:
        live.upload_recording(client)


def deliver_decision(
    outbox: DecisionOutbox | None, client: Any, request_id: str, record: SessionDecision
) -> tuple[str, bool]:
    """Commit the decision to the outbox, then try to deliver it at once.

    Returns (state, delivered). When the service is unreachable the item stays in the outbox
    and the worker retries it (same decision_id: never lost, never applied twice).
    """
    if outbox is None:
        result = client.decide(
            request_id, record.decision_id, record.decision, record.reason_code, record.note
        )
        return str(result.state.value), True
    result = commit_decision(outbox.outbox, record)
    if result is None:
        return record.decision.value, False
    return str(result["state"]), True


# ==== media engine ==============================================================================
class EngineEvents:
    """The media engine's listener (media.api.EngineListener): every callback runs on the
    engine's thread and is only forwarded as ``callback(event, payload)``, which the controller
    re-emits as a queued Qt signal."""

    def __init__(self, callback: Callable[[str, Any], None]) -> None:
        self._cb = callback

    def on_call_state(self, state: Any) -> None:
        self._cb(str(getattr(state, "value", state)), None)

    def on_quality(self, report: Any) -> None:
        self._cb("quality", report)

    def on_message(self, message: dict[str, Any]) -> None:
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "utterance":
            self._cb("utterance", message)
        elif kind == "stats":
            self._cb("page_stats", message)
        else:
            self._cb("message", message)

    def on_remote_frame(self) -> None:
        self._cb("frame", None)  # coalesced by the controller: at most one paint pending

    def on_error(self, code: Any) -> None:
        self._cb("error", str(getattr(code, "value", code)))

    def on_link(self, event: Any) -> None:
        self._cb("link", event)  # media.api.LinkEvent: an outage started, went on or ended


def unwrap_frame(item: Any) -> tuple[Any, int | None]:
    """(av.VideoFrame, stamp ms) from what latest_remote_frame() returns."""
    if item is None:
        return None, None
    frame = getattr(item, "frame", None)
    if frame is not None:
        return frame, getattr(item, "stamp_ms", None)
    return item, None


class LocalPreview:
    """Keeps the operator's own latest outgoing video frame (media sink; engine thread only
    assigns a reference, the GUI timer reads it)."""

    def __init__(self) -> None:
        self.frame: Any = None

    def __call__(self, kind: str, frame: Any, _ts: float) -> None:
        if kind == "operator_video":
            self.frame = frame


def create_engine(
    factory: Callable[..., Any] | None, settings: SettingsStore, callback: Callable[..., None]
) -> Any:
    if factory is None:
        mod = _optional("media.engine")
        if mod is None:
            raise ConsoleError("media engine missing", code="media_unavailable")
        factory = mod.MediaEngine
    # QMediaDevices ids: a V4L2 path for cameras, a PulseAudio source name for microphones
    camera = settings.get("camera") or "auto"
    microphone = settings.get("microphone") or ""
    options: dict[str, Any] = {"camera": camera, "microphone": microphone or "auto"}
    if microphone:
        options["microphone_format"] = "pulse"
    engine = factory(EngineEvents(callback), **options)
    engine.start()
    return engine


def engine_call(engine: Any, client: Any, session_id: str) -> Any:
    """Start the call; returns the engine's future (fails when the desk socket cannot open).
    Each reconnection of the desk socket takes a token from ``DeskClient.socket_token``
    (refreshed over REST when it is about to expire or was refused)."""
    return engine.start_call(client.origin, client.access_token(), session_id,
                             verify=client.verify, token_provider=client.socket_token)


def engine_setter(engine: Any, name: str, *args: Any) -> None:
    if engine is None:
        return
    method = getattr(engine, name, None)
    if callable(method):
        method(*args)
    else:
        log.debug("media engine has no %s()", name)


def stop_engine(engine: Any) -> None:
    """Close the peer connection and signalling, stop the loop, join the engine thread."""
    try:
        engine.stop()
    except Exception:
        log.exception("media engine stop failed")


def link_stats(report: Any) -> LinkStats:
    """The engine's measurement (``media.api.QualityReport``) as the figures
    ``console.quality`` classifies: the one place a quality level is decided."""
    lost = str(getattr(getattr(report, "level", None), "value", "")) == "lost"
    loss_pct = getattr(report, "loss_pct", None)
    rtt = getattr(report, "rtt_ms", None)
    return LinkStats(
        rtt_ms=rtt if rtt is not None else getattr(report, "remote_rtt_ms", None),
        loss=None if loss_pct is None else float(loss_pct) / 100.0,
        jitter_ms=getattr(report, "jitter_ms", None),
        kbps=getattr(report, "bitrate_kbps", None),
        width=getattr(report, "remote_width", None),
        height=getattr(report, "remote_height", None),
        fps=getattr(report, "remote_fps", None),
        quality_limitation=getattr(report, "remote_limitation", None),
        # the engine says the media stopped (heartbeat or no packets): the "lost" rule
        since_last_pong_s=LOST_AFTER_S if lost else None,
    )


def quality_of(payload: Any, tracker: QualityTracker | None = None) -> tuple[str, dict[str, Any]]:
    """Level and figures from what the engine reports, classified by ``console.quality``
    (with the tracker's hysteresis when one is given)."""
    if isinstance(payload, LinkStats):
        stats = payload
    elif hasattr(payload, "loss_pct"):  # media.api.QualityReport
        stats = link_stats(payload)
    elif isinstance(payload, dict):
        stats = LinkStats(**{k: payload[k] for k in LinkStats.__slots__ if k in payload})
    else:
        return "unknown", {}
    if tracker is not None:
        assessment = tracker.update(stats)
        return tracker.level.value, assessment.details()
    assessment = classify(stats)
    return assessment.level.value, assessment.details()


# ==== evidence (console.evidence.session) =======================================================
def start_evidence(controller: Any, engine: Any = None) -> Any:
    """Start the live evidence of the session: the package builder mirrors the session events
    and the recorder takes every media frame (engine media sink). None when not installed."""
    mod = _optional("console.evidence.session")
    if mod is None or controller.session is None or controller.assignment is None:
        log.warning("evidence: console.evidence.session not available, nothing recorded")
        return None
    client = controller.client
    return mod.SessionEvidence(
        controller.settings.folder,
        controller.session.session,
        operator=getattr(client, "operator", None),
        product=controller.assignment.request.product.value,
        engine=engine if engine is not None else controller.engine,
    )


def build_evidence(controller: Any) -> str | None:
    """Finish the session's evidence (stop recording, sign, seal, queue and upload) with the
    evidence engineer's builder; returns the sealed package's path. Blocks: worker thread."""
    mod = _optional("console.evidence.session")
    if mod is None or controller.session is None:
        log.info("evidence: no session-level builder installed")
        return None
    path = mod.build_session_package(
        session=controller.session.session,
        client=controller.client,
        data_dir=controller.settings.folder,
        product=controller.assignment.request.product.value if controller.assignment else None,
    )
    return None if path is None else str(path)


def abandon_evidence(evidence: Any) -> None:
    """At shutdown with a session still open: finalise locally, upload at the next start."""
    if evidence is None:
        return
    try:
        evidence.finish(None, upload=False)
    except Exception:
        log.exception("evidence could not be finalised at shutdown")
