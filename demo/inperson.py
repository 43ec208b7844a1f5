"""`recognition-console demo --in-person`: the partner's in-person check on any machine with pcscd.

- the desk service and its seed come from :class:`demo.launcher.DemoEnvironment` (as the
  video demo);
- pcscd with the vpcd driver is made to run (:func:`demo.pcscd.ensure_pcscd`: reused, or
  started when we are root; otherwise a one-line message says how to start it);
- the virtual CNS of the demo identity goes into vpcd slot ``--card-slot`` and the synthetic
  camera stands in for the workstation's (:func:`open_demo`);
- the console signs in as the seeded partner ``partner1`` (TOTP from the seed) and opens the
  in-person window with the booking code of the demo identity's request filled in.

``--autopilot --report FILE`` then runs the check unattended through the window's own actions:
booking code → card read → pictures → printed form → script steps → decision, and writes a JSON
report (no personal data: codes, counts, paths) with the sealed evidence package next to it.
"""

from __future__ import annotations

import argparse
import json
import logging
import struct
import sys
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, QTimer

if TYPE_CHECKING:
    from ui.inperson_window import InPersonWindow

log = logging.getLogger(__name__)

DEMO_PARTNER = "partner1"
TICK_MS = 50
STEP_TIMEOUT_S = 45.0
CARD_AUTO_READ_S = 5.0  # the inserted card is read on its own; after this, "Read card" is pressed
#: cross-check code → the field it compares (the report says which matched, never the values)
FIELD_CHECKS = (
    ("cf_card_vs_request", "codice_fiscale"),
    ("surname", "surname"),
    ("given_names", "given_names"),
    ("birth_date", "birth_date"),
    ("cf_certificate_vs_card", "certificate_codice_fiscale"),
    ("card_number_certificate_vs_card", "certificate_card_number"),
)


def run_in_person(args: argparse.Namespace, env: Any, app: Any) -> int:
    """The in-person demo inside ``demo.launcher.run`` (which owns ``env`` and closes it): the
    partner signs in through the ordinary sign-in window; the shell opens the in-person
    workspace, here with the synthetic camera and the demo identity's virtual card."""
    from demo.launcher import _sign_in_form
    from demo.pcscd import PcscdUnavailable, VpcdSlotLock, ensure_pcscd, wait_card
    from ui.app import exec_app

    def say(message: str) -> None:
        print(f"recognition-console demo --in-person: {message}", file=sys.stderr)

    slot = int(getattr(args, "card_slot", 0))
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # the form's PDF fonts, per glyph
    try:
        pcscd = ensure_pcscd()
    except PcscdUnavailable as exc:
        say(str(exc))
        return 1
    lock = VpcdSlotLock(slot)
    try:
        try:
            lock.acquire(timeout=60.0 if args.autopilot else 15.0)
        except TimeoutError:
            say(f"the virtual reader's slot {slot} is in use by another demo or test run; "
                "try --card-slot 1")
            return 1
        try:
            env.start_desk()
            booking_code = str(env.demo_request()["booking_code"])
        except Exception as exc:  # the desk did not start: its own message says why
            say(str(exc))
            return 1
        work = Path(env.folder) / "in-person"
        work.mkdir(parents=True, exist_ok=True)
        shell = _sign_in_form(env, DEMO_PARTNER, args)
        opened: list[Any] = []

        def open_window(client: Any, operator: dict[str, Any], language: str) -> Any:
            window = open_demo(client, work, booking_code=booking_code, operator=operator,
                               slot=slot, language=language)
            opened.append(window)
            return window

        shell.in_person_opener = open_window
        pilots: list[InPersonAutopilot] = []
        if args.autopilot:
            def start_pilot(window: Any) -> None:
                if not pilots and window in opened:
                    pilot = InPersonAutopilot(window, args.report, timeout_s=args.timeout)
                    pilots.append(pilot)
                    pilot.start()

            shell.workspace_opened.connect(start_pilot)
            QTimer.singleShot(0, shell.sign_in.sign_in_button.click)
            status = exec_app(app, shell)
            status = pilots[0].exit_status if pilots else 1
            if not pilots:
                say("the partner's sign-in did not open the in-person window")
        else:
            shell.sign_in.sign_in_button.click()  # opens signed in, as the video demo does
            status = exec_app(app, shell)
        for window in opened:
            try:
                wait_card(window.reader or "", present=False, timeout=5.0)
            except Exception as exc:  # best effort: the card is pulled before the slot is freed
                log.info("virtual card still listed at exit: %s", type(exc).__name__)
        return status
    finally:
        lock.release()
        pcscd.close()


@dataclass
class Wait:
    """The script waits for ``done()``; on timeout it fails, or goes on with False if ``soft``."""

    what: str
    done: Callable[[], bool]
    timeout_s: float = STEP_TIMEOUT_S
    soft: bool = False


Script = Generator[Wait, bool, None]


class AutopilotFailure(Exception):
    """A step of the unattended check did not happen; the message says which."""


