"""The session report PDF an auditor reads first (fpdf2).

Each line points at its moment in the recording (``@ hh:mm:ss.s``, the offset from the start of
recording.mkv) and, where it has one, at the audit entry (``#seq``) that proves it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

AGID_STEPS: dict[str, str] = {
    "a": "Consent to recording and 20-year retention",
    "b": "Operator states identity",
    "c": "Applicant confirms personal data",
    "d": "Applicant states date and time",
    "e": "Applicant confirms will and pre-registered data",
    "f": "Applicant confirms mobile number and e-mail",
    "g": "SMS code (and e-mail link) sent and read back",
    "h": "Applicant confirms kinds of credentials",
    "i": "Identity document shown front and back",
    "j": "Tessera Sanitaria shown",
    "k": "Applicant accepts the terms",
    "l": "Random actions",
    "m": "Operator summarises, applicant confirms",
}


def _t(text: object) -> str:
    """fpdf2's core fonts are Latin-1: keep Italian accents, replace anything else."""
    return str(text).encode("latin-1", "replace").decode("latin-1")


def fmt_offset(offset: object) -> str:
    if not isinstance(offset, int | float):
        return "--:--:--"
    s = float(offset)
    return f"{int(s // 3600):02d}:{int(s % 3600 // 60):02d}:{s % 60:04.1f}"


def _result(passed: object) -> str:
    return {True: "PASS", False: "FAIL"}.get(passed, "n/a")  # type: ignore[call-overload]


