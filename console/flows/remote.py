"""The remote (video) identification as a plain-Python flow: the operator's whole session.

``RemoteFlow`` holds the rules the windows used to hold: sign-in, the waiting room (the
service's pushes, REST as a fallback), taking the next applicant, the call (media engine on its
own thread), the script's steps, stills and their checks (``console.flows.checks``), the SMS
code, injection signals (``console.injection``) with the operator's override, the decision
through the durable outbox (approvals checked with the service first), and the evidence.

It never blocks its caller: blocking work runs on the runner's workers and comes back on the
runner's owner thread (``console.flows.tasks``), where the state changes and the events are
emitted to the listeners as ``listener(name, args)``. The events, by name and arguments:

=====================  ===========================================================
signed_in              Operator
sign_in_failed         code, locked_until | None
queue_updated          QueueSnapshot
queue_failed           code
assignment_ready       Assignment
take_next_failed       code
call_state_changed     connecting | connected | lost | ended | failed:<code>
link_changed           phase (reconnecting | connected | revoked | ended), since (time.time)
quality_changed        level, details
injection_changed      {"suspected", "signals", "override"}
utterance_heard        text the applicant's page heard
engine_error           code
frame_ready            (from the engine's thread) a new frame is in the latest-frame slot
engine_event           event, payload: every engine event, on the owner thread
steps_changed          list[StepInfo]
step_refused           step id, code
still_ready            step id, target, Still
still_failed           step id, target, code
otp_sent               attempts left
otp_result             verified, attempts left, exhausted
decision_done          final state
decision_queued        (kept in the outbox, retried)
decision_failed        code, what the service still misses
evidence_ready         sealed package path ("" when none)
session_closed
auth_lost
liveness_changed       {"state", "challenge", "index", "count", "result"} (liveness_run)
=====================  ===========================================================

The checks' events (``console.flows.checks``) go to the same listeners.
"""

from __future__ import annotations

import contextlib
import logging
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from console.approval import check_approval
from console.client import DeskClient
from console.errors import AccountLocked, ConsoleError
from console.flows import adapters as integration
from console.flows.checks import SessionChecks
from console.flows.events import Emitter, error_code
from console.flows.liveness_run import LivenessRun
from console.flows.tasks import Cancellable, Runner
from console.injection import BLOCKER as INJECTION_BLOCKER
from console.injection import InjectionMonitor, InjectionSignal
from console.models import Assignment, Operator, QueueSnapshot
from console.quality import QualityTracker
from console.queue_feed import QueueFeed

log = logging.getLogger(__name__)

STEP_STATUSES = ("pending", "passed", "failed", "skipped")
#: how often the queue is read over REST while the pushed feed is not live (s)
QUEUE_FALLBACK_S = 10.0
#: the longest a call's start waits for the face models still loading after sign-in (s)
MODELS_WAIT_S = 20.0


def _load_face_models() -> None:
    """Load dlib's models (face comparison, liveness landmarks: about 125 MB) once, at sign-in,
    on a worker. dlib holds the interpreter while it reads them (1.3 s on a quiet machine, up
    to 3 s on a busy one: every thread, the GUI's included, waits that long once); loaded
    during a call, they starved the engine's thread until the call's heartbeat timed out."""
    try:
        from console.checks import faces
        from console.liveness import load_models

        load_models()
        faces._models()  # cached: the first comparison then starts at once
    except Exception as exc:  # the checks report it themselves when they need them
        log.warning("face models not preloaded: %s", type(exc).__name__)


class _EngineEvents(integration.EngineEvents):
    """``adapters.EngineEvents`` plus the injection-signal callbacks (engine thread: only
    forwarded, like the others)."""

    def on_camera(self, info: Any) -> None:
        self._cb("camera", info)  # media.api.CameraInfo

    def on_frame_check(self, check: Any) -> None:
        self._cb("frame_check", check)  # media.api.FrameCheck


@dataclass
class CallStats:
    """What the autopilot report and the benchmarks read."""

    frames_received: int = 0
    width: int = 0
    height: int = 0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=20_000))
    stills: list[dict[str, Any]] = field(default_factory=list)
    started_at: float | None = None

    def latency(self) -> dict[str, float | None]:
        values = sorted(self.latencies_ms)
        if not values:
            return {"p50": None, "p95": None, "samples": 0}
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        return {
            "p50": round(statistics.median(values), 1),
            "p95": round(p95, 1),
            "samples": len(values),
        }


