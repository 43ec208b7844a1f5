"""The recognition session workflow: a pure state machine (no threads, no Qt, no I/O).

A ``Session`` runs one ``ScriptDefinition`` for one request. The UI calls its methods in
response to the operator (and to results of ``DeskClient`` calls it made); the session checks the
rules, updates the step states and emits typed ``SessionEvent``s to its listeners. The events
are the raw material of the evidence timeline (``SessionEvent.to_dict()`` is JSON-ready).

Rules enforced here:
- a capture step passes only once every target has a still; an OTP step only once the code is
  verified (3 failed checks, or ``exhausted`` from the service, fail it with ``otp_failed``);
  a random-action step only once every drawn action was performed; an e-mail step only once
  the address is confirmed;
- required steps cannot be skipped, and approve() refuses (``ApprovalBlocked.missing``) while
  a required step is not passed, or while a blocker is active (``set_blocker``, e.g. the
  automated face comparison disagrees with the operator);
- an active blocker listed in ``OVERRIDABLE_BLOCKERS`` (``injection_suspected``: see
  console.injection) may be overridden by the operator with a reason (``override_blocker``,
  recorded as ``BlockerOverridden``); the others (a face mismatch) may not;
- reject() and suspend() are always possible (reason code; ``other`` needs a note);
- once decided, the session is closed: only ``record()`` and ``record_quality()`` still work.

Times: every stamp has the UTC wall time and the monotonic offset in seconds from ``start()``.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from random import Random
from typing import Any, ClassVar, Protocol

from console.errors import ApprovalBlocked, SessionError
from console.injection import BLOCKER as INJECTION_BLOCKER
from console.models import (
    Decision,
    EmailVerificationStatus,
    OtpSent,
    OtpVerification,
    ReasonCode,
    format_datetime,
)
from console.script import CaptureTarget, RandomAction, ScriptDefinition, ScriptStep, StepKind

log = logging.getLogger(__name__)

OTP_MAX_FAILURES = 3
#: blockers the operator may lift with a recorded reason (others need their own resolution)
OVERRIDABLE_BLOCKERS = frozenset({INJECTION_BLOCKER})
JsonScalar = str | int | float | bool | None


class StepStatus(StrEnum):
    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class OtpStatus(StrEnum):
    NOT_SENT = "not_sent"
    SENT = "sent"
    VERIFIED = "verified"
    EXHAUSTED = "exhausted"


@dataclass(frozen=True, slots=True)
class Stamp:
    at: datetime  # UTC
    offset_s: float  # monotonic seconds since the session started

    def to_dict(self) -> dict[str, Any]:
        return {"at": format_datetime(self.at), "offset_s": round(self.offset_s, 3)}


@dataclass(frozen=True, slots=True)
class Capture:
    """A still attached to a step (the file itself is the media engineer's)."""

    step_id: str
    target: CaptureTarget
    width: int
    height: int
    sha256: str
    path: Path
    mime: str
    stamp: Stamp


@dataclass(slots=True)
class OtpState:
    sends: int = 0
    otp_id: str | None = None
    sent_at: datetime | None = None
    expires_at: datetime | None = None
    resend_after: datetime | None = None
    attempts_left: int = OTP_MAX_FAILURES
    failures: int = 0
    verified: bool = False
    exhausted: bool = False

    @property
    def sent(self) -> bool:
        return self.sends > 0

    @property
    def status(self) -> OtpStatus:
        if self.verified:
            return OtpStatus.VERIFIED
        if self.exhausted:
            return OtpStatus.EXHAUSTED
        return OtpStatus.SENT if self.sent else OtpStatus.NOT_SENT


@dataclass(slots=True)
class EmailState:
    sent: bool = False
    sent_at: datetime | None = None
    confirmed: bool = False
    confirmed_at: datetime | None = None


@dataclass(slots=True)
class StepState:
    step: ScriptStep
    status: StepStatus = StepStatus.PENDING
    entered: Stamp | None = None  # first time the operator reached it
    finished: Stamp | None = None  # last change to passed/failed/skipped
    reason_code: ReasonCode | None = None
    note: str = field(default="", repr=False)
    captures: dict[CaptureTarget, Capture] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.step.id

    @property
    def missing_targets(self) -> tuple[CaptureTarget, ...]:
        return tuple(t for t in self.step.targets if t not in self.captures)

    @property
    def done(self) -> bool:
        return self.status is not StepStatus.PENDING


@dataclass(frozen=True, slots=True)
class SessionDecision:
    """The operator's decision, ready for the outbox (``kind='decision'``, key=decision_id)."""

    request_id: str
    decision_id: str
    decision: Decision
    reason_code: ReasonCode
    note: str = field(repr=False)
    stamp: Stamp

    OUTBOX_KIND: ClassVar[str] = "decision"

    def to_payload(self) -> dict[str, str]:
        return {
            "request_id": self.request_id,
            "decision_id": self.decision_id,
            "decision": self.decision.value,
            "reason_code": self.reason_code.value,
            "note": self.note,
        }


# --- events ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SessionEvent:
    """Base of every event. ``seq`` counts from 1 within a session."""

    type: ClassVar[str] = "event"
    session_id: str
    seq: int
    at: datetime
    offset_s: float

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for f in fields(self):
            out[f.name] = _jsonable(getattr(self, f.name))
        out["offset_s"] = round(self.offset_s, 3)
        return out


@dataclass(frozen=True, kw_only=True)
class SessionStarted(SessionEvent):
    type: ClassVar[str] = "session_started"
    request_id: str
    script_id: str
    script_version: str
    steps: tuple[str, ...]
    random_actions: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class StepEntered(SessionEvent):
    type: ClassVar[str] = "step_entered"
    step_id: str
    index: int


@dataclass(frozen=True, kw_only=True)
class StepStatusChanged(SessionEvent):
    type: ClassVar[str] = "step_status_changed"
    step_id: str
    old: StepStatus
    new: StepStatus
    reason_code: ReasonCode | None = None
    note: str = field(default="", repr=False)


@dataclass(frozen=True, kw_only=True)
class CaptureAttached(SessionEvent):
    type: ClassVar[str] = "capture_attached"
    step_id: str
    target: CaptureTarget
    width: int
    height: int
    sha256: str
    path: str
    replaced: bool


@dataclass(frozen=True, kw_only=True)
class OtpRequested(SessionEvent):
    type: ClassVar[str] = "otp_sent"
    step_id: str
    otp_id: str
    expires_at: datetime
    attempts_left: int
    resend: bool


@dataclass(frozen=True, kw_only=True)
class OtpChecked(SessionEvent):
    """One read-back check. The code itself is never recorded."""

    type: ClassVar[str] = "otp_checked"
    step_id: str
    verified: bool
    attempts_left: int
    exhausted: bool
    expired: bool = False


@dataclass(frozen=True, kw_only=True)
class EmailVerificationSent(SessionEvent):
    type: ClassVar[str] = "email_verification_sent"
    step_id: str


@dataclass(frozen=True, kw_only=True)
class EmailConfirmed(SessionEvent):
    type: ClassVar[str] = "email_confirmed"
    step_id: str
    confirmed_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class RandomActionRedrawn(SessionEvent):
    type: ClassVar[str] = "random_action_redrawn"
    old: str
    new: str


@dataclass(frozen=True, kw_only=True)
class RandomActionConfirmed(SessionEvent):
    type: ClassVar[str] = "random_action_confirmed"
    step_id: str
    code: str
    performed: bool


@dataclass(frozen=True, kw_only=True)
class QualityChanged(SessionEvent):
    type: ClassVar[str] = "quality_changed"
    level: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ApprovalRefused(SessionEvent):
    type: ClassVar[str] = "approval_refused"
    missing: tuple[str, ...]
    blockers: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class BlockerChanged(SessionEvent):
    """A condition that forbids approval was raised or cleared (``face_mismatch`` when the
    automated face comparison disagrees with the operator, ``document_invalid``…)."""

    type: ClassVar[str] = "blocker_changed"
    code: str
    active: bool
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class BlockerOverridden(SessionEvent):
    """The operator lifted an overridable blocker with a reason (``signals``: what it covers,
    e.g. the injection signal codes seen so far)."""

    type: ClassVar[str] = "blocker_overridden"
    code: str
    reason: str
    signals: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SessionDecided(SessionEvent):
    type: ClassVar[str] = "session_decided"
    decision_id: str
    decision: Decision
    reason_code: ReasonCode
    note: str = field(default="", repr=False)


@dataclass(frozen=True, kw_only=True)
class ExternalEvent(SessionEvent):
    """Something other parts report for the timeline (``applicant_joined``, ``peer_left``,
    ``link_lost``, ``recording_started``…). ``data`` holds JSON scalars, no personal data."""

    type: ClassVar[str] = "external"
    name: str
    data: Mapping[str, JsonScalar] = field(default_factory=dict)


Listener = Callable[[SessionEvent], None]


class SessionListener(Protocol):
    """An object with ``on_event``; ``add_listener`` takes it or a plain callable."""

    def on_event(self, event: SessionEvent) -> None: ...


def _as_callable(listener: Listener | SessionListener) -> Listener:
    on_event = getattr(listener, "on_event", None)
    if callable(on_event):
        return on_event  # type: ignore[no-any-return]
    if callable(listener):
        return listener
    raise TypeError("a listener is a callable or has on_event(event)")


# --- the session ----------------------------------------------------------------------------


class Session:
    """One recognition session. Call ``start()`` once listeners are attached."""

    def __init__(
        self,
        request_id: str,
        script: ScriptDefinition,
        *,
        session_id: str | None = None,
        listeners: Iterable[Listener | SessionListener] = (),
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] | None = None,
        rng: Random | None = None,
    ) -> None:
        self.request_id = str(request_id)
        self.session_id = session_id or str(uuid.uuid4())
        self.script = script
        self._clock = clock or (lambda: datetime.now(UTC))
        self._mono = monotonic or time.monotonic
        self._rng = rng
        self._listeners: list[Listener] = [_as_callable(x) for x in listeners]
        self._steps = [StepState(step=s) for s in script.steps]
        self._index = 0
        self._start_mono: float | None = None
        self._started: Stamp | None = None
        self._seq = 0
        self._events: list[SessionEvent] = []
        self._decision: SessionDecision | None = None
        self._random: list[RandomAction] = []
        self._performed: dict[str, bool] = {}
        self._quality: str | None = None
        self._blockers: dict[str, str] = {}
        self._overrides: list[dict[str, Any]] = []
        self.otp = OtpState()
        self.email = EmailState()

    # --- listeners and events --------------------------------------------------------------

    def add_listener(self, listener: Listener | SessionListener) -> None:
        """``listener(event)`` or ``listener.on_event(event)`` for every event, synchronously
        in the caller's thread (the UI re-emits it as a Qt signal). Exceptions are logged."""
        self._listeners.append(_as_callable(listener))

    def remove_listener(self, listener: Listener | SessionListener) -> None:
        fn = _as_callable(listener)
        if fn in self._listeners:
            self._listeners.remove(fn)

    @property
    def events(self) -> tuple[SessionEvent, ...]:
        return tuple(self._events)

    def _stamp(self) -> Stamp:
        assert self._start_mono is not None
        return Stamp(at=self._clock().astimezone(UTC), offset_s=self._mono() - self._start_mono)

    def _emit[Ev: SessionEvent](self, cls: type[Ev], **data: Any) -> Ev:
        stamp = self._stamp()
        self._seq += 1
        event = cls(session_id=self.session_id, seq=self._seq, at=stamp.at,
                    offset_s=stamp.offset_s, **data)
        self._events.append(event)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not break the workflow
                log.exception("session listener failed on %s", event.type)
        return event

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def started(self) -> Stamp | None:
        return self._started

    @property
    def decision(self) -> SessionDecision | None:
        return self._decision

    @property
    def is_closed(self) -> bool:
        return self._decision is not None

    def start(self) -> None:
        if self._start_mono is not None:
            raise SessionError("session already started", code="already_started")
        self._start_mono = self._mono()
        self._started = Stamp(at=self._clock().astimezone(UTC), offset_s=0.0)
        self._random = list(self.script.draw_random_actions(self._rng))
        self._emit(
            SessionStarted,
            request_id=self.request_id,
            script_id=self.script.id,
            script_version=self.script.version,
            steps=self.script.step_ids,
            random_actions=tuple(a.code for a in self._random),
        )
        self._enter(0)

    def _active(self) -> None:
        if self._start_mono is None:
            raise SessionError("session not started", code="not_started")
        if self._decision is not None:
            raise SessionError("session already decided", code="session_closed")

    # --- navigation --------------------------------------------------------------------------

    @property
    def steps(self) -> tuple[StepState, ...]:
        return tuple(self._steps)

    @property
    def current_index(self) -> int:
        return self._index

    @property
    def current(self) -> StepState:
        return self._steps[self._index]

    @property
    def is_first(self) -> bool:
        return self._index == 0

    @property
    def is_last(self) -> bool:
        return self._index == len(self._steps) - 1

    def step_state(self, step_id: str) -> StepState:
        for state in self._steps:
            if state.step.id == step_id:
                return state
        raise SessionError(f"no step {step_id!r} in this script", code="unknown_step")

    def go_next(self) -> StepState:
        """Next step in script order (stays on the last)."""
        self._active()
        return self._enter(min(self._index + 1, len(self._steps) - 1))

    def go_previous(self) -> StepState:
        self._active()
        return self._enter(max(self._index - 1, 0))

    def go_to(self, step_id: str) -> StepState:
        self._active()
        return self._enter(self._steps.index(self.step_state(step_id)))

    def go_next_open(self) -> StepState:
        """The first pending step after the current one (wrapping); stays if none is pending."""
        self._active()
        n = len(self._steps)
        for k in range(1, n + 1):
            i = (self._index + k) % n
            if self._steps[i].status is StepStatus.PENDING:
                return self._enter(i)
        return self.current

    def _enter(self, index: int) -> StepState:
        state = self._steps[index]
        if index != self._index or state.entered is None:
            self._index = index
            stamp = self._stamp()
            if state.entered is None:
                state.entered = stamp
            self._emit(StepEntered, step_id=state.step.id, index=index)
        return state

    # --- step outcomes -----------------------------------------------------------------------

    def _resolve(self, step_id: str | None) -> StepState:
        return self.current if step_id is None else self.step_state(step_id)

    def _set_status(
        self,
        state: StepState,
        new: StepStatus,
        reason: ReasonCode | None = None,
        note: str = "",
    ) -> None:
        old = state.status
        state.status = new
        state.reason_code = reason
        state.note = note
        state.finished = None if new is StepStatus.PENDING else self._stamp()
        self._emit(StepStatusChanged, step_id=state.step.id, old=old, new=new,
                   reason_code=reason, note=note)

    def _after(self, state: StepState, advance: bool) -> None:
        if advance and state is self.current:
            self.go_next_open()

    def pass_step(self, step_id: str | None = None, *, note: str = "",
                  advance: bool = True) -> StepState:
        """Mark the step passed, if its own condition holds (captures, OTP, actions, e-mail)."""
        self._active()
        state = self._resolve(step_id)
        if state.status is StepStatus.PASSED:
            return state
        step = state.step
        if step.kind is StepKind.CAPTURE and state.missing_targets:
            raise SessionError(
                "stills missing: " + ", ".join(t.value for t in state.missing_targets),
                code="captures_missing",
            )
        if step.kind is StepKind.OTP and not self.otp.verified:
            raise SessionError("the SMS code is not verified", code="otp_not_verified")
        if step.kind is StepKind.EMAIL and not self.email.confirmed:
            raise SessionError("the e-mail address is not confirmed", code="email_not_confirmed")
        if step.kind is StepKind.RANDOM_ACTION and not self.random_actions_done:
            raise SessionError("random actions not all performed", code="random_actions_pending")
        self._set_status(state, StepStatus.PASSED, None, note)
        self._after(state, advance)
        return state

    def fail_step(
        self,
        step_id: str | None = None,
        *,
        reason_code: ReasonCode | str | None = None,
        note: str = "",
        advance: bool = False,
    ) -> StepState:
        self._active()
        state = self._resolve(step_id)
        if reason_code is None:
            reason = ReasonCode.OTP_FAILED if state.step.kind is StepKind.OTP else ReasonCode.OTHER
        else:
            reason = _reason(reason_code)
        if reason is ReasonCode.OK:
            raise SessionError("'ok' is not a failure reason", code="invalid_reason")
        self._set_status(state, StepStatus.FAILED, reason, note)
        self._after(state, advance)
        return state

    def skip_step(self, step_id: str | None = None, *, note: str = "",
                  advance: bool = True) -> StepState:
        self._active()
        state = self._resolve(step_id)
        if state.step.required:
            raise SessionError("a required step cannot be skipped", code="step_required")
        if state.status is not StepStatus.SKIPPED:
            self._set_status(state, StepStatus.SKIPPED, None, note)
        self._after(state, advance)
        return state

    def reset_step(self, step_id: str | None = None, *, note: str = "") -> StepState:
        """Back to pending (the operator corrects a mistake; recorded in the events).
        Resetting the OTP step also clears an exhausted OTP so that a new code can be sent."""
        self._active()
        state = self._resolve(step_id)
        if state.status is not StepStatus.PENDING:
            self._set_status(state, StepStatus.PENDING, None, note)
        if state.step.kind is StepKind.OTP and self.otp.exhausted:
            self.otp.exhausted = False
            self.otp.failures = 0
        return state

    # --- captures ----------------------------------------------------------------------------

    def attach_capture(
        self,
        step_id: str | None,
        target: CaptureTarget | str,
        *,
        width: int,
        height: int,
        sha256: str,
        path: str | Path,
        mime: str = "",
    ) -> Capture:
        self._active()
        state = self._resolve(step_id)
        try:
            tgt = CaptureTarget(target)
        except ValueError:
            raise SessionError("unknown capture target", code="invalid_target") from None
        if tgt not in state.step.targets:
            raise SessionError(f"step {state.step.id!r} does not take a {tgt.value} still",
                               code="invalid_target")
        if width <= 0 or height <= 0:
            raise SessionError("still has no size", code="invalid_capture")
        digest = sha256.lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise SessionError("sha256 must be 64 hex digits", code="invalid_capture")
        capture = Capture(step_id=state.step.id, target=tgt, width=int(width),
                          height=int(height), sha256=digest, path=Path(path), mime=mime,
                          stamp=self._stamp())
        replaced = tgt in state.captures
        state.captures[tgt] = capture
        self._emit(CaptureAttached, step_id=state.step.id, target=tgt, width=capture.width,
                   height=capture.height, sha256=digest, path=str(capture.path),
                   replaced=replaced)
        return capture

    @property
    def captures(self) -> tuple[Capture, ...]:
        return tuple(c for s in self._steps for c in s.captures.values())

    # --- OTP and e-mail ----------------------------------------------------------------------

    def _step_of_kind(self, kind: StepKind) -> StepState:
        if self.current.step.kind is kind:
            return self.current
        for state in self._steps:
            if state.step.kind is kind:
                return state
        raise SessionError(f"this script has no {kind.value} step", code="no_such_step")

    def _email_step(self) -> StepState:
        try:
            return self._step_of_kind(StepKind.EMAIL)
        except SessionError:
            otp = self._step_of_kind(StepKind.OTP)
            if not otp.step.with_email:
                raise
            return otp

    def otp_sent(self, sent: OtpSent) -> None:
        """Record the service's answer to ``DeskClient.send_otp``."""
        self._active()
        state = self._step_of_kind(StepKind.OTP)
        if self.otp.verified:
            raise SessionError("the code is already verified", code="otp_already_verified")
        if self.otp.exhausted:
            raise SessionError("code attempts exhausted", code="otp_exhausted")
        resend = self.otp.sent
        self.otp.sends += 1
        self.otp.otp_id = sent.otp_id
        self.otp.sent_at = self._clock().astimezone(UTC)
        self.otp.expires_at = sent.expires_at
        self.otp.resend_after = sent.resend_after
        self.otp.attempts_left = sent.attempts_left
        self._emit(OtpRequested, step_id=state.step.id, otp_id=sent.otp_id,
                   expires_at=sent.expires_at, attempts_left=sent.attempts_left, resend=resend)

    def otp_checked(self, result: OtpVerification, *, advance: bool = True) -> StepState:
        """Record the answer to ``DeskClient.verify_otp``: passes the step when verified, fails
        it (``otp_failed``) after 3 wrong codes or when the service says ``exhausted``."""
        self._active()
        state = self._step_of_kind(StepKind.OTP)
        if not self.otp.sent:
            raise SessionError("no code was sent", code="otp_not_sent")
        if self.otp.verified or self.otp.exhausted:
            raise SessionError("the code check is over", code="otp_closed")
        self.otp.attempts_left = result.attempts_left
        if result.verified:
            self.otp.verified = True
        elif result.expired and not result.exhausted:
            pass  # not an attempt: the operator sends a new code
        else:
            self.otp.failures += 1
            if result.exhausted or self.otp.failures >= OTP_MAX_FAILURES:
                self.otp.exhausted = True
        self._emit(OtpChecked, step_id=state.step.id, verified=result.verified,
                   attempts_left=result.attempts_left, exhausted=self.otp.exhausted,
                   expired=result.expired)
        if self.otp.verified:
            return self.pass_step(state.step.id, advance=advance)
        if self.otp.exhausted:
            self._set_status(state, StepStatus.FAILED, ReasonCode.OTP_FAILED, "")
        return state

    def email_sent(self, status: EmailVerificationStatus | None = None) -> None:
        self._active()
        state = self._email_step()
        self.email.sent = True
        self.email.sent_at = (status.sent_at if status and status.sent_at
                              else self._clock().astimezone(UTC))
        self._emit(EmailVerificationSent, step_id=state.step.id)

    def email_status(self, status: EmailVerificationStatus) -> None:
        """Record ``DeskClient.email_status``; the first confirmation emits EmailConfirmed."""
        self._active()
        state = self._email_step()
        if status.confirmed and not self.email.confirmed:
            self.email.confirmed = True
            self.email.confirmed_at = status.confirmed_at
            self._emit(EmailConfirmed, step_id=state.step.id, confirmed_at=status.confirmed_at)

    # --- random actions ----------------------------------------------------------------------

    @property
    def random_actions(self) -> tuple[RandomAction, ...]:
        """The actions drawn for this session at start(), in the order to ask them."""
        return tuple(self._random)

    @property
    def random_actions_done(self) -> bool:
        return bool(self._random) and all(self._performed.get(a.code) for a in self._random)

    def confirm_random_action(self, code: str, performed: bool = True) -> None:
        self._active()
        if code not in {a.code for a in self._random}:
            raise SessionError("that action was not drawn", code="unknown_action")
        state = self._step_of_kind(StepKind.RANDOM_ACTION)
        self._performed[code] = performed
        self._emit(RandomActionConfirmed, step_id=state.step.id, code=code, performed=performed)

    def redraw_random_action(self, code: str) -> RandomAction:
        """Replace one drawn action with another one not used yet (e.g. the applicant cannot
        perform it); recorded in the events."""
        self._active()
        codes = [a.code for a in self._random]
        if code not in codes:
            raise SessionError("that action was not drawn", code="unknown_action")
        used = set(codes) | set(self._performed)
        pool = [a for a in self.script.random_actions if a.code not in used]
        if not pool:
            raise SessionError("no other action left", code="no_action_left")
        new = (self._rng or secrets.SystemRandom()).choice(pool)
        self._random[codes.index(code)] = new
        self._performed.pop(code, None)
        self._emit(RandomActionRedrawn, old=code, new=new.code)
        return new

    # --- other reports -----------------------------------------------------------------------

    def record_quality(self, level: str, reasons: Iterable[str] = ()) -> None:
        """Record the link quality level (see console.quality); emits only on a change."""
        if self._start_mono is None or level == self._quality:
            return
        self._quality = level
        self._emit(QualityChanged, level=str(level), reasons=tuple(str(r) for r in reasons))

    def record(self, name: str, **data: JsonScalar) -> None:
        """Add an event reported by another part (media, recorder, checks) to the timeline."""
        if self._start_mono is None:
            raise SessionError("session not started", code="not_started")
        for key, value in data.items():
            if value is not None and not isinstance(value, str | int | float | bool):
                raise SessionError(f"event data {key!r} must be a JSON scalar",
                                   code="invalid_event")
        self._emit(ExternalEvent, name=name, data=dict(data))

    # --- blockers ----------------------------------------------------------------------------

    def set_blocker(self, code: str, active: bool = True, *, source: str = "") -> None:
        """Raise (or clear) a condition that forbids approval whatever the steps say, e.g.
        ``face_mismatch`` (ETSI TS 119 461: manual and automated face results disagree) or
        ``document_invalid``. Emits BlockerChanged on a change only."""
        self._active()
        if not code:
            raise SessionError("blocker code required", code="invalid_blocker")
        if active == (code in self._blockers):
            return
        if active:
            self._blockers[code] = source
        else:
            del self._blockers[code]
        self._emit(BlockerChanged, code=code, active=active, source=source)

    @property
    def blockers(self) -> tuple[str, ...]:
        return tuple(self._blockers)

    def override_blocker(self, code: str, reason: str, *, signals: Iterable[str] = ()) -> None:
        """Lift the active blocker ``code`` (one of ``OVERRIDABLE_BLOCKERS``) with the operator's
        reason, recorded as ``BlockerOverridden``. ``set_blocker(code, True)`` raises it again
        (e.g. on a new injection signal)."""
        self._active()
        if code not in OVERRIDABLE_BLOCKERS:
            raise SessionError("this blocker cannot be overridden", code="not_overridable")
        if not reason.strip():
            raise SessionError("an override needs a reason", code="reason_required")
        if code not in self._blockers:
            raise SessionError("no such active blocker", code="not_blocked")
        del self._blockers[code]
        self._overrides.append({"code": code, "reason": reason.strip(),
                                "signals": [str(s) for s in signals]})
        self._emit(BlockerOverridden, code=code, reason=reason.strip(),
                   signals=tuple(str(s) for s in signals))

    # --- decision ----------------------------------------------------------------------------

    def missing_required(self) -> tuple[str, ...]:
        return tuple(s.step.id for s in self._steps
                     if s.step.required and s.status is not StepStatus.PASSED)

    @property
    def can_approve(self) -> bool:
        return not self.is_closed and not self.missing_required() and not self._blockers

    def approve(self, note: str = "") -> SessionDecision:
        self._active()
        missing = self.missing_required()
        blockers = self.blockers
        if missing or blockers:
            self._emit(ApprovalRefused, missing=missing, blockers=blockers)
            raise ApprovalBlocked(missing, blockers)
        return self._decide(Decision.APPROVED, ReasonCode.OK, note)

    def reject(self, reason_code: ReasonCode | str, note: str = "") -> SessionDecision:
        return self._decide(Decision.REJECTED, _reason(reason_code), note)

    def suspend(self, reason_code: ReasonCode | str, note: str = "") -> SessionDecision:
        return self._decide(Decision.SUSPENDED, _reason(reason_code), note)

    def _decide(self, decision: Decision, reason: ReasonCode, note: str) -> SessionDecision:
        self._active()
        if decision is not Decision.APPROVED and reason is ReasonCode.OK:
            raise SessionError("a rejection or suspension needs a reason", code="reason_required")
        if reason is ReasonCode.OTHER and not note.strip():
            raise SessionError("reason 'other' needs a note", code="note_required")
        stamp = self._stamp()
        result = SessionDecision(request_id=self.request_id, decision_id=str(uuid.uuid4()),
                                 decision=decision, reason_code=reason, note=note.strip(),
                                 stamp=stamp)
        self._decision = result
        self._emit(SessionDecided, decision_id=result.decision_id, decision=decision,
                   reason_code=reason, note=result.note)
        log.info("session decided: %s (%s)", decision.value, reason.value)
        return result

    # --- summary for evidence ----------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready state (steps, captures, OTP/e-mail flags, decision) for the evidence."""
        return {
            "session_id": self.session_id,
            "request_id": self.request_id,
            "script": {"id": self.script.id, "version": self.script.version},
            "started": self._started.to_dict() if self._started else None,
            "random_actions": [
                {"code": a.code, "performed": self._performed.get(a.code)} for a in self._random
            ],
            "otp": {"status": self.otp.status.value, "sends": self.otp.sends,
                    "failures": self.otp.failures},
            "email": {"sent": self.email.sent, "confirmed": self.email.confirmed},
            "blockers": list(self._blockers),
            "overrides": [dict(o) for o in self._overrides],
            "steps": [
                {
                    "id": s.step.id,
                    "code": s.step.code,
                    "required": s.step.required,
                    "status": s.status.value,
                    "entered": s.entered.to_dict() if s.entered else None,
                    "finished": s.finished.to_dict() if s.finished else None,
                    "reason_code": s.reason_code.value if s.reason_code else None,
                    "captures": [
                        {"target": c.target.value, "width": c.width, "height": c.height,
                         "sha256": c.sha256, "path": str(c.path), **c.stamp.to_dict()}
                        for c in s.captures.values()
                    ],
                }
                for s in self._steps
            ],
            "decision": (
                None if self._decision is None
                else {**self._decision.to_payload(), **self._decision.stamp.to_dict()}
            ),
        }


def _reason(value: ReasonCode | str) -> ReasonCode:
    try:
        return ReasonCode(value)
    except ValueError:
        raise SessionError("unknown reason code", code="invalid_reason") from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return _jsonable(asdict(value))
    return value
