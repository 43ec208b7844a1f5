"""Grading a training run against the scenario's answer key.

A *run* is the JSON report of a session (the autopilot's report, or a trainee's session report):
``decision``, ``reason_code``, ``steps`` ([{id, status, at}]), ``otp`` ({verified, step_status}),
``findings`` (codes the operator or the automated checks raised). Grading is pure and
deterministic; the same run always gets the same grade.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from console.training.pack import AnswerKey


class GradeError(ValueError):
    """A run report that cannot be graded; the message names what is missing."""


@dataclass(frozen=True)
class StepTime:
    id: str
    seconds: float


@dataclass(frozen=True)
class Grade:
    scenario: str
    trainee: str
    decision: str
    expected_decision: str
    reason_code: str
    expected_reason_code: str
    correct: bool
    decision_correct: bool
    reason_correct: bool
    findings: list[str]
    missed_findings: list[str]
    steps_skipped: list[str]
    wrong_code_accepted: bool
    time_per_step: list[StepTime] = field(default_factory=list)
    total_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _finding_matches(expected: str, raised: list[str]) -> bool:
    """``data_mismatch`` is satisfied by ``data_mismatch:surname``; a field-level expected code
    needs that exact field."""
    return any(r == expected or r.startswith(expected + ":") for r in raised)


def _parse_at(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _step_times(steps: list[dict[str, Any]], started: datetime | None) -> list[StepTime]:
    """Seconds spent on each step: from the previous step's completion (or the start) to this
    step's completion, in completion order."""
    done = sorted(
        ((at, str(s.get("id"))) for s in steps
         if (at := _parse_at(s.get("at"))) is not None),
        key=lambda t: t[0])
    out = []
    previous = started or (done[0][0] if done else None)
    for at, sid in done:
        assert previous is not None
        out.append(StepTime(sid, round(max(0.0, (at - previous).total_seconds()), 3)))
        previous = at
    return out


def grade(run: dict[str, Any], key: AnswerKey, *, scenario: str,
          required_steps: tuple[str, ...] = ()) -> Grade:
    """Grade ``run`` against ``key``. ``required_steps``: the script's required step ids."""
    decision = run.get("decision")
    if not isinstance(decision, str):
        raise GradeError("the run has no decision")
    reason = str(run.get("reason_code") or ("ok" if decision == "approved" else ""))
    steps = run.get("steps")
    if not isinstance(steps, list):
        raise GradeError("the run has no step list")
    statuses = {str(s.get("id")): str(s.get("status")) for s in steps if isinstance(s, dict)}
    raised = [str(f) for f in run.get("findings", []) if isinstance(f, str)]

    decision_correct = decision == key.expected_decision
    reason_correct = decision_correct and (
        key.expected_decision == "approved" or reason == key.reason_code)
    missed = [f for f in key.findings if not _finding_matches(f, raised)]
    required = required_steps or tuple(statuses)
    skipped = [sid for sid in required if statuses.get(sid) in (None, "pending", "skipped")]
    otp = run.get("otp") or {}
    otp_step = next((s for s in steps if isinstance(s, dict) and s.get("kind") == "otp"), None)
    otp_step_status = (otp.get("step_status") if isinstance(otp, dict) else None) or (
        otp_step.get("status") if otp_step else None)
    wrong_code_accepted = bool(
        isinstance(otp, dict) and otp_step_status == "passed" and otp.get("verified") is False)

    # An approval needs every required step done; a refusal may stop early.
    steps_ok = not skipped if decision == "approved" else True
    correct = decision_correct and reason_correct and not wrong_code_accepted and steps_ok \
        and not missed
    started = _parse_at(run.get("started_at"))
    times = _step_times([s for s in steps if isinstance(s, dict)], started)
    ended = _parse_at(run.get("decided_at"))
    total = (ended - started).total_seconds() if started and ended else sum(
        t.seconds for t in times)
    return Grade(
        scenario=scenario, trainee=str(run.get("trainee") or run.get("operator") or "autopilot"),
        decision=decision, expected_decision=key.expected_decision,
        reason_code=reason, expected_reason_code=key.reason_code,
        correct=correct, decision_correct=decision_correct, reason_correct=reason_correct,
        findings=raised, missed_findings=missed, steps_skipped=skipped,
        wrong_code_accepted=wrong_code_accepted, time_per_step=times,
        total_seconds=round(max(0.0, total), 3),
    )


def load_report(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise GradeError(f"{p}: no such report") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GradeError(f"{p}: not a JSON report ({exc})") from exc
    if not isinstance(data, dict):
        raise GradeError(f"{p}: a report is a JSON object")
    for name in ("scenario", "decision", "expected_decision", "correct"):
        if name not in data:
            raise GradeError(f"{p}: the report has no {name!r}")
    return data


def table(reports: list[dict[str, Any]]) -> str:
    """A plain-text table of many trainee runs, one line each, and a summary line."""
    headers = ("trainee", "scenario", "decision", "expected", "correct", "missed", "time s")
    rows = []
    for r in reports:
        rows.append((
            str(r.get("trainee", "?")), str(r["scenario"]), str(r["decision"]),
            str(r["expected_decision"]), "yes" if r["correct"] else "NO",
            ",".join(r.get("missed_findings", [])) or "-",
            f"{float(r.get('total_seconds', 0.0)):.0f}",
        ))
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    right = sum(1 for r in reports if r["correct"])
    out.append(f"{right} of {len(reports)} runs correct")
    return "\n".join(out)