class RemoteFlow(Emitter):
    """One operator's console session, from sign-in to the evidence (see the module's doc)."""

    def __init__(
        self,
        settings: integration.SettingsStore,
        runner: Runner,
        *,
        engine_factory: Callable[..., Any] | None = None,
        audio_factory: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self._runner = runner
        self._audio_factory = audio_factory
        self.client: DeskClient | None = None
        self.operator: Operator | None = None
        self.assignment: Assignment | None = None
        self.session: integration.Workflow | None = None
        self.stats = CallStats()
        self.injection = InjectionMonitor()
        self.call_state = "idle"
        self.outage_since: float | None = None  # time.time() the current outage started
        self.otp_verified = False
        self.last_otp_heard: str | None = None
        self._engine_factory = engine_factory
        self.engine: Any = None
        self._outbox: Any = None
        # a safety net only: the waiting room comes from the service's pushes (QueueFeed)
        self._queue_timer: Cancellable | None = None
        self._queue_feed: QueueFeed | None = None
        self._queue_busy = False
        #: snapshots the feed has handed over: a REST answer asked for before the latest one is
        #: older than what is shown (the service does not re-send an unchanged waiting room)
        self._feed_snapshots = 0
        self._closing = False
        self._call_starting = False
        self._models_loaded: threading.Event | None = None  # set once dlib's models are in
        self.models_load_s: float | None = None  # how long that took (seconds)
        self._call_started: float | None = None
        self._quality = QualityTracker()
        # a new frame was signalled and not yet taken (a plain flag: no lock on the GUI thread)
        self._frame_pending = False
        self._evidence: Any = None
        self._evidence_state = "none"  # none | recording | finishing | done
        self.evidence_path: str | None = None
        self._preview = integration.LocalPreview()
        self.audio: Any = None
        self.checks = SessionChecks(self, runner)  # document and face checks beside the operator
        self.liveness = LivenessRun(self, runner)  # the active liveness check of the face step

    @property
    def runner(self) -> Runner:
        return self._runner

    # ==== sign-in ===============================================================================
    def sign_in(self, url: str, user: str, password: str, totp: str, remember: bool) -> None:
        ca = self.settings.get("ca_bundle") or None
        try:
            client = DeskClient(url, ca_bundle=ca, on_auth_lost=lambda: self._emit("auth_lost"))
        except ValueError as exc:  # InsecureUrl (plain http off loopback) has its own code
            self._emit("sign_in_failed", str(getattr(exc, "code", "invalid_url")), None)
            return

        def work() -> Operator:
            result = client.login(user, password, totp)
            if remember:
                integration.remember_password(url, user, password)
            else:
                integration.forget_password(url, user)
            return result.operator

        def done(operator: Operator) -> None:
            self.client = client
            self.operator = operator
            if operator.role.value == "operator" and self._models_loaded is None:
                loaded = threading.Event()
                self._models_loaded = loaded

                def preload() -> None:
                    started = time.monotonic()
                    try:
                        _load_face_models()
                    finally:
                        self.models_load_s = round(time.monotonic() - started, 2)
                        loaded.set()

                self._runner.run(preload)  # before any call: see _load_face_models
            self.settings.update(server_url=url, last_user=user, remember=remember)
            self._open_outbox()
            log.info("signed in as role %s", operator.role.value)
            self._emit("signed_in", operator)

        def failed(exc: BaseException) -> None:
            client.close()
            locked = exc.locked_until if isinstance(exc, AccountLocked) else None
            code = error_code(exc)
            log.info("sign-in failed: %s", code)
            self._emit("sign_in_failed", code, locked)

        self._runner.run(work, done, failed)

    def stored_password(self, url: str, user: str) -> str:
        return integration.stored_password(url, user)

    # ==== queue ================================================================================
    def start_queue_polling(self) -> None:
        """Follow the waiting room: one REST read now, then the service's pushes on the
        operator socket (console.queue_feed, its own thread); REST again only while that
        socket is down."""
        self.refresh_queue()
        client = self.client
        if self._queue_feed is None and client is not None:
            self._queue_feed = QueueFeed(
                client.origin, lambda refused: client.socket_token(refused=refused),
                # the feed's thread: the snapshot is handed to the owner thread
                lambda snap: self._runner.post(lambda: self._feed_snapshot(snap)),
                ca_bundle=self.settings.get("ca_bundle") or None)
            self._runner.run(self._queue_feed.start)  # a thread starts: not on the owner
        self._schedule_queue_fallback()

    def _feed_snapshot(self, snapshot: QueueSnapshot) -> None:
        self._feed_snapshots += 1
        self._emit("queue_updated", snapshot)

    def _schedule_queue_fallback(self) -> None:
        if self._queue_timer is not None:
            self._queue_timer.cancel()

        def tick() -> None:
            self._queue_timer = None
            if self._closing or self.client is None or self.assignment is not None:
                return
            self.refresh_queue()
            self._schedule_queue_fallback()

        self._queue_timer = self._runner.call_later(QUEUE_FALLBACK_S, tick)

    def stop_queue_polling(self) -> None:
        if self._queue_timer is not None:
            self._queue_timer.cancel()
            self._queue_timer = None
        feed, self._queue_feed = self._queue_feed, None
        if feed is not None:
            feed.stop(timeout=0)  # never wait on the GUI thread

    def refresh_queue(self) -> None:
        client = self.client
        if client is None or self._queue_busy:
            return
        if self._queue_feed is not None and self._queue_feed.state == "live":
            return  # the pushes keep the view current
        self._queue_busy = True
        asked_after = self._feed_snapshots

        def done(snapshot: QueueSnapshot) -> None:
            self._queue_busy = False
            if self._feed_snapshots != asked_after:
                log.debug("queue: a REST answer older than the feed's snapshot dropped")
                return
            self._emit("queue_updated", snapshot)

        def failed(exc: BaseException) -> None:
            self._queue_busy = False
            self._emit("queue_failed", error_code(exc))

        self._runner.run(client.queue, done, failed)

    def take_next(self) -> None:
        client = self.client
        if client is None:
            self._emit("take_next_failed", "not_authenticated")
            return

        def done(assignment: Assignment | None) -> None:
            if assignment is None:
                self._emit("take_next_failed", "queue_empty")
                return
            self.assignment = assignment
            self.stop_queue_polling()
            try:
                self.session = integration.Workflow.start(
                    assignment,
                    self.operator,
                    self.settings.get("language") or "it",
                    self.settings.folder,
                )
            except ConsoleError as exc:
                self._emit("take_next_failed", exc.code)
                return
            self.stats = CallStats()
            self.injection = InjectionMonitor()
            self.otp_verified = False
            log.info("session %s assigned", assignment.session_id)
            self.checks.start_session()
            if any("face" in info.targets for info in self.session.steps()):
                self.liveness.session_started()  # approval waits for a passed check
            else:
                self.liveness.reset()
            self._emit("assignment_ready", assignment)
            self._emit("steps_changed", self.session.steps())

        self._runner.run(client.take_next, done,
                         lambda e: self._emit("take_next_failed", error_code(e)))

    # ==== call =================================================================================
    def start_call(self) -> None:
        """Start the media engine and the session's recording on a worker (threads, files,
        the recorder's container: never on the owner thread), then place the call."""
        if self.client is None or self.assignment is None or self._call_starting:
            return
        self._call_starting = True
        self._emit("call_state_changed", "connecting")
        self.call_state = "connecting"
        engine = self.engine
        want_evidence = self._evidence_state == "none"

        models = self._models_loaded

        def prepare() -> tuple[Any, Any]:
            if models is not None:  # never load them while the call runs (see _load_face_models)
                models.wait(MODELS_WAIT_S)
            made = engine
            if made is None:
                made = integration.create_engine(
                    self._engine_factory, self.settings, self._engine_callback
                )
                made.add_media_sink(self._preview)
                # the same forwarding listener, with the injection signals' callbacks too
                integration.engine_setter(made, "set_listener",
                                          _EngineEvents(self._engine_callback))
            evidence = None
            if want_evidence:
                try:
                    evidence = integration.start_evidence(self, made)
                except Exception:
                    log.exception("evidence recording could not start")
            return made, evidence

        def ready(result: tuple[Any, Any]) -> None:
            self._call_starting = False
            made, evidence = result
            if self._closing:
                integration.stop_engine(made)
                return
            self.engine = made
            if evidence is not None:
                self._evidence = evidence
                self._evidence_state = "recording"
            try:
                if self.audio is None and self._audio_factory is not None:
                    self.audio = self._audio_factory()  # the host's (Qt audio: owner thread)
                    if self.audio is not None and self.audio.available:
                        made.set_audio_sink(self.audio.push)
                        self.audio.start()
                assignment, client = self.assignment, self.client
                if assignment is None or client is None:
                    return
                future = integration.engine_call(made, client, assignment.session_id)
                future.add_done_callback(self._call_started_cb)
            except Exception as exc:
                failed(exc)

        def failed(exc: BaseException) -> None:  # the media engine missing or failing to start
            self._call_starting = False
            log.error("media engine could not start the call: %s", type(exc).__name__)
            self.call_state = "failed"
            self._emit("call_state_changed", "failed:" + error_code(exc))

        self._runner.run(prepare, ready, failed)

    def _call_started_cb(self, future: Future[Any]) -> None:
        """Engine thread: the operator socket could not be opened → the call failed."""
        exc = future.exception() if not future.cancelled() else None
        if exc is not None:
            log.warning("the call could not start: %s", type(exc).__name__)
            self._engine_callback("failed", error_code(exc))

    def _engine_callback(self, event: str, payload: Any = None) -> None:
        """Called on the engine's thread: only re-emit (queued) — never touch widgets here.
        A new frame is signalled once until the GUI has painted (the slot is "latest frame",
        so frames that arrive meanwhile are simply newer, not queued)."""
        if self._closing:
            return
        if event == "frame":
            if self._frame_pending:
                return
            self._frame_pending = True
            with contextlib.suppress(RuntimeError):
                self._emit("frame_ready")
            return
        self._runner.post(lambda: self._on_engine_event(event, payload))

    def _on_engine_event(self, event: str, payload: Any) -> None:
        """Owner thread: what an engine event changes."""
        if self._closing:
            return
        self._emit("engine_event", event, payload)
        if event == "failed":
            self.call_state = "failed"
            self._emit("call_state_changed", "failed:" + str(payload or "internal_error"))
        elif event in ("connected", "lost", "ended", "connecting", "reconnecting"):
            if event == "connected" and self._call_started is None:
                self._call_started = time.monotonic()
                self.stats.started_at = time.time()
                if self.session is not None:
                    self.session.call_connected()
            self.call_state = event
            self._emit("call_state_changed", event)
        elif event in ("quality", "stats"):
            level, details = integration.quality_of(payload, self._quality)
            if self.session is not None:
                self.session.record_quality(level)
            self._emit("quality_changed", level, details)
        elif event == "camera":
            width, height = getattr(payload, "width", None), getattr(payload, "height", None)
            rate = getattr(payload, "frame_rate", None)
            self._injection_update(self.injection.camera(
                str(getattr(payload, "label", "") or ""),
                width if isinstance(width, int) else None,
                height if isinstance(height, int) else None,
                float(rate) if isinstance(rate, int | float) else None,
            ), always=True)
        elif event == "frame_check":
            from media.api import FrameCheck  # loaded with the engine (PyAV: not at start-up)

            if not isinstance(payload, FrameCheck):
                return
            self._injection_update(self.injection.frames(
                payload.identical_s, payload.exact_clock_frames, payload.repeat_s,
                payload.repeat_lag_s))
        elif event == "message" and isinstance(payload, dict) \
                and payload.get("type") == "challenge_error":
            self.liveness.challenge_refused(payload.get("id"), payload.get("reason"))
        elif event == "utterance":
            text = str(payload.get("text", "") if isinstance(payload, dict) else payload)
            self.last_otp_heard = text
            self._emit("utterance_heard", text)
        elif event == "link":
            phase = str(getattr(getattr(payload, "phase", ""), "value", ""))
            since = float(getattr(payload, "since", 0.0) or 0.0)
            self.outage_since = since if phase == "reconnecting" else None
            self._emit("link_changed", phase, since)
        elif event == "error":
            self._emit("engine_error", str(payload))
        elif event == "peer_left":
            self.call_state = "lost"
            self._emit("call_state_changed", "lost")

    # ==== active liveness ======================================================================
    def start_liveness(self) -> bool:
        """Run the active liveness check now (random challenges on the applicant's screen,
        verified from the live video); its outcome comes as ``liveness_changed``."""
        return self.liveness.start()

    def _record(self, name: str, **data: Any) -> None:
        """A session event for the timeline and the evidence (codes and figures, never
        personal data)."""
        if self.session is not None:
            self.session.record(name, **data)

    def mark_clip(self, kind: str, label: str, since_mono: float, until_mono: float,
                  data: dict[str, Any] | None = None) -> dict[str, float] | None:
        """A marked clip of the session's recording (``SessionEvidence.mark_clip``); None when
        nothing is being recorded."""
        evidence = self._evidence
        if evidence is None:
            return None
        clip: dict[str, float] | None = evidence.mark_clip(kind, label, since_mono, until_mono,
                                                           data)
        return clip

    def injection_signal(self, code: str, detail: str) -> None:
        """A signal another check found (e.g. the liveness check's response latency)."""
        self._injection_update(self.injection.signal(code, detail))

    # ==== injection signals ====================================================================
    def _injection_update(self, new: list[InjectionSignal], always: bool = False) -> None:
        """Record each new signal as a session event and keep the approval blocker in step
        with the monitor (a new signal after an override blocks again)."""
        session = self.session
        for signal in new:
            log.info("injection signal %s", signal.code)  # codes only, never the camera label
            if session is not None:
                session.record("injection_signal", code=signal.code, detail=signal.detail)
        if session is not None and (new or always):
            try:
                session.session.set_blocker(INJECTION_BLOCKER, self.injection.blocking,
                                            source="injection")
            except ConsoleError as exc:
                log.info("injection blocker not changed: %s", exc.code)
        if new or always:
            self._emit("injection_changed", self.injection.result())

    def still_noise(self, sigma: float) -> None:
        """The sensor noise measured on a still of the applicant's camera (checks' worker)."""
        self._injection_update(self.injection.still_noise(sigma))

    def injection_blocking(self) -> bool:
        """A suspected injection blocks approval until overridden (``override_injection``)."""
        session = self.session
        return session is not None and INJECTION_BLOCKER in session.session.blockers

    def override_injection(self, reason: str) -> bool:
        """The operator lifts the injection blocker with a reason (recorded in the evidence);
        False when refused (no reason, nothing to override, session closed)."""
        session = self.session
        if session is None:
            return False
        try:
            session.session.override_blocker(
                INJECTION_BLOCKER, reason, signals=[s.code for s in self.injection.signals])
        except ConsoleError as exc:
            log.info("injection override refused: %s", exc.code)
            return False
        self.injection.override(reason)
        log.info("injection signals overridden by the operator")
        self._emit("injection_changed", self.injection.result())
        return True

    def call_seconds(self) -> float:
        return 0.0 if self._call_started is None else time.monotonic() - self._call_started

    def latest_frame(self) -> tuple[Any, int | None]:
        """The engine's latest decoded applicant frame (av.VideoFrame yuv420p) and its stamp."""
        self._frame_pending = False
        if self.engine is None:
            return None, None
        try:
            return integration.unwrap_frame(self.engine.latest_remote_frame())
        except Exception:
            log.debug("no frame from the engine", exc_info=True)
            return None, None

    def latest_local_frame(self) -> Any:
        return self._preview.frame

    def frame_shown(self, frame: Any, stamp_ms: int | None) -> None:
        """The session window handed ``frame`` to the screen: count it, note its latency."""
        self.stats.frames_received += 1
        self.stats.width, self.stats.height = int(frame.width), int(frame.height)
        if stamp_ms is not None:
            latency = time.time() * 1000.0 - stamp_ms
            if -50.0 < latency < 10_000.0:
                self.stats.latencies_ms.append(max(0.0, latency))

    def set_muted(self, muted: bool) -> None:
        integration.engine_setter(self.engine, "set_mic_muted", muted)

    def set_camera_enabled(self, enabled: bool) -> None:
        integration.engine_setter(self.engine, "set_camera_enabled", enabled)

    def send_instruction(self, code: str) -> None:
        integration.engine_setter(self.engine, "send_instruction", code)

    # ==== script ===============================================================================
    def mark_step(self, step_id: str, status: str) -> None:
        if self.session is None or status not in STEP_STATUSES:
            return
        try:
            self.session.mark(step_id, status)
        except ConsoleError as exc:
            log.info("step %s not marked: %s", step_id, exc.code)
            self._emit("step_refused", step_id, exc.code)
        self._emit("steps_changed", self.session.steps())

    def capture(self, step_id: str, target: str) -> None:
        if self.engine is None or self.call_state != "connected":
            self._emit("still_failed", step_id, target, "not_connected")
            return
        asked = time.monotonic()
        try:
            future: Future[Any] = self.engine.request_still(target)
        except Exception as exc:
            self._emit("still_failed", step_id, target, error_code(exc))
            return
        received: list[float] = []
        # the engine's thread: the moment the whole still (checked SHA-256) is here
        future.add_done_callback(lambda _f: received.append(time.monotonic()))
        session = self.session

        def wait() -> tuple[Any, Any]:
            still = future.result(timeout=30)
            path = None
            if session is not None:  # the bytes reach the disk here, on the worker
                try:
                    path = session.store_still(step_id, target, still)
                except OSError as exc:
                    log.warning("still not written: %s", type(exc).__name__)
            return still, path

        def done(result: tuple[Any, Any]) -> None:
            still, path = result
            self.stats.stills.append(
                {
                    "step": target,
                    "script_step": step_id,
                    "width": still.width,
                    "height": still.height,
                    "size": still.size,
                    "mime": getattr(still, "mime", ""),
                    # click to whole bytes received (issue 16's still figure)
                    "transfer_ms": round(((received[0] if received else time.monotonic())
                                          - asked) * 1000.0, 1),
                }
            )
            if self.session is not None:
                try:
                    self.session.add_still(step_id, target, still, path)
                except (ConsoleError, OSError) as exc:
                    log.warning("still not attached: %s", type(exc).__name__)
            self._emit("still_ready", step_id, target, still)
            self.checks.on_still(step_id, target, still)

        self._runner.run(wait, done,
                         lambda e: self._emit("still_failed", step_id, target, error_code(e)))

    # ==== OTP ==================================================================================
    def send_otp(self) -> None:
        client, assignment = self.client, self.assignment
        if client is None or assignment is None:
            return
        rid = assignment.request.id

        def done(sent: Any) -> None:
            if self.session is not None:
                try:
                    self.session.otp_sent(sent)
                except ConsoleError as exc:
                    log.info("OTP send not recorded: %s", exc.code)
            self._emit("otp_sent", int(sent.attempts_left))

        self._runner.run(
            lambda: client.send_otp(rid), done, lambda e: self._emit("otp_failed", error_code(e))
        )

    def verify_otp(self, code: str) -> None:
        client, assignment = self.client, self.assignment
        if client is None or assignment is None:
            return
        rid = assignment.request.id

        def done(result: Any) -> None:
            self.otp_verified = bool(result.verified)
            if self.session is not None:
                try:
                    self.session.otp_checked(result)
                except ConsoleError as exc:
                    log.info("OTP result not recorded: %s", exc.code)
                self._emit("steps_changed", self.session.steps())
            self._emit("otp_result",
                       bool(result.verified), int(result.attempts_left), bool(result.exhausted))

        self._runner.run(
            lambda: client.verify_otp(rid, code),
            done,
            lambda e: self._emit("otp_failed", error_code(e)),
        )

    # ==== decision =============================================================================
    def missing_required(self) -> list[str]:
        return [] if self.session is None else self.session.missing_required()

    def decide(self, decision: str, reason: str, note: str) -> None:
        """Send a decision. An approval is first prepared (captures and recording reported) and
        checked with the service; one it would refuse is not recorded nor queued, and
        ``decision_failed`` carries what is missing, so the operator can act on it."""
        client, assignment, session = self.client, self.assignment, self.session
        if client is None or assignment is None or session is None:
            self._emit("decision_failed", "not_authenticated", [])
            return
        if decision != "approved":
            self._record_and_send(decision, reason, note)
            return
        blockers = list(session.session.blockers)
        if blockers:  # refused here before anything is uploaded (liveness, face, injection)
            self._emit("decision_failed", "approval_blocked", blockers)
            return
        request_id = assignment.request.id

        liveness = self.liveness.unreported()  # reported when it ended, unless that failed

        def prepare() -> None:
            integration.prepare_approval(client, session.session, request_id, liveness)
            check_approval(client, request_id)

        self._runner.run(prepare, lambda _none: self._record_and_send(decision, reason, note),
                         self._decision_error)

    def _decision_error(self, exc: BaseException) -> None:
        self._emit("decision_failed", error_code(exc), list(getattr(exc, "missing", ())))

    def _record_and_send(self, decision: str, reason: str, note: str) -> None:
        client, assignment, session = self.client, self.assignment, self.session
        if client is None or assignment is None or session is None:
            self._emit("decision_failed", "not_authenticated", [])
            return
        try:
            record = session.decide(decision, reason, note)
        except ConsoleError as exc:
            self._emit("decision_failed", exc.code, [])
            return
        outbox = self._outbox
        request_id = assignment.request.id

        def work() -> tuple[str, bool]:
            return integration.deliver_decision(outbox, client, request_id, record)

        def done(result: tuple[str, bool]) -> None:
            state, delivered = result
            if delivered:
                self._emit("decision_done", state)
            else:
                self._emit("decision_queued")

        self._runner.run(work, done, self._decision_error)

    def hang_up(self) -> None:
        """End the call (the engine closes its peer connection); the session stays."""
        self.liveness.stop()
        engine = self.engine
        if engine is not None:
            integration.engine_setter(engine, "hang_up")
        self.call_state = "ended"
        if self.audio is not None:
            self.audio.stop()
        self._emit("call_state_changed", "ended")
        if self.session is not None and self.session.session.is_closed:
            self.finish_evidence()

    def finish_evidence(self) -> None:
        """Seal and upload the session's evidence on a worker (once per session)."""
        if self._evidence_state not in ("recording", "none") or self.session is None:
            return
        self._evidence_state = "finishing"

        def done(path: str | None) -> None:
            self._evidence_state = "done"
            self._evidence = None
            self.evidence_path = path
            log.info("evidence package %s", "ready" if path else "not built")
            self._emit("evidence_ready", path or "")

        def failed(exc: BaseException) -> None:
            self._evidence_state = "done"
            self._evidence = None
            log.error("evidence package failed: %s", error_code(exc))
            self._emit("evidence_ready", "")

        # what the worker needs, taken now: close_session may clear the flow's own fields first
        snapshot = SimpleNamespace(session=self.session, client=self.client,
                                   settings=self.settings, assignment=self.assignment)
        self._runner.run(lambda: integration.build_evidence(snapshot), done, failed)

    def close_session(self) -> None:
        if self._evidence_state == "recording":
            self.finish_evidence()
        self._evidence_state = "none"
        self.liveness.reset()
        self.checks.stop()
        self.checks.reset()
        self.assignment = None
        self.session = None
        self.injection = InjectionMonitor()
        self._call_started = None
        self._emit("session_closed")
        if self.client is not None:
            self.start_queue_polling()

    # ==== outbox and shutdown ================================================================
    def _open_outbox(self) -> None:
        try:
            self._outbox = integration.open_outbox(self.settings, self.client)
        except Exception:
            log.exception("the decision outbox could not be opened; decisions go direct")
            self._outbox = None

    def shutdown(self) -> None:
        """Close peer connections, stop the media loop (the caller then quits Qt)."""
        self._closing = True
        self.stop_queue_polling()
        self.liveness.stop()
        feed, self._queue_feed = self._queue_feed, None
        if feed is not None:
            feed.stop(timeout=3.0)  # shutting down: its thread ends before Qt does
        self.checks.stop()
        if self._evidence_state == "recording":
            integration.abandon_evidence(self._evidence)
            self._evidence = None
        engine, self.engine = self.engine, None
        if engine is not None:
            integration.stop_engine(engine)
        if self.audio is not None:
            self.audio.stop()
        with contextlib.suppress(Exception):
            integration.close_outbox(self._outbox)
        if self.client is not None:
            self.client.close()
        log.info("controller shut down")
