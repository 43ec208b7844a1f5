"""The in-person identification at a partner point (AgID, Regolamento SPID art. 7): the core.

No Qt. The partner's window (``ui.inperson_window``) drives an :class:`InPersonWorkflow`:

1. :meth:`~InPersonWorkflow.look_up` the request by its booking code (desk service,
   ``GET /requests?booking_code=``);
2. the Tessera Sanitaria is read (``cardreader``) and :meth:`~InPersonWorkflow.card_read`
   cross-checks codice fiscale (data file, certificate, request), names and birth date: a
   mismatch blocks approval; a TS without CNS certificate is reported;
3. stills of the document front/back, the health card, the person and the signed form are
   captured (:meth:`~InPersonWorkflow.capture`) from the workstation camera or a synthetic one;
   the document back's MRZ is read and compared with the request, as in the video session;
4. the pre-filled request form is printed as PDF (:func:`write_request_form`);
5. the script ``resources/scripts/in_person.json`` is run through :class:`console.session.Session`;
6. the decision is committed to the durable outbox (``console.outbox``, as the remote flow's)
   before it is sent, so a desk outage loses nothing: the outbox's worker delivers it later
   with the same ``decision_id``; the evidence package is finalised (no recording) with the
   same step and decision entries as the remote session's (``title``, ``status``,
   ``reason_code``, ``note``).

Everything returns codes (:class:`Blocker`, :class:`InPersonError` ``.code``), never sentences.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import logging
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np

from cardreader.cns import CardData
from cardreader.crosscheck import CheckCode, CrossCheck, cross_check
from cardreader.errors import CardError
from console.approval import check_approval, report_inperson_checks
from console.errors import ConsoleError
from console.models import Decision, DecisionResult, ReasonCode, RecognitionRequest, RequestState
from console.outbox import DECISION_KIND, Outbox, commit_decision, decision_handler
from console.resources import resource_path
from console.script import CaptureTarget, ScriptDefinition, load_builtin_script
from console.session import (
    Session,
    SessionDecision,
    SessionEvent,
    StepStatus,
    StepStatusChanged,
)
from media import imagegate

if TYPE_CHECKING:
    from console.evidence.keys import WorkstationKey
    from console.evidence.package import EvidencePackageBuilder

log = logging.getLogger(__name__)

SCRIPT_ID = "in_person"
CF_STEP = "codice_fiscale_checked"
DOCUMENT_VALID_STEP = "document_valid"
FACE = "face"  # the person: a target of the identity_document step, required before approval


class InPersonError(ConsoleError):
    """A refused in-person action. ``code`` is for the UI: ``booking_not_found``,
    ``request_closed``, ``no_request``, ``card_not_read``, ``card_mismatch``,
    ``document_expired``, ``invalid_image``, ``unknown_target``, ``approval_blocked``."""

    code = "in_person_error"


class Blocker(enum.StrEnum):
    """Why approval is refused right now."""

    NO_REQUEST = "no_request"
    CARD_NOT_READ = "card_not_read"
    CARD_MISMATCH = "card_mismatch"
    CARD_EXPIRED = "card_expired"
    DOCUMENT_EXPIRED = "document_expired"
    MRZ_MISMATCH = "mrz_mismatch"
    FACE_MISSING = "face_missing"
    STEPS_MISSING = "steps_missing"
    DECIDED = "decided"


class RequestDirectory(Protocol):
    """What the workflow needs from the desk client (``console.client.DeskClient``)."""

    def find_by_booking_code(self, code: str) -> RecognitionRequest | None: ...

    def decide(
        self,
        request_id: str,
        decision_id: str | uuid.UUID,
        decision: Decision | str,
        reason_code: ReasonCode | str,
        note: str = "",
    ) -> DecisionResult: ...


# --- stills ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StillCheck:
    """Checks on one still: ``quality`` codes (``too_dark``, ``too_bright``, ``blurred``),
    whether a document was found, and the MRZ comparison (document back only)."""

    quality: tuple[str, ...] = ()
    document_found: bool | None = None
    mrz_valid: bool | None = None
    mrz_fields: Mapping[str, str] = field(default_factory=dict)  # field -> match/differ/...
    mrz_expired: bool | None = None

    @property
    def mrz_mismatch(self) -> bool:
        return any(v == "differ" for v in self.mrz_fields.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "quality": list(self.quality),
            "document_found": self.document_found,
            "mrz_valid": self.mrz_valid,
            "mrz_fields": dict(self.mrz_fields),
            "mrz_expired": self.mrz_expired,
        }


def still_quality(img: np.ndarray) -> tuple[str, ...]:
    """Cheap usability codes for a still (brightness and sharpness)."""
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    small = cv2.resize(gray, (640, max(1, int(640 * gray.shape[0] / gray.shape[1]))))
    out = []
    mean = float(small.mean())
    if mean < 40:
        out.append("too_dark")
    elif mean > 235:
        out.append("too_bright")
    if float(cv2.Laplacian(small, cv2.CV_64F).var()) < 15.0:
        out.append("blurred")
    return tuple(out)


def request_dict(request: RecognitionRequest) -> dict[str, Any]:
    """The request in PROTOCOL.md's shape (for ``console.checks`` comparisons)."""
    a = request.applicant
    doc = request.document
    return {
        "applicant": {
            "surname": a.surname,
            "given_names": a.given_names,
            "codice_fiscale": a.codice_fiscale,
            "birth_date": a.birth_date.isoformat() if a.birth_date else None,
            "birth_place": a.birth_place,
            "sex": a.sex,
            "email": a.email,
            "mobile": a.mobile,
        },
        "product": request.product.value,
        "document": None
        if doc is None
        else {
            "type": doc.type.value,
            "number": doc.number,
            "issuer": doc.issuer,
            "expiry_date": doc.expiry_date.isoformat() if doc.expiry_date else None,
        },
    }