def write_report(path: Path, session: Mapping[str, Any], entries: Sequence[Mapping[str, Any]],
                 recording: Mapping[str, Any], *, partial: bool = False) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(_t(f"Evidence report {session.get('package_id')}"))
    pdf.set_creator("recognition-console")
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def heading(text: str) -> None:
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(width, 7, _t(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)

    def line(text: str, bold: bool = False) -> None:
        pdf.set_font("Helvetica", "B" if bold else "", 9)
        pdf.multi_cell(width, 5, _t(text), new_x="LMARGIN", new_y="NEXT")

    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(width, 9, "Identification session - evidence report", new_x="LMARGIN", new_y="NEXT")
    if partial:
        line("PARTIAL PACKAGE: the session was interrupted (e.g. a crash); it was closed at "
             "the next start with everything recorded up to then.", bold=True)
    op = session.get("operator") or {}
    ws = session.get("workstation") or {}
    sw = session.get("software") or {}
    pdf.set_font("Helvetica", "", 9)
    for label, value in (
        ("Package", session.get("package_id")),
        ("Request", session.get("request_id")),
        ("Product / mode", f"{session.get('product')} / {session.get('mode')}"),
        ("Script", session.get("script_id") or "-"),
        ("Started (UTC)", session.get("started_at")),
        ("Operator", f"{op.get('display_name', '')} ({op.get('username', '')}, id "
                     f"{op.get('id', '')})"),
        ("Workstation", f"{ws.get('id')} on {ws.get('hostname')} (Ed25519 key in package)"),
        ("Software", f"{sw.get('name')} {sw.get('version')}"),
    ):
        line(f"{label}: {value}")
    heading("Recording")
    if recording.get("present"):
        line(f"File {recording.get('file')}, {recording.get('bytes', 0)} bytes, "
             f"{'complete' if recording.get('complete') else 'INCOMPLETE (closed after a crash)'}")
        line(f"SHA-256 {recording.get('sha256')}")
        stats = recording.get("stats") or {}
        dropped = sum((stats.get("dropped") or {}).values()) if stats else 0
        if stats:
            line(f"Frames dropped by the recorder: {dropped}; gaps: {stats.get('gaps', 0)}")
    else:
        line("No recording file.", bold=True)
    line("Times below: UTC, and '@' = offset from the start of the recording.")

    by: dict[str, list[Mapping[str, Any]]] = {}
    for e in entries:
        by.setdefault(str(e.get("event")), []).append(e)

    def stamp(e: Mapping[str, Any]) -> str:
        return f"@ {fmt_offset(e.get('offset_s'))}  {str(e.get('at', ''))[11:23]}  #{e.get('seq')}"

    heading("Script steps")
    seen_agid: set[str] = set()
    for e in by.get("step", []):
        d = e.get("data") or {}
        step = str(d.get("step"))
        agid = str(d.get("agid") or "")
        if agid:
            seen_agid.add(agid)
        title = d.get("title") or AGID_STEPS.get(agid or step, "")
        text = f"{stamp(e)}  [{_result(d.get('passed'))}] {step}"
        if agid:
            text += f" (AgID {agid})"
        if title:
            text += f" - {title}"
        line(text, bold=d.get("passed") is False)
        if d.get("answer"):
            line(f"      answer: {d.get('answer')}")
        if d.get("note"):
            line(f"      note: {d.get('note')}")
    if seen_agid:
        missing = [k for k in AGID_STEPS if k not in seen_agid]
        if missing:
            line("AgID steps not recorded: " + ", ".join(missing), bold=True)

    heading("Stills")
    folder = path.parent
    for e in by.get("capture", []):
        d = e.get("data") or {}
        line(f"{stamp(e)}  {d.get('step')}: {d.get('file')} {d.get('width')}x{d.get('height')}"
             f" captured {d.get('captured_at')}")
        line(f"      SHA-256 {d.get('sha256')}")
        for label in ("quality", "checks"):
            values = d.get(label) or {}
            if values:
                text = ", ".join(f"{k}={v}" for k, v in sorted(values.items()))
                line(f"      {label}: {text}")
        img = folder / str(d.get("file"))
        if img.exists():
            try:
                if pdf.get_y() > pdf.h - 60:
                    pdf.add_page()
                pdf.image(str(img), x=pdf.l_margin + 10, h=35)
            except Exception:  # a damaged still must not prevent the report
                log.warning("still not drawn in the report")
    for e in by.get("capture_checks", []):
        d = e.get("data") or {}
        line(f"{stamp(e)}  checks of {d.get('target')}:")
        for label in ("quality", "checks"):
            values = d.get(label) or {}
            if values:
                text = ", ".join(f"{k}={v}" for k, v in sorted(values.items()))
                line(f"      {label}: {text}")
    if not by.get("capture"):
        line("No stills.")

    heading("OTP and e-mail confirmation")
    for e in by.get("otp", []) + by.get("email", []):
        d = dict(e.get("data") or {})
        kind = "OTP" if e.get("event") == "otp" else "E-mail"
        action = d.pop("action", "")
        extra = ", ".join(f"{k}={v}" for k, v in sorted(d.items()) if v is not None)
        line(f"{stamp(e)}  {kind} {action}" + (f" ({extra})" if extra else ""))
    if not by.get("otp") and not by.get("email"):
        line("No OTP or e-mail events.")

    if by.get("connection") or by.get("note"):
        heading("Connection and notes")
        for e in sorted(by.get("connection", []) + by.get("note", []),
                        key=lambda x: int(x.get("seq", 0))):
            d = e.get("data") or {}
            if e.get("event") == "connection":
                line(f"{stamp(e)}  connection {d.get('state')} {d.get('reason') or ''}")
            else:
                line(f"{stamp(e)}  note: {d.get('text')}")

    heading("Decision")
    decisions = by.get("decision", [])
    if decisions:
        e = decisions[-1]
        d = e.get("data") or {}
        line(f"{stamp(e)}  {str(d.get('decision')).upper()} - reason {d.get('reason_code')}",
             bold=True)
        if d.get("note"):
            line(f"      note: {d.get('note')}")
        line(f"      decided at {d.get('decided_at')}, decision id {d.get('decision_id')}")
    else:
        line("No decision recorded.", bold=True)
    heading("Integrity")
    line("manifest.json lists the SHA-256 of every file and is signed with the workstation's "
         "Ed25519 key (manifest.sig, workstation_key.pub); audit.jsonl is hash-chained. "
         "The signature counts only from a workstation key the desk service has enrolled. "
         "Check with: recognition-console evidence verify PATH --trust TRUST.json (or "
         "--desk URL, the service's registry of workstation keys)")
    pdf.output(str(path))