class InPersonAutopilot(QObject):
    """Runs one in-person check through the window's own actions; writes the report; quits."""

    def __init__(self, window: Any, report: Path, timeout_s: float = 240.0) -> None:
        super().__init__(window)
        self.window = window
        self.wf = window.workflow
        self.report_path = Path(report)
        self.started = time.monotonic()
        self.deadline = self.started + timeout_s
        self.exit_status = 1
        self.error: str | None = None
        self.timeline: list[dict[str, Any]] = []
        self.blockers_before_decision: list[str] = []
        self.card_read_by: str | None = None
        self.evidence: str | None = None
        self.evidence_trust: str | None = None
        self.evidence_files = 0
        self._script: Script | None = None
        self._finished = False
        self._wait: Wait | None = None
        self._since = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    # --- driving --------------------------------------------------------------------------
    def start(self) -> None:
        self._script = self.run_script()
        QTimer.singleShot(0, lambda: self._advance(True, first=True))
        self._timer.start()

    def _tick(self) -> None:
        wait = self._wait
        if wait is None:
            return
        now = time.monotonic()
        if wait.done():
            self._advance(True)
        elif now > self.deadline:
            self._fail(f"timed out overall while waiting for: {wait.what}")
        elif now - self._since > wait.timeout_s:
            if wait.soft:
                self._advance(False)
            else:
                self._fail(f"{wait.what}: not done within {wait.timeout_s:.0f} s")

    def _advance(self, value: bool, first: bool = False) -> None:
        assert self._script is not None
        try:
            self._wait = next(self._script) if first else self._script.send(value)
            self._since = time.monotonic()
        except StopIteration:
            self._wait = None
            self._finish(ok=True)
        except AutopilotFailure as exc:
            self._fail(str(exc))
        except Exception as exc:
            log.exception("in-person autopilot step failed")
            self._fail(f"unexpected {type(exc).__name__}")

    def _mark(self, phase: str) -> None:
        self.timeline.append({"phase": phase, "at_s": round(time.monotonic() - self.started, 3)})
        log.info("in-person autopilot: %s", phase)

    def _idle(self, what: str, timeout_s: float = STEP_TIMEOUT_S) -> Wait:
        return Wait(what, lambda: not self.window.busy, timeout_s)

    def _shown(self) -> str:
        return str(self.window.message.text())

    def run_script(self) -> Script:
        w, wf = self.window, self.wf
        # 1. the request, by the booking code typed in the window
        self._mark("look_up")
        w.look_up()
        yield self._idle("request look-up")
        if wf.request is None:
            raise AutopilotFailure(f"request not found: {self._shown()}")
        # 2. the card: the inserted virtual CNS is read on its own (watcher); else press the button
        self._mark("card")
        self.card_read_by = "insertion"
        read = yield Wait("card read on insertion",
                          lambda: wf.card is not None and not w.busy,
                          CARD_AUTO_READ_S, soft=True)
        if not read:
            self.card_read_by = "button"
            w.read_card()
            yield self._idle("card read")
        if wf.card is None:
            raise AutopilotFailure(f"card not read: {w.card_status.text()}")
        # 3. the pictures: document front and back, health card, the person, the signed form
        from ui.inperson_window import CAPTURE_TARGETS

        for target in CAPTURE_TARGETS:
            self._mark(f"capture:{target}")
            w.capture(target)
            yield self._idle(f"picture {target}", 60.0)
            if target not in wf.stills:
                raise AutopilotFailure(f"picture {target} not kept: {self._shown()}")
        # 4. the pre-filled request form
        self._mark("form")
        w.print_form()
        yield self._idle("request form")
        if wf.form_pdf is None:
            raise AutopilotFailure(f"request form not printed: {self._shown()}")
        # 5. the script steps the partner confirms (capture steps passed with their pictures)
        self._mark("steps")
        for _step_id, (_label, button) in list(w.step_rows.items()):
            if not button.isHidden() and button.isEnabled():
                button.click()
        # 6. the decision
        self.blockers_before_decision = [b.value for b in wf.blockers()]
        self._mark("decision")
        if wf.can_approve:
            w.approve_button.click()
        else:
            w.reason_combo.setCurrentIndex(max(0, w.reason_combo.findData("other")))
            w.note_edit.setText("autopilot: approval blocked")
            w.suspend_button.click()
        yield Wait("decision recorded", lambda: wf.result is not None and not w.busy)
        # 7. the sealed evidence package, kept next to the report (the demo folder is temporary)
        self._mark("evidence")
        self._keep_evidence()
        self._mark("done")

    def _keep_evidence(self) -> None:
        from console.evidence.package import build_archive, package_files
        from console.evidence.trust import TrustStore

        pkg = self.wf.package
        if pkg is None or not pkg.finalized:
            raise AutopilotFailure("the evidence package was not finalised")
        folder = Path(pkg.folder)
        self.evidence_files = len(package_files(folder))
        self.report_path.parent.mkdir(parents=True, exist_ok=True)
        target = self.report_path.parent / f"{folder.name}.tar"
        self.evidence = str(build_archive(folder, target))
        # the demo workstation's key (public half), built from the local key: what the package
        # is verified against (`evidence verify PACKAGE --trust FILE`)
        trust = TrustStore.of_keys([pkg.key], workstation="demo-workstation",
                                   source="the demo workstation's trust store")
        self.evidence_trust = str(trust.save(self.report_path.parent / f"{folder.name}.trust.json"))

    # --- the end --------------------------------------------------------------------------
    def _fail(self, why: str) -> None:
        if self.error is None:
            self.error = why
        log.error("in-person autopilot failed: %s", why)
        self._finish(ok=False)

    def _finish(self, ok: bool) -> None:
        if self._finished:
            return
        self._finished = True
        self._timer.stop()
        self._wait = None
        self._mark("end")
        data = self.report()
        self.report_path.parent.mkdir(parents=True, exist_ok=True)
        self.report_path.write_text(json.dumps(data, indent=2), encoding="utf-8")
        complete = ok and data["decision"] == "approved" and data["card"]["matches_request"]
        self.exit_status = 0 if complete else 1
        log.info("in-person autopilot %s; report at %s",
                 "finished" if complete else "FAILED", self.report_path)
        QTimer.singleShot(0, self._quit)

    def _quit(self) -> None:
        self.window.close()
        QCoreApplication.quit()

    def report(self) -> dict[str, Any]:
        wf = self.wf
        outcome = wf.card
        problems = [c.value for c in outcome.check.problems] if outcome is not None else []
        blocking = [c.value for c in outcome.check.blocking] if outcome is not None else []
        has_certificate = bool(outcome.card.has_certificate) if outcome is not None else None
        fields: dict[str, str] = {}
        if outcome is not None:
            for code, name in FIELD_CHECKS:
                if name.startswith("certificate_") and not has_certificate:
                    fields[name] = "no_certificate"
                else:
                    fields[name] = "differs" if code in problems else "matches"
        captures = []
        for target, (path, check) in wf.stills.items():
            width, height = _png_size(Path(path))
            captures.append({"target": target, "width": width, "height": height,
                             "checks": check.to_json()})
        session = wf.session
        steps = (
            [{"id": s.step.id, "kind": s.step.kind.value, "status": s.status.value,
              "targets": [t.value for t in s.step.targets]} for s in session.steps]
            if session is not None else []
        )
        result = wf.result
        decision = getattr(getattr(result, "state", None), "value", None)
        return {
            "role": "partner",
            "window": "in_person",
            "mode": "in_person",
            "request_id": wf.request.id if wf.request is not None else None,
            "decision": decision,
            "card": {
                "read": outcome is not None,
                "read_by": self.card_read_by if outcome is not None else None,
                "matches_request": bool(outcome.ok) if outcome is not None else False,
                "has_certificate": has_certificate,
                "fields": fields,
                "problems": problems,
                "blocking": blocking,
                "error": wf.card_error.code.value if wf.card_error is not None else None,
            },
            "captures": captures,
            "form_printed": wf.form_pdf is not None,
            "steps": steps,
            "blockers_before_decision": self.blockers_before_decision,
            "evidence": self.evidence,
            "evidence_trust": self.evidence_trust,
            "evidence_files": self.evidence_files,
            "timeline": self.timeline,
            "duration_s": round(time.monotonic() - self.started, 1),
            "error": self.error,
        }