def check_still(
    target: str, img: np.ndarray, request: RecognitionRequest | None, today: dt.date
) -> StillCheck:
    """Quality for every still; document detection for document sides; MRZ on the back."""
    quality = still_quality(img)
    if target not in (CaptureTarget.DOCUMENT_FRONT, CaptureTarget.DOCUMENT_BACK):
        return StillCheck(quality=quality)
    try:
        from console.checks import card as card_check
        from console.checks import mrz as mrz_check
        from console.checks import mrz_ocr
    except ImportError:  # the document checks are optional in a stripped-down build
        log.warning("document checks unavailable; still kept without them")
        return StillCheck(quality=quality)

    det = card_check.find_document(img)
    if det is None:
        return StillCheck(quality=quality, document_found=False)
    if target != CaptureTarget.DOCUMENT_BACK or request is None:
        return StillCheck(quality=quality, document_found=True)
    flat = card_check.rectify(img, det.corners, det.format)
    read = mrz_ocr.read_mrz(flat)
    if read.result is None:
        return StillCheck(quality=quality, document_found=True)
    cmp = mrz_check.compare_with_request(read.result, request_dict(request), today=today)
    fields = cmp.get("fields")
    verdicts = {str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else {}
    expired = cmp.get("expired")
    return StillCheck(
        quality=quality,
        document_found=True,
        mrz_valid=read.result.valid,
        mrz_fields=verdicts,
        mrz_expired=expired if isinstance(expired, bool) else None,
    )


def _decode(data: bytes) -> np.ndarray:
    """PNG/JPEG bytes (a scan, a camera's file) to a BGR image through the image gate;
    InPersonError('invalid_image') on anything it refuses (the gate's code is logged)."""
    try:
        return imagegate.decode_image(data, formats=imagegate.STILL_FORMATS)
    except imagegate.ImageGateError as exc:
        log.warning("in-person image refused by the image gate: %s", exc.code.value)
        raise InPersonError("not a usable image", code="invalid_image") from None


# --- cameras ---------------------------------------------------------------------------------


class Camera(Protocol):
    def grab(self, target: str) -> np.ndarray:
        """One BGR frame for ``target`` (the camera is pointed by the partner)."""
        ...


class WorkstationCamera:
    """The workstation's webcam (OpenCV). Raises InPersonError('camera_unavailable')."""

    def __init__(self, index: int = 0) -> None:
        self.index = index

    def grab(self, target: str) -> np.ndarray:
        cap = cv2.VideoCapture(self.index)
        try:
            if not cap.isOpened():
                raise InPersonError("camera not available", code="camera_unavailable")
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, 1280)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, 720)
            frame = None
            for _ in range(5):  # let exposure settle
                ok, frame = cap.read()
            if frame is None or not ok:
                raise InPersonError("camera gave no frame", code="camera_unavailable")
            return np.asarray(frame)
        finally:
            cap.release()


