"""The active liveness check of a remote session, run by the remote flow (no Qt).

``LivenessRun`` draws a fresh random plan (``console.liveness.ChallengePlan``), hands the
applicant's decoded frames to a ``LivenessFeeder`` (a media sink: analysis on its own thread,
no second decode), sends each challenge to the applicant's screen when its window opens
(``MediaEngine.send_challenge``) and, when the last window closes, records the verdict.

Approval rule (ETSI TS 119 461 v2): a remote session starts with the blocker
``liveness_not_passed``; a ``pass`` lifts it. After a ``fail`` only a supervisor's second look
(four eyes, ``SessionChecks.verify_supervisor``) lifts it; an ``inconclusive`` run may be
repeated with a new plan; so may a run where the applicant's page refused to show a challenge
(``challenge_error``: that challenge is ``not_shown``). The challenge response latencies
become injection signals (``response_too_fast``, ``response_slow``).

Events (to the flow's listeners): ``liveness_changed`` with ``{"state": "idle" | "running" |
"done", "challenge": code | None, "index", "count", "result": {...} | None}``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from console.errors import ConsoleError
from console.flows.tasks import Cancellable, Runner
from console.liveness import ChallengePlan, LivenessCheck, LivenessFeeder, LivenessResult
from media.challenge import PAGE_REFUSALS

log = logging.getLogger(__name__)

BLOCKER = "liveness_not_passed"
TICK_S = 0.1
#: a run that has not ended this long after its last window (no frames, engine gone) ends
OVERDUE_S = 20.0


class LivenessRun:
    def __init__(self, flow: Any, runner: Runner) -> None:
        self.c = flow
        self._runner = runner
        self.runs = 0
        self.reported_run = 0  # the last run the desk service acknowledged
        self.result: LivenessResult | None = None
        self.supervisor: str | None = None
        self._check: LivenessCheck | None = None
        self._feeder: LivenessFeeder | None = None
        self._engine: Any = None
        self._timer: Cancellable | None = None
        self._started = 0.0
        self._sent: list[str] = []

    # --- state ----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._check is not None

    @property
    def verdict(self) -> str | None:
        return None if self.result is None else self.result.verdict

    def state(self) -> dict[str, Any]:
        check = self._check
        current = None
        index = 0
        count = len(check.plan.challenges) if check is not None else 0
        if check is not None:
            now = time.monotonic()
            challenge = check.challenge_at(now)
            if challenge is not None:
                current = challenge.code
                index = [c.id for c in check.plan.challenges].index(challenge.id) + 1
        return {"state": "running" if check is not None else
                ("done" if self.result is not None else "idle"),
                "challenge": current, "index": index, "count": count,
                "result": self.report()}

    def report(self) -> dict[str, Any] | None:
        """``{"verdict", "score", "challenges": [...], "runs", "supervisor", ...}``."""
        if self.result is None:
            return None
        return {**self.result.to_json(), "runs": self.runs,
                "supervisor_confirmed": self.supervisor}

    def reset(self) -> None:
        self.stop()
        self.result = None
        self.runs = 0
        self.reported_run = 0
        self.supervisor = None

    def session_started(self) -> None:
        """A remote session with a face to compare: approval waits for a passed check."""
        self.reset()
        self._set_blocker(True)

    # --- running --------------------------------------------------------------------------------
    def start(self) -> bool:
        """Draw a plan and run it now; False (and an event) when it cannot run."""
        engine = self.c.engine
        if self.running:
            return False
        if engine is None or self.c.call_state != "connected" or self.c.session is None:
            self._emit_state(error="not_connected")
            return False
        if self.result is not None and self.result.verdict == "pass":
            return False  # passed already: nothing to prove again
        plan = ChallengePlan.random()
        check = LivenessCheck(plan)
        now = time.monotonic()
        check.start(now)
        self._check, self._engine, self._started, self._sent = check, engine, now, []
        self._feeder = LivenessFeeder(check)
        engine.add_media_sink(self._feeder.sink)
        self.runs += 1
        self.c._record("liveness_started", run=self.runs,
                       challenges=",".join(c.code for c in plan.challenges))
        log.info("liveness check %d started (%d challenges)", self.runs, len(plan.challenges))
        self._emit_state()
        self._schedule()
        return True

    def challenge_refused(self, challenge_id: Any, reason: Any) -> None:
        """The applicant's page answered ``challenge_error``: it showed nothing for that
        challenge, which is then judged ``not_shown`` (inconclusive: the check is repeated).
        The page's reason is recorded only when it is one the protocol names."""
        check = self._check
        if check is None or not isinstance(challenge_id, str):
            return
        challenge = check.mark_not_shown(challenge_id)
        if challenge is None:
            log.info("challenge_error for a challenge of no running check ignored")
            return
        why = reason if isinstance(reason, str) and reason in PAGE_REFUSALS else "other"
        self.c._record("liveness_challenge_not_shown", run=self.runs, code=challenge.code,
                       reason=why)
        log.warning("the applicant's page did not show a challenge (%s)", why)
        self._emit_state()

    def _schedule(self) -> None:
        self._timer = self._runner.call_later(TICK_S, self._tick)

    def _tick(self) -> None:
        self._timer = None
        check, engine = self._check, self._engine
        if check is None:
            return
        now = time.monotonic()
        count = len(check.plan.challenges)
        for challenge in check.to_announce(now):
            index = [c.id for c in check.plan.challenges].index(challenge.id) + 1
            try:
                engine.send_challenge(challenge.code, challenge.seconds, challenge.id,
                                      index, count)
            except Exception as exc:  # invalid (cannot happen with a validated plan) or gone
                log.warning("challenge not sent: %s", type(exc).__name__)
            self._sent.append(challenge.code)
            self.c._record("liveness_challenge_sent", code=challenge.code, index=index)
            self._emit_state()
        overdue = now - self._started > check.plan.duration_s + OVERDUE_S
        if check.done(now) or overdue or self.c.call_state != "connected":
            self._finish(now)
            return
        self._schedule()

    def _finish(self, now: float) -> None:
        check, feeder, engine = self._check, self._feeder, self._engine
        self._check = self._feeder = self._engine = None
        if check is None:
            return
        if engine is not None and feeder is not None:
            engine.remove_media_sink(feeder.sink)
        if feeder is not None:
            self._runner.run(feeder.stop)  # joins its thread: a worker's job
        result = check.result(now)
        self.result = result
        data = result.to_json()
        self.c._record("liveness_result", run=self.runs, verdict=result.verdict,
                       score=round(result.score, 3), reason=result.reason,
                       challenges=",".join(f"{c.code}={c.verdict}" for c in result.challenges),
                       latency_ms=data["latency_ms"])
        self.c.mark_clip("liveness", f"run-{self.runs}", self._started, now,
                         {"verdict": result.verdict})
        for signal in result.signals:  # response latency: for the operator, not a verdict
            self.c.injection_signal(str(signal.get("code", "")), str(signal.get("detail", "")))
        if result.verdict == "pass":
            self._set_blocker(False)
        log.info("liveness check %d: %s", self.runs, result.verdict)
        self._report_now()
        self._emit_state()

    def _report_now(self) -> None:
        """Tell the desk service at once (a worker's call): a supervisor's second look must
        come after the check it is about, so the check is never reported later than it ended."""
        client, assignment, report = self.c.client, self.c.assignment, self.report()
        if client is None or assignment is None or report is None:
            return
        run = self.runs
        request_id = assignment.request.id

        def send() -> int:
            from console.approval import report_liveness

            report_liveness(client, request_id, report)
            return run

        def sent(done_run: int) -> None:
            self.reported_run = max(self.reported_run, done_run)

        def failed(exc: BaseException) -> None:  # sent again before an approval
            log.warning("liveness result not reported yet: %s", type(exc).__name__)

        self._runner.run(send, sent, failed)

    def unreported(self) -> dict[str, Any] | None:
        """The latest result when the service has not acknowledged it yet (sent again before
        an approval), else None."""
        if self.result is None or self.reported_run >= self.runs:
            return None
        return self.report()

    def stop(self) -> None:
        """Abandon a running check (hang-up, session closed): no verdict."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        feeder, engine = self._feeder, self._engine
        self._check = self._feeder = self._engine = None
        if engine is not None and feeder is not None:
            engine.remove_media_sink(feeder.sink)
        if feeder is not None:
            self._runner.run(feeder.stop)

    # --- four eyes -------------------------------------------------------------------------------
    def confirmed_by_supervisor(self, username: str) -> bool:
        """A supervisor's second look after a failed (or inconclusive) check lifts the blocker;
        True when it did."""
        if self.result is None or self.result.verdict == "pass":
            return False
        self.supervisor = username
        self._set_blocker(False)
        self._emit_state()
        return True

    # --- helpers ---------------------------------------------------------------------------------
    def _set_blocker(self, on: bool) -> None:
        session = self.c.session
        if session is None:
            return
        try:
            session.session.set_blocker(BLOCKER, on, source="liveness")
        except ConsoleError as exc:
            log.info("liveness blocker not changed: %s", exc.code)
        self.c._emit("blockers_changed", tuple(session.session.blockers))

    def _emit_state(self, error: str | None = None) -> None:
        state = self.state()
        if error:
            state["error"] = error
        self.c._emit("liveness_changed", state)