def _png_size(path: Path) -> tuple[int | None, int | None]:
    """Width and height from a PNG's IHDR chunk (None when the file is not a PNG)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(24)
    except OSError:
        return None, None
    if len(head) < 24 or not head.startswith(b"\x89PNG\r\n\x1a\n"):
        return None, None
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def open_demo(
    directory: Any,
    work_root: Path,
    *,
    booking_code: str = "",
    operator: dict[str, Any] | None = None,
    slot: int = 0,
    language: str = "it",
) -> InPersonWindow:
    """The in-person demo (for ``recognition-console demo --in-person``): the demo identity's
    virtual CNS inserted in vpcd slot ``slot``, the synthetic camera, evidence under
    ``work_root``. ``directory`` is a signed-in ``DeskClient`` (role partner). Without pcscd the
    window still opens and says how to start it; closing the window removes the virtual card.
    ``language`` is for the script's words and the printed form; the interface language is the
    application's translator (``ui.i18n.install_language``), as for every window."""
    from console.evidence.keys import WorkstationKey
    from console.flows.inperson import InPersonWorkflow, SyntheticCamera
    from demo import virtual_card as emulator
    from ui.inperson_window import InPersonWindow

    wf = InPersonWorkflow(
        directory,
        operator=operator,
        evidence_root=work_root / "evidence",
        workstation_key=WorkstationKey.load_or_create(work_root / "data"),
        work_dir=work_root,
    )
    card = emulator.VpcdEmulator(
        emulator.VirtualCns(emulator.make_profile(dict(emulator.DEMO_IDENTITY))), slot=slot
    )
    window = InPersonWindow(wf, SyntheticCamera(), reader=card.reader_name, language=language)
    window.booking_edit.setText(booking_code)
    try:
        card.insert(timeout=2.0)
    except OSError:
        log.warning("virtual card not inserted: vpcd is not reachable (pcscd not running?)")
    window.destroyed.connect(lambda *_: card.remove())
    window.stopped.connect(card.remove)
    return window
