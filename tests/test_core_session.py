"""Recognition session state machine: rules, navigation, OTP, captures, events."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

import pytest

from console.errors import ApprovalBlocked, SessionError
from console.models import (
    Decision,
    EmailVerificationStatus,
    OtpSent,
    OtpVerification,
    ReasonCode,
)
from console.script import StepKind, load_builtin_script
from console.session import (
    ApprovalRefused,
    CaptureAttached,
    OtpChecked,
    OtpStatus,
    Session,
    SessionDecided,
    SessionEvent,
    SessionStarted,
    StepEntered,
    StepStatus,
    StepStatusChanged,
)


class FakeClock:
    """Deterministic wall clock and monotonic clock, advanced by the test."""

    def __init__(self) -> None:
        self.wall = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)
        self.mono = 1000.0

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make(clock: FakeClock, script: str = "spid_personal") -> tuple[Session, list[SessionEvent]]:
    events: list[SessionEvent] = []
    session = Session("req-1", load_builtin_script(script), session_id="sess-1",
                      listeners=[events.append], clock=clock.now, monotonic=clock.monotonic,
                      rng=Random(1))
    session.start()
    return session, events


def otp_sent() -> OtpSent:
    return OtpSent(otp_id="otp-1", expires_at=datetime(2026, 11, 23, 9, 5, tzinfo=UTC),
                   attempts_left=3, resend_after=None)


def capture_all(session: Session, tmp_path: Path) -> None:
    for target in session.current.missing_targets:
        data = f"{session.current.id}-{target.value}".encode()
        path = tmp_path / f"{target.value}.png"
        path.write_bytes(data)
        session.attach_capture(None, target, width=1920, height=1080,
                               sha256=hashlib.sha256(data).hexdigest(), path=path,
                               mime="image/png")


def run_spid_to_the_end(session: Session, tmp_path: Path) -> None:
    """Walk the 13 AgID steps the way the UI does, one keyboard action per step."""
    while session.current.status is StepStatus.PENDING:
        kind = session.current.step.kind
        if kind is StepKind.OTP:
            session.otp_sent(otp_sent())
            session.email_sent()
            session.otp_checked(OtpVerification(verified=True, attempts_left=2, exhausted=False))
            continue
        if kind is StepKind.CAPTURE:
            capture_all(session, tmp_path)
        if kind is StepKind.RANDOM_ACTION:
            for action in session.random_actions:
                session.confirm_random_action(action.code)
        session.pass_step()


def test_full_spid_session_is_approved(clock: FakeClock, tmp_path: Path) -> None:
    session, events = make(clock)
    assert isinstance(events[0], SessionStarted)
    assert events[0].steps == tuple("abcdefghijklm")
    assert len(events[0].random_actions) == 2
    clock.advance(5)
    run_spid_to_the_end(session, tmp_path)
    assert session.missing_required() == ()
    assert session.can_approve
    decision = session.approve("ok")
    assert decision.decision is Decision.APPROVED and decision.reason_code is ReasonCode.OK
    payload = decision.to_payload()
    assert payload["decision_id"] == decision.decision_id and payload["request_id"] == "req-1"
    assert isinstance(events[-1], SessionDecided)
    assert session.is_closed
    with pytest.raises(SessionError) as info:
        session.pass_step("a")
    assert info.value.code == "session_closed"
    # events are numbered, time-ordered and JSON-ready
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    offsets = [e.offset_s for e in events]
    assert offsets == sorted(offsets) and offsets[0] == 0.0 and offsets[-1] == 5.0
    dumped = json.loads(json.dumps([e.to_dict() for e in events]))
    assert dumped[-1]["type"] == "session_decided"
    assert dumped[-1]["at"] == "2026-11-23T09:00:05Z"
    assert json.loads(json.dumps(session.snapshot()))["decision"]["decision"] == "approved"
    passed = [e for e in events if isinstance(e, StepStatusChanged)]
    assert [e.step_id for e in passed] == list("abcdefghijklm")


def test_approve_refuses_with_missing_required_steps(clock: FakeClock) -> None:
    session, events = make(clock)
    session.pass_step()  # a
    session.pass_step()  # b
    with pytest.raises(ApprovalBlocked) as info:
        session.approve()
    assert info.value.missing == tuple("cdefghijklm")
    assert isinstance(events[-1], ApprovalRefused)
    assert not session.is_closed


def test_reject_and_suspend_always_possible(clock: FakeClock) -> None:
    session, _ = make(clock)
    with pytest.raises(SessionError) as info:
        session.reject(ReasonCode.OK)
    assert info.value.code == "reason_required"
    with pytest.raises(SessionError) as info:
        session.suspend("other", "  ")
    assert info.value.code == "note_required"
    with pytest.raises(SessionError) as info:
        session.reject("not_a_reason")
    assert info.value.code == "invalid_reason"
    decision = session.suspend(ReasonCode.POOR_VIDEO, "frame freezes")
    assert decision.decision is Decision.SUSPENDED and decision.note == "frame freezes"
    with pytest.raises(SessionError):
        session.reject(ReasonCode.SUSPECTED_FRAUD)


def test_navigation_is_keyboard_friendly(clock: FakeClock) -> None:
    session, events = make(clock)
    assert session.current.id == "a" and session.is_first
    session.go_previous()
    assert session.current.id == "a"
    assert session.go_next().id == "b"
    session.go_to("m")
    assert session.is_last and session.go_next().id == "m"
    session.go_to("c")
    session.pass_step()  # advances to the next pending after c
    assert session.current.id == "d"
    session.go_to("a")
    session.go_next_open()
    assert session.current.id == "b"  # c is done, b is still pending: b comes first
    entered = [e.step_id for e in events if isinstance(e, StepEntered)]
    assert entered[:3] == ["a", "b", "m"]
    assert session.step_state("c").entered is not None
    with pytest.raises(SessionError) as info:
        session.go_to("zz")
    assert info.value.code == "unknown_step"


def test_required_steps_cannot_be_skipped_optional_can(clock: FakeClock) -> None:
    session, _ = make(clock, "digital_signature")
    with pytest.raises(SessionError) as info:
        session.skip_step("consent_recording")
    assert info.value.code == "step_required"
    health = session.step_state("health_card")
    assert not health.step.required
    session.skip_step("health_card", note="not available")
    assert health.status is StepStatus.SKIPPED
    assert "health_card" not in session.missing_required()


def test_step_timestamps_utc_and_offset(clock: FakeClock) -> None:
    session, _ = make(clock)
    clock.advance(12.5)
    state = session.pass_step("a")
    assert state.finished is not None
    assert state.finished.at == datetime(2026, 11, 23, 9, 0, 12, 500000, tzinfo=UTC)
    assert state.finished.offset_s == pytest.approx(12.5)
    assert session.step_state("a").entered is not None
    assert session.step_state("a").entered.offset_s == 0.0
    session.reset_step("a", note="mis-click")
    assert session.step_state("a").status is StepStatus.PENDING
    assert session.step_state("a").finished is None


def test_capture_step_needs_every_still(clock: FakeClock, tmp_path: Path) -> None:
    session, events = make(clock)
    session.go_to("i")
    with pytest.raises(SessionError) as info:
        session.pass_step()
    assert info.value.code == "captures_missing"
    digest = "ab" * 32
    session.attach_capture("i", "document_front", width=1280, height=720, sha256=digest,
                           path=tmp_path / "f.png")
    session.attach_capture("i", "document_front", width=1920, height=1080, sha256=digest,
                           path=tmp_path / "f2.png")
    attached = [e for e in events if isinstance(e, CaptureAttached)]
    assert [e.replaced for e in attached] == [False, True]
    assert session.step_state("i").captures[attached[0].target].width == 1920
    for bad in (
        {"target": "signed_form"},
        {"target": "selfie"},
        {"width": 0},
        {"sha256": "xyz"},
    ):
        kwargs = {"target": "document_back", "width": 10, "height": 10, "sha256": digest,
                  "path": tmp_path / "b.png", **bad}
        target = kwargs.pop("target")
        with pytest.raises(SessionError):
            session.attach_capture("i", target, **kwargs)
    assert session.step_state("i").missing_targets == (
        session.script.step("i").targets[1], session.script.step("i").targets[2])


def test_otp_three_failures_fail_the_step(clock: FakeClock) -> None:
    session, events = make(clock)
    session.go_to("g")
    with pytest.raises(SessionError) as info:
        session.otp_checked(OtpVerification(False, 2, False))
    assert info.value.code == "otp_not_sent"
    session.otp_sent(otp_sent())
    assert session.otp.status is OtpStatus.SENT
    with pytest.raises(SessionError) as info:
        session.pass_step()
    assert info.value.code == "otp_not_verified"
    for left in (2, 1, 0):
        session.otp_checked(OtpVerification(verified=False, attempts_left=left, exhausted=False))
    assert session.otp.status is OtpStatus.EXHAUSTED
    state = session.step_state("g")
    assert state.status is StepStatus.FAILED and state.reason_code is ReasonCode.OTP_FAILED
    checks = [e for e in events if isinstance(e, OtpChecked)]
    assert [c.exhausted for c in checks] == [False, False, True]
    # the code itself is never in an event
    assert all("code" not in e.to_dict() for e in checks)
    with pytest.raises(SessionError) as info:
        session.otp_sent(otp_sent())
    assert info.value.code == "otp_exhausted"
    assert "g" in session.missing_required()
    # the operator may reset the step (logged) and send a new code
    session.reset_step("g", note="new code")
    session.otp_sent(otp_sent())
    assert session.otp.sends == 2
    session.otp_checked(OtpVerification(verified=True, attempts_left=2, exhausted=False))
    assert session.step_state("g").status is StepStatus.PASSED


def test_otp_exhausted_by_service(clock: FakeClock) -> None:
    session, _ = make(clock)
    session.otp_sent(otp_sent())
    session.otp_checked(OtpVerification(verified=False, attempts_left=0, exhausted=True))
    assert session.step_state("g").status is StepStatus.FAILED


def test_email_confirmation_recorded_once(clock: FakeClock) -> None:
    session, events = make(clock)
    session.email_sent()
    unconfirmed = EmailVerificationStatus(sent_at=None, confirmed=False, confirmed_at=None)
    confirmed = EmailVerificationStatus(sent_at=None, confirmed=True,
                                        confirmed_at=datetime(2026, 11, 23, 9, 1, tzinfo=UTC))
    session.email_status(unconfirmed)
    session.email_status(confirmed)
    session.email_status(confirmed)
    types = [e.type for e in events]
    assert types.count("email_verification_sent") == 1
    assert types.count("email_confirmed") == 1
    assert session.email.confirmed


def test_random_actions(clock: FakeClock) -> None:
    session, events = make(clock)
    session.go_to("l")
    first, second = session.random_actions
    session.confirm_random_action(first.code)
    with pytest.raises(SessionError) as info:
        session.pass_step()
    assert info.value.code == "random_actions_pending"
    new = session.redraw_random_action(second.code)
    assert new.code not in (first.code, second.code)
    assert session.random_actions == (first, new)
    session.confirm_random_action(new.code, performed=True)
    session.pass_step()
    assert session.step_state("l").status is StepStatus.PASSED
    with pytest.raises(SessionError):
        session.confirm_random_action("not_drawn")
    assert "random_action_redrawn" in [e.type for e in events]


def test_listener_failure_does_not_break_workflow(clock: FakeClock,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    session, events = make(clock)

    def broken(event: SessionEvent) -> None:
        raise RuntimeError("boom")

    session.add_listener(broken)
    session.pass_step()
    assert session.step_state("a").status is StepStatus.PASSED
    assert "session listener failed" in caplog.text
    session.remove_listener(broken)
    n = len(events)
    session.pass_step()
    assert len(events) > n


def test_external_events_and_quality(clock: FakeClock) -> None:
    session, events = make(clock)
    session.record("applicant_joined", attempt=1)
    session.record_quality("good", ["high_rtt"])
    session.record_quality("good", ["high_rtt"])  # no change, no event
    session.record_quality("poor", ["low_frame_rate"])
    with pytest.raises(SessionError):
        session.record("bad", blob=[1, 2])  # type: ignore[arg-type]
    session.reject(ReasonCode.CONNECTION_LOST)
    session.record("peer_left", role="applicant")  # the timeline continues after the decision
    types = [e.type for e in events]
    assert types.count("quality_changed") == 2
    assert types[-1] == "external"
    assert events[-1].to_dict()["data"] == {"role": "applicant"}


def test_not_started_and_double_start(clock: FakeClock) -> None:
    session = Session("r", load_builtin_script("cns"), clock=clock.now,
                      monotonic=clock.monotonic)
    with pytest.raises(SessionError) as info:
        session.pass_step()
    assert info.value.code == "not_started"
    session.start()
    with pytest.raises(SessionError):
        session.start()


def test_personal_data_not_in_repr(clock: FakeClock) -> None:
    session, events = make(clock)
    decision = session.reject(ReasonCode.OTHER, "applicant RSSMRA85D52H501P said no")
    assert "RSSMRA" not in repr(decision)
    assert "RSSMRA" not in repr(events[-1])
    assert "RSSMRA" in events[-1].to_dict()["note"]  # kept for the (encrypted) evidence


def test_expired_code_is_not_an_attempt(clock: FakeClock) -> None:
    session, events = make(clock)
    session.otp_sent(otp_sent())
    for _ in range(3):
        session.otp_checked(OtpVerification(verified=False, attempts_left=3, exhausted=False,
                                            expired=True))
    assert session.otp.status is OtpStatus.SENT and session.otp.failures == 0
    assert session.step_state("g").status is StepStatus.PENDING
    assert [e for e in events if isinstance(e, OtpChecked)][-1].expired
    session.otp_sent(otp_sent())  # a new code
    session.otp_checked(OtpVerification(verified=True, attempts_left=2, exhausted=False))
    assert session.step_state("g").status is StepStatus.PASSED


def test_blockers_forbid_approval(clock: FakeClock, tmp_path: Path) -> None:
    session, events = make(clock)
    run_spid_to_the_end(session, tmp_path)
    session.set_blocker("face_mismatch", source="checks.face")
    session.set_blocker("face_mismatch", source="checks.face")  # no change, no event
    assert not session.can_approve and session.blockers == ("face_mismatch",)
    with pytest.raises(ApprovalBlocked) as info:
        session.approve()
    assert info.value.missing == () and info.value.blockers == ("face_mismatch",)
    assert events[-1].to_dict()["blockers"] == ["face_mismatch"]
    session.set_blocker("face_mismatch", active=False)
    assert session.can_approve
    assert [e.type for e in events].count("blocker_changed") == 2
    assert session.approve().decision is Decision.APPROVED


def test_listener_objects_with_on_event(clock: FakeClock) -> None:
    class Timeline:
        def __init__(self) -> None:
            self.types: list[str] = []

        def on_event(self, event: SessionEvent) -> None:
            self.types.append(event.type)

    timeline = Timeline()
    session = Session("r", load_builtin_script("in_person"), listeners=[timeline],
                      clock=clock.now, monotonic=clock.monotonic)
    session.start()
    session.remove_listener(timeline)
    session.pass_step("contacts")
    assert timeline.types == ["session_started", "step_entered"]
    with pytest.raises(TypeError):
        session.add_listener(42)  # type: ignore[arg-type]