class SyntheticCamera:
    """A demo/test camera: specimen documents (they say SPECIMEN) photographed in a scene,
    a public-domain portrait as the person, and a rendered signed form."""

    def __init__(self, person: Any = None, seed: int = 7) -> None:
        from console import specimens

        self._specimens = specimens
        self.person = person or specimens.DEMO_PERSON
        self.seed = seed

    def grab(self, target: str) -> np.ndarray:
        s = self._specimens
        kinds = {
            CaptureTarget.DOCUMENT_FRONT: "cie_front",
            CaptureTarget.DOCUMENT_BACK: "cie_back",
            CaptureTarget.HEALTH_CARD: "ts_front",
        }
        if target in kinds:
            doc, _zones = s.render(kinds[CaptureTarget(target)], self.person)  # type: ignore[arg-type]
            frame, _corners = s.place_in_scene(doc, seed=self.seed)
            return np.asarray(frame)
        if target == FACE:
            face = np.asarray(s.face_portrait(self.person.face))
            canvas = np.full((720, 1280, 3), 200, np.uint8)
            h, w = face.shape[:2]
            scale = 600 / h
            face = cv2.resize(face, (int(w * scale), 600))
            x = (1280 - face.shape[1]) // 2
            canvas[60 : 60 + face.shape[0], x : x + face.shape[1]] = face[:, :, :3]
            return canvas
        if target == CaptureTarget.SIGNED_FORM:
            return _synthetic_signed_form(self.person)
        raise InPersonError("unknown capture target", code="unknown_target")


def _synthetic_signed_form(person: Any) -> np.ndarray:
    page = np.full((1400, 1000, 3), 250, np.uint8)
    cv2.putText(
        page, "SPECIMEN - REQUEST FORM", (60, 100), cv2.FONT_HERSHEY_SIMPLEX, 1.3, (40, 40, 40), 3
    )
    for i in range(22):
        y = 200 + i * 45
        cv2.line(page, (60, y), (940, y), (190, 190, 190), 2)
    cv2.putText(
        page,
        f"{person.surname} {person.given_names}",
        (70, 240),
        cv2.FONT_HERSHEY_SIMPLEX,
        1.0,
        (30, 30, 30),
        2,
    )
    t = np.linspace(0, 4 * np.pi, 200)
    pts = np.stack([600 + t * 20, 1250 + 25 * np.sin(3 * t) * np.cos(t)], axis=1).astype(np.int32)
    cv2.polylines(page, [pts], False, (120, 40, 10), 3)
    return page


# --- the request form ------------------------------------------------------------------------


_DEJAVU = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)


def _form_labels(language: str) -> dict[str, str]:
    data = json.loads(resource_path("forms", "request_form.json").read_text(encoding="utf-8"))
    labels = data.get(language) or data["it"]
    return {str(k): str(v) for k, v in labels.items()}


def write_request_form(
    path: str | Path,
    request: RecognitionRequest,
    card: CardData | None = None,
    *,
    language: str = "it",
    printed_at: dt.datetime | None = None,
) -> Path:
    """The pre-filled paper request form as PDF (A4), for the applicant to sign."""
    from fpdf import FPDF

    labels = _form_labels(language)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    regular, bold = _DEJAVU
    if Path(regular).is_file() and Path(bold).is_file():
        pdf.add_font("Form", "", regular)
        pdf.add_font("Form", "B", bold)
        family = "Form"
    else:  # core font: Latin-1 only
        family = "Helvetica"

    def text(value: object) -> str:
        s = "" if value is None else str(value)
        return s if family == "Form" else s.encode("latin-1", "replace").decode("latin-1")

    pdf.set_font(family, "B", 16)
    pdf.multi_cell(0, 8, text(labels["title"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 9)
    pdf.multi_cell(0, 5, text(labels["subtitle"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    def section(title: str) -> None:
        pdf.ln(2)
        pdf.set_font(family, "B", 11)
        pdf.cell(0, 7, text(title), border="B", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def row(label: str, value: object) -> None:
        pdf.set_font(family, "", 9)
        pdf.cell(55, 6, text(label))
        pdf.set_font(family, "B", 10)
        pdf.cell(0, 6, text(value), new_x="LMARGIN", new_y="NEXT")

    a = request.applicant
    section(labels["section_request"])
    row(labels["request_id"], request.id)
    row(labels["booking_code"], request.booking_code or "")
    row(labels["product"], request.product.value)
    section(labels["section_applicant"])
    row(labels["surname"], a.surname)
    row(labels["given_names"], a.given_names)
    row(labels["codice_fiscale"], a.codice_fiscale)
    row(labels["birth_date"], a.birth_date.strftime("%d/%m/%Y") if a.birth_date else "")
    row(labels["birth_place"], a.birth_place)
    row(labels["sex"], a.sex)
    row(labels["email"], a.email)
    row(labels["mobile"], a.mobile)
    if request.document is not None:
        d = request.document
        section(labels["section_document"])
        row(labels["document_type"], d.type.value)
        row(labels["document_number"], d.number)
        row(labels["document_issuer"], d.issuer)
        row(labels["document_expiry"], d.expiry_date.strftime("%d/%m/%Y") if d.expiry_date else "")
    section(labels["section_card"])
    if card is None:
        row(labels["card_number"], labels["not_read"])
    else:
        row(labels["card_number"], card.card_number)
        row(labels["card_expiry"], card.personal.expiry_date.strftime("%d/%m/%Y"))
        row(labels["card_certificate"], labels["yes"] if card.has_certificate else labels["no"])
    pdf.ln(4)
    pdf.set_font(family, "", 9)
    pdf.multi_cell(0, 5, text(labels["declaration"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    y = pdf.get_y()
    for i, key in enumerate(("place_date", "signature_applicant", "signature_operator")):
        x = 10 + i * 65
        pdf.line(x, y + 14, x + 58, y + 14)
        pdf.set_xy(x, y + 15)
        pdf.cell(58, 5, text(labels[key]))
    pdf.set_xy(10, 280)
    pdf.set_font(family, "", 7)
    when = (printed_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    pdf.cell(0, 4, text(f"{labels['printed_at']} {when} - {request.id}"))
    out = Path(path)
    pdf.output(str(out))
    return out


# --- the workflow ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CardOutcome:
    card: CardData
    check: CrossCheck

    @property
    def ok(self) -> bool:
        return self.check.ok


class InPersonWorkflow:
    """One applicant at the partner's desk, from booking code to decision."""

    def __init__(
        self,
        directory: RequestDirectory,
        *,
        operator: Mapping[str, Any] | None = None,
        evidence_root: str | Path | None = None,
        workstation_key: WorkstationKey | None = None,
        work_dir: str | Path | None = None,
        script: ScriptDefinition | None = None,
        today: Callable[[], dt.date] = dt.date.today,
        uploader: Any = None,
        outbox: Outbox | None = None,
    ) -> None:
        self.directory = directory
        #: decisions are committed here before they are sent (None: sent directly, e.g. a
        #: directory that is not a desk client)
        self.outbox = outbox
        if outbox is not None and not outbox.handles(DECISION_KIND):
            outbox.register(DECISION_KIND, decision_handler(directory))
        #: the decision is kept in the outbox and will be delivered when the desk answers
        self.decision_queued = False
        self.operator = dict(operator or {})
        self.evidence_root = Path(evidence_root) if evidence_root else None
        self.key = workstation_key
        self._work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="inperson-"))
        self.script = script or load_builtin_script(SCRIPT_ID)
        self._today = today
        self.uploader = uploader  # console.evidence.upload.Uploader: seals and queues packages
        self.request: RecognitionRequest | None = None
        self.session: Session | None = None
        self.card: CardOutcome | None = None
        self.card_error: CardError | None = None
        self.stills: dict[str, tuple[Path, StillCheck]] = {}
        self.form_pdf: Path | None = None
        self.decision: SessionDecision | None = None
        self.result: DecisionResult | None = None
        self.package: EvidencePackageBuilder | None = None
        self.listeners: list[Callable[[str], None]] = []

    # -- notifications (the UI re-emits them as signals) -----------------------------------
    def _changed(self, what: str) -> None:
        for cb in list(self.listeners):
            try:
                cb(what)
            except Exception:
                log.exception("in-person listener failed")

    # -- 1. the request ----------------------------------------------------------------------
    def look_up(self, booking_code: str) -> RecognitionRequest:
        """Find the request and start the session. Raises InPersonError / DeskError."""
        if self.session is not None and not self.session.is_closed:
            raise InPersonError("a request is already open", code="request_open")
        found = self.directory.find_by_booking_code(booking_code)
        if found is None:
            raise InPersonError("no request with that booking code", code="booking_not_found")
        if found.state in (RequestState.APPROVED, RequestState.REJECTED):
            raise InPersonError("the request is already decided", code="request_closed")
        if found.state is not RequestState.IN_CALL:
            self._start_in_person(found.id)
        self._reset()
        self.request = found
        self.session = Session(found.id, self.script)
        self.session.add_listener(self._on_session_event)
        if self.evidence_root is not None and self.key is not None:
            from console.evidence.package import EvidencePackageBuilder

            self.package = EvidencePackageBuilder.create(
                self.evidence_root,
                self.key,
                request_id=found.id,
                product=found.product.value,
                operator=self.operator,
                session_id=self.session.session_id,
                mode="in_person",
                script_id=self.script.id,
                applicant=request_dict(found)["applicant"],
            )
        self.session.start()
        log.info("in-person session started for request %s", found.id)
        self._changed("request")
        return found

    def _start_in_person(self, request_id: str) -> None:
        """Tell the service the partner has the applicant at the desk (registered → in_call):
        ``POST /requests/{id}/in-person`` (the desk service's partner endpoint)."""
        starter = getattr(self.directory, "start_in_person", None)
        if callable(starter):
            starter(request_id)
            return
        call = getattr(self.directory, "call", None)
        if callable(call):
            call("POST", f"/requests/{request_id}/in-person", expected=(200, 201))

    def _reset(self) -> None:
        self.request = None
        self.session = None
        self.card = None
        self.card_error = None
        self.stills = {}
        self.form_pdf = None
        self.decision = None
        self.result = None
        self.package = None

    def _need_session(self) -> Session:
        if self.session is None or self.request is None:
            raise InPersonError("look the request up first", code="no_request")
        return self.session

    def _on_session_event(self, ev: SessionEvent) -> None:
        if self.package is None or self.package.finalized:
            return
        if isinstance(ev, StepStatusChanged):
            # the remote session's entry (console.evidence.session): one schema for both
            self.package.record_step(
                ev.step_id,
                passed={"passed": True, "failed": False}.get(ev.new.value),
                title=self.script.step(ev.step_id).code,
                status=ev.new.value,
                note=ev.note or None,
                reason_code=ev.reason_code.value if ev.reason_code else None,
            )

    # -- 2. the card -------------------------------------------------------------------------
    def card_read(self, card: CardData) -> CardOutcome:
        """A card was read: cross-check it with the request (blocking on mismatch)."""
        self._need_session()
        assert self.request is not None
        a = self.request.applicant
        check = cross_check(
            card,
            {
                "surname": a.surname,
                "given_names": a.given_names,
                "codice_fiscale": a.codice_fiscale,
                "birth_date": a.birth_date,
            },
            today=self._today(),
        )
        self.card = CardOutcome(card, check)
        self.card_error = None
        log.info(
            "card read: certificate=%s, problems=%s",
            card.has_certificate,
            ",".join(p.value for p in check.problems) or "none",
        )
        if self.package is not None:
            self.package.event(
                "card_read",
                {
                    "card_number": card.card_number,
                    "atr": card.atr.hex().upper(),
                    "atr_is_cns": card.atr_is_cns,
                    "has_certificate": card.has_certificate,
                    "certificate_sha256": hashlib.sha256(card.certificate_der).hexdigest()
                    if card.certificate_der
                    else None,
                    "card_expiry": card.personal.expiry_date.isoformat(),
                    "problems": [p.value for p in check.problems],
                    "apdus": card.apdu_count,
                },
            )
        self._changed("card")
        return self.card

    def card_failed(self, error: CardError) -> None:
        """A read failed (card pulled out, malformed file...): nothing of it is kept."""
        self.card = None
        self.card_error = error
        if self.package is not None and self.session is not None:
            self.package.event("card_read_failed", {"error": error.code.value})
        self._changed("card")

    def read_card(self, reader: str | None = None) -> CardOutcome:
        """Read the card now through PC/SC (blocking; call it off the GUI thread)."""
        from cardreader.pcsc import read_card

        try:
            data = read_card(reader)
        except CardError as exc:
            self.card_failed(exc)
            raise
        return self.card_read(data)

    # -- 3. stills ---------------------------------------------------------------------------
    def capture(self, target: str, image: np.ndarray | bytes) -> StillCheck:
        """Keep a still for ``target`` (a script capture target, or ``face``)."""
        session = self._need_session()
        if isinstance(image, bytes | bytearray):
            img = _decode(bytes(image))
        else:
            try:  # a camera frame: already decoded, but held to the same limits
                img = imagegate.check_pixels(np.asarray(image))
            except imagegate.ImageGateError as exc:
                log.warning("in-person frame refused by the image gate: %s", exc.code.value)
                raise InPersonError("not a usable image", code="invalid_image") from None
        if img.ndim not in (2, 3) or img.shape[0] < 16 or img.shape[1] < 16:
            raise InPersonError("not a usable image", code="invalid_image")
        step = self._step_for(target)
        if step is None and target != FACE:
            raise InPersonError("unknown capture target", code="unknown_target")
        check = check_still(target, img, self.request, self._today())
        ok, png = cv2.imencode(".png", img)
        if not ok:
            raise InPersonError("the image cannot be encoded", code="invalid_image")
        data = png.tobytes()
        digest = hashlib.sha256(data).hexdigest()
        path = self._work / f"{target}.png"
        path.write_bytes(data)
        self.stills[target] = (path, check)
        if self.package is not None:
            self.package.add_capture(target, data, checks=check.to_json())
        if step is not None:
            session.attach_capture(
                step,
                target,
                width=img.shape[1],
                height=img.shape[0],
                sha256=digest,
                path=path,
                mime="image/png",
            )
            state = session.step_state(step)
            if not state.missing_targets and not state.done:
                session.pass_step(step, advance=False)
        self._changed("capture")
        return check

    def _step_for(self, target: str) -> str | None:
        for s in self.script.steps:
            if any(t.value == target for t in s.targets):
                return s.id
        return None

    # -- 4. the form -------------------------------------------------------------------------
    def print_form(self, path: str | Path | None = None, language: str = "it") -> Path:
        self._need_session()
        assert self.request is not None
        out = Path(path) if path else self._work / f"request-form-{self.request.id}.pdf"
        card = self.card.card if self.card else None
        self.form_pdf = write_request_form(out, self.request, card, language=language)
        if self.package is not None:
            self.package.event(
                "request_form_printed",
                {"sha256": hashlib.sha256(self.form_pdf.read_bytes()).hexdigest()},
            )
        self._changed("form")
        return self.form_pdf

    # -- 5. script steps ---------------------------------------------------------------------
    def confirm(self, step_id: str) -> None:
        """The partner confirms a step; the card and document steps have their own guards."""
        session = self._need_session()
        if step_id == CF_STEP:
            if self.card is None:
                raise InPersonError("read the card first", code="card_not_read")
            if not self.card.ok:
                raise InPersonError("the card does not match the request", code="card_mismatch")
        if step_id == DOCUMENT_VALID_STEP and self._document_expired():
            raise InPersonError("the identity document is expired", code="document_expired")
        session.pass_step(step_id, advance=False)
        self._changed("step")

    def fail(self, step_id: str, reason_code: ReasonCode | str, note: str = "") -> None:
        self._need_session().fail_step(step_id, reason_code=reason_code, note=note)
        self._changed("step")

    def _document_expired(self) -> bool:
        today = self._today()
        doc = self.request.document if self.request else None
        if doc is not None and doc.expiry_date is not None and doc.expiry_date < today:
            return True
        back = self.stills.get(CaptureTarget.DOCUMENT_BACK.value)
        return bool(back and back[1].mrz_expired)

    # -- 6. decision -------------------------------------------------------------------------
    def blockers(self) -> tuple[Blocker, ...]:
        if self.session is None:
            return (Blocker.NO_REQUEST,)
        out: list[Blocker] = []
        if self.session.is_closed:
            out.append(Blocker.DECIDED)
        if self.card is None:
            out.append(Blocker.CARD_NOT_READ)
        else:
            blocking = self.card.check.blocking
            if CheckCode.CARD_EXPIRED in blocking:
                out.append(Blocker.CARD_EXPIRED)
            if any(b is not CheckCode.CARD_EXPIRED for b in blocking):
                out.append(Blocker.CARD_MISMATCH)
        if self._document_expired():
            out.append(Blocker.DOCUMENT_EXPIRED)
        back = self.stills.get(CaptureTarget.DOCUMENT_BACK.value)
        if back and back[1].mrz_mismatch:
            out.append(Blocker.MRZ_MISMATCH)
        if FACE not in self.stills:
            out.append(Blocker.FACE_MISSING)
        if self.session.missing_required():
            out.append(Blocker.STEPS_MISSING)
        return tuple(out)

    @property
    def can_approve(self) -> bool:
        return not self.blockers()

    def approve(self, note: str = "") -> DecisionResult:
        blockers = self.blockers()
        if blockers:
            raise InPersonError(
                "approval blocked: " + ", ".join(b.value for b in blockers),
                code="approval_blocked",
            )
        session = self._need_session()
        # the service records the checks and says what it still misses before anything is
        # written as decided: ApprovalRefused leaves the check open to complete
        self._report_checks(session.request_id)
        return self._send(session.approve(note))

    def reject(self, reason_code: ReasonCode | str, note: str = "") -> DecisionResult:
        return self._send(self._need_session().reject(reason_code, note))

    def suspend(self, reason_code: ReasonCode | str, note: str = "") -> DecisionResult:
        return self._send(self._need_session().suspend(reason_code, note))

    def resend_decision(self) -> DecisionResult:
        """Send the decision again (same decision_id: idempotent) after a network error."""
        if self.decision is None:
            raise InPersonError("no decision to send", code="no_decision")
        return self._send(self.decision)

    def performed_checks(self) -> list[tuple[str, bool, str | None]]:
        """(check, passed, sha256) the desk service records before it accepts an approval."""
        out: list[tuple[str, bool, str | None]] = []
        if self.card is not None:
            sha = (hashlib.sha256(self.card.card.certificate_der).hexdigest()
                   if self.card.card.certificate_der else None)
            out.append(("card_read", self.card.ok, sha))
        if self.session is not None:
            state = self.session.step_state(DOCUMENT_VALID_STEP)
            if state.status is StepStatus.PASSED:
                out.append(("document_check", not self._document_expired(), None))
        form = self.stills.get(CaptureTarget.SIGNED_FORM.value)
        if form is not None:
            out.append(("signed_form", True, hashlib.sha256(form[0].read_bytes()).hexdigest()))
        return out

    def _report_checks(self, request_id: str) -> None:
        call = getattr(self.directory, "call", None)
        if callable(call):
            report_inperson_checks(self.directory, request_id,  # type: ignore[arg-type]
                                   self.performed_checks())
            check_approval(self.directory, request_id)  # type: ignore[arg-type]

    def _send(self, decision: SessionDecision) -> DecisionResult:
        self.decision = decision
        pkg = self.package
        if (
            pkg is not None
            and not pkg.finalized
            and not any(e["event"] == "decision" for e in pkg.audit.entries)
        ):
            pkg.record_decision(
                decision.decision.value,
                decision.reason_code.value,
                decision.note,
                decision_id=decision.decision_id,
            )
        self._changed("deciding")
        result = self._deliver(decision)
        self.result = result
        if self.package is not None and not self.package.finalized:
            folder = self.package.finalize()
            if self.uploader is not None:
                try:
                    self.uploader.submit(folder)
                except ConsoleError as exc:  # stays on disk; the outbox recovers it later
                    log.warning("evidence package not queued yet: %s", exc.code)
        log.info("in-person decision %s %s", decision.decision.value,
                 "queued" if self.decision_queued else "sent")
        self._changed("decided")
        return result

    def _deliver(self, decision: SessionDecision) -> DecisionResult:
        """Commit the decision to the outbox, then try to deliver it at once. When the desk
        does not answer it stays there (the worker retries, same decision_id) and the result
        says what was decided, at the time it was decided, with ``decision_queued`` set."""
        if self.outbox is None:
            self.decision_queued = False
            return self.directory.decide(decision.request_id, decision.decision_id,
                                         decision.decision, decision.reason_code, decision.note)
        result = commit_decision(self.outbox, decision)
        self.decision_queued = result is None
        if result is not None:
            return DecisionResult.from_json(dict(result))
        return DecisionResult(state=RequestState(decision.decision.value),
                              decided_at=decision.stamp.at)

    @property
    def decision_pending(self) -> bool:
        """The decision is still in the outbox (not yet confirmed by the desk service)."""
        if self.outbox is None or self.decision is None:
            return False
        item = self.outbox.get(self.decision.decision_id)
        return item is not None and not (item.result and "state" in item.result)
